/**
 * Guardrails: conditions are checked and lowered once per declaration; each plan then gets a
 * static verdict per guardrail. `forbid` is evaluated per step over the facts known at compile
 * time, `require A before|after B` is proved on the DAG (every B step needs an A ancestor /
 * descendant), `assert` over `plan.*` estimates; `check`, `assert run.*` and conditions that read
 * run-time values are left to the runtime. Violations: blocking → E0401, warning → W0402,
 * advisory/info → I0403 (hint).
 */
import type { Range, Selector } from '../language/index.js';
import { CAPABILITY_KINDS, RESOURCE_KINDS, diagnostic, hasErrors, type Diagnostic, type DiagnosticCode } from '../language/index.js';
import type { CapabilityKindIR, ExprIR, GuardrailIR, GuardrailRuleIR, SelectorIR, StaticVerdict } from './ir/types.js';
import { someNode } from './ir/nodes.js';
import { moneyText, round6 } from './money.js';
import { formatDuration } from './duration-text.js';
import { ModelBuilder } from './model.js';
import type { DeclEntry, Scopes } from './scope.js';
import { checkExpr, type ExprEnv, type RootInfo } from './check/expr.js';
import { RUN_TY } from './check/invariants.js';
import { SPEND, T, field, optional, record, type Ty } from './types/ty.js';
import { UNKNOWN, staticEval, type StaticValue } from './static-eval.js';
import { ancestors, descendants, type Dag } from './dag.js';
import { mayNotComplete, startsWithoutSubject, type StepFlow } from './require-paths.js';

export const STEP_FACTS_TY: Ty = record([
  field('id', T.string),
  field('name', T.string),
  field('data', T.dataClass),
  // Enums, so that a literal naming no kind or tier (`step.placement == "cloud_regoin"`) is E0201
  // with a suggestion, as the bare names are E0101: a typo would silently disable the rule.
  field('placement', optional({ k: 'enum', values: RESOURCE_KINDS })),
  field('tier', optional({ k: 'enum', values: ['local', 'edge', 'cloud', 'human'] })),
  field('kind', optional({ k: 'enum', values: CAPABILITY_KINDS })),
  field('capability', optional(T.string)),
  field('resource', optional(T.string)),
  field('cost', SPEND),
  field('duration', T.duration),
  field('latency', T.duration),
  field('priority', T.int),
  field('destructive', T.bool),
]);

export const PLAN_FACTS_TY: Ty = record([
  field('cost', SPEND),
  field('duration', T.duration),
  field('steps', T.int),
  field('local_ratio', T.percent),
  field('name', T.string),
]);

/** `likelyCapability` on a step selector: a capability of that name the guardrail's module sees (a likely slip). */
type SelectorRef = { step: string; range?: Range; likelyCapability?: string } | { kind: CapabilityKindIR } | { capability: string; resolved: boolean } | { destructive: true };

type CheckedRule =
  | { type: 'forbid'; condition: ExprIR; range: Range }
  | { type: 'require'; subject: SelectorRef; order: 'before' | 'after'; object: SelectorRef; range: Range }
  | { type: 'assert'; condition: ExprIR; range: Range; runtime: boolean }
  | { type: 'check'; target: SelectorRef; condition: ExprIR; range: Range };

export interface CheckedGuardrail {
  readonly entry: DeclEntry<'guardrail'>;
  /** Its name in the IR and its diagnostics (`Scopes.irName`): two modules' `g` are `g` and `y.g`. */
  readonly name: string;
  readonly rules: readonly CheckedRule[];
  /**
   * False when checking the guardrail reported an error: its lowered conditions are not
   * trustworthy, so no plan that embeds it gets IR (the error is already a diagnostic).
   */
  readonly ok: boolean;
  /** `check` rules, to be typed against the output of each step they select (`outputReadErrors`). */
  readonly checks: readonly OutputCheck[];
}

interface OutputCheck {
  readonly target: SelectorRef;
  /** What checking the condition with `output: any` reported (with the guardrail), by `keyOf`. */
  readonly untyped: ReadonlySet<string>;
  readonly typed: (output: Ty) => Diagnostic[];
}

