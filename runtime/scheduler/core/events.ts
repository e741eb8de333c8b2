/**
 * Routes the events that arrive while a run executes (outcomes, timers, controls) to the
 * decision that handles them, dropping the stale ones (an outcome or a timer of something the
 * step no longer waits for carries an old token).
 */
import { contextChanged, resourceWaitTimedOut } from './availability.js';
import { DURATION_TIMER, durationBudgetFired, recordOverrun, subplanOverBudget } from './budget.js';
import { abortRun, cancelInst, compensationLogs, compensationSettled } from './endings.js';
import { attemptFailed, attemptLost, flatUsage, onOutcome, succeed } from './failure.js';
import { wake } from './finish.js';
import { releaseLease } from './lease.js';
import type { CoreEvent } from './protocol.js';
import { capabilityOf } from './resolve.js';
import type { RunState } from './run-state.js';
import { approvalRefusal, armTimeout, askPolicy, blockStep, checkUntil, decideApproval, launch, mcpToolKey } from './start.js';
import { IDLE, type Inst, baseId } from './state.js';
import { TIME_CHANGE_TIMER, timeChanged } from './time-conditions.js';
import { clearStepTimer, clearTimers, stepTimerId, timedOutMessage } from './timers.js';

type Live = Exclude<CoreEvent, { type: 'started' | 'pump' }>;

export function onEvent(c: RunState, e: Live): void {
  switch (e.type) {
    case 'attempt_succeeded':
    case 'attempt_failed':
      if (e.attempt.startsWith('compensate:')) {
        // The outcome brings the lines not given while it ran; they come before its settlement.
        compensationLogs(c, e.attempt, e.token, e.logs ?? []);
        compensationSettled(c, e.attempt, e.token, e.type === 'attempt_succeeded', e.type === 'attempt_failed' ? e.error : null, e.cost);
        return;
      }
      return onOutcome(c, e.attempt, e.token, e);
    case 'attempt_lost':
      // A compensation's worker died: the compensation failed (it is not retried).
      if (e.attempt.startsWith('compensate:')) return compensationSettled(c, e.attempt, e.token, false, e.error);
      return attemptLost(c, e.attempt, e.token, e.worker, e.error, e.reason);
    case 'attempt_queued':
      return holdTimeout(c, e.attempt, e.token);
    case 'attempt_began':
      return releaseTimeout(c, e.attempt, e.token);
    case 'attempt_usage': {
      const inst = live(c, e.attempt, e.token, 'call');
      if (inst && inst.rec.status === 'running') inst.reportedSoFar = e.usage;
      return;
    }
    case 'attempt_logs': {
      if (e.attempt.startsWith('compensate:')) return compensationLogs(c, e.attempt, e.token, e.lines);
      const inst = live(c, e.attempt, e.token, 'call');
      if (!inst || inst.rec.status !== 'running') return;
      for (const line of e.lines) c.emit('step_log', inst.key, { attempt: inst.rec.attempts, line });
      return;
    }
    case 'subplan_finished': {
      const inst = live(c, e.key, e.token, 'subplan');
      if (!inst) return;
      c.subplanWaits.delete(inst.key);
      clearStepTimer(c, inst);
      if (e.cost !== undefined && Number.isFinite(e.cost)) inst.costDelta = e.cost;
      const name = inst.logical.step.action.type === 'run' ? inst.logical.step.action.plan : '?';
      if (e.crashed) return attemptFailed(c, inst, `sub-plan ${name}: ${e.error ?? ''}`, false, false);
      if (e.status === 'completed') return succeed(c, inst, e.output);
      if (e.status === 'failed' && subplanOverBudget(c, inst, e.error)) return;
      return attemptFailed(c, inst, `sub-plan ${name} ${e.status}: ${e.error ?? ''}`, false, true);
    }
    case 'subplan_waiting': {
      const inst = live(c, e.key, e.token, 'subplan');
      if (!inst) return;
      // Whether the run now waits only for approvals is decided when the turn ends (checkDone).
      if (e.waiting.length > 0) c.subplanWaits.set(inst.key, { token: e.token, waiting: e.waiting });
      else c.subplanWaits.delete(inst.key);
      return;
    }
    case 'timer_fired':
      return timerFired(c, e.timer);
    case 'policy_decided': {
      const inst = live(c, e.key, e.token, 'policy');
      if (!inst || c.mode !== 'normal') return;
      return policyDecided(c, inst, e);
    }
    case 'tool_checked': {
      const inst = live(c, e.key, e.token, 'tool_check');
      if (!inst || c.mode !== 'normal') return;
      c.inProgress.delete(inst);
      inst.activity = IDLE;
      if (e.problem !== undefined) {
        // Nothing of the step ran: it fails unstarted (attempts 0) and so does the run.
        releaseLease(c, inst);
        return blockStep(c, inst, e.problem);
      }
      const cap = capabilityOf(c, inst);
      const key = cap ? mcpToolKey(cap) : null;
      if (key !== null) c.toolsChecked.add(key);
      return askPolicy(c, inst);
    }
    case 'signal': {
      if (c.mode === 'finished') return;
      const inst = c.instances.get(e.stepId);
      if (inst && inst.activity.kind === 'approval' && inst.rec.status === 'running') {
        // §8.8: a decision this person may not make changes nothing, not even the run's status.
        if (approvalRefusal(c, inst, e.decision, e.identity) !== null) return;
        wake(c);
        decideApproval(c, inst, e.decision, e.by, e.comment, e.identity);
      }
      else {
        const early = c.pendingSignals.get(e.stepId) ?? [];
        early.push({ decision: e.decision, by: e.by, comment: e.comment, identity: e.identity });
        c.pendingSignals.set(e.stepId, early);
      }
      return;
    }
    case 'pause':
      if (c.runStatus !== 'running' || c.mode !== 'normal') return;
      // Paused by request now, not only for approvals: an answer no longer resumes it.
      c.awaitingApproval = false;
      c.runStatus = 'paused';
      c.emit('execution_paused', null, {});
      forEachSubplan(c, (key) => c.command({ type: 'control_subplan', key, op: 'pause' }));
      return;
    case 'interrupt':
      if (c.mode !== 'normal' || (c.runStatus !== 'running' && c.runStatus !== 'paused')) return;
      c.awaitingApproval = false;
      c.runStatus = 'interrupted';
      c.emit('execution_interrupted', null, { reason: e.reason, running: runningCalls(c) });
      forEachSubplan(c, (key) => c.command({ type: 'control_subplan', key, op: 'pause' }));
      return;
    case 'resume':
      if (c.runStatus !== 'paused') return;
      c.runStatus = 'running';
      c.emit('execution_resumed', null, {});
      forEachSubplan(c, (key) => c.command({ type: 'control_subplan', key, op: 'resume' }));
      return;
    case 'cancel':
      if (c.mode === 'finished') return;
      return abortRun(c, 'cancelled', e.reason);
    case 'cancel_step':
      if (c.mode !== 'normal') return;
      return cancelStep(c, e.stepId, e.reason);
    case 'context_updated':
      if (c.mode === 'finished') return;
      c.emit('context_updated', null, { patch: e.patch });
      for (const inst of [...c.untilWaiters]) checkUntil(c, inst);
      contextChanged(c);
      forEachSubplan(c, (key) => c.command({ type: 'control_subplan', key, op: 'context', patch: e.patch }));
      return;
    case 'halt':
      c.mode = 'finished';
      for (const inst of c.inProgress) inst.token++;
      clearTimers(c);
      return;
  }
}

