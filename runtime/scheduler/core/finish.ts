/**
 * When and how a run ends: done (success criteria, plan output, `after` rules), suspended on
 * approvals, aborted (failure, deadline, cancel), with everything in flight stopped.
 */
import { evaluate, truthy } from '../../evaluate.js';
import { afterRuleViolations, assertViolations } from '../guardrails.js';
import { abortRun, finish } from './endings.js';
import { env } from './env.js';
import { journalRelabels } from './flow-at-run.js';
import { guardStep, recordViolations } from './guards.js';
import type { RunState } from './run-state.js';
import { slotRequest } from './start.js';
import type { Inst } from './state.js';
import { clearTimers } from './timers.js';

export function checkDone(c: RunState): void {
  if (c.mode !== 'normal') return;
  if (c.runStatus === 'interrupted') {
    // Nothing new starts; the run stops once no handler runs any more (waits and approvals
    // stay in the journal as they stand: resuming takes them up).
    for (const i of c.inProgress) if (i.activity.kind === 'call') return;
    return stopInterrupted(c);
  }
  if (c.runStatus === 'running') {
    const idle = idleOnApprovals(c);
    if (idle && c.opts.suspendOnApproval) return suspend(c);
    if (idle && !c.awaitingApproval) {
      c.awaitingApproval = true;
      // `held`: this process keeps waiting; should it die, the run is an orphan to take over.
      c.emit('execution_paused', null, { reason: 'waiting for approval', waiting: approvalsWaiting(c), held: true });
    } else if (!idle) wake(c);
  }
  if (c.open > 0 || c.inProgress.size > 0) return;
  if (c.failure !== null) return finish(c, 'failed', c.failure);
  const e = env(c, null, null);
  const after = recordViolations(
    c,
    null,
    afterRuleViolations(
      c.plan.guardrails,
      c.completedLog.map((x) => ({ step: guardStep(c, x.inst), at: x.at })),
    ),
  );
  if (after) return finish(c, 'failed', after.message);
  const asserted = recordViolations(c, null, assertViolations(c.plan.guardrails, e));
  if (asserted) return finish(c, 'failed', asserted.message);
  for (const s of c.plan.success) {
    let ok = false;
    let why = '';
    try {
      ok = truthy(evaluate(s.condition, e));
    } catch (err) {
      why = `: ${(err as Error).message}`;
    }
    if (!ok) return finish(c, 'failed', `success criterion ${s.label ? `"${s.label}" ` : ''}not met${why}`);
  }
  if (c.plan.output) {
    try {
      c.outputValue = evaluate(c.plan.output, e);
    } catch (err) {
      return finish(c, 'failed', `plan output: ${(err as Error).message}`);
    }
    // §9.3: the output's endorse/declassify calls ran; each is journaled, of the run (attempt 0: no step's).
    journalRelabels(c, null, c.plan.output_relabels, undefined, 0);
  }
  finish(c, 'completed', null);
}

/**
 * Only approvals are in progress (here, or in a running sub-plan that itself waits only for
 * approvals) and nothing else can start before one is answered: what is still queued waits for a
 * resource or item slot an approval holds (not for a timer).
 */
function idleOnApprovals(c: RunState): boolean {
  return idleOn(c, APPROVALS);
}

const APPROVALS: ReadonlySet<string> = new Set(['approval']);
const WAITS: ReadonlySet<string> = new Set(['approval', 'wait', 'until']);

/**
 * Only approvals and waits (`wait`, `wait until`, a failed step waiting out its retry's backoff)
 * are in progress and nothing else can start before one ends: no attempt is in flight, so the run
 * may be detached and resumed (it takes its waits, and the retries' due times that `step_retried`
 * recorded, up from the journal) without losing or repeating anything — an upgrade's turn (§8.6).
 */
export function idleOnWaits(c: RunState): boolean {
  // Held for an upgrade, what is queued starts only after it: the waits in progress are all it takes.
  if (c.holdStarts) return [...c.inProgress].every((i) => WAITS.has(i.activity.kind) || subplanWaits(c, i) !== null);
  return idleOn(c, WAITS, true);
}

function idleOn(c: RunState, kinds: ReadonlySet<string>, backoffs = false): boolean {
  let waits = c.inProgress.size > 0;
  for (const i of c.inProgress) if (!kinds.has(i.activity.kind) && subplanWaits(c, i) === null) return false;
  for (const i of c.instances.values()) {
    if (i.rec.status !== 'queued') continue;
    if (backoffs && i.timer?.kind === 'backoff') waits = true;
    else if (i.timer !== null || !c.limits.heldBack(slotRequest(c, i))) return false;
  }
  return waits;
}

/** What a running sub-plan instance waits for, when it waits only for approvals. */
function subplanWaits(c: RunState, i: Inst): readonly string[] | null {
  if (i.activity.kind !== 'subplan') return null;
  const w = c.subplanWaits.get(i.key);
  return w && w.token === i.token && w.waiting.length > 0 ? w.waiting : null;
}

/** The approvals the run waits for, as `orch signal` addresses them: `ok`, `ok[1]`, `sub/ok`. */
export function approvalsWaiting(c: RunState): string[] {
  const out: string[] = [];
  for (const i of c.inProgress) {
    if (i.activity.kind === 'approval') out.push(i.key);
    else for (const w of subplanWaits(c, i) ?? []) out.push(`${i.key}/${w}`);
  }
  return out;
}

/** Something other than waiting for a human happens again: the run is running. */
export function wake(c: RunState): void {
  if (!c.awaitingApproval) return;
  c.awaitingApproval = false;
  c.emit('execution_resumed', null, { reason: 'approval wait over' });
}

function suspend(c: RunState): void {
  const waiting = approvalsWaiting(c);
  c.mode = 'finished';
  c.runStatus = 'paused';
  clearTimers(c);
  // Its sub-plans stop here too, as they stand: resuming the run takes them up from their journals.
  for (const i of c.inProgress) if (i.activity.kind === 'subplan') c.command({ type: 'control_subplan', key: i.key, op: 'detach' });
  c.emit('execution_paused', null, { reason: 'waiting for approval', waiting });
  c.command({ type: 'finish' });
}

function stopInterrupted(c: RunState): void {
  c.mode = 'finished';
  clearTimers(c);
  // Sub-plans stop as they stand (paused since the interruption): resuming takes them up from their journals.
  for (const i of c.inProgress) if (i.activity.kind === 'subplan') c.command({ type: 'control_subplan', key: i.key, op: 'detach' });
  c.emit('execution_interrupted', null, { stopped: true });
  c.command({ type: 'finish' });
}

export function internalError(c: RunState, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (c.mode !== 'finished') abortRun(c, 'failed', `internal error: ${message}`);
}

