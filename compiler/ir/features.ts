/**
 * The v0.2 control-flow constructs a plan's IR uses (LANGUAGE.md §7.1): for readers that want to
 * name them (the runtime and the verifier run all of them).
 */
import type { PlanIR } from './types.js';

export type ControlFlowFeature = 'race' | 'repeat' | 'nested for each' | 'join first';

export function controlFlowFeatures(plan: PlanIR): ControlFlowFeature[] {
  const out = new Set<ControlFlowFeature>();
  for (const b of plan.blocks ?? []) {
    if (b.type === 'race') out.add('race');
    else if (b.type === 'repeat') out.add('repeat');
    else if (b.parent !== null) out.add('nested for each');
  }
  for (const s of plan.steps) {
    if (s.join === 'first') out.add('join first');
    if ((s.blocks ?? []).length > 1 && s.blocks!.every((id) => plan.blocks?.find((b) => b.id === id)?.type === 'for_each')) out.add('nested for each');
  }
  for (const sub of Object.values(plan.subplans)) for (const f of controlFlowFeatures(sub)) out.add(f);
  return [...out];
}
