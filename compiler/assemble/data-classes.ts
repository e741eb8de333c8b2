/**
 * The `data-classes` stage: data classes flow along the DAG — a step handles what it reads, so
 * its class is the highest of its own arguments', its capability's, its output fields' and the
 * outputs it reads (LANGUAGE.md §9.3's output class, lowered by `declassify`: the flows stage's
 * labels, where any value can carry one). Only guardrails and the IR read them: a plain `check`
 * of a plan without guardrails skips this.
 */
import type { DataClass } from '../../language/index.js';
import { stepsById } from '../check/checked-plan.js';
import { maxClass } from '../types/ty.js';
import { stepDataClasses } from './flows.js';
import type { PlanFacts } from './plan-facts.js';

export function propagateDataClasses(f: PlanFacts): void {
  const { cp } = f;
  if (f.cx.checkOnly && !cp.guardrails.length) return;
  const labelled = stepDataClasses(f);
  if (labelled) {
    for (let i = 0; i < cp.steps.length; i++) cp.steps[i]!.data = maxClass(cp.steps[i]!.ownData, labelled[i] ?? 'public');
    return;
  }
  const byId = stepsById(cp);
  for (const id of f.dag.order) {
    const s = byId.get(id)!;
    let d: DataClass = maxClass(s.ownData, s.capability?.ir.data ?? 'public');
    for (let k = 0; k < s.outputReads.length; k++) {
      const src = byId.get(s.outputReads[k]!);
      if (src && src !== s) d = maxClass(d, src.data);
    }
    s.data = d;
  }
}
