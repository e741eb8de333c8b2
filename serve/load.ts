/**
 * Loads what `orch serve` activates: every plan of the given modules, compiled to IR, and the
 * triggers those modules declare, lowered with the compiler's own expression lowering.
 */
import { dirname, relative, resolve } from 'node:path';
import type { Expr, FileImport, TriggerDecl } from '../language/index.js';
import { compareDiagnostics, type Diagnostic } from '../language/index.js';
import { canonicalJson, compile } from '../compiler/index.js';
import { checkExpr, type RootInfo } from '../compiler/index.js';
import type { ContextIR, PlanIR } from '../compiler/index.js';
import { ModelBuilder } from '../compiler/index.js';
import { lowerTriggers, type TriggerIR } from '../compiler/index.js';
import { T } from '../compiler/index.js';
import { validateSchedule } from './schedule.js';

export interface ServeProgram {
  readonly plans: readonly PlanIR[];
  /**
   * Each served module's context (§9.4), also of a module that declares a `context` or a `source`
   * and no plan (the spec's own example): `orch serve` keeps those signals and subscribes to those sources.
   */
  readonly contexts: readonly ContextIR[];
  readonly triggers: readonly TriggerIR[];
  /** One line per error (`file:line:col: error E0701: …`); serve refuses to start on any. */
  readonly errors: readonly string[];
  /** The errors the compiler found, as diagnostics (the CLI shows them as `orch check` does). */
  readonly diagnostics: readonly Diagnostic[];
  /** The other errors, found across the served modules (a trigger's schedule, a name two modules use). */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/** `event` is whatever fired the trigger and `context` the live signals: both untyped here. */
const TRIGGER_ROOTS = new Map<string, RootInfo>([
  ['event', { ty: T.any, ir: { op: 'var', name: 'event' } }],
  ['context', { ty: T.any, ir: { op: 'var', name: 'context' } }],
]);

export function loadServeProgram(files: readonly string[]): ServeProgram {
  // Keyed `module.plan`. The served files' own plans first, in their order, then those only
  // imported (a trigger's `run other.plan`): the order the names are given in (serve/plan-names.ts).
  const plans = new Map<string, PlanIR>();
  const importedPlans = new Map<string, PlanIR>();
  const contexts: ContextIR[] = [];
  const triggers: TriggerIR[] = [];
  const errors: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  const seenFiles = new Set<string>();
  /** Where each source block is declared (`file:line`): one name, one block across the served modules. */
  const sourceAt = new Map<string, string>();
  /** Each context signal's first declaration across the served modules, and what it declares. */
  const signalAt = new Map<string, { readonly at: string; readonly text: string }>();
  const imported = new Map<string, PlanIR | undefined>();
  for (const f of files) {
    const entry = resolve(f);
    if (seenFiles.has(entry)) continue;
    seenFiles.add(entry);
    const out = compile({ entry });
    const diags = [...out.diagnostics].sort(compareDiagnostics);
    for (const d of diags) {
      if (d.severity === 'error') {
        errors.push(formatDiagnostic(d));
        diagnostics.push(d);
      }
    }
    if (diags.some((d) => d.severity === 'error')) continue;
    for (const p of out.plans) plans.set(`${p.module}.${p.plan}`, p);
    if (out.context) contexts.push(out.context);
    // A module imported by another served one is seen twice: the same block, not a second one.
    const clash = (line: string) => {
      problems.push(line);
      errors.push(line);
    };
    for (const m of out.model?.modules ?? [])
      for (const d of m.ast.declarations) {
        if (d.kind === 'SourceDecl') {
          const at = `${shortPath(m.file)}:${d.name.range.start.line}`;
          const first = sourceAt.get(d.name.name);
          if (first === undefined) sourceAt.set(d.name.name, at);
          else if (first !== at) clash(`${at}: error[E0102]: source ${d.name.name} is declared in two served modules (first at ${first}): only one block can hold its connection`);
        } else if (d.kind === 'ContextDecl' && out.context) {
          // The server keeps one context: modules may each declare a signal, but alike.
          const props = (out.context.context as { properties?: Record<string, unknown> }).properties ?? {};
          for (const f of d.fields) {
            const name = f.name.name;
            const at = `${shortPath(m.file)}:${f.name.range.start.line}`;
            const text = canonicalJson([props[name] ?? null, out.context.context_signals?.[name] ?? null]);
            const first = signalAt.get(name);
            if (first === undefined) signalAt.set(name, { at, text });
            else if (first.text !== text) clash(`${at}: error[E0102]: context signal ${name} is declared otherwise than at ${first.at}: the served modules share one context, so they must declare it alike (type, classes, max_age, derivation, hold)`);
          }
        }
      }
    const mod = out.model?.modules.find((m) => resolve(m.file) === entry) ?? out.model?.modules[0];
    if (!mod) continue;
    const decls = mod.ast.declarations.filter((d): d is TriggerDecl => d.kind === 'TriggerDecl');
    const modulePlans = out.plans;
    const resolvePlan = (name: string): string | undefined => {
      const last = name.split('.').pop()!;
      const p =
        modulePlans.find((x) => x.plan === name && x.module === mod.name) ??
        modulePlans.find((x) => x.plan === name || `${x.module}.${x.plan}` === name) ??
        importedPlan(name) ??
        modulePlans.find((x) => x.plan === last);
      return p ? `${p.module}.${p.plan}` : undefined;
    };
    /**
     * `run other.plan_name` with `import "./other.orch" as other`: the entry's compile only emits
     * its own plans, so the referenced plan is compiled from its module (once per file and plan).
     */
    const importedPlan = (name: string): PlanIR | undefined => {
      const parts = name.split('.');
      if (parts.length < 2) return undefined;
      const alias = parts.slice(0, -1).join('.');
      const imp = mod.ast.imports.find((i): i is FileImport => i.kind === 'FileImport' && i.alias.name === alias);
      if (!imp) return undefined;
      const file = resolve(dirname(mod.file), imp.path);
      const key = `${file}\u0000${parts[parts.length - 1]}`;
      if (imported.has(key)) return imported.get(key);
      const sub = compile({ entry: file, plan: parts[parts.length - 1] });
      const subErrors = sub.diagnostics.filter((d) => d.severity === 'error');
      const plan = subErrors.length ? undefined : sub.plans[0];
      for (const d of subErrors)
        if (!errors.includes(formatDiagnostic(d))) {
          errors.push(formatDiagnostic(d));
          diagnostics.push(d);
        }
      if (plan) importedPlans.set(`${plan.module}.${plan.plan}`, plan);
      imported.set(key, plan);
      return plan;
    };
    const lowerExpr = (e: Expr) =>
      checkExpr(e, { file: mod.file, model: new ModelBuilder(), diags: [], roots: TRIGGER_ROOTS }).ir;
    for (const t of lowerTriggers(mod.file, decls, lowerExpr, resolvePlan)) {
      if (t.source.kind === 'schedule') {
        try {
          validateSchedule(t.source.cron, t.source.timezone);
        } catch (err) {
          problems.push(`${shortPath(t.file)}:${t.line}: error[E0701]: trigger ${t.name}: ${(err as Error).message}`);
          errors.push(problems[problems.length - 1]!);
          continue;
        }
      }
      if (triggers.some((x) => x.name === t.name)) {
        problems.push(`${shortPath(t.file)}:${t.line}: error[E0102]: trigger ${t.name} is declared in two served modules`);
        errors.push(problems[problems.length - 1]!);
        continue;
      }
      triggers.push(t);
    }
    const dropped = decls.length - triggers.filter((t) => t.file === mod.file).length;
    if (dropped > 0 && errors.length === 0) warnings.push(`${dropped} trigger(s) in ${mod.file} name a plan that was not compiled`);
  }
  for (const [key, p] of importedPlans) if (!plans.has(key)) plans.set(key, p);
  return { plans: [...plans.values()], contexts, triggers, errors, diagnostics, problems, warnings };
}

function formatDiagnostic(d: Diagnostic): string {
  return `${shortPath(d.file)}:${d.range.start.line}:${d.range.start.column}: ${d.severity}[${d.code}]: ${d.message}`;
}

/** Relative to the working directory when the file is inside it, else absolute. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('../runtime') ? rel : file;
}
