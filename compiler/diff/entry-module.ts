/**
 * Two versions of a plan often live in files of different names (`v1.orch`, `v2.orch`, a copy in
 * /tmp). Without a `module` line the entry module is named after its file, and capability names
 * are qualified by their module (`v1.fetch`), so the same declaration would look like another
 * capability in each copy. `orch diff` and `orch upgrade` compare the old version with its entry
 * module's file-derived name read as the new one's: `v1.fetch` is compared as `v2.fetch`, by its
 * definition. A capability of an imported module keeps its own module name, and a module name
 * written in a `module` line is compared as written. Pure.
 */
import type { CallIR, CapabilityIR, ExprIR, GuardrailIR, GuardrailRuleIR, PlanIR, SelectorIR, StepIR } from '../ir/types.js';

type Rename = (capability: string) => string;

/** The file name a module name derives from: `plans/v1.orch` → `v1`. */
function fileModuleName(sourceFile: string): string {
  const base = sourceFile.split(/[/\\]/).pop() ?? sourceFile;
  return base.endsWith('.orch') ? base.slice(0, -'.orch'.length) : base;
}

/**
 * How the old version's capability names read in the new version's terms, or null when they read
 * the same: only when both entry modules are named after their files, and the names differ.
 */
export function entryModuleRename(oldPlan: PlanIR, newPlan: PlanIR): Rename | null {
  const from = oldPlan.module;
  const to = newPlan.module;
  if (from === to || from !== fileModuleName(oldPlan.source_file) || to !== fileModuleName(newPlan.source_file)) return null;
  const prefix = `${from}.`;
  // The entry module's own names are `module.name`; `module.sub.name` is an imported module `module.sub`'s.
  return (name) => (name.startsWith(prefix) && !name.slice(prefix.length).includes('.') ? `${to}.${name.slice(prefix.length)}` : name);
}

const renameCall = (c: CallIR | null, f: Rename): CallIR | null => (c ? { ...c, capability: f(c.capability) } : c);

/** One step of the old version with its capability names read in the new version's terms. */
export function renameStep(s: StepIR, f: Rename): StepIR {
  return {
    ...s,
    capability: s.capability === null ? null : f(s.capability),
    fallback: renameCall(s.fallback, f),
    compensate: renameCall(s.compensate, f),
  };
}

function renameSelector(s: SelectorIR, f: Rename): SelectorIR {
  return 'capability' in s ? { ...s, capability: f(s.capability) } : s;
}

/** A guardrail's capability constants are string literals (`step.capability == fetch` → `"v1.fetch"`). */
function renameLiterals(e: ExprIR, f: Rename): ExprIR {
  if (Array.isArray(e)) return e.map((x) => renameLiterals(x as ExprIR, f)) as unknown as ExprIR;
  if (e === null || typeof e !== 'object') return e;
  const node = e as { readonly op?: string; readonly value?: unknown };
  if (node.op === 'lit' && typeof node.value === 'string') return { ...e, value: f(node.value) } as ExprIR;
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v !== null && typeof v === 'object' ? renameLiterals(v as ExprIR, f) : v])) as ExprIR;
}

function renameRule(r: GuardrailRuleIR, f: Rename): GuardrailRuleIR {
  switch (r.type) {
    case 'forbid':
    case 'assert':
      return { ...r, condition: renameLiterals(r.condition, f) };
    case 'require':
      return { ...r, subject: renameSelector(r.subject, f), object: renameSelector(r.object, f) };
    case 'check':
      return { ...r, target: renameSelector(r.target, f), condition: renameLiterals(r.condition, f) };
  }
}

const renameGuardrail = (g: GuardrailIR, f: Rename): GuardrailIR => ({ ...g, rules: g.rules.map((r) => renameRule(r, f)) });

function renamePlan(p: PlanIR, f: Rename): PlanIR {
  const keyed = <T>(o: { readonly [k: string]: T }, g: (v: T) => T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [f(k), g(v)]));
  return {
    ...p,
    capabilities: keyed(p.capabilities, (c: CapabilityIR) => ({ ...c, name: f(c.name) })),
    steps: p.steps.map((s) => renameStep(s, f)),
    policy: p.policy && { ...p.policy, rate_limits: p.policy.rate_limits.map((r) => ({ ...r, capability: f(r.capability) })) },
    guardrails: p.guardrails.map((g) => renameGuardrail(g, f)),
    simulations: keyed(p.simulations, (s) => ({ ...s, capability: f(s.capability) })),
    subplans: Object.fromEntries(Object.entries(p.subplans).map(([k, sub]) => [k, renamePlan(sub, f)])),
  };
}

/** The old version with its entry module's capability names read as the new version's (itself when they read the same). */
export function alignEntryModule(oldPlan: PlanIR, newPlan: PlanIR): PlanIR {
  const f = entryModuleRename(oldPlan, newPlan);
  return f ? { ...renamePlan(oldPlan, f), module: newPlan.module, source_file: newPlan.source_file } : oldPlan;
}

/**
 * The plan with a file-derived entry module named `name` instead (its capabilities `name.x`), and
 * without the file it came from: what a plan's version is taken over (`irHash`), so the same
 * declarations in a renamed or moved file are the same version. A module named in a `module`
 * line keeps its name.
 */
export function withoutFileName(plan: PlanIR, name: string): PlanIR {
  const from = plan.module;
  const renamed =
    typeof plan.source_file === 'string' && from === fileModuleName(plan.source_file)
      ? { ...renamePlan(plan, (c) => (c.startsWith(`${from}.`) && !c.slice(from.length + 1).includes('.') ? `${name}.${c.slice(from.length + 1)}` : c)), module: name }
      : plan;
  return withoutFiles(renamed);
}

function withoutFiles(p: PlanIR): PlanIR {
  const { source_file: _file, base_dir: _dir, ...rest } = p;
  return { ...rest, subplans: Object.fromEntries(Object.entries(p.subplans ?? {}).map(([k, sub]) => [k, withoutFiles(sub)])) } as PlanIR;
}
