/**
 * What differs between two versions of a plan (LANGUAGE.md §8.6, `orch diff`): the steps added,
 * removed and changed (and in what), plan-level changes, and what follows from them — estimates
 * before → after, budget and guardrail verdicts, consent scopes, data classes placed on a tier
 * they did not reach before, triggers. Pure: two IRs (and optionally their previews) in, a
 * value out; `orch upgrade` reports the same value.
 */
import type { BlockIR, PlanIR, StepIR } from '../ir/types.js';
import { irHash } from '../ir/hash.js';
import type { PreviewJson } from '../preview.js';
import { canonicalJson } from '../canonical-json.js';
import { moneyText } from '../money.js';
import { alignEntryModule, entryModuleRename, renameStep } from './entry-module.js';

/** The aspects of a step `orch diff` names, in the order it lists them. */
export type StepAspect =
  | 'capability'
  | 'arguments'
  | 'dependencies'
  | 'when'
  | 'join'
  | 'retry'
  | 'timeout'
  | 'binding'
  | 'fallbacks'
  | 'blocks'
  | 'compensate'
  | 'on_failure'
  | 'priority'
  | 'action';

export interface StepDiff {
  readonly step: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** For `changed`: the aspects that differ. */
  readonly what: readonly StepAspect[];
  /** When `arguments` differ: which (by name). */
  readonly arguments?: ArgumentChanges;
}

export interface ArgumentChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** Which arguments of a call differ between two versions. */
function argumentChanges(a: StepIR['args'], b: StepIR['args']): ArgumentChanges {
  const names = (x: StepIR['args']) => Object.keys(x).sort();
  return {
    added: names(b).filter((k) => !(k in a)),
    removed: names(a).filter((k) => !(k in b)),
    changed: names(b).filter((k) => k in a && !same(a[k], b[k])),
  };
}

export interface Change<T> {
  readonly before: T;
  readonly after: T;
}

export interface PlanDiff {
  readonly same: boolean;
  readonly old: { readonly plan: string; readonly hash: string };
  readonly new: { readonly plan: string; readonly hash: string };
  readonly steps: readonly StepDiff[];
  /** Plan-level parts that differ: input, output, policy, guardrails, invariants, deadline, concurrency, on_failure, sub-plans. */
  readonly plan: readonly string[];
  readonly consequences: {
    readonly estimates: {
      /** With the version's currency when it writes one (PreviewJson's). */
      readonly cost: Change<{ readonly best: number; readonly worst: number; readonly currency?: string }>;
      readonly duration_ms: Change<{ readonly best: number; readonly worst: number }>;
    };
    /** Budget verdicts that changed (`ok`, `over`, or `none` without that budget). */
    readonly budgets: readonly ({ readonly budget: 'cost' | 'duration' } & Change<BudgetVerdict>)[];
    /** Guardrail verdicts that changed (`absent` when the version has no such guardrail). */
    readonly guardrails: readonly ({ readonly name: string } & Change<string>)[];
    readonly consent: { readonly added: readonly string[]; readonly removed: readonly string[] };
    /** Data classes NEW places on a tier OLD never placed them on. */
    readonly data_tiers: readonly { readonly data: string; readonly tier: string; readonly steps: readonly string[] }[];
    /**
     * Triggers are declared beside plans, not in their IR: `compared` is false (and the lists
     * empty) when a version is an IR or a run's, which records none.
     */
    readonly triggers: { readonly compared: boolean; readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] };
  };
}

export type BudgetVerdict = 'ok' | 'over' | 'none';


