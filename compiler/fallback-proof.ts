/**
 * Fallbacks are proved too (LANGUAGE.md §7.2): every resource a step may be rebound to at run
 * time, and the resources of its `fallback` / `compensate` calls, are checked against the blocking
 * `forbid` rules, not only the first choice. A forbidden resource is dropped from the binding with
 * the reason (the preview shows it); when it was the first choice the next allowed one takes its
 * place. Only a binding with no allowed resource left is a violation (E0401).
 */
import { forbiddenBy, type CheckedGuardrail, type PlanFacts, type StepFacts } from './guardrails.js';
import type { BindingIR, ResourceIR } from './ir/types.js';

export interface Proved {
  readonly binding: BindingIR;
  /** Every candidate is forbidden: the binding is left as it was, for the guardrail to report. */
  readonly noneAllowed: boolean;
  /** Why the first forbidden candidate was dropped (for the E0401 of a call with none left). */
  readonly reason: string | null;
}

/** `facts`: the step (or call) as bound to `b.resource`; each candidate gets its own resource facts. */
export function proveBinding(
  b: BindingIR,
  facts: StepFacts,
  resources: ReadonlyMap<string, ResourceIR>,
  guards: readonly CheckedGuardrail[],
  plan: PlanFacts,
): Proved {
  const names = [b.resource, ...b.fallbacks].filter((x): x is string => x !== null);
  if (names.length === 0) return { binding: b, noneAllowed: false, reason: null };
  const baseCost = facts.cost - (b.resource ? (resources.get(b.resource)?.cost ?? 0) : 0);
  const allowed: ResourceIR[] = [];
  const dropped: { resource: string; reason: string }[] = [];
  for (const name of names) {
    const r = resources.get(name);
    if (!r) continue;
    const why = forbiddenBy(guards, { ...facts, resource: name, tier: r.tier, placement: r.kind, cost: baseCost + r.cost }, plan);
    if (why) dropped.push({ resource: name, reason: why });
    else allowed.push(r);
  }
  if (dropped.length === 0) return { binding: b, noneAllowed: false, reason: null };
  if (allowed.length === 0) return { binding: b, noneAllowed: true, reason: dropped[0]!.reason };
  const first = allowed[0]!;
  const rationale =
    first.name === b.resource ? b.rationale : `${b.rationale}; ${dropped[0]!.resource} is ${dropped[0]!.reason}, so ${first.name} (${first.tier})`;
  return {
    binding: { resource: first.name, tier: first.tier, rationale, fallbacks: allowed.slice(1).map((r) => r.name), dropped },
    noneAllowed: false,
    reason: null,
  };
}
