/** Guardrails at run time: the step facts they see, and recording violations (warnings once). */
import type { GuardStep, Violation } from '../guardrails.js';
import type { SchedulerCore } from './core.js';
import { capabilityOf, resourceOf } from './resolve.js';
import type { Inst } from './state.js';

export function guardStep(c: SchedulerCore, inst: Inst): GuardStep {
  const step = inst.logical.step;
  const res = resourceOf(c, inst);
  const cap = capabilityOf(c, inst);
  return {
    id: step.id,
    name: step.id,
    capability: cap?.name ?? step.capability,
    kind: cap?.kind ?? step.kind,
    data: step.data,
    placement: res?.kind ?? null,
    tier: res?.tier ?? null,
    resource: res?.name ?? null,
    cost: step.estimates.cost,
    duration: step.estimates.duration_ms,
  };
}

/** Journals the violations (a warning once per guardrail, rule and step); returns the first blocking one. */
export function recordViolations(c: SchedulerCore, inst: Inst | null, vs: readonly Violation[]): Violation | null {
  let blocking: Violation | null = null;
  for (const v of vs) {
    const onceKey = `${v.guardrail.name}\u0000${v.rule}\u0000${v.rule === 'assert' ? '' : (inst?.key ?? '')}`;
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