const keyOf = (d: Diagnostic) => `${d.file}:${d.range.start.offset}:${d.message}`;

export function checkGuardrail(entry: DeclEntry<'guardrail'>, scopes: Scopes, model: ModelBuilder, diags: Diagnostic[], contextRoot: RootInfo): CheckedGuardrail {
  const mod = entry.module;
  const file = mod.file;
  const reportedBefore = diags.length;
  const spendCurrency = model.currency;
  const capConst = (name: string): string | undefined => scopes.lookup(mod, 'capability', [name])?.qualifiedName ?? (mod.std ? name : undefined);
  const base = (extra: [string, RootInfo][]): ExprEnv => ({
    file, model, diags, constants: true, capabilityConstant: capConst,
    roots: new Map<string, RootInfo>([
      ['context', contextRoot],
      ['plan', { ty: PLAN_FACTS_TY, ir: { op: 'var', name: 'plan' } }],
      ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }],
      ['input', { ty: T.any, ir: { op: 'var', name: 'input' } }],
      ...extra,
    ]),
  });
  const selector = (s: Selector): SelectorRef => {
    switch (s.kind) {
      case 'StepSelector':
        // The word `destructive` selects every destructive step (LANGUAGE.md §8.3), never a step so named.
        if (s.step.name === 'destructive') return { destructive: true };
        return { step: s.step.name, range: s.step.range, likelyCapability: scopes.lookup(mod, 'capability', [s.step.name]) ? s.step.name : undefined };
      case 'KindSelector':
        return { kind: s.capabilityKind };
      case 'CapabilitySelector': {
        const parts = s.capability.parts.map((p) => p.name);
        const found = scopes.lookup(mod, 'capability', parts);
        if (found) {
          model.refer(file, s.capability.parts[s.capability.parts.length - 1]!.range, found.symbol.id);
          return { capability: found.qualifiedName, resolved: true };
        }
        // A selector is a pattern: it may name a capability of the modules that use the guardrail.
        return { capability: parts[parts.length - 1]!, resolved: false };
      }
    }
  };
  const checks: OutputCheck[] = [];
  const rules: CheckedRule[] = entry.node.rules.map((r): CheckedRule => {
    switch (r.kind) {
      case 'ForbidRule':
        return { type: 'forbid', condition: checkExpr(r.condition, base([['step', { ty: STEP_FACTS_TY, ir: { op: 'var', name: 'step' } }]])).ir, range: r.range };
      case 'RequireRule':
        return { type: 'require', subject: selector(r.subject), order: r.order, object: selector(r.object), range: r.range };
      case 'AssertRule': {
        let readsRun = false;
        const env = base([]);
        const ir = checkExpr(r.condition, env).ir;
        readsRun = readsVar(ir, 'run');
        return { type: 'assert', condition: ir, range: r.range, runtime: readsRun };
      }
      case 'CheckRule': {
        const withOutput = (ty: Ty) => base([
          ['output', { ty, ir: { op: 'var', name: 'output' } }],
          ['step', { ty: STEP_FACTS_TY, ir: { op: 'var', name: 'step' } }],
        ]);
        const target = selector(r.target);
        const before = diags.length;
        const condition = checkExpr(r.condition, withOutput(T.any)).ir;
        checks.push({
          target,
          untyped: new Set(diags.slice(before).map(keyOf)),
          typed: (output) => {
            const scratch: Diagnostic[] = [];
            const quiet = new ModelBuilder();
            quiet.recordTypes = false;
            quiet.currency = spendCurrency;
            checkExpr(r.condition, { ...withOutput(output), model: quiet, diags: scratch });
            return scratch;
          },
        });
        return { type: 'check', target, condition, range: r.range };
      }
    }
  });
  return { entry, name: scopes.irName(entry), rules, ok: !hasErrors(diags.slice(reportedBefore)), checks };
}

/**
 * A `check` condition reads `output` as `any` where the guardrail is declared: which step it
 * checks is known only in a plan that uses it. There, each condition is typed against the output
 * of every step its selector picks (by name or resolved capability), and what that adds — a field
 * the output lacks, a comparison of the wrong type — is reported once at the condition.
 */
