/**
 * Where a finished run's steps actually ran, from its journal: for each step instance that
 * completed or failed, the tier of the resource its last attempt started on and the step's data
 * class. The compiler's `localRatio` and `privacyScore` read these, as they read the preview's
 * bindings, so `orch runs --stats`, `/metrics` and `orch preview` agree on what the figures mean.
 */
import type { PlacedStep, PlanIR } from '../compiler/index.js';
import type { RunEvent } from './scheduler/types.js';

export function placedSteps(plan: PlanIR, events: readonly RunEvent[]): PlacedStep[] {
  const dataOf = new Map(plan.steps.map((s) => [s.id, s.data]));
  const resourceOf = new Map<string, string>();
  const out: PlacedStep[] = [];
  for (const e of events) {
    if (!e.stepId) continue;
    if (e.type === 'step_started' && e.data.resource !== null) resourceOf.set(e.stepId, e.data.resource);
    else if (e.type === 'step_completed' || e.type === 'step_failed' || (e.type === 'step_cancelled' && resourceOf.has(e.stepId))) {
      const resource = resourceOf.get(e.stepId);
      // Instances (`send[2]`, `draft#1`) carry their step's data class.
      const id = e.stepId.replace(/[[#].*$/, '');
      out.push({ tier: resource ? (plan.resources[resource]?.tier ?? null) : null, data: dataOf.get(id) ?? 'public' });
    }
  }
  return out;
}
