/**
 * Run controls for a run this process does not execute, through its journal: a control row for
 * the process that runs it (on any machine, polled), or, when no process does, the change itself
 * (`execution_cancelled`, `execution_paused`) or a row the next `orch resume` applies.
 */
import type { AsyncJournal } from './backend/async-journal.js';
import type { ControlRow, RunRow } from './backend/async-journal.js';
import { perItemMessage } from './scheduler/core/core.js';
import { isApproval, notAnApproval } from './scheduler/core/resolve.js';
import { blockNotAStep, keyFitsShape, noSuchInstance, planBlocks } from './scheduler/core/scopes.js';
import { baseId } from './scheduler/core/state.js';
import { namesNothing } from './scheduler/control-paths.js';
import { replay } from './scheduler/replay.js';
import type { PlanIR } from '../compiler/index.js';
import { approvalRule, refusal, ruleBeforeStart, unboundRefusal } from './scheduler/core/approvers.js';
import { recordOf, type Identity, type RecordedIdentity, type Starter } from './people/identity.js';
import { chainOf } from './scheduler/core/run-origin.js';

/**
 * `forbidden`: the caller may not do it (§8.8: not a person who may decide this approval).
 * `missing`: what it names is not there — no such run, or no step, instance or block of that name
 * in the run's plan (the API's 404); a name that exists but cannot take the control now is neither.
 */
export type ControlOutcome = { ok: true; message: string } | { ok: false; message: string; forbidden?: true; missing?: true };

export type SignalPayload =
  | {
      stepId: string;
      decision: 'approve' | 'reject';
      by?: string | null;
      comment?: string | null;
      /** §8.8: the authenticated person deciding (carried in the control row to the process running the run). */
      identity?: Identity | null;
    }
  | { context: Record<string, unknown> };

/**
 * Whether a run's approvals are bound to people: §9.1's `people_bound`, recorded in its
 * `plan_created` when it started (sub-plans inherit it).
 */
export async function boundToPeople(journal: Pick<AsyncJournal, 'load'>, runId: string): Promise<boolean> {
  const first = (await journal.load(runId))[0];
  return first?.type === 'plan_created' && first.data.people_bound === true;
}

/** A step control the run executing here refused with `message`: `missing` when `stepId` names nothing in its plan. */
export function refusedStep(plan: PlanIR, stepId: string, message: string): ControlOutcome {
  return namesNothing(plan, stepId) ? { ok: false, missing: true, message } : { ok: false, message };
}

/** A control for `key`, which names nothing in plan `plan` of run `runId` (the API's 404). */
export function noSuchStep(plan: string, runId: string, key: string): ControlOutcome {
  return { ok: false, missing: true, message: `unknown step ${key} (plan ${plan} of run ${runId} has no such step)` };
}

/** The run row of a run that can still be controlled, or why not. */
async function openRun(journal: AsyncJournal, runId: string): Promise<RunRow | ControlOutcome> {
  const row = await journal.getRun(runId);
  if (!row) return { ok: false, missing: true, message: `no run ${runId}` };
  return finished(row) ?? row;
}

function finished(row: RunRow): ControlOutcome | null {
  return ['completed', 'failed', 'cancelled', 'timeout'].includes(row.status) ? { ok: false, message: `run ${row.id} has already finished (${row.status})` } : null;
}

/**
 * A run addressed with one of its steps: its row, or why not. A name the plan does not have is
 * told first (a 404), whether or not the run has finished.
 */
async function runWithStep(journal: AsyncJournal, runId: string, key: string): Promise<RunRow | ControlOutcome> {
  const row = await journal.getRun(runId);
  if (!row) return { ok: false, missing: true, message: `no run ${runId}` };
  return unknownKey(row, key) ?? finished(row) ?? row;
}

async function deliveredBy(journal: AsyncJournal, row: RunRow): Promise<string> {
  return (await journal.ownedElsewhere(row.id)) ? `process ${row.owner_pid}` : `the next \`orch resume ${row.id}\``;
}

export async function controlViaJournal(journal: AsyncJournal, runId: string, kind: 'pause' | 'resume' | 'cancel'): Promise<ControlOutcome> {
  const row = await openRun(journal, runId);
  if ('ok' in row) return row;
  if (await journal.ownedElsewhere(runId)) {
    if (kind === 'resume' && row.status === 'paused') {
      const waiting = await approvalsWaitedFor(journal, runId);
      if (waiting) return { ok: false, message: waitsForApproval(runId, waiting) };
    }
    await journal.addControl(runId, kind);
    return { ok: true, message: `${kind} requested for ${runId} (running in process ${row.owner_pid})` };
  }
  if (kind === 'cancel') {
    await cancelOffline(journal, runId, 'cancelled by user');
    return { ok: true, message: `cancelled ${runId}` };
  }
  if (kind === 'pause') {
    if (row.status === 'paused') return { ok: false, message: `run ${runId} is already paused` };
    await journal.appendOffline(runId, 'execution_paused', {}, 'paused');
    return { ok: true, message: `paused ${runId} (no process was running it)` };
  }
  return { ok: false, message: `run ${runId} is not running in any process; use \`orch resume ${runId}\`` };
}

