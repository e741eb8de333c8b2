/** Guardrails at run time: the step facts they see, and recording violations (warnings once). */
import { endpointOf, higherTier, type CapabilityIR, type ResourceIR, type StepIR, type TierIR } from '../../../compiler/index.js';
import { preStepViolations, type GuardStep, type Violation } from '../guardrails.js';
import { env } from './env.js';
import { violationKey } from './fold.js';
import { capabilityOf, resourceOf } from './resolve.js';
import type { RunState } from './run-state.js';
import type { Inst } from './state.js';

/**
 * The facts guardrails see of `inst`: its current call on its current resource, or `call` — another
 * call of it (a compensation) or another resource (a rebinding) they judge before it is made.
 */
export function guardStep(c: RunState, inst: Inst, call?: { readonly resource: ResourceIR | null; readonly capability?: CapabilityIR }): GuardStep {
  const step = inst.logical.step;
  const res = call ? call.resource : resourceOf(c, inst);
  const cap = call?.capability ?? capabilityOf(c, inst);
  return {
    id: step.id,
    name: step.id,
    capability: cap?.name ?? step.capability,
    kind: cap?.kind ?? step.kind,
    data: step.data,
    placement: res?.kind ?? null,
    tier: callTier(res, cap, step.binding),
    resource: res?.name ?? null,
    cost: step.estimates.cost,
    duration: step.estimates.duration_ms,
    destructive: cap?.destructive ?? false,
  };
}

/**
 * The tier guardrails judge a call at (§9.1): the higher of its resource's and, for a call the
 * built-in model handler answers, the tier the compiler recorded for the endpoint its prompt goes
 * to (the resource's, else the capability's own). A plan compiled before v0.4 records none: the
 * resource's tier then, as it was.
 */
export function callTier(res: ResourceIR | null, cap: CapabilityIR | null | undefined, binding: StepIR['binding']): TierIR | null {
  const base = res?.tier ?? null;
  const llm = cap?.llm;
  if (!llm) return base;
  const endpoint = endpointOf({ ...cap, llm }, res);
  if (endpoint === undefined) return base;
  const recorded =
    res?.endpoint === endpoint && res.endpoint_tier !== undefined
      ? res.endpoint_tier
      : binding.resource === (res?.name ?? null) && binding.endpoint === endpoint && binding.endpoint_tier !== undefined
        ? binding.endpoint_tier
        : llm.endpoint === endpoint
          ? llm.endpoint_tier
          : undefined;
  if (recorded === undefined || base === 'human') return base;
  return base === null ? recorded : higherTier<TierIR>(base, recorded);
}

/** Journals the violations (a warning once per guardrail, rule and step); returns the first blocking one. */
export function recordViolations(c: RunState, inst: Inst | null, vs: readonly Violation[]): Violation | null {
  let blocking: Violation | null = null;
  for (const v of vs) {
    const onceKey = violationKey(v.guardrail.name, v.rule, inst?.key ?? null);
    if (v.guardrail.severity !== 'blocking' && c.warned.has(onceKey)) continue;
    c.warned.add(onceKey);
    c.emit('guardrail_violation', inst?.key ?? null, {
      guardrail: v.guardrail.name,
      severity: v.guardrail.severity,
      category: v.guardrail.category,
      rule: v.rule,
      message: v.message,
    });
    if (v.guardrail.severity === 'blocking' && !blocking) blocking = v;
  }
  return blocking;
}

/**
 * The blocking `forbid` rule the step would break now on `resource`, if any (nothing recorded):
 * rebinding skips such a resource, as its conditions may read the run's input and context.
 */
export function forbiddenOn(c: RunState, inst: Inst, resource: ResourceIR | null): Violation | null {
  if (c.plan.guardrails.length === 0) return null;
  const vs = preStepViolations(c.plan.guardrails, guardStep(c, inst, { resource }), env(c, inst, inst.logical.step), () => []);
  return vs.find((v) => v.guardrail.severity === 'blocking' && v.rule === 'forbid') ?? null;
}
