/**
 * W0601 unused declarations, in user modules only (std is a library):
 * - a capability, policy or type alias nothing refers to;
 * - a resource nothing pins (`on`) and no placement chose, as binding or fallback;
 * - a step whose output nothing reads and that has no effect. Effects: capabilities of kind
 *   `tool`, `service` and `human` act on the world (send, write, ask); `agent` and `llm` only
 *   compute, so an unread `llm`/`agent` step is dead work. Wait, wait-until and run steps are
 *   never reported (they order or delegate).
 * Modules without plans that are imported, or that declare `module`, are libraries: their
 * capabilities, resources, policies and types are exports, not reported.
 */
import { resolve } from 'node:path';
import { diagnostic, type Diagnostic } from '../language/index.js';
import type { CheckedPlan, CheckedStep } from './check/checked-plan.js';
import type { LoadedModule } from './load.js';
import type { ModelBuilder } from './model.js';
import type { DeclKind, Scopes } from './scope.js';

/** Capabilities, resources, policies and types of user modules nothing uses. */
export function unusedDeclarations(
  modules: readonly LoadedModule[],
  scopes: Scopes,
  model: ModelBuilder,
  /** By the names they bear in the IR (`Scopes.irName`): two modules' `box` are `box` and `y.box`. */
  boundResources: ReadonlySet<string>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const m of modules) {
    if (m.std) continue;
    const hasPlans = [...scopes.entries(m, 'plan')].length > 0;
    // A plan-less module is a library (its declarations are exports) when something imports it
    // or it names itself with `module`; a bare plan-less entry file is checked like any other.
    const library = !hasPlans && (m !== modules[0] || m.ast.module !== undefined);
    if (!library) {
      const report = (kind: DeclKind, what: string): void => {
        for (const e of scopes.entries(m, kind)) {
          const used = (model.uses[e.symbol.id] ?? 0) > 0 || (kind === 'resource' && boundResources.has(scopes.irName(e)));
          if (used) continue;
          out.push(
            diagnostic('W0601', `${what} "${e.symbol.name}" is never used`, m.file, e.symbol.nameRange, {
              fixes: [{ title: `Remove ${what} ${e.symbol.name}`, edits: [{ file: m.file, range: e.node.range, newText: '' }] }],
            }),
          );
        }
      };
      report('capability', 'capability');
      report('resource', 'resource');
      report('policy', 'policy');
      report('type', 'type');
    }
  }

  return out;
}

/** Steps of a plan whose output nothing reads and that have no effect. */
export function unusedSteps(cp: CheckedPlan): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (cp.module.std) return out;
  // Only a step of no effect can be unused: a plan without one (most) needs no set of what is read.
  if (!cp.steps.some(noEffect)) return out;
  const read = new Set<string>(cp.outputUses);
  for (const r of cp.invariantUses) read.add(r);
  for (const r of cp.loopUses) read.add(r);
  for (let i = 0; i < cp.steps.length; i++) {
    const s = cp.steps[i]!;
    for (let k = 0; k < s.refs.length; k++) if (s.refs[k] !== s.id) read.add(s.refs[k]!);
    for (let k = 0; k < s.after.length; k++) read.add(s.after[k]!);
  }
  for (const g of cp.guardrails)
    for (const r of g.node.rules) {
      if (r.kind === 'RequireRule') {
        if (r.subject.kind === 'StepSelector') read.add(r.subject.step.name);
        if (r.object.kind === 'StepSelector') read.add(r.object.step.name);
      }
      if (r.kind === 'CheckRule' && r.target.kind === 'StepSelector') read.add(r.target.step.name);
    }
  for (const s of cp.steps) {
    if (read.has(s.id) || !noEffect(s)) continue;
    out.push(
      diagnostic('W0601', `the output of step "${s.id}" is never used, and its capability (${s.kind}) has no effect`, cp.module.file, s.decl.name.range, {
        fixes: [{ title: `Remove step ${s.id}`, edits: [{ file: cp.module.file, range: s.decl.range, newText: '' }] }],
      }),
    );
  }
  return out;
}

/** A call of an `agent` or `llm` capability: its output is all it gives. */
function noEffect(s: CheckedStep): boolean {
  return s.action.type === 'call' && (s.kind === 'agent' || s.kind === 'llm');
}

/** Whether `d` is a W0601 on a declaration (capability, resource, policy, type), not on a step. */
export function isUnusedDeclaration(d: Diagnostic): boolean {
  return d.code === 'W0601' && UNUSED_DECLARATION.test(d.message);
}

const UNUSED_DECLARATION = /^(capability|resource|policy|type) "[^"]*" is never used$/;

/**
 * Several checks of one invocation (`orch check a.orch b.orch`, an editor's workspace), each of
 * one entry: a declaration is unused only when every check that loaded its file says so. A file
 * checked alone sees no use from the files that import it (and a plan-less one counts as a bare
 * entry, not a library): any of those checks that found it used, or took the file as a library,
 * wins. Returns whether to keep a diagnostic of the merged list.
 */
export function unusedAcrossChecks(checks: readonly { readonly files: Iterable<string>; readonly diagnostics: readonly Diagnostic[] }[]): (d: Diagnostic) => boolean {
  const key = (d: Diagnostic) => `${resolve(d.file)}\u0000${d.range.start.offset}\u0000${d.message}`;
  const loaded = checks.map((c) => new Set([...c.files].map((f) => resolve(f))));
  const reported = checks.map((c) => new Set(c.diagnostics.filter(isUnusedDeclaration).map(key)));
  return (d) => {
    if (!isUnusedDeclaration(d)) return true;
    const file = resolve(d.file);
    const k = key(d);
    return checks.every((_, i) => !loaded[i]!.has(file) || reported[i]!.has(k));
  };
}