/**
 * The `bound-resources` stage: the resources placement chose for some step or call of the plan,
 * as its binding or a fallback, once the proofs dropped the forbidden ones. A resource no plan
 * binds is unused (W0601, ../unused.ts).
 */
import type { BindingIR } from '../ir/types.js';
import type { PlanFacts } from './plan-facts.js';

export function collectBoundResources(f: PlanFacts): void {
  // Most plans of a file of many small ones bind no resource: they share one empty set.
  let boundResources: Set<string> | undefined;
  const bind = (b: BindingIR | undefined): void => {
    if (!b) return;
    if (b.resource) (boundResources ??= new Set()).add(b.resource);
    for (const r of b.fallbacks) (boundResources ??= new Set()).add(r);
  };
  // Each placement result is shared by the steps with the same needs: visit each binding once.
  let seenBindings: BindingIR | Set<BindingIR> | undefined;
  for (const b of f.bindings) {
    if (!b || b === seenBindings) continue;
    if (seenBindings === undefined) seenBindings = b;
    else {
      if (!(seenBindings instanceof Set)) seenBindings = new Set([seenBindings]);
      if (seenBindings.has(b)) continue;
      seenBindings.add(b);
    }
    bind(b);
  }
  for (const c of f.callBindings.values()) {
    bind(c.fallback);
    bind(c.compensate);
  }
  for (const r of f.undecidedHosts ?? []) (boundResources ??= new Set()).add(r);
  if (boundResources) f.boundResources = boundResources;
}