export function outputReadErrors(
  g: CheckedGuardrail,
  steps: readonly { readonly id: string; readonly capability: string | null; readonly output: Ty }[],
  reported: Set<string>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const c of g.checks) {
    const t = c.target;
    const picked = 'step' in t ? steps.filter((s) => s.id === t.step) : 'capability' in t && t.resolved ? steps.filter((s) => s.capability === t.capability) : [];
    for (const s of picked)
      for (const d of c.typed(s.output)) {
        const key = keyOf(d);
        // What the condition gets wrong whatever the output is was reported with the guardrail.
        if (d.severity !== 'error' || c.untyped.has(key) || reported.has(key)) continue;
        reported.add(key);
        out.push(d);
      }
  }
  return out;
}

export interface StepFacts {
  readonly id: string;
  readonly nameRange: Range;
  readonly data: string;
  readonly placement: string | null;
  readonly tier: string | null;
  readonly kind: CapabilityKindIR | null;
  readonly capability: string | null;
  readonly resource: string | null;
  readonly cost: number;
  readonly duration: number;
  readonly priority: number;
  readonly destructive: boolean;
  /** The step's `fallback` call: it completes the step in the primary call's stead. */
  readonly fallback?: CallFacts | null;
  /** Its `compensate` call: made on rollback, after the step completed. */
  readonly compensate?: CallFacts | null;
}

export type CallFacts = Pick<StepFacts, 'kind' | 'capability' | 'destructive'>;

export interface PlanFacts {
  readonly name: string;
  readonly file: string;
  readonly nameRange: Range;
  readonly steps: readonly StepFacts[];
  readonly graph: Dag;
  readonly cost: number;
  readonly duration: number;
  readonly localRatio: number;
  /** The branches of each `race`: a losing branch is cancelled, so one branch alone proves no ordering. */
  readonly races?: readonly (readonly string[])[];
  /** How each step's start follows from its dependencies: `require … before` is proved on every path with it. */
  readonly flow?: ReadonlyMap<string, StepFlow>;
  /** The sub-plan each `run` step runs: the plan's guardrails judge its steps too, transitively. */
  readonly runs?: ReadonlyMap<string, PlanFacts>;
}

const planVarsOf = (p: PlanFacts) => ({ cost: p.cost, duration: p.duration, steps: p.steps.length, local_ratio: p.localRatio, name: p.name });

/** Every step of a sub-plan and of the sub-plans it runs, with its path from the sub-plan (`x/send`) and its own plan. */
function subplanSteps(p: PlanFacts, prefix = ''): { path: string; step: StepFacts; in: PlanFacts }[] {
  const out: { path: string; step: StepFacts; in: PlanFacts }[] = [];
  for (const s of p.steps) {
    out.push({ path: prefix + s.id, step: s, in: p });
    const sub = p.runs?.get(s.id);
    if (sub) out.push(...subplanSteps(sub, `${prefix}${s.id}/`));
  }
  return out;
}

const CODE: Record<string, DiagnosticCode> = { blocking: 'E0401', warning: 'W0402', advisory: 'I0403', info: 'I0403' };

/**
 * The blocking guardrail rule that statically forbids a step with these facts, described; null
 * when none does (or only run-time values could tell). Used to prove every resource a step may be
 * rebound to, not only the first.
 */
export function forbiddenBy(guards: readonly CheckedGuardrail[], s: StepFacts, plan: PlanFacts): string | null {
  const planVars = planVarsOf(plan);
  for (const g of guards) {
    if ((g.entry.node.severity ?? 'blocking') !== 'blocking') continue;
    for (const rule of g.rules)
      if (rule.type === 'forbid' && staticEval(rule.condition, { step: stepValue(s), plan: planVars }) === true)
        return `forbidden by guardrail "${g.name}"`;
  }
  return null;
}

function stepValue(s: StepFacts): StaticValue {
  return {
    id: s.id, name: s.id, data: s.data, placement: s.placement, tier: s.tier, kind: s.kind, capability: s.capability,
    resource: s.resource, cost: s.cost, duration: s.duration, latency: s.duration, priority: s.priority, destructive: s.destructive,
  };
}

