/**
 * The end of an attempt: success (with post-step guardrails), or failure and what follows it —
 * retry with backoff, rebinding to the next fallback resource, the step's `fallback` call, and
 * only then the step's failure and the plan's `on_failure` (abort, continue, rollback).
 */
import { assertViolations, postStepViolations } from '../guardrails.js';
import type { FailureOwner, FinalFailure } from '../types.js';
import { recordOverrun } from './budget.js';
import { abortRun, finalFail, instTerminal, postHook, stopRunning, withCost } from './endings.js';
import { env } from './env.js';
import { forbiddenOn, guardStep, recordViolations } from './guards.js';
import { rankIndex, resourceOf } from './resolve.js';
import type { RunState } from './run-state.js';
import { type Inst } from './state.js';
import { clearStepTimer, stepTimerId } from './timers.js';
import type { AttemptUsage } from '../types.js';

export function onOutcome(
  c: RunState,
  key: string,
  token: number,
  o: { type: 'attempt_succeeded' | 'attempt_failed'; output?: unknown; error?: string; logs?: readonly string[]; cost?: number; usage?: AttemptUsage; final?: FinalFailure; owner?: FailureOwner },
): void {
  const inst = c.instances.get(key);
  if (!inst || inst.token !== token || inst.activity.kind !== 'call' || inst.rec.status !== 'running') return;
  clearStepTimer(c, inst);
  // A reported cost replaces the capability's reservation (§8.2: settled to actual); the fold adds it with the end event.
  if (o.cost !== undefined && Number.isFinite(o.cost) && o.cost >= 0) {
    inst.costDelta = o.cost - inst.attemptCapCost;
    recordOverrun(c, inst, o.cost);
  }
  inst.usage = o.usage ? flatUsage(o.usage) : null;
  // What the handler wrote (ctx.log, stdout, stderr): one `step_log` event a line (LANGUAGE.md §7.3).
  for (const line of o.logs ?? []) c.emit('step_log', inst.key, { attempt: inst.rec.attempts, line });
  if (o.type === 'attempt_succeeded') succeed(c, inst, o.output);
  else {
    // A handler that never loaded ran nothing, so it is not charged. A final failure skips the
    // retries (the same would happen again); the step's `fallback` call has a handler of its own,
    // so it is still tried.
    if (o.final === 'unloadable') inst.costDelta = -(inst.attemptCapCost + (resourceOf(c, inst)?.cost ?? 0));
    attemptFailed(c, inst, o.error ?? 'failed', false, !o.final, true, { permanent: o.final !== undefined, ...(o.owner ? { owner: o.owner } : {}) });
  }
}

/**
 * The worker running the attempt died (LANGUAGE.md §7.5): not a failure of the handler, so no
 * retry is spent — `attempt_lost` names the worker, and the step is queued again at once to run
 * elsewhere as the next attempt (`ctx.attempt` tells its handler). Outside a normal run
 * (aborting, rolling back) it ends like any failed attempt there.
 */
export function attemptLost(c: RunState, key: string, token: number, worker: string, error: string, reason?: string): void {
  const inst = c.instances.get(key);
  if (!inst || inst.token !== token || inst.activity.kind !== 'call' || inst.rec.status !== 'running') return;
  if (c.mode !== 'normal') return attemptFailed(c, inst, error, false, true);
  stopRunning(c, inst);
  clearStepTimer(c, inst);
  c.emit('attempt_lost', inst.key, withCost(inst, { attempt: inst.rec.attempts, worker, ...(reason !== undefined ? { reason } : {}) }));
  c.heap.push(inst);
}