const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** The blocks around a step, with their definitions (a changed `max` or `parallel` changes its steps' blocks). */
function blocksOf(plan: PlanIR, s: StepIR): unknown {
  const byId = new Map<string, BlockIR>((plan.blocks ?? []).map((b) => [b.id, b]));
  // A loop's list of the steps inside is theirs, not the loop's: a step added to (or gone from) a
  // loop does not change the loop around its siblings (§8.6: steps that have not started may appear).
  const def = (b: BlockIR | undefined) => (b?.type === 'repeat' ? { ...b, steps: undefined } : (b ?? null));
  return { ids: s.blocks ?? [], defs: (s.blocks ?? []).map((id) => def(byId.get(id))), for_each: s.for_each };
}

/**
 * What differs between two versions of one step. Capabilities are compared with the old entry
 * module's file-derived name read as the new one's (entry-module.ts): the same declaration in
 * `v1.orch` and `v2.orch` is the same capability.
 */
export function stepAspects(oldPlan: PlanIR, a: StepIR, newPlan: PlanIR, b: StepIR): StepAspect[] {
  const rename = entryModuleRename(oldPlan, newPlan);
  return aspectsOf(oldPlan, rename ? renameStep(a, rename) : a, newPlan, b);
}

/** `stepAspects` of a step whose capability names already read in the new version's terms. */
function aspectsOf(oldPlan: PlanIR, a: StepIR, newPlan: PlanIR, b: StepIR): StepAspect[] {
  const out: StepAspect[] = [];
  const check = (aspect: StepAspect, x: unknown, y: unknown) => {
    if (!same(x, y)) out.push(aspect);
  };
  check('capability', a.capability, b.capability);
  check('action', a.action, b.action);
  check('arguments', a.args, b.args);
  check('dependencies', a.deps, b.deps);
  check('when', a.when, b.when);
  check('join', a.join, b.join);
  check('retry', a.retry, b.retry);
  check('timeout', a.timeout_ms, b.timeout_ms);
  check('binding', [a.resource, a.binding.resource], [b.resource, b.binding.resource]);
  check('fallbacks', [a.binding.fallbacks, a.fallback], [b.binding.fallbacks, b.fallback]);
  check('blocks', blocksOf(oldPlan, a), blocksOf(newPlan, b));
  check('compensate', a.compensate, b.compensate);
  check('on_failure', a.on_failure, b.on_failure);
  // Which ready step starts first when slots are short: a changed plan, not "the same". A step
  // that only follows its plan's priority is the plan's change (`plan: priority`), not its own.
  const followsPlan = a.priority === oldPlan.priority && b.priority === newPlan.priority;
  if (!followsPlan) check('priority', a.priority, b.priority);
  return out;
}

export function diffSteps(original: PlanIR, newPlan: PlanIR): StepDiff[] {
  const oldPlan = alignEntryModule(original, newPlan);
  const before = new Map(oldPlan.steps.map((s) => [s.id, s]));
  const after = new Map(newPlan.steps.map((s) => [s.id, s]));
  const out: StepDiff[] = [];
  for (const s of oldPlan.steps) if (!after.has(s.id)) out.push({ step: s.id, change: 'removed', what: [] });
  for (const s of newPlan.steps) {
    const old = before.get(s.id);
    if (!old) out.push({ step: s.id, change: 'added', what: [] });
    else {
      const what = aspectsOf(oldPlan, old, newPlan, s);
      if (what.length) out.push({ step: s.id, change: 'changed', what, ...(what.includes('arguments') ? { arguments: argumentChanges(old.args, s.args) } : {}) });
    }
  }
  // A sub-plan's steps are steps of the runs that call it (an upgrade holds them to its rules):
  // named SUBPLAN/STEP. A sub-plan added or removed whole is `plan: subplans` only.
  const subs = newPlan.subplans ?? {};
  for (const name of Object.keys(subs).sort()) {
    const was = (oldPlan.subplans ?? {})[name];
    if (was) for (const d of diffSteps(was, subs[name]!)) out.push({ ...d, step: `${name}/${d.step}` });
  }
  return out;
}

function planParts(a: PlanIR, b: PlanIR): string[] {
  const parts: [string, (p: PlanIR) => unknown][] = [
    // A renamed plan differs (exit 1): said, not left to the headers' names.
    ['name', (p) => p.plan],
    ['goal', (p) => p.goal],
    ['priority', (p) => p.priority],
    ['input', (p) => p.input],
    ['context', (p) => p.context],
    ['output', (p) => p.output],
    ['success', (p) => p.success],
    ['policy', (p) => p.policy],
    ['guardrails', (p) => p.guardrails.map((g) => ({ ...g, static_verdict: null }))],
    ['invariants', (p) => p.invariants],
    ['deadline', (p) => p.deadline_ms],
    ['concurrency', (p) => p.concurrency],
    ['on_failure', (p) => p.on_failure],
    ['capabilities', (p) => p.capabilities],
    ['resources', (p) => p.resources],
    ['subplans', (p) => p.subplans],
  ];
  return parts.filter(([, f]) => !same(f(a), f(b))).map(([name]) => name);
}

function budgetVerdict(b: { readonly ok: boolean } | null): BudgetVerdict {
  return b === null ? 'none' : b.ok ? 'ok' : 'over';
}

function tierPairs(p: PreviewJson): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of p.steps) {
    if (s.tier === null) continue;
    const key = `${s.data}\u0000${s.tier}`;
    out.set(key, [...(out.get(key) ?? []), s.id]);
  }
  return out;
}