function matches(sel: SelectorRef, s: StepFacts): boolean {
  if ('destructive' in sel) return s.destructive;
  if ('step' in sel) return s.id === sel.step;
  if ('kind' in sel) return s.kind === sel.kind;
  if (s.capability === null) return false;
  return sel.resolved ? s.capability === sel.capability : s.capability === sel.capability || s.capability.endsWith(`.${sel.capability}`);
}

/** A step an ordering rule constrains: its own call, its fallback or its compensation matches. */
function constrains(sel: SelectorRef, s: StepFacts): boolean {
  return matches(sel, s) || [s.fallback, s.compensate].some((c) => c && matches(sel, { ...s, ...c }));
}

/** A step whose completion satisfies an ordering rule: whichever of its calls completes it matches. */
function satisfies(sel: SelectorRef, s: StepFacts): boolean {
  return matches(sel, s) && (!s.fallback || matches(sel, { ...s, ...s.fallback }));
}

function selectorIR(sel: SelectorRef, plan: PlanFacts): SelectorIR {
  if ('destructive' in sel) return sel;
  if ('step' in sel) return { step: sel.step };
  if ('kind' in sel) return { kind: sel.kind };
  if (sel.resolved) return { capability: sel.capability };
  const hit = plan.steps.find((s) => matches(sel, s));
  return { capability: hit?.capability ?? sel.capability };
}

function describeSel(sel: SelectorRef): string {
  if ('destructive' in sel) return 'a destructive step';
  if ('step' in sel) return `step ${sel.step}`;
  if ('kind' in sel) return `a ${sel.kind} step`;
  return `capability ${sel.capability.split('.').pop()}`;
}

/** `money` prints an amount in the program's currency (`ProgramFacts.money`), as W0502 does. */
export function evaluateGuardrail(g: CheckedGuardrail, plan: PlanFacts, diags: Diagnostic[], money: (n: number) => string = (n) => moneyText(n)): GuardrailIR {
  const node = g.entry.node;
  const severity = node.severity ?? 'blocking';
  const message = node.message ? node.message.parts.filter((p) => typeof p === 'string').join('') : null;
  const name = g.name;
  const planVars = planVarsOf(plan);
  let violated = false;
  let runtime = false;
  const report = (range: Range, what: string): void => {
    violated = true;
    diags.push(
      diagnostic(CODE[severity]!, `guardrail "${name}" (${severity}) violated ${what}${message ? `: ${message}` : ''}`, plan.file, range, {
        related: [{ message: `guardrail ${name}`, file: g.entry.module.file, range: node.name.range }],
      }),
    );
  };
  const rules: GuardrailRuleIR[] = [];
  // A bare selector names a step: one naming no step of this plan but the capability some of its
  // steps call selects nothing, and the rule never applies to them — `capability NAME` was meant.
  for (const rule of g.rules)
    for (const sel of rule.type === 'require' ? [rule.subject, rule.object] : rule.type === 'check' ? [rule.target] : [])
      if ('step' in sel && sel.likelyCapability && sel.range && !plan.steps.some((s) => s.id === sel.step) && plan.steps.some((s) => matches({ capability: sel.step, resolved: false }, s)))
        diags.push(
          diagnostic('E0101', `guardrail "${name}" selects step "${sel.step}", but plan "${plan.name}" has no such step; its steps call capability "${sel.step}": write \`capability ${sel.step}\``, g.entry.module.file, sel.range, {
            related: [{ message: `plan ${plan.name}`, file: plan.file, range: plan.nameRange }],
            fixes: [{ title: `Select capability ${sel.step}`, edits: [{ file: g.entry.module.file, range: { start: sel.range.start, end: sel.range.start }, newText: 'capability ' }] }],
          }),
        );
  for (const rule of g.rules) {
    switch (rule.type) {
      case 'forbid': {
        rules.push({ type: 'forbid', condition: rule.condition });
        for (const s of plan.steps) {
          const v = staticEval(rule.condition, { step: stepValue(s), plan: planVars });
          if (v === true) report(s.nameRange, `by step "${s.id}"`);
          else if (v === UNKNOWN) runtime = true;
        }
        for (const r of plan.steps) {
          const sub = plan.runs?.get(r.id);
          if (!sub) continue;
          for (const { path, step, in: p } of subplanSteps(sub)) {
            const v = staticEval(rule.condition, { step: stepValue(step), plan: planVarsOf(p) });
            if (v === true) report(r.nameRange, `by step "${r.id}", which runs sub-plan "${sub.name}": its step "${path}"`);
            else if (v === UNKNOWN) runtime = true;
          }
        }
        break;
      }
      case 'require': {
        rules.push({ type: 'require', subject: selectorIR(rule.subject, plan), order: rule.order, object: selectorIR(rule.object, plan) });
        const unproved = orderProof(plan, rule);
        for (const s of plan.steps)
          if (constrains(rule.object, s)) {
            const why = unproved(s);
            if (why !== null) report(s.nameRange, `by step "${s.id}"${viaCall(rule.object, s)}: ${describeSel(rule.subject)} must run ${rule.order} it${why}`);
          }
        // A sub-plan's object is covered by the subject where the parent's path into (or out of) its `run` step has it.
        for (const r of plan.steps) {
          const sub = plan.runs?.get(r.id);
          if (!sub || unproved(r) === null) continue;
          for (const inner of unprovedObjects(sub, rule))
            report(r.nameRange, `by step "${r.id}", which runs sub-plan "${sub.name}": its step "${inner}": ${describeSel(rule.subject)} must run ${rule.order} it`);
        }
        break;
      }
      case 'assert': {
        rules.push({ type: 'assert', condition: rule.condition });
        if (rule.runtime) {
          runtime = true;
          break;
        }
        const v = staticEval(rule.condition, { plan: planVars });
        if (v === false) report(plan.nameRange, `by plan "${plan.name}" (estimates: ${describePlan(plan, money)})`);
        else if (v === UNKNOWN) runtime = true;
        break;
      }
      case 'check':
        rules.push({ type: 'check', target: selectorIR(rule.target, plan), condition: rule.condition });
        runtime = true;
        break;
    }
  }
  const verdict: StaticVerdict = violated ? 'violated' : runtime ? 'runtime' : 'holds';
  return { name, severity, category: node.category?.name ?? null, message, rules, static_verdict: verdict };
}