/** Only the known numeric and text fields, so a handler cannot put anything else in the journal. */
export function flatUsage(u: AttemptUsage): AttemptUsage {
  const out: { -readonly [K in keyof AttemptUsage]: AttemptUsage[K] } = {};
  for (const k of ['input_tokens', 'output_tokens', 'cost'] as const) {
    const v = u[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  for (const k of ['model', 'endpoint'] as const) {
    const v = u[k];
    if (typeof v === 'string') out[k] = v.slice(0, 200);
  }
  return out;
}

export function succeed(c: RunState, inst: Inst, output: unknown): void {
  stopRunning(c, inst);
  const guarded = c.plan.guardrails.length > 0;
  const blocking = guarded
    ? recordViolations(c, inst, postStepViolations(c.plan.guardrails, guardStep(c, inst), output, env(c, inst, inst.logical.step)))
    : null;
  if (blocking) return finalFail(c, inst, 'failed', blocking.message, true);
  const completedAt = c.now;
  c.emit(
    'step_completed',
    inst.key,
    withCost(inst, { output, attempt: inst.rec.attempts, duration: completedAt - (inst.rec.startedAt ?? completedAt), resource: inst.rec.resource }),
  );
  c.logCompleted(inst, completedAt);
  postHook(c, inst);
  instTerminal(c, inst);
  if (!guarded) return;
  const assertBlock = recordViolations(c, null, assertViolations(c.plan.guardrails, env(c, null, inst.logical.step)));
  if (assertBlock) abortRun(c, 'failed', assertBlock.message);
}

function backoff(c: RunState, inst: Inst): number {
  const retry = inst.logical.step.retry;
  let ms = 0;
  if (retry.backoff === 'fixed') ms = retry.delay_ms;
  else if (retry.backoff === 'exponential') ms = retry.delay_ms * 2 ** Math.max(0, inst.rec.phaseAttempts - 1);
  if (retry.max_delay_ms !== null) ms = Math.min(ms, retry.max_delay_ms);
  if (retry.jitter && ms > 0) ms = Math.round(ms * (0.5 + 0.5 * (c.cfg.random ?? Math.random)()));
  return ms;
}

/** How an attempt failed, beyond its message (LANGUAGE.md §9.1). */
export interface FailureKind {
  /** It cannot heal (`AttemptOutcome.final`, arguments that cannot be evaluated): never retried; `permanent: true` on its end event. */
  readonly permanent?: boolean;
  /** Whose it is: only a failure of the resource (or, when transient, of nobody known) moves the step to another resource. */
  readonly owner?: FailureOwner;
}

/**
 * An attempt failed. In order: retry (with backoff) on the same resource, rebind to the next
 * fallback resource, the step's `fallback` call, and only then the step fails. A permanent
 * failure skips the retries, and is rebound only when it is the resource's own.
 */
export function attemptFailed(
  c: RunState,
  inst: Inst,
  error: string,
  timedOut: boolean,
  retryable: boolean,
  /** Not retryable, yet the step's `fallback` call is still tried (the primary could not be made). */
  fallbackAnyway = false,
  kind: FailureKind = {},
): void {
  stopRunning(c, inst);
  clearStepTimer(c, inst);
  const step = inst.logical.step;
  const normal = c.mode === 'normal';
  const mayRebind = (owner: FailureOwner | undefined) => inst.rec.phase === 'main' && step.action.type === 'call' && owner !== 'call' && (!kind.permanent || owner === 'resource');
  if (kind.permanent) {
    if (normal && mayRebind(kind.owner) && rebind(c, inst, error, true)) return;
    if (normal && switchToFallback(c, inst, error, true)) return;
    return finalFail(c, inst, timedOut ? 'timeout' : 'failed', error, false, true);
  }
  if (retryable && normal) {
    const budget = inst.rec.phase === 'fallback' ? 1 : 1 + step.retry.max;
    if (inst.rec.phaseAttempts < budget) {
      const delay = backoff(c, inst);
      c.emit('step_retried', inst.key, withCost(inst, { attempt: inst.rec.attempts, error, delay_ms: delay }));
      requeueAfter(c, inst, delay);
      return;
    }
    if (mayRebind(kind.owner) && rebind(c, inst, error)) return;
    if (switchToFallback(c, inst, error)) return;
  } else if (fallbackAnyway && normal && switchToFallback(c, inst, error)) return;
  finalFail(c, inst, timedOut ? 'timeout' : 'failed', error);
}

/**
 * Queues `inst` again at once with a fresh retry budget, after it moved to another resource or
 * to its fallback call; the `step_retried` event says which (`detail`).
 */
function requeueReset(c: RunState, inst: Inst, error: string, permanent: boolean, detail: Record<string, unknown>): void {
  c.emit('step_retried', inst.key, withCost(inst, { attempt: inst.rec.attempts, error, delay_ms: 0, reset: true, ...(permanent ? { permanent: true } : {}), ...detail }));
  c.heap.push(inst);
}

/**
 * Moves a failed primary call on to the next fallback resource a blocking guardrail does not
 * forbid now (LANGUAGE.md §7.2: rebinding never picks a forbidden one); the ones passed over are
 * named in `step_retried` (`skipped`). False when none is left.
 */
function rebind(c: RunState, inst: Inst, error: string, permanent = false): boolean {
  const fallbacks = inst.logical.step.binding.fallbacks;
  const skipped: { resource: string; reason: string }[] = [];
  for (let next = rankIndex(inst) + 1; next <= fallbacks.length; next++) {
    const name = fallbacks[next - 1]!;
    const forbidden = forbiddenOn(c, inst, c.plan.resources[name] ?? null);
    if (forbidden) {
      skipped.push({ resource: name, reason: forbidden.message });
      continue;
    }
    requeueReset(c, inst, error, permanent, { resourceIndex: next, rebind: name, ...(skipped.length > 0 ? { skipped } : {}) });
    return true;
  }
  return false;
}

/** Moves a failed primary call on to the step's `fallback` call; false when there is none. */
function switchToFallback(c: RunState, inst: Inst, error: string, permanent = false): boolean {
  const step = inst.logical.step;
  if (inst.rec.phase !== 'main' || !step.fallback) return false;
  requeueReset(c, inst, error, permanent, { phase: 'fallback', fallback: step.fallback.capability });
  return true;
}

function requeueAfter(c: RunState, inst: Inst, delay: number): void {
  if (delay <= 0) {
    c.heap.push(inst);
    return;
  }
  inst.timer = { kind: 'backoff', token: ++inst.token };
  c.armTimer(stepTimerId(inst), delay);
}