/**
 * Cancels a run no process holds, and first the sub-plan runs its steps in progress wait on (a
 * live run cancels those itself): a child left paused would wait for an answer forever. The end
 * event ends the run's own approvals and waits (fold: `cancelUnstarted`).
 */
async function cancelOffline(journal: AsyncJournal, runId: string, reason: string): Promise<void> {
  for (const [key, s] of replay(await journal.load(runId)).steps) {
    if (s.status !== 'running') continue;
    const child = await journal.getRun(`${runId}/${key}`);
    if (child && (child.status === 'running' || child.status === 'paused' || child.status === 'interrupted')) await cancelOffline(journal, child.id, 'parent run cancelled');
  }
  await journal.appendOffline(runId, 'execution_cancelled', { reason }, 'cancelled');
}

export async function signalViaJournal(journal: AsyncJournal, runId: string, payload: SignalPayload): Promise<ControlOutcome> {
  // As the process running it would answer (it refuses an unknown step): else the caller is told
  // the decision was recorded, and the row waits in the journal for a step that never comes.
  const row = 'stepId' in payload ? await runWithStep(journal, runId, payload.stepId) : await openRun(journal, runId);
  if ('ok' in row) return row;
  // A bare step id (not an instance key nor a sub-plan's path) may name a step that runs per item.
  if ('stepId' in payload && payload.stepId !== '' && baseId(payload.stepId) === payload.stepId) {
    const waiting = await instancesWaiting(journal, runId, payload.stepId);
    if (waiting) return { ok: false, message: perItemMessage(runId, payload.stepId, waiting.keys, waiting.inRepeat) };
  }
  if ('stepId' in payload && row.ir && !payload.stepId.includes('/')) {
    // A wait, a call, a sub-plan: nothing to approve there (the running process would keep it forever).
    const why = notAnApproval(JSON.parse(row.ir) as PlanIR, baseId(payload.stepId));
    if (why !== null) return { ok: false, message: why };
  }
  if ('stepId' in payload && !payload.identity) {
    // §9.1: a run bound to people takes no decision without one (a conflict, not a person refused).
    const unbound = unboundRefusal(await boundToPeople(journal, runId), null);
    if (unbound !== null) return { ok: false, message: unbound };
  }
  if ('stepId' in payload && payload.identity) {
    // §8.8: refused here as it would be by the process running the run (which checks it again).
    const refused = await refusalFromJournal(journal, row, payload.stepId, payload.decision, payload.identity);
    if (refused !== null) return { ok: false, forbidden: true, message: refused };
  }
  if ('context' in payload) await journal.addControl(runId, 'context', null, payload.context);
  else
    await journal.addControl(runId, 'signal', payload.stepId, {
      decision: payload.decision,
      by: payload.by ?? null,
      comment: payload.comment ?? null,
      ...(payload.identity ? { identity: payload.identity } : {}),
    });
  return { ok: true, message: `signal recorded for ${runId}; delivered by ${await deliveredBy(journal, row)}` };
}

/**
 * Why `identity` may not decide approval `stepId` of a run another process executes (§8.8), read
 * off its journal: the step's `approver`, `approvals` and `not_starter` as its waiting attempt
 * journaled them (else evaluated against the input of the run that holds it), who approved it so
 * far, who started that run and the chain behind it (§9.1) — whether the step waits already or has
 * not started yet (a decision sent early). A sub-plan's step (`sub/ask`) is judged in the
 * sub-plan's run, once it started. Null when it may — or when the journal cannot tell (a sub-plan
 * not started yet, arguments computed from other steps before the step started, a step between
 * attempts): the process running the run checks every decision anyway and drops a refused one.
 */