/**
 * Compares two versions: `oldPreview`/`newPreview` are their `preview()`. Triggers come from the
 * compiled model, so they are compared only when `opts.triggers` says both previews had one (an IR
 * or a run's recorded IR knows no triggers: comparing its empty list would report them all added).
 */
export function diffPlans(oldPlan: PlanIR, newPlan: PlanIR, oldPreview: PreviewJson, newPreview: PreviewJson, opts: { readonly triggers?: boolean } = {}): PlanDiff {
  const steps = diffSteps(oldPlan, newPlan);
  const plan = planParts(alignEntryModule(oldPlan, newPlan), newPlan);
  const est = (p: PreviewJson) => ({
    cost: { best: p.estimates.cost, worst: p.estimates.cost_max, ...(p.currency !== undefined ? { currency: p.currency } : {}) },
    duration_ms: { best: p.estimates.duration_ms, worst: p.estimates.duration_ms_max },
  });
  const e0 = est(oldPreview);
  const e1 = est(newPreview);
  const budgets = (['cost', 'duration'] as const)
    .map((budget) => {
      const pick = (p: PreviewJson) => budgetVerdict(budget === 'cost' ? p.budgets.cost : p.budgets.duration_ms);
      return { budget, before: pick(oldPreview), after: pick(newPreview) };
    })
    .filter((b) => b.before !== b.after);
  const verdicts = (p: PreviewJson) => new Map(p.guardrails.map((g) => [g.name, g.verdict as string]));
  const g0 = verdicts(oldPreview);
  const g1 = verdicts(newPreview);
  const guardrails = [...new Set([...g0.keys(), ...g1.keys()])]
    .map((name) => ({ name, before: g0.get(name) ?? 'absent', after: g1.get(name) ?? 'absent' }))
    .filter((g) => g.before !== g.after);
  const c0 = new Set(oldPreview.consent);
  const c1 = new Set(newPreview.consent);
  const t0 = tierPairs(oldPreview);
  const data_tiers = [...tierPairs(newPreview)]
    .filter(([key]) => !t0.has(key))
    .map(([key, ids]) => {
      const [data, tier] = key.split('\u0000') as [string, string];
      return { data, tier, steps: ids };
    });
  const trig = (p: PreviewJson) => new Map(p.triggers.map((t) => [t.name, canonicalJson(t)]));
  const tr0 = trig(oldPreview);
  const tr1 = trig(newPreview);
  const compared = opts.triggers !== false;
  const triggers = compared ? {
    compared,
    added: [...tr1.keys()].filter((n) => !tr0.has(n)),
    removed: [...tr0.keys()].filter((n) => !tr1.has(n)),
    changed: [...tr1.keys()].filter((n) => tr0.has(n) && tr0.get(n) !== tr1.get(n)),
  } : { compared, added: [], removed: [], changed: [] };
  const consequences = {
    estimates: { cost: { before: e0.cost, after: e1.cost }, duration_ms: { before: e0.duration_ms, after: e1.duration_ms } },
    budgets,
    guardrails,
    consent: { added: [...c1].filter((s) => !c0.has(s)).sort(), removed: [...c0].filter((s) => !c1.has(s)).sort() },
    data_tiers,
    triggers,
  };
  const triggersDiffer = triggers.added.length + triggers.removed.length + triggers.changed.length > 0;
  return {
    same: steps.length === 0 && plan.length === 0 && !triggersDiffer,
    old: { plan: oldPlan.plan, hash: irHash(oldPlan) },
    new: { plan: newPlan.plan, hash: irHash(newPlan) },
    steps,
    plan,
    consequences,
  };
}

