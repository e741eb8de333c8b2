/**
 * How step instances and the run end — one module because these call one another: a step's final
 * end and what it settles (its `for each` item, its race, whose losers are cancelled), the plan's
 * failure policy (`continue`, `abort`, or `rollback`: compensate the completed steps one at a time
 * in reverse completion order), and the run's own end with everything in flight stopped.
 */
import type { CapabilityIR, ResourceIR, StepIR } from '../../../compiler/index.js';
import { preStepViolations, type Violation } from '../guardrails.js';
import type { AttemptRequest, AttemptUsage, RunStatus } from '../types.js';
import { blockingCeiling, costCeilings, ledgerClaims, money } from './ceilings.js';
import { env, evalArgs } from './env.js';
import { journalRelabels, refusalOf, refusalText } from './flow-at-run.js';
import { guardStep, recordViolations } from './guards.js';
import { releaseLease } from './lease.js';
import { hookInfo, resourceOf } from './resolve.js';
import { round6 } from './result.js';
import type { Rollback, RunState } from './run-state.js';
import { type DimBlock, suffixOf } from './scopes.js';
import { FAILED, IDLE, type Inst, TERMINAL, stopWaiting } from './state.js';
import { armRateWindow, clearStepTimer, clearTimers } from './timers.js';
import { terminalAt } from './views.js';

// ───────────── a step instance ends ─────────────

export function instTerminal(c: RunState, inst: Inst): void {
  c.open--;
  stopWaiting(inst);
  c.dirty.push(inst);
  itemsEnded(c, inst);
  if (inst.logical.shape.race) raceSettled(c, inst);
  if (inst.dims.some((d) => d.type === 'repeat')) c.dirtyAll = true;
}

/**
 * The `for each` items around `at` whose every step ended leave the in-flight sets (innermost
 * first: an outer item cannot have ended while an inner one runs).
 */
export function itemsEnded(c: RunState, at: { readonly dims: readonly DimBlock[]; readonly path: readonly number[] }): void {
  for (let j = at.dims.length - 1; j >= 0; j--) {
    const b = at.dims[j]!;
    if (b.type !== 'for_each') continue;
    const prefix = at.path.slice(0, j + 1);
    const group = b.id + suffixOf(at.dims, at.path.slice(0, j));
    const id = `${group}|${at.path[j]}`;
    if (c.itemsDone.has(id)) continue;
    for (const s of c.blocks.stepsIn.get(b.id) ?? []) if (!terminalAt(c, c.logical.get(s)!, prefix)) return;
    c.itemsDone.add(id);
    c.limits.itemFinished(group, at.path[j]!);
    const parked = c.parked.get(group);
    if (parked) {
      c.parked.delete(group);
      for (const i of parked) c.heap.push(i);
    }
  }
}

/**
 * Cancels one instance on its own (a race's loser, `orch cancel --step`): whatever it was doing
 * stops (a running handler gets its abort signal) and it ends `cancelled`, failing nothing.
 */
export function cancelInst(c: RunState, inst: Inst, reason: string): void {
  if (TERMINAL.has(inst.rec.status)) return;
  stopWaiting(inst);
  if (inst.restored && TERMINAL.has(inst.restored.status)) return restoreEnded(c, inst);
  inst.token++;
  if (inst.activity.kind === 'call') c.command({ type: 'abort_attempt', attempt: inst.key, reason });
  if (inst.activity.kind === 'subplan') c.command({ type: 'control_subplan', key: inst.key, op: 'cancel', reason });
  c.inProgress.delete(inst);
  releaseLease(c, inst);
  inst.activity = IDLE;
  c.untilWaiters.delete(inst);
  if (inst.timer !== null) c.cancelTimer(`step:${inst.key}`);
  inst.timer = null;
  c.emit('step_cancelled', inst.key, { reason });
  instTerminal(c, inst);
}

