/**
 * §9.4: a `wait until` or an `available when` whose truth changes with time alone
 * (`age(context.door) > 2m`, `now()`) is looked at again at the instant it can change, as a
 * signal set or gone stale makes it look: with no message to come, the wait would last to its
 * timeout. One run-level timer for the earliest such instant, re-armed after every turn; none
 * while nothing waits on such a condition.
 */
import type { ExprIR, PlanIR } from '../../../compiler/index.js';
import { nextTimeChange, readsClock } from '../../time-change.js';
import { contextChanged, hasAvailability } from './availability.js';
import { agedSignal, env, envAt, runContext, runContextView } from './env.js';
import type { RunState } from './run-state.js';
import { checkUntil } from './start.js';

export const TIME_CHANGE_TIMER = 'time-change';

/** Whether a condition reads the clock, worked out once per expression. */
const clocked = new WeakMap<ExprIR, boolean>();
function readsTime(e: ExprIR): boolean {
  let v = clocked.get(e);
  if (v === undefined) clocked.set(e, (v = readsClock(e)));
  return v;
}

/** Whether any `wait until` or `available when` of the plan reads the clock: most runs never look further. */
const plansOverClock = new WeakMap<PlanIR, boolean>();
function overClock(plan: PlanIR): boolean {
  let v = plansOverClock.get(plan);
  if (v === undefined) {
    v = plan.steps.some((s) => s.action.type === 'wait_until' && readsTime(s.action.condition)) || Object.values(plan.resources).some((r) => r.available !== undefined && readsTime(r.available));
    plansOverClock.set(plan, v);
  }
  return v;
}

/** After a turn: the timer for the next instant a condition something waits on can change, or none. */
export function armTimeChange(c: RunState): void {
  if (c.timeChangeAt === null && !overClock(c.plan) && !agesOwnContext(c) && !runContext(c)) return;
  const next = c.mode === 'normal' ? nextInstant(c) : null;
  if (next === c.timeChangeAt && (next === null || c.armed.has(TIME_CHANGE_TIMER))) return;
  if (c.armed.delete(TIME_CHANGE_TIMER)) c.cancelTimer(TIME_CHANGE_TIMER);
  c.timeChangeAt = next;
  if (next === null) return;
  c.armed.add(TIME_CHANGE_TIMER);
  c.armTimer(TIME_CHANGE_TIMER, next - c.now);
}

function nextInstant(c: RunState): number | null {
  let next: number | null = null;
  const take = (t: number | null) => {
    if (t !== null && (next === null || t < next)) next = t;
  };
  for (const inst of c.untilWaiters) {
    const action = inst.logical.step.action;
    if (action.type === 'wait_until' && readsTime(action.condition)) take(nextTimeChange(action.condition, env(c, inst), c.now));
  }
  // A step waiting for a resource, or queued for a slot (it is rebound before it starts, §9.4).
  if ((c.resourceWaiters.size > 0 || c.heap.size > 0) && hasAvailability(c)) {
    const e = envAt(c, null, null);
    for (const r of Object.values(c.plan.resources)) if (r.available && readsTime(r.available)) take(nextTimeChange(r.available, e, c.now));
  }
  // The run's own values going stale (no context store announces it): what waits looks again then.
  const waiting = c.untilWaiters.size > 0 || ((c.resourceWaiters.size > 0 || c.heap.size > 0) && hasAvailability(c));
  // A run's own context store (a `hold`) knows its next change itself: a value going stale, a hold ending.
  const own = waiting ? runContext(c) : null;
  if (own) take(own.nextChange(runContextView(c)));
  else if (agesOwnContext(c) && waiting) take(nextStaleness(c));
  return next;
}

/** Whether the run ages its own context values (§9.4 without a context store) and any has a `max_age`. */
function agesOwnContext(c: RunState): boolean {
  if (c.cfg.contextAges !== true || c.cfg.signal) return false;
  let v = plansWithMaxAge.get(c.plan);
  if (v === undefined) plansWithMaxAge.set(c.plan, (v = Object.values(c.plan.context_signals ?? {}).some((s) => s.max_age_ms !== null)));
  return v;
}
const plansWithMaxAge = new WeakMap<PlanIR, boolean>();

/** The first instant, after now, at which a fresh value of the run's own context goes stale. */
function nextStaleness(c: RunState): number | null {
  let next: number | null = null;
  for (const [name, def] of Object.entries(c.plan.context_signals ?? {})) {
    if (def.max_age_ms === null || def.derived) continue;
    const r = agedSignal(c, name);
    if (r.state !== 'fresh' || typeof r.set_at !== 'number') continue;
    // Stale one ms after its age reaches max_age, as the store's timer fires.
    const at = r.set_at + def.max_age_ms + 1;
    if (at > c.now && (next === null || at < next)) next = at;
  }
  return next;
}

/** The instant came: what waits looks again, as after a change of the context. */
export function timeChanged(c: RunState): void {
  c.armed.delete(TIME_CHANGE_TIMER);
  c.timeChangeAt = null;
  if (c.mode === 'finished') return;
  for (const inst of [...c.untilWaiters]) checkUntil(c, inst);
  contextChanged(c);
}