/** `changed text, level; added channel` */
function argumentText(a: ArgumentChanges): string {
  return (['changed', 'added', 'removed'] as const)
    .filter((k) => a[k].length > 0)
    .map((k) => `${k} ${a[k].join(', ')}`)
    .join('; ');
}

const dur = (ms: number) => (ms >= 1000 ? `${Number((ms / 1000).toFixed(3))}s` : `${ms}ms`);

/** `orch diff`'s text form. */
export function renderPlanDiff(d: PlanDiff): string {
  const lines: string[] = [];
  lines.push(`--- ${d.old.plan} ${d.old.hash.slice(0, 12)}`);
  lines.push(`+++ ${d.new.plan} ${d.new.hash.slice(0, 12)}`);
  const unknownTriggers = 'triggers not compared (a run or an IR file records none; two .orch files compare them)';
  if (d.same) {
    lines.push('the plans are the same');
    if (!d.consequences.triggers.compared) lines.push(unknownTriggers);
    return `${lines.join('\n')}\n`;
  }
  for (const s of d.steps) {
    if (s.change === 'added') lines.push(`+ step ${s.step}`);
    else if (s.change === 'removed') lines.push(`- step ${s.step}`);
    else lines.push(`~ step ${s.step}: ${s.what.map((w) => (w === 'arguments' && s.arguments ? `arguments (${argumentText(s.arguments)})` : w)).join(', ')}`);
  }
  if (d.plan.length) lines.push(`~ plan: ${d.plan.join(', ')}`);
  const c = d.consequences;
  const pair = (b: { best: number; worst: number }, f: (n: number) => string) => (b.best === b.worst ? f(b.best) : `${f(b.best)}..${f(b.worst)}`);
  lines.push('consequences:');
  const money = (b: { readonly currency?: string }) => (n: number) => moneyText(n, b.currency);
  lines.push(`  cost      ${pair(c.estimates.cost.before, money(c.estimates.cost.before))} → ${pair(c.estimates.cost.after, money(c.estimates.cost.after))}`);
  lines.push(`  duration  ${pair(c.estimates.duration_ms.before, dur)} → ${pair(c.estimates.duration_ms.after, dur)}`);
  for (const b of c.budgets) lines.push(`  budget ${b.budget}: ${b.before} → ${b.after}`);
  for (const g of c.guardrails) lines.push(`  guardrail ${g.name}: ${g.before} → ${g.after}`);
  if (c.consent.added.length) lines.push(`  consent needed now: ${c.consent.added.join(', ')}`);
  if (c.consent.removed.length) lines.push(`  consent no longer needed: ${c.consent.removed.join(', ')}`);
  for (const t of c.data_tiers) lines.push(`  data ${t.data} now reaches tier ${t.tier} (${t.steps.join(', ')})`);
  const { compared, ...triggers } = c.triggers;
  for (const [what, names] of Object.entries(triggers)) if (names.length) lines.push(`  triggers ${what}: ${names.join(', ')}`);
  if (!compared) lines.push(`  ${unknownTriggers}`);
  return `${lines.join('\n')}\n`;
}