/** The calls still running (an interruption waits for them to end). */
export function runningCalls(c: RunState): string[] {
  const out: string[] = [];
  for (const i of c.inProgress) if (i.activity.kind === 'call') out.push(i.key);
  return out;
}

function forEachSubplan(c: RunState, fn: (key: string) => void): void {
  for (const i of c.inProgress) if (i.activity.kind === 'subplan') fn(i.key);
}

/** The instance `key` when it still waits, as `kind`, for what `token` names. */
/**
 * A call attempt waits in the executor's queue for a thread: its timeout stops until its handler
 * starts. The time already counted (§9.4 resource waits) stays counted.
 */
function holdTimeout(c: RunState, key: string, token: number): void {
  const inst = live(c, key, token, 'call');
  const t = inst?.timer;
  if (!inst || t?.kind !== 'timeout' || t.token !== token) return;
  c.cancelTimer(stepTimerId(inst));
  inst.timer = { kind: 'held', token, what: t.what, ms: t.ms, waited: t.waited };
}

/** Its handler started: the held timeout counts from now, less what it had counted before. */
function releaseTimeout(c: RunState, key: string, token: number): void {
  const inst = live(c, key, token, 'call');
  const t = inst?.timer;
  if (!inst || t?.kind !== 'held' || t.token !== token || inst.rec.status !== 'running') return;
  armTimeout(c, inst, token, t.ms, t.what, c.now - t.waited);
}

function live(c: RunState, key: string, token: number, kind: Inst['activity']['kind']): Inst | null {
  const inst = c.instances.get(key);
  return inst && inst.token === token && inst.activity.kind === kind ? inst : null;
}