/** Finished before the interruption: never run it again. */
export function restoreEnded(c: RunState, inst: Inst): void {
  const r = inst.restored!;
  const step = inst.logical.step;
  Object.assign(inst.rec, r);
  c.totalCost += r.cost;
  if (r.status === 'completed') c.logCompleted(inst, r.completedAt ?? 0);
  // A cancelled step (cancelled on its own: the run had not ended) and a race's branch fail nothing.
  const fails = FAILED.has(r.status) && r.status !== 'cancelled' && !inst.logical.shape.race;
  if (fails && step.on_failure !== 'continue' && c.failure === null) {
    c.failure = `step ${inst.key} ${r.status}: ${r.error ?? ''}`;
    c.restoredFailure = c.failure;
  }
  instTerminal(c, inst);
}

/** A branch ended: the first to complete wins (the others are cancelled); none completing fails the race. */
export function raceSettled(c: RunState, inst: Inst): void {
  const race = inst.logical.shape.race!;
  const bi = c.blockInsts.get(race.id + inst.suffix);
  if (!bi || TERMINAL.has(bi.status)) return;
  const branch = (id: string) => c.instances.get(id + inst.suffix);
  if (inst.rec.status === 'completed') {
    const winner = inst.logical.step.id;
    bi.winner = winner;
    bi.status = 'completed';
    c.open--;
    c.dirtyAll = true;
    if (c.opts.restored?.winners[bi.key] === undefined) c.emit('race_won', bi.key, { race: race.id, winner });
    for (const id of race.branches) {
      const other = branch(id);
      if (id !== winner && other) cancelInst(c, other, `lost race ${race.id} to ${winner}`);
    }
    return;
  }
  if (!race.branches.every((id) => TERMINAL.has(branch(id)?.rec.status ?? 'pending'))) return;
  const error = `race ${race.id} failed: no branch completed`;
  bi.status = 'failed';
  bi.error = error;
  c.open--;
  c.dirtyAll = true;
  c.emit('step_failed', bi.key, { error, status: 'failed', final: true, race: race.id });
  // The race fails the run unless every branch may fail on its own (`on_failure continue`).
  const cont = race.branches.every((id) => c.logical.get(id)?.step.on_failure === 'continue');
  failWith(c, cont ? 'continue' : 'abort', error);
}

export function stopRunning(c: RunState, inst: Inst): void {
  c.inProgress.delete(inst);
  releaseLease(c, inst);
  inst.activity = IDLE;
  c.untilWaiters.delete(inst);
}

/**
 * An end event's `data` with the journal fields of what the attempt reported, first: its cost
 * (the fold adds `cost_delta` to the step's cost) and its usage (a small flat record). An attempt
 * that reported neither — every plain step — gets `data` itself, with no copy.
 */
export function withCost<T extends object>(inst: Inst, data: T): T & { cost_delta?: number; usage?: AttemptUsage } {
  const delta = inst.costDelta;
  const usage = inst.usage;
  inst.costDelta = 0;
  inst.usage = null;
  if (delta === 0 && !usage) return data;
  return { ...(delta !== 0 ? { cost_delta: delta } : {}), ...(usage ? { usage } : {}), ...data };
}

export function postHook(c: RunState, inst: Inst): void {
  if (!c.cfg.postExecutionHook) return;
  const r = inst.rec;
  c.command({ type: 'post_hook', info: hookInfo(c, inst), result: { status: r.status, output: r.output, error: r.error } });
}