type RequireRule = Extract<CheckedRule, { type: 'require' }>;

/**
 * The objects of an ordering rule a sub-plan leaves unproved (paths from it): its own, and those
 * of the sub-plans it runs where its path into (or out of) the `run` step does not prove them.
 */
function unprovedObjects(plan: PlanFacts, rule: RequireRule, prefix = ''): string[] {
  const unproved = orderProof(plan, rule);
  const out: string[] = [];
  for (const s of plan.steps) {
    if (constrains(rule.object, s) && unproved(s) !== null) out.push(prefix + s.id);
    const sub = plan.runs?.get(s.id);
    if (sub && unproved(s) !== null) out.push(...unprovedObjects(sub, rule, `${prefix}${s.id}/`));
  }
  return out;
}

/**
 * For step `s` of the plan taken as the rule's object: null when the rule's subject surely runs
 * before (after) it on every path, else why not (a suffix for the message, possibly empty).
 */
function orderProof(plan: PlanFacts, rule: RequireRule): (s: StepFacts) => string | null {
  if (rule.order === 'before' && plan.flow) {
    // The runtime refuses an object step when no subject step has completed: a subject
    // ancestor that may be skipped, fail on, lose or have no item proves nothing.
    const byId = new Map(plan.steps.map((s) => [s.id, s]));
    const subject = rule.subject;
    const flow = plan.flow;
    const free = new Map<string | null, Set<string>>();
    const freeUnder = (key: string | null) => {
      let f = free.get(key);
      if (!f) free.set(key, (f = startsWithoutSubject(plan.steps.map((s) => s.id), plan.graph, flow, (id) => satisfies(subject, byId.get(id)!), key)));
      return f;
    };
    return (s) => (freeUnder(sharedWhen(flow, s.id)).has(s.id) ? whyNot(plan, s.id, subject) : null);
  }
  // `after`: a subject step that may end without completing — skipped, failed on, in a
  // `for each` the object is outside of — follows nothing (the runtime judges at the end).
  const unsure = new Map<string | null, Set<string>>();
  const unsureUnder = (key: string | null) => {
    let u = unsure.get(key);
    if (!u) unsure.set(key, (u = plan.flow ? mayNotComplete(plan.steps.map((x) => x.id), plan.graph, plan.flow, key) : new Set()));
    return u;
  };
  return (s) => {
    const related = rule.order === 'before' ? ancestors(plan.graph, s.id) : descendants(plan.graph, s.id);
    const objFlow = plan.flow?.get(s.id);
    const completes = (o: StepFacts): boolean => {
      if (rule.order !== 'after' || !plan.flow) return true;
      const f = plan.flow.get(o.id);
      if (f?.eachBlocks.some((b) => !objFlow?.eachBlocks.includes(b))) return false;
      return !unsureUnder(plan.flow ? sharedWhen(plan.flow, s.id) : null).has(o.id) || (f?.race !== null && f?.race !== undefined);
    };
    // Loops need nothing more: an ordering on the DAG holds within every iteration, and a
    // step after a loop follows every iteration of it. A race branch may lose: it counts
    // only when every branch of its race matches, and the race is not the object's own.
    const sure = (o: StepFacts): boolean => {
      const race = plan.races?.find((r) => r.includes(o.id));
      if (!race || race.includes(s.id)) return true;
      return race.every((b) => plan.steps.some((x) => x.id === b && satisfies(rule.subject, x)));
    };
    return plan.steps.some((o) => related.has(o.id) && satisfies(rule.subject, o) && sure(o) && completes(o)) ? null : '';
  };
}

