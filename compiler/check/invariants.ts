/**
 * Invariants (LANGUAGE.md §7): a plan's own, checked with the plan, and top-level ones, which
 * apply to every plan that has all the steps they name. `RUN_TY` is what they (and guardrails)
 * read of the run.
 */
import type { InvariantDecl } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { LoadedModule } from '../loaded-module.js';
import { ModelBuilder } from '../model.js';
import { repeatedEntries } from './repeated.js';
import type { DeclEntry } from '../scope.js';
import { SPEND, T, field, optional, record } from '../types/ty.js';
import type { CheckedPlan } from './checked-plan.js';
import { checkExpr, type ExprEnv, type RootInfo } from './expr.js';
import { expectTy } from './mismatch.js';

export const RUN_TY = record([
  field('cost', SPEND),
  field('elapsed', T.duration),
  field('status', { k: 'enum', values: ['running', 'completed', 'failed', 'cancelled', 'timeout', 'paused'] }),
  // No `steps`: nothing at run time gives it (the run's actuals are these), so it would read null.
  // §8.8: the subject of the person who started the run; null when no person did (a trigger, the CLI).
  field('started_by', optional(T.string)),
]);

function invariantName(inv: InvariantDecl): string {
  return inv.name.kind === 'Ident' ? inv.name.name : inv.name.parts.filter((p) => typeof p === 'string').join('');
}

export function checkInvariant(inv: InvariantDecl, env: ExprEnv, diags: Diagnostic[], file: string): CheckedPlan['invariants'][number] {
  const r = checkExpr(inv.condition, env);
  expectTy(r.ty, T.bool, inv.condition.range, 'invariant', diags, file);
  return { name: invariantName(inv), modality: inv.modality, condition: r.ir };
}

/**
 * E0102 for an invariant name given twice in one scope (a plan's body, or a module's top level):
 * `verify` reports invariants by name, so two of one name could not be told apart. `i` and `"i"`
 * are one name. Two identifiers at top level are left to the scopes, which report them already.
 */
export function duplicateInvariantNames(decls: readonly InvariantDecl[], file: string, diags: Diagnostic[], topLevel: boolean): void {
  const named = decls.map((d) => ({ key: invariantName(d), range: d.name.range, ident: d.name.kind === 'Ident' }));
  repeatedEntries(named, (name, line) => `duplicate invariant "${name}" (first declared on line ${line})`, file, diags, {
    related: 'first declared here',
    ...(topLevel ? { exempt: (a: { ident: boolean }, b: { ident: boolean }) => a.ident && b.ident } : {}),
  });
}

export type Invariant = CheckedPlan['invariants'][number];

/** Top-level invariants apply to every plan that has all the steps they name. */
export function topLevelInvariants(
  modules: readonly LoadedModule[],
  checked: ReadonlyMap<DeclEntry<'plan'>, CheckedPlan>,
  contextRoot: RootInfo,
  model: ModelBuilder,
  diags: Diagnostic[],
): Map<CheckedPlan, Invariant[]> {
  const out = new Map<CheckedPlan, Invariant[]>();
  for (const m of modules) {
    if (m.std) continue;
    const plans = [...checked.values()].filter((p) => p.module === m);
    duplicateInvariantNames(m.ast.declarations.filter((d): d is InvariantDecl => d.kind === 'InvariantDecl'), m.file, diags, true);
    for (const d of m.ast.declarations) {
      if (d.kind !== 'InvariantDecl') continue;
      let applied = false;
      for (const p of plans) {
        const scratch: Diagnostic[] = [];
        const env = {
          file: m.file, model: new ModelBuilder(), diags: scratch,
          roots: new Map<string, RootInfo>([['input', { ty: p.inputTy, ir: { op: 'var', name: 'input' } }], ['context', contextRoot], ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }]]),
          steps: new Map(p.steps.map((s) => [s.id, { id: s.id, symbol: s.symbol.id, outputTy: s.outputTy, group: s.forEach?.group, eachPath: s.eachPath }])),
          // A race or loop is named like a step (§7.1): an invariant naming one applies where it is.
          blocks: p.blockRefs,
        };
        env.model.recordTypes = false;
        const inv = checkInvariant(d, env, scratch, m.file);
        if (scratch.some((x) => x.code === 'E0101')) continue;
        // applies: check again against the real model so references are recorded
        checkInvariant(d, { ...env, model, diags }, diags, m.file);
        applied = true;
        // `verify` and `orch test` report invariants by name: one of the plan's own of that name
        // would share its verdict and its `--invariant` replay.
        const own = p.entry.node.body.find((b): b is InvariantDecl => b.kind === 'InvariantDecl' && invariantName(b) === inv.name);
        if (own) {
          diags.push(diagnostic('E0102', `invariant "${inv.name}" applies to plan ${p.entry.node.name.name}, which has its own invariant "${inv.name}" (line ${own.name.range.start.line}): rename one`, m.file, d.name.range, {
            related: [{ message: `plan ${p.entry.node.name.name}'s invariant "${inv.name}"`, file: p.module.file, range: own.name.range }],
          }));
          continue;
        }
        const list = out.get(p) ?? [];
        list.push(inv);
        out.set(p, list);
      }
      if (!applied) {
        // Report what does not resolve against the first plan (or no steps at all).
        const p = plans[0];
        checkInvariant(d, {
          file: m.file, model, diags,
          roots: new Map<string, RootInfo>([['input', { ty: T.any, ir: { op: 'var', name: 'input' } }], ['context', contextRoot], ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }]]),
          steps: new Map((p?.steps ?? []).map((s) => [s.id, { id: s.id, symbol: s.symbol.id, outputTy: s.outputTy, group: s.forEach?.group, eachPath: s.eachPath }])),
          blocks: p?.blockRefs,
        }, diags, m.file);
      }
    }
  }
  return out;
}
