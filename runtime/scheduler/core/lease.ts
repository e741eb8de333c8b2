/** An instance's hold on its slots (resource, items, rate, shared budgets) and giving it back. */
import type { RunState } from './run-state.js';
import type { Inst } from './state.js';

/** Gives the instance's slots back, with what its attempt actually cost (0 if it never launched). */
export function releaseLease(c: RunState, inst: Inst): void {
  if (inst.lease) c.limits.release(inst.lease, attemptSpent(inst));
  inst.lease = null;
  inst.attemptReserved = null;
}

/** The attempt's actual cost for the shared ledgers: its reservation settled by what it reported. */
export function attemptSpent(inst: Inst): number {
  if (inst.attemptReserved === null) return 0;
  return Math.max(0, inst.attemptReserved + (inst.logical.step.action.type === 'run' ? 0 : inst.costDelta));
}
