/**
 * The names `orch serve` serves its plans under: two served modules may both declare `plan greet`,
 * and `POST /runs`, a trigger and an `after` chain must each reach the one they name. As the IR
 * keys sub-plans (compiler/check/step.ts), the first plan of a name keeps it and a later one is
 * served under its qualified name (`b.greet`).
 */
import type { PlanIR } from '../compiler/index.js';

/** `module.plan`: how a trigger names its plan once resolved (serve/load.ts), unique across served modules. */
export function qualifiedPlanName(p: Pick<PlanIR, 'module' | 'plan'>): string {
  return p.module ? `${p.module}.${p.plan}` : p.plan;
}

/** Each plan's served name, in the order given (the served files' order, serve/load.ts). */
export function servedPlanNames(plans: readonly PlanIR[]): Map<PlanIR, string> {
  const taken = new Set<string>();
  const out = new Map<PlanIR, string>();
  for (const p of plans) {
    const name = taken.has(p.plan) ? qualifiedPlanName(p) : p.plan;
    taken.add(p.plan);
    out.set(p, name);
  }
  return out;
}
