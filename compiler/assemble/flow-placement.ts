/**
 * §9.3 moves a step as the guardrail proofs do: a step whose arguments carry a class its bound
 * resource (or model endpoint) may not take is placed again, by the plan's policy, among the
 * resources that can host it and do take that class; only when there is none is it E0903 (not
 * E0501: placement found resources, the class rules them out). Its run-time alternatives
 * (`binding.fallbacks`) keep only resources that take the class, so a rebinding after a failure
 * cannot carry the data where the check said it may not go. A pinned step (`on R`) stays put.
 */
import type { DataClass } from '../../language/index.js';
import type { CheckedStep } from '../check/checked-plan.js';
import type { BindingIR } from '../ir/types.js';
import { place, type PlacementResource } from '../placement.js';
import { rank } from './flow-labels.js';
import { placeAccepts } from './flow-sinks.js';
import { modelNeed, modelView, withEndpoint } from './model-endpoints.js';
import type { PlanFacts } from './plan-facts.js';

/** The step's binding moved where `cls` may go, or null when no resource that can host it takes `cls`. */
export function placeForClass(f: PlanFacts, s: CheckedStep, cls: DataClass): BindingIR | null {
  if (s.pinned || s.decl.action.kind !== 'CapabilityCall' || !s.capability) return null;
  const { view, bound, takes } = places(f, s);
  const fit = view.resources.filter((r) => takes(r, cls));
  if (!fit.length) return null;
  const at = { id: s.id, kind: s.kind, builtin: null, requires: s.capability.ir.requires, pinned: undefined };
  const r = place(at, fit, f.effective, f.cx.money);
  const b = r.ok && r.binding.resource !== null ? bound(r.binding) : undefined;
  return b ? { ...b, rationale: `${b.rationale}; its arguments carry ${cls} data, which only these resources take (§9.3)` } : null;
}

/** The binding's run-time alternatives that take `cls` (the binding itself when all do). */
export function fallbacksFor(f: PlanFacts, s: CheckedStep, b: BindingIR, cls: DataClass): BindingIR {
  if (!b.fallbacks.length) return b;
  const { view, takes } = places(f, s);
  const kept = b.fallbacks.filter((name) => {
    const r = view.byName.get(name);
    return r !== undefined && takes(r, cls);
  });
  return kept.length === b.fallbacks.length ? b : { ...b, fallbacks: kept };
}

/** The resources as the step would use them, and whether one takes a class (its tier, its endpoint's, `accepts`). */
function places(f: PlanFacts, s: CheckedStep) {
  const { cx, file } = f;
  const need = modelNeed(s.capability, file);
  const view = need ? modelView(cx.resources, need) : { resources: cx.resources, byName: cx.resourceByName };
  const bound = (b: BindingIR): BindingIR | undefined => (need ? withEndpoint(b, need, view.byName) : b);
  const takes = (r: PlacementResource, cls: DataClass): boolean => {
    const b = bound({ resource: r.name, tier: r.tier, rationale: '', fallbacks: [] });
    return b !== undefined && rank(placeAccepts(b, cx.resourceByName, file).cls) >= rank(cls);
  };
  return { view, bound, takes };
}
