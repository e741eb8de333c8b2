/**
 * The timers a run keeps: each step instance's own (its timeout, its retry backoff), by a name
 * derived from its key, and the run-level ones in `armed` (deadline, rate windows, budgets).
 */
import type { RunState } from './run-state.js';
import type { Inst } from './state.js';

/** What an approval's timeout says ran out: `approval timed out after …`. */
export const APPROVAL = 'approval';

/**
 * The error of whatever ran out of time (`approval timed out after 500ms`): the one wording,
 * whether its timer fired or a resumed run found its time gone.
 */
export function timedOutMessage(what: string, ms: number): string {
  return `${what} timed out after ${ms}ms`;
}

export function stepTimerId(inst: Inst): string {
  return `step:${inst.key}`;
}

export function clearStepTimer(c: RunState, inst: Inst): void {
  if (inst.timer !== null) c.cancelTimer(stepTimerId(inst));
  inst.timer = null;
}

export function clearTimers(c: RunState): void {
  // A pending timer would keep `orch run` alive after the run ended.
  for (const t of c.armed) c.cancelTimer(t);
  c.armed.clear();
  for (const inst of c.instances.values()) clearStepTimer(c, inst);
}

/** A rate window refused a start until `retryAt`: one timer per window wakes whatever waits on it. */
export function armRateWindow(c: RunState, window: string, retryAt: number): void {
  const timer = `rate:${window}`;
  if (c.armed.has(timer)) return;
  c.armed.add(timer);
  c.armTimer(timer, Math.max(1, retryAt - c.now));
}