async function refusalFromJournal(journal: AsyncJournal, row: RunRow, stepId: string, decision: 'approve' | 'reject', identity: Identity): Promise<string | null> {
  const held = await holderOf(journal, row, stepId);
  if (held === null) return null;
  const { plan, runId, key } = held;
  const step = plan.steps.find((s) => s.id === baseId(key));
  const cap = step?.capability ? plan.capabilities[step.capability] : undefined;
  if (!step || !cap || !isApproval(cap)) return null;
  let input: unknown = held.input;
  let started = false;
  let waiting = false;
  // What the waiting attempt evaluated (journaled since v0.4): its own `for each` item, the steps and context it read.
  let evaluated: { readonly [name: string]: unknown } | undefined;
  let startedBy: Starter | null = null;
  let chain: readonly Starter[] = [];
  const approvedBy: RecordedIdentity[] = [];
  for (const e of await journal.load(runId)) {
    if (e.type === 'plan_created') {
      startedBy = e.data.started_by ?? null;
      chain = chainOf(e.data);
      if (runId !== row.id) input = e.data.input;
    }
    if (e.stepId !== key) continue;
    if (e.type === 'step_started') {
      started = waiting = true;
      evaluated = e.data.input;
    } else if (ENDS_AN_ATTEMPT.has(e.type)) waiting = false;
    else if (e.type === 'approval_decided' && e.data.decision === 'approve') approvedBy.push(e.data.by);
  }
  // Started and no longer waiting (ended, or between attempts): the running process answers.
  if (started && !waiting) return null;
  const rule = waiting && evaluated ? approvalRule(evaluated) : ruleBeforeStart(step, input);
  if (rule === null) return null;
  // Approvals sent already and not yet taken by the process running the run count too: a second
  // one by the same person would be "recorded" here and then dropped there.
  approvedBy.push(...approvalsWaiting(await journal.pendingControls(row.id), stepId));
  return refusal(rule, identity, decision, { approvedBy, startedBy, chain });
}

/**
 * The run that holds `path` (`ask`, or `sub/ask` inside the sub-plan step `sub` runs, nested as
 * deep as sub-plans go), its plan and the step's key there; null when the journal cannot tell (no
 * stored IR, a part naming no sub-plan step, a sub-plan run not started yet).
 */
async function holderOf(journal: AsyncJournal, row: RunRow, path: string): Promise<{ plan: PlanIR; runId: string; key: string; input: unknown } | null> {
  if (!row.ir) return null;
  let plan: PlanIR;
  let input: unknown;
  try {
    plan = JSON.parse(row.ir) as PlanIR;
    input = row.input === null ? null : (JSON.parse(row.input) as unknown);
  } catch {
    return null;
  }
  const parts = path.split('/');
  let runId = row.id;
  for (const part of parts.slice(0, -1)) {
    const action = plan.steps.find((s) => s.id === baseId(part))?.action;
    const sub = action?.type === 'run' ? plan.subplans[action.plan] : undefined;
    if (!sub) return null;
    runId = `${runId}/${part}`;
    if (!(await journal.getRun(runId))) return null;
    plan = sub;
    input = undefined; // the sub-plan run's own, read off its plan_created
  }
  return { plan, runId, key: parts.at(-1)!, input };
}

/** The people whose approvals of `stepId` wait among a run's control rows not yet taken. */
function approvalsWaiting(controls: readonly ControlRow[], stepId: string): RecordedIdentity[] {
  const out: RecordedIdentity[] = [];
  for (const c of controls) {
    if (c.kind !== 'signal' || c.step_id !== stepId || c.payload === null) continue;
    try {
      const p = JSON.parse(c.payload) as { decision?: unknown; identity?: Identity };
      if (p.decision === 'approve' && p.identity) out.push(recordOf(p.identity));
    } catch {
      // A row this code did not write: the running process judges it.
    }
  }
  return out;
}

export async function cancelStepViaJournal(journal: AsyncJournal, runId: string, stepId: string): Promise<ControlOutcome> {
  const row = await runWithStep(journal, runId, stepId);
  if ('ok' in row) return row;
  const block = namesABlock(row, stepId);
  if (block !== null) return { ok: false, message: block };
  await journal.addControl(runId, 'cancel_step', stepId);
  return { ok: true, message: `cancel of step ${stepId} recorded for ${runId}; applied by ${await deliveredBy(journal, row)}` };
}

/**
 * Why `key` names nothing in the run's plan (no step, an instance key its step's blocks do not
 * allow, a sub-plan path to nothing), as a `missing` refusal; null when it names something or the
 * run was stored without its IR.
 */
function unknownKey(row: RunRow, key: string): ControlOutcome | null {
  if (!namesAStep(row, key)) return noSuchStep(row.plan, row.id, key);
  const misfit = instanceMisfit(row, key);
  if (misfit !== null) return { ok: false, missing: true, message: misfit };
  if (!key.includes('/')) return null;
  try {
    return namesNothing(JSON.parse(row.ir!) as PlanIR, key) ? noSuchStep(row.plan, row.id, key) : null;
  } catch {
    return null;
  }
}