function policyDecided(c: RunState, inst: Inst, e: { readonly allow: boolean; readonly reason?: string; readonly failure?: string }): void {
  c.inProgress.delete(inst);
  inst.activity = IDLE;
  clearStepTimer(c, inst);
  if (e.failure !== undefined || !e.allow) {
    releaseLease(c, inst);
    const why = e.failure !== undefined ? `preExecution hook failed: ${e.failure}` : `blocked by preExecution policy hook${e.reason ? `: ${e.reason}` : ''}`;
    return blockStep(c, inst, why);
  }
  return launch(c, inst);
}

function timerFired(c: RunState, timer: string): void {
  if (timer === 'deadline') {
    c.armed.delete(timer);
    return abortRun(c, 'timeout', `deadline of ${c.plan.deadline_ms}ms exceeded`);
  }
  if (timer === DURATION_TIMER) return durationBudgetFired(c);
  if (timer === TIME_CHANGE_TIMER) return timeChanged(c);
  if (timer.startsWith('rate:')) {
    c.armed.delete(timer); // the window moved on: the next pump starts what it held back
    return;
  }
  if (timer.startsWith('compensate:')) {
    c.armed.delete(timer);
    const r = c.rollback?.current;
    if (r && `compensate:${r.inst.key}` === timer) {
      c.command({ type: 'abort_attempt', attempt: timer, reason: 'timeout' });
      compensationSettled(c, timer, r.token, false, `compensation timed out after ${r.timeoutMs}ms`);
    }
    return;
  }
  const inst = c.instances.get(timer.slice('step:'.length));
  const t = inst?.timer;
  if (!inst || !t || t.token !== inst.token) return;
  inst.timer = null;
  if (t.kind === 'backoff') {
    if (inst.rec.status === 'queued') c.heap.push(inst);
    return;
  }
  if (t.kind === 'timeout' && inst.rec.status === 'queued' && inst.waitingSince !== null) return resourceWaitTimedOut(c, inst, t.ms);
  if (t.kind === 'timeout' && inst.activity.kind === 'policy' && c.mode === 'normal') return policyDecided(c, inst, { allow: false, failure: `no answer within ${t.ms}ms` });
  if (inst.rec.status !== 'running') return;
  if (inst.activity.kind === 'approval') wake(c);
  if (t.kind === 'wait') return succeed(c, inst, null);
  // An attempt, a wait, an approval or a sub-plan ran out of time.
  const kind = inst.activity.kind;
  if (kind === 'call') {
    c.command({ type: 'abort_attempt', attempt: inst.key, reason: 'timeout' });
    settleReportedSoFar(c, inst);
  }
  if (kind === 'subplan') c.command({ type: 'control_subplan', key: inst.key, op: 'cancel', reason: 'timed out' });
  c.untilWaiters.delete(inst);
  const final = kind === 'approval' || kind === 'until';
  attemptFailed(c, inst, timedOutMessage(t.what, t.ms), true, !final);
}

/**
 * `orch cancel RUN --step STEP`: an instance key cancels that instance; a step id cancels all its
 * instances, and those still to come (a later item or iteration) are cancelled when created.
 */
function cancelStep(c: RunState, stepId: string, reason: string): void {
  const inst = c.instances.get(stepId);
  if (inst) return cancelInst(c, inst, reason);
  const l = c.logical.get(stepId);
  if (!l) {
    // An instance key whose instance does not exist yet: journaled now (`ahead`), so it holds
    // across a crash, and cancelled when it is made.
    if (c.logical.has(baseId(stepId)) && !c.pendingCancels.has(stepId)) {
      c.pendingCancels.set(stepId, c.emit('step_cancelled', stepId, { reason, ahead: true }));
    }
    return;
  }
  if (l.shape.dims.length > 0 && !c.cancelRequests.has(stepId)) {
    c.cancelRequests.add(stepId);
    c.emit('step_cancelled', stepId, { reason, whole: true });
  }
  for (const i of [...l.instances]) cancelInst(c, i, reason);
}

/**
 * An attempt stopped before it ended (§8.2): it keeps its reservation, or what it had reported
 * spending (`ctx.usage`) when that is more — money spent before a timeout was spent all the same,
 * and a retry must not start past the budget as if it had not been.
 */
function settleReportedSoFar(c: RunState, inst: Inst): void {
  const so = inst.reportedSoFar;
  inst.reportedSoFar = null;
  const cost = so?.cost;
  if (cost === undefined || !Number.isFinite(cost) || cost <= inst.attemptCapCost) return;
  inst.costDelta = cost - inst.attemptCapCost;
  inst.usage = flatUsage(so!);
  recordOverrun(c, inst, cost);
}
