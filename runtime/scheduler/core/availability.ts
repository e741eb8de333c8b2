/**
 * Resources that come and go (LANGUAGE.md §9.4). A resource's `available when` is evaluated at
 * dispatch and again whenever the run's context changes (a signal set or gone stale): a queued
 * step whose resource is not available is rebound (`step_rebound`) to the next available resource
 * of its placement ranking, or waits — out of the ready queue, its timeout running — until one is.
 * The signals come in as data (`CoreConfig.signal`, else the run's own context): this decides only.
 */
import type { ResourceIR } from '../../../compiler/index.js';
import { condition, unknownReason, UNKNOWN, type Truth } from '../../evaluate.js';
import { finalFail } from './endings.js';
import { envAt } from './env.js';
import { forbiddenOn } from './guards.js';
import { rankIndex, rankingOf, resourceOf } from './resolve.js';
import type { RunState } from './run-state.js';
import type { Inst } from './state.js';
import { clearStepTimer, stepTimerId } from './timers.js';

/** Does any resource of the plan come and go? Then dispatch asks; otherwise nothing changes. */
export function hasAvailability(c: RunState): boolean {
  return (c.availability ??= Object.values(c.plan.resources).some((r) => r.available !== undefined));
}

/** Why `res` may not be chosen now (its condition false or unknown), or null when it may. */
export function unavailable(c: RunState, res: ResourceIR | null): string | null {
  if (!res?.available) return null;
  const e = envAt(c, null, null);
  let t: Truth;
  try {
    t = condition(res.available, e);
  } catch (err) {
    return `${res.name} is not available: its condition cannot be evaluated (${(err as Error).message})`;
  }
  if (t === true) return null;
  return `${res.name} is not available: ${t === UNKNOWN ? unknownReason(res.available, e) : 'its available when is false'}`;
}

/**
 * A queued instance about to start, or a queued one whose context changed: true when its
 * resource is available, after a rebinding if its own is not; false when none is (it waits).
 */
export function placeQueued(c: RunState, inst: Inst): boolean {
  const action = inst.logical.step.action.type;
  if (action !== 'call' && action !== 'run') return true;
  const res = resourceOf(c, inst);
  const why = unavailable(c, res);
  if (why === null) return true;
  // Only a primary call moves along its ranking; a fallback call or a sub-plan waits for its own.
  if (inst.rec.phase !== 'main' || action !== 'call') return false;
  const ranking = rankingOf(inst.logical.step);
  const at = rankIndex(inst);
  // The ones after it first (as a failure moves on), then those before it.
  for (let k = 1; k < ranking.length; k++) {
    const name = ranking[(at + k) % ranking.length];
    const next = name ? c.plan.resources[name] : undefined;
    if (!next || name === res!.name || unavailable(c, next) !== null || forbiddenOn(c, inst, next)) continue;
    c.emit('step_rebound', inst.key, { from: res!.name, to: next.name, reason: why });
    return true;
  }
  return false;
}

/**
 * Takes `inst` (just popped from the ready queue) out until a resource is available; its
 * timeout, if it has one, runs meanwhile (§9.4: the wait counts against it).
 */
export function waitForResource(c: RunState, inst: Inst): void {
  c.resourceWaiters.add(inst);
  if (inst.waitingSince !== null) return;
  inst.waitingSince = c.now;
  const cap = inst.logical.step.capability ? c.plan.capabilities[inst.logical.step.capability] : undefined;
  const ms = inst.logical.step.timeout_ms ?? cap?.timeout_ms ?? null;
  if (ms === null) return;
  inst.timer = { kind: 'timeout', token: ++inst.token, what: 'waiting for an available resource', ms, waited: inst.waitedMs };
  c.armTimer(stepTimerId(inst), ms - inst.waitedMs);
}

/** A waiting instance's resource is available again: its wait ends (and is kept, for its attempt's timeout). */
export function resourceFound(c: RunState, inst: Inst): void {
  if (inst.waitingSince === null) return;
  inst.waitedMs += c.now - inst.waitingSince;
  inst.waitingSince = null;
  if (inst.timer?.kind === 'timeout') clearStepTimer(c, inst);
}

/** The context changed: queued instances are looked at again (rebound now, or back in the queue). */
export function contextChanged(c: RunState): void {
  if (!hasAvailability(c)) return;
  for (const inst of c.heap.values()) if (inst.rec.status === 'queued' && inst.activity.kind === 'idle') placeQueued(c, inst);
  for (const inst of [...c.resourceWaiters]) {
    c.resourceWaiters.delete(inst);
    if (inst.rec.status === 'queued') c.heap.push(inst);
  }
}

/** The instances waiting for a resource (§9.4), each with why its own is not available. */
export function resourceWaits(c: RunState): readonly { readonly key: string; readonly why: string }[] {
  return [...c.resourceWaiters].map((inst) => ({ key: inst.key, why: unavailable(c, resourceOf(c, inst)) ?? 'none of its ranking is available' }));
}

/** The timeout of a step waiting for a resource fired: it fails as timed out, saying why it waited. */
export function resourceWaitTimedOut(c: RunState, inst: Inst, ms: number): void {
  c.resourceWaiters.delete(inst);
  inst.waitingSince = null;
  finalFail(c, inst, 'timeout', `no available resource within ${ms}ms: ${unavailable(c, resourceOf(c, inst)) ?? 'none of its ranking is available'}`);
}
