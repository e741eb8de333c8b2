/**
 * Where a finished run's steps actually ran, from its journal: for each step instance that
 * completed or failed, the tier of the resource its last attempt started on and the step's data
 * class. The compiler's `localRatio` and `privacyScore` read these, as they read the preview's
 * bindings, so `orch runs --stats`, `/metrics` and `orch preview` agree on what the figures mean.
 */
import type { PlacedStep, PlanIR, StepIR } from '../compiler/index.js';
import { callTier } from './scheduler/core/guards.js';
import type { RunEvent } from './scheduler/types.js';

/** The tier `step` ran at on `resource`: a model step's is the higher of the resource's and its endpoint's (§9.1). */
export function placedTier(plan: PlanIR, step: StepIR | undefined, resource: string): PlacedStep['tier'] {
  const res = plan.resources[resource];
  if (!res) return null;
  return step ? callTier(res, step.capability ? plan.capabilities[step.capability] : undefined, step.binding) : res.tier;
}

export function placedSteps(plan: PlanIR, events: readonly RunEvent[]): PlacedStep[] {
  const stepOf = new Map(plan.steps.map((s) => [s.id, s]));
  const resourceOf = new Map<string, string>();
  const out: PlacedStep[] = [];
  for (const e of events) {
    if (!e.stepId) continue;
    if (e.type === 'step_started' && e.data.resource !== null) resourceOf.set(e.stepId, e.data.resource);
    else if (e.type === 'step_completed' || e.type === 'step_failed' || (e.type === 'step_cancelled' && resourceOf.has(e.stepId))) {
      const resource = resourceOf.get(e.stepId);
      // Instances (`send[2]`, `draft#1`) carry their step's data class.
      const id = e.stepId.replace(/[[#].*$/, '');
      const step = stepOf.get(id);
      out.push({ tier: resource ? placedTier(plan, step, resource) : null, data: step?.data ?? 'public' });
    }
  }
  return out;
}
