/** Whether a step instance's dependencies have ended, and a new instance waiting for them. */
import type { RunState } from './run-state.js';
import { sharedPrefix } from './scopes.js';
import { type Inst, startWaiting } from './state.js';
import { terminalAt, viewAt } from './views.js';

/** A new instance waits for its dependencies (or, cancelled or restored as cancelled, does not). */
export function awaitDeps(c: RunState, inst: Inst): void {
  if (c.cancelRequests.has(inst.logical.step.id) || c.pendingCancels.has(inst.key) || inst.restored?.status === 'cancelled' || ready(c, inst)) c.decideQ.push(inst);
  else startWaiting(inst);
}

/** Have the dependencies ended (`join first`: has one completed)? */
export function ready(c: RunState, inst: Inst): boolean {
  const step = inst.logical.step;
  let all = true;
  for (const d of step.deps) {
    const dep = c.logical.get(d);
    if (!dep) continue;
    const prefix = sharedPrefix(inst, dep.shape.dims);
    if (!terminalAt(c, dep, prefix)) {
      if (step.join !== 'first') return false;
      all = false;
    } else if (step.join === 'first' && viewAt(c, dep, prefix).status === 'completed') return true;
  }
  return all;
}