/**
 * Whether `key` — a step id, an instance key (`id[i]`, `id#k`, `id[i][j]#k`) or a sub-plan step's
 * path (`id/step`, checked by its first part) — names a step of the run's plan, read off the
 * stored IR's text (a 100,000-step IR is not parsed for it). A run stored without its IR is given
 * the benefit of the doubt.
 */
function namesAStep(row: RunRow, key: string): boolean {
  if (!row.ir) return true;
  return row.ir.includes(`"id":${JSON.stringify(baseId(key))}`);
}

/**
 * Why `key` names a block (`r` of `race r`, a loop), not a step — or null. Blocks are written
 * `{"type":…,"id":…}` in the IR, so only a run whose IR holds such a block is parsed.
 */
function namesABlock(row: RunRow, key: string): string | null {
  if (!row.ir || !['for_each', 'race', 'repeat'].some((t) => row.ir!.includes(`"type":"${t}","id":${JSON.stringify(key)}`))) return null;
  try {
    return blockNotAStep(planBlocks(JSON.parse(row.ir) as PlanIR), key);
  } catch {
    return null;
  }
}

/**
 * Why instance key `key` (`long[3]`, `draft#1`) can name no instance of its step — the step is in
 * no such block — or null (a step id, a sub-plan's path, a key of the step's shape, or a run stored
 * without its IR). Only then is the IR parsed.
 */
function instanceMisfit(row: RunRow, key: string): string | null {
  const id = baseId(key);
  if (!row.ir || key === id || key.includes('/')) return null;
  let plan: PlanIR;
  try {
    plan = JSON.parse(row.ir) as PlanIR;
  } catch {
    return null;
  }
  const shape = planBlocks(plan).shapes.get(id);
  return shape === undefined || keyFitsShape(key, id, shape) ? null : noSuchInstance(key, id, shape);
}

/**
 * When step `id` runs once per item (its journaled instances are `id[i]`), those still running —
 * an approval answers one of them, never the step id; null for a step that runs once.
 */
const ENDS_AN_ATTEMPT = new Set(['step_queued', 'step_retried', 'attempt_lost', 'step_completed', 'step_failed', 'step_skipped', 'step_cancelled']);

async function instancesWaiting(journal: AsyncJournal, runId: string, id: string): Promise<{ keys: readonly string[]; inRepeat: boolean } | null> {
  const running = new Map<string, boolean>();
  for (const e of await journal.load(runId)) {
    // Instances of a step inside `for each` (`id[i]`) or `repeat` (`id#k`).
    if (e.stepId === null || !(e.stepId.startsWith(`${id}[`) || e.stepId.startsWith(`${id}#`))) continue;
    if (e.type === 'step_started') running.set(e.stepId, true);
    else if (ENDS_AN_ATTEMPT.has(e.type)) running.set(e.stepId, false);
  }
  if (running.size === 0) return null;
  const [first] = running.keys();
  return { keys: [...running].filter(([, r]) => r).map(([k]) => k), inRepeat: first!.startsWith(`${id}#`) };
}

/**
 * The approvals a paused run waits for when that is why it is paused (its last pause was the
 * scheduler's, `reason: "waiting for approval"`); null when it was paused by request.
 */
async function approvalsWaitedFor(journal: AsyncJournal, runId: string): Promise<readonly string[] | null> {
  return (await lastPause(journal, runId))?.waiting ?? null;
}

/**
 * Why the run is paused, from its last `execution_paused` (null when it is not paused):
 * `waiting` — the approvals it waits for, when that is why; `held` — its process kept waiting
 * for them (`--wait-for-signals`, `orch serve`) instead of stopping.
 */
export async function lastPause(journal: AsyncJournal, runId: string): Promise<{ waiting: readonly string[] | null; held: boolean } | null> {
  const events = await journal.load(runId);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'execution_resumed' || e.type === 'execution_started') return null;
    if (e.type !== 'execution_paused') continue;
    const d = e.data as { reason?: unknown; waiting?: unknown; held?: unknown };
    const waiting = d.reason === 'waiting for approval' && Array.isArray(d.waiting) ? d.waiting.map(String) : null;
    return { waiting, held: waiting !== null && d.held === true };
  }
  return null;
}

/** Why `resume` cannot help a run that waits for approvals, and what can. */
export function waitsForApproval(runId: string, waiting: readonly string[]): string {
  return `run ${runId} waits for approval of ${waiting.join(', ')}: answer with \`orch signal ${runId} STEP approve\``;
}