/**
 * A step's fixed `when` when another step has the same one (else null): only then does taking it
 * as true change a proof, and each distinct one costs a walk of the plan.
 */
const sharedWhenCache = new WeakMap<ReadonlyMap<string, StepFlow>, Map<string, number>>();
function sharedWhen(flow: ReadonlyMap<string, StepFlow>, id: string): string | null {
  const key = flow.get(id)?.whenKey ?? null;
  if (key === null) return null;
  let counts = sharedWhenCache.get(flow);
  if (!counts) {
    counts = new Map();
    for (const f of flow.values()) if (f.whenKey !== null) counts.set(f.whenKey, (counts.get(f.whenKey) ?? 0) + 1);
    sharedWhenCache.set(flow, counts);
  }
  return (counts.get(key) ?? 0) > 1 ? key : null;
}

/** Why the subject steps before `id`, if any, prove nothing. */
function whyNot(plan: PlanFacts, id: string, sel: SelectorRef): string {
  const up = ancestors(plan.graph, id);
  const before = plan.steps.filter((o) => up.has(o.id) && matches(sel, o));
  if (before.length === 0) return '';
  const byFallback = before.find((o) => !satisfies(sel, o));
  if (byFallback && !before.some((o) => satisfies(sel, o)))
    return ` (step "${byFallback.id}" may complete by its fallback ${byFallback.fallback!.capability!.split('.').pop()})`;
  return ' on every path (one may be skipped, fail, lose its race or have no item)';
}

/** Names the call that makes a step an object of a rule, when it is not the step's own. */
function viaCall(sel: SelectorRef, s: StepFacts): string {
  if (matches(sel, s)) return '';
  const which = s.fallback && matches(sel, { ...s, ...s.fallback }) ? 'fallback' : 'compensate';
  return ` (its ${which} ${s[which]!.capability!.split('.').pop()})`;
}

function describePlan(p: PlanFacts, money: (n: number) => string): string {
  return `worst-case cost ${money(p.cost)}, duration ${formatDuration(p.duration)}, ${p.steps.length} steps, local ratio ${round6(p.localRatio)}`;
}

/** Whether an expression's IR reads the variable `name`. */
function readsVar(ir: unknown, name: string): boolean {
  return someNode(ir, (o) => o.op === 'var' && o.name === name);
}