export function finalFail(c: RunState, inst: Inst, status: 'failed' | 'timeout' | 'cancelled', error: string, guardBlocked = false, permanent = false): void {
  stopRunning(c, inst);
  clearStepTimer(c, inst);
  // A step stopped with its run (cancelled, failed or timed out around it) ends `cancelled`, and
  // is journaled as such (LANGUAGE.md §7.4), like a step cancelled on its own or a race's loser.
  if (status === 'cancelled') c.emit('step_cancelled', inst.key, withCost(inst, { reason: error, attempt: inst.rec.attempts }));
  else c.emit('step_failed', inst.key, withCost(inst, { error, status, final: true, attempt: inst.rec.attempts, ...(guardBlocked ? { blocked: true } : {}), ...(permanent ? { permanent: true } : {}) }));
  postHook(c, inst);
  instTerminal(c, inst);
  if (guardBlocked) return abortRun(c, 'failed', error);
  // A race's branch fails nothing by itself: the race fails when no branch completes.
  if (c.mode === 'normal' && !inst.logical.shape.race) applyFailurePolicy(c, inst.logical.step, inst.key, `${status === 'timeout' ? 'timed out' : 'failed'}: ${error}`);
}

export function applyFailurePolicy(c: RunState, step: StepIR, key: string, error: string): void {
  failWith(c, step.on_failure, `step ${key} ${error}`);
}

/** Something failed with `message` (a step, a loop, a race): `on_failure continue` lets the run go on. */
export function failWith(c: RunState, onFailure: 'abort' | 'continue', message: string): void {
  if (onFailure === 'continue' || c.mode !== 'normal') return;
  if (c.failure === null) c.failure = message;
  if (c.plan.on_failure === 'abort') abortRun(c, 'failed', message);
  else if (c.plan.on_failure === 'rollback') rollback(c);
  // `continue`: independent steps go on; the run ends failed (checkDone).
}

// ───────────── the run ends ─────────────

/** Stops everything in flight and ends the run (`failed`, `timeout` or `cancelled`). */
export function abortRun(c: RunState, status: 'failed' | 'timeout' | 'cancelled', reason: string): void {
  if (c.mode === 'finished' || c.mode === 'aborting') return;
  c.mode = 'aborting';
  if (c.failure === null || status !== 'failed') c.failure = reason;
  stopAll(c, status === 'cancelled' ? 'run cancelled' : `run ${status}: ${reason}`);
  finish(c, status, reason);
}

/**
 * Why a compensation costing `cost` may not start: a blocking cost budget of the run (or of a
 * parent it runs under) it would take past its limit. Null when it may start.
 */
function compensationOverBudget(c: RunState, inst: Inst, cost: number): string | null {
  const over = blockingCeiling(c, inst, cost);
  return over && `budget exceeded: ${over.label} (spent ${money(c, over.total, over)}, its compensation would add ${money(c, cost, over)})`;
}

/** Gives back the slot a running compensation holds (it ended, or the run stopped under it). */
function releaseCompensation(c: RunState, cur: NonNullable<Rollback['current']>, spentAmount = cur.cost): void {
  // A compensation stopped with its run is charged what it reserved (conservative, as an attempt).
  if (cur.lease) c.limits.release(cur.lease, spentAmount);
  cur.lease = null;
}

export function stopAll(c: RunState, why: string): void {
  const comp = c.rollback?.current;
  if (comp) releaseCompensation(c, comp);
  for (const inst of [...c.inProgress]) {
    inst.token++;
    if (inst.activity.kind === 'call') c.command({ type: 'abort_attempt', attempt: inst.key, reason: why });
    if (inst.activity.kind === 'subplan') c.command({ type: 'control_subplan', key: inst.key, op: 'cancel', reason: why });
    finalFail(c, inst, 'cancelled', why);
  }
  for (const inst of c.instances.values())
    if (inst.rec.status === 'pending' || inst.rec.status === 'queued') {
      inst.token++;
      clearStepTimer(c, inst); // the run's end event cancels it (fold: cancelUnstarted)
    }
}

export function finish(c: RunState, status: Exclude<RunStatus, 'running' | 'paused' | 'interrupted'>, error: string | null): void {
  if (c.mode === 'finished') return;
  c.mode = 'finished';
  c.runStatus = status;
  c.completedAt = c.now;
  if (status !== 'completed') c.failure = error ?? c.failure;
  else c.failure = null;
  clearTimers(c);
  const duration = c.completedAt - c.startedAt;
  if (status === 'completed') c.emit('execution_completed', null, { output: c.outputValue, cost: round6(c.totalCost), duration });
  else if (status === 'cancelled') c.emit('execution_cancelled', null, { reason: error, duration });
  else c.emit('execution_failed', null, { status, error, cost: round6(c.totalCost), duration });
  c.command({ type: 'finish' });
}

