/**
 * Run-time guardrail checks (pure): `forbid` and `require … before` before a step starts, `check`
 * after it completes, `assert` on the run's actuals. The scheduler decides what a violation does
 * (blocking → the step does not start / fails and the run fails; otherwise a journal event).
 */
import type { ExprIR, GuardrailIR, GuardrailRuleIR, SelectorIR } from '../../compiler/index.js';
import { condition, unknownReason, UNKNOWN, type EvalEnv } from '../evaluate.js';

/** What `step.*` means inside a guardrail condition. */
export interface GuardStep {
  readonly id: string;
  readonly name: string;
  readonly capability: string | null;
  readonly kind: string | null;
  readonly data: string;
  readonly placement: string | null;
  readonly tier: string | null;
  readonly resource: string | null;
  readonly cost: number;
  readonly duration: number;
  readonly destructive: boolean;
}

export interface Violation {
  readonly guardrail: GuardrailIR;
  readonly rule: GuardrailRuleIR['type'];
  readonly message: string;
}

export function selectorMatches(sel: SelectorIR, step: GuardStep): boolean {
  if ('destructive' in sel) return step.destructive;
  if ('step' in sel) return sel.step === step.id;
  if ('kind' in sel) return sel.kind === step.kind;
  return step.capability !== null && capabilityMatches(sel.capability, step.capability);
}

/** Selectors may name a capability by its short or qualified name. */
export function capabilityMatches(selector: string, qualified: string): boolean {
  return selector === qualified || qualified.endsWith(`.${selector}`) || selector.endsWith(`.${qualified}`);
}

function describe(g: GuardrailIR, fallback: string): string {
  return `guardrail ${g.name} violated${g.message ? `: ${g.message}` : `: ${fallback}`}`;
}

/** `unknown` (§9.4): the condition reads a signal that is not known; an assert or check over it fails. */
function holds(cond: ExprIR, env: EvalEnv): { ok: boolean; error?: string; unknown?: string } {
  try {
    const t = condition(cond, env);
    return t === UNKNOWN ? { ok: false, unknown: unknownReason(cond, env) } : { ok: t };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/**
 * Before `step` starts: `forbid` conditions that hold and `require S before O` rules whose
 * object is this step but no subject step has completed yet.
 */
export function preStepViolations(
  guardrails: readonly GuardrailIR[],
  step: GuardStep,
  env: EvalEnv,
  completedSteps: () => readonly GuardStep[],
): Violation[] {
  const out: Violation[] = [];
  for (const g of guardrails) {
    for (const rule of g.rules) {
      if (rule.type === 'forbid') {
        const e = { ...env, vars: { ...env.vars, step } };
        const r = holds(rule.condition, e);
        // An evaluation error on a forbid rule is not proof the step is forbidden; an unknown
        // signal is no proof it is allowed (§9.4: fail closed).
        if (r.ok) out.push({ guardrail: g, rule: 'forbid', message: describe(g, `step ${step.id} is forbidden`) });
        else if (r.unknown) out.push({ guardrail: g, rule: 'forbid', message: `${describe(g, `step ${step.id} is forbidden`)} (${r.unknown})` });
      } else if (rule.type === 'require' && rule.order === 'before' && selectorMatches(rule.object, step)) {
        if (!completedSteps().some((s) => selectorMatches(rule.subject, s)))
          out.push({
            guardrail: g,
            rule: 'require',
            message: describe(g, `${selectorText(rule.subject)} must complete before ${step.id}`),
          });
      }
    }
  }
  return out;
}

/** After `step` completed with `output`: `check` rules targeting it whose condition fails. */
export function postStepViolations(
  guardrails: readonly GuardrailIR[],
  step: GuardStep,
  output: unknown,
  env: EvalEnv,
): Violation[] {
  const out: Violation[] = [];
  for (const g of guardrails)
    for (const rule of g.rules)
      if (rule.type === 'check' && selectorMatches(rule.target, step)) {
        const r = holds(rule.condition, { ...env, vars: { ...env.vars, step, output } });
        if (!r.ok)
          out.push({
            guardrail: g,
            rule: 'check',
            message: describe(g, r.error ? `check on ${step.id} could not be evaluated: ${r.error}` : `check on ${step.id} failed`),
          });
      }
  return out;
}

/** `assert` rules over the actuals (`run.cost`, `run.elapsed`) and estimates (`plan.*`). */
export function assertViolations(guardrails: readonly GuardrailIR[], env: EvalEnv): Violation[] {
  const out: Violation[] = [];
  for (const g of guardrails)
    for (const rule of g.rules)
      if (rule.type === 'assert') {
        const r = holds(rule.condition, env);
        if (!r.ok && !r.error) out.push({ guardrail: g, rule: 'assert', message: describe(g, 'assertion failed') });
      }
  return out;
}

/** At the end of a run: `require S after O` — every completed O is followed by a completed S. */
export function afterRuleViolations(
  guardrails: readonly GuardrailIR[],
  completed: readonly { step: GuardStep; at: number }[],
): Violation[] {
  const out: Violation[] = [];
  for (const g of guardrails)
    for (const rule of g.rules)
      if (rule.type === 'require' && rule.order === 'after') {
        const objects = completed.filter((c) => selectorMatches(rule.object, c.step));
        const subjects = completed.filter((c) => selectorMatches(rule.subject, c.step));
        const lastObject = Math.max(-Infinity, ...objects.map((o) => o.at));
        if (objects.length > 0 && !subjects.some((s) => s.at >= lastObject))
          out.push({
            guardrail: g,
            rule: 'require',
            message: describe(g, `${selectorText(rule.subject)} must complete after ${selectorText(rule.object)}`),
          });
      }
  return out;
}

export function selectorText(sel: SelectorIR): string {
  if ('destructive' in sel) return 'a destructive step';
  if ('step' in sel) return sel.step;
  if ('kind' in sel) return `kind ${sel.kind}`;
  return `capability ${sel.capability}`;
}

/**
 * The guardrails a sub-plan run enforces: its own, and those of the run that starts it (which
 * carry its own parent's, and so on). Of a parent's guardrail, `forbid` and `check` judge the
 * sub-plan's steps as they judge the parent's; a `require S before O` an S the parent completed
 * before the `run` step already meets is dropped; `assert` stays about the parent's run, and
 * `require … after` is judged at the parent's end over the parent's steps. A guardrail the
 * sub-plan lists itself is its own (held within it).
 */
export function subplanGuardrails(own: readonly GuardrailIR[], parent: readonly GuardrailIR[], completed: readonly GuardStep[]): GuardrailIR[] {
  const out = [...own];
  for (const g of parent) {
    if (own.some((o) => o.name === g.name)) continue;
    const rules = g.rules.filter(
      (r) => r.type === 'forbid' || r.type === 'check' || (r.type === 'require' && r.order === 'before' && !completed.some((s) => selectorMatches(r.subject, s))),
    );
    if (rules.length > 0) out.push({ ...g, rules });
  }
  return out;
}