// ───────────── rollback ─────────────

export function rollback(c: RunState): void {
  c.mode = 'rolling_back';
  stopAll(c, 'rolling back');
  const todo = [...c.instances.values()]
    .filter((i) => i.rec.status === 'completed' && i.logical.step.compensate && !i.rec.compensated)
    .sort((a, b) => (b.rec.completionOrder ?? 0) - (a.rec.completionOrder ?? 0));
  c.rollback = { todo, current: null, tokens: 0, held: false };
  next(c);
}

/** A pump while the next compensation waits for its limits: ask them again. */
export function rollbackHeld(c: RunState): void {
  const r = c.rollback;
  if (c.mode !== 'rolling_back' || !r || !r.held || r.current !== null) return;
  r.held = false;
  next(c);
}

function next(c: RunState): void {
  const r = c.rollback;
  if (c.mode !== 'rolling_back' || !r) return;
  for (;;) {
    const inst = r.todo.shift();
    if (!inst) return finish(c, 'failed', c.failure ?? 'rolled back');
    const comp = inst.logical.step.compensate!;
    const cap = c.plan.capabilities[comp.capability];
    let input: { [k: string]: unknown };
    try {
      input = evalArgs(c, inst, comp.args);
    } catch (err) {
      c.emit('step_compensated', inst.key, { ok: false, error: `arguments: ${(err as Error).message}` });
      continue;
    }
    if (!cap) {
      c.emit('step_compensated', inst.key, { ok: false, error: `unknown capability ${comp.capability}` });
      continue;
    }
    // §9.3: a rule its arguments break that a `"flows": "warn"` compile let through: never called.
    const refused = refusalOf(inst.logical.step, 'compensate');
    if (refused) {
      c.emit('step_compensated', inst.key, { ok: false, error: `not run: ${refusalText(refused)}` });
      continue;
    }
    const resource = comp.binding ? (comp.binding.resource ? (c.plan.resources[comp.binding.resource] ?? null) : null) : resourceOf(c, inst);
    // A compensation is a call like any other: the plan's guardrails see it before it starts.
    const blocking = c.plan.guardrails.length > 0 ? compensationViolation(c, inst, cap, resource) : null;
    if (blocking) {
      c.emit('step_compensated', inst.key, { ok: false, error: `not run: ${blocking.message}` });
      continue;
    }
    // Started by a process that died before it ended: its handler may have run. Only an
    // idempotent one runs again (as a step's attempt in flight, §7.1); the others end failed-unknown.
    if (inst.rec.compensating && !cap.idempotent && !c.opts.rerunInFlight) {
      c.emit('step_compensated', inst.key, {
        ok: false,
        error: 'failed-unknown: the compensation was running when the run was interrupted and its capability is not idempotent (resume with --rerun-in-flight to run it again)',
      });
      continue;
    }
    // A compensation is a call of its capability on its resource: it waits for a slot and a rate
    // window as a step does (§7.2), so a rollback never runs past a limit other runs keep.
    // It spends for its step: within the run's blocking cost budgets, as any attempt (§7.2, §8.2),
    // and in the journal's shared ledgers.
    const cost = (cap.cost ?? 0) + (resource?.cost ?? 0);
    const over = compensationOverBudget(c, inst, cost);
    if (over !== null) {
      c.emit('step_compensated', inst.key, { ok: false, error: `not run: ${over}` });
      continue;
    }
    const budgets = cost > 0 ? ledgerClaims(c, () => cost) : undefined;
    const grant = c.limits.tryAcquire({ key: `compensate:${inst.key}`, occupies: true, resource, item: null, capability: cap.name, ...(budgets ? { budgets } : {}) }, c.now);
    if (grant.kind === 'over_budget') {
      const b = costCeilings(c).find((x) => x.shared?.key === grant.key);
      const label = b?.label ?? grant.key;
      c.emit('budget_exceeded', inst.key, { budget: 'cost', label, limit: b?.limit ?? 0, cost: round6(grant.spent), estimate: round6(cost), warn: false });
      c.emit('step_compensated', inst.key, { ok: false, error: `not run: budget exceeded: ${label} (spent ${money(c, grant.spent, b)} by the runs sharing it, its compensation would add ${money(c, cost, b)})` });
      continue;
    }
    if (grant.kind !== 'granted') {
      r.todo.unshift(inst);
      r.held = true;
      if (grant.kind === 'rate_limited') armRateWindow(c, grant.window, grant.retryAt);
      return;
    }
    c.emit('compensation_started', inst.key, { capability: comp.capability, ...(cost !== 0 ? { cost } : {}) });
    const request: AttemptRequest = {
      runId: c.runId,
      stepId: inst.key,
      baseStepId: inst.logical.step.id,
      attempt: 1,
      purpose: 'compensate',
      capability: cap,
      input,
      resource,
      timeoutMs: cap.timeout_ms,
      secrets: { ...(c.cfg.configSecrets ?? {}), ...(inst.secretsUsed ?? {}) },
      plan: c.plan,
    };
    journalRelabels(c, inst.key, inst.logical.step.relabels, 'compensate', 1);
    const token = ++r.tokens;
    const attempt = `compensate:${inst.key}`;
    r.current = { inst, token, timeoutMs: cap.timeout_ms, lease: grant.lease, charged: cap.cost ?? 0, cost };
    c.command({ type: 'start_attempt', attempt, token, request });
    if (cap.timeout_ms !== null) {
      c.armed.add(attempt);
      c.armTimer(attempt, cap.timeout_ms);
    }
    return;
  }
}

function compensationViolation(c: RunState, inst: Inst, capability: CapabilityIR, resource: ResourceIR | null): Violation | null {
  const facts = guardStep(c, inst, { resource, capability });
  const e = env(c, inst, inst.logical.step);
  return recordViolations(c, inst, preStepViolations(c.plan.guardrails, facts, e, () => c.completedLog.map((x) => guardStep(c, x.inst))));
}

/** The compensation `attempt` names while it is still the one running, else null (a stale event). */
function current(c: RunState, attempt: string, token: number): NonNullable<Rollback['current']> | null {
  const cur = c.rollback?.current;
  return cur && cur.token === token && `compensate:${cur.inst.key}` === attempt ? cur : null;
}

/**
 * A compensation's handler lines are journaled as its step's, marked so a reader tells them from
 * the step's own attempts' lines.
 */
export function compensationLogs(c: RunState, attempt: string, token: number, lines: readonly string[]): void {
  const cur = current(c, attempt, token);
  if (!cur) return;
  for (const line of lines) c.emit('step_log', cur.inst.key, { compensation: true, line });
}

/** The current compensation ended (its outcome, or its timeout); the next one starts. */
export function compensationSettled(c: RunState, attempt: string, token: number, ok: boolean, error: string | null, reported?: number): void {
  const cur = current(c, attempt, token);
  if (!cur) return;
  c.rollback!.current = null;
  // What it reported replaces its capability's estimate, as an attempt's actual cost does.
  const delta = reported !== undefined && Number.isFinite(reported) ? round6(reported - cur.charged) : 0;
  releaseCompensation(c, cur, Math.max(0, cur.cost + delta));
  if (c.armed.delete(attempt)) c.cancelTimer(attempt);
  c.emit('step_compensated', cur.inst.key, { ...(ok ? { ok: true } : { ok: false, error }), ...(delta !== 0 ? { cost_delta: delta } : {}) });
  next(c);
}
