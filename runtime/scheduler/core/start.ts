/**
 * Starting a step instance: guardrails before it, the preExecution policy hook, then the action —
 * an executor attempt, a wait, a `wait until`, an approval or a sub-plan — with its timeout.
 */
import { APPROVER_NAMES_NOBODY, approverNamesNobody, modelEndpointOf, type CapabilityIR, type StepIR } from '../../../compiler/index.js';
import { evaluate, truthy } from '../../evaluate.js';
import { assertViolations, preStepViolations, subplanGuardrails } from '../guardrails.js';
import type { AttemptRequest } from '../types.js';
import { approvalRule, refusal, unboundRefusal } from './approvers.js';
import { budgetClaims, reservationOf, withinBudget } from './budget.js';
import { abortRun, instTerminal } from './endings.js';
import { env, evalArgs } from './env.js';
import { type FailureKind, attemptFailed, succeed } from './failure.js';
import { journalRelabels, refusalOf, refusalText } from './flow-at-run.js';
import { guardStep, recordViolations } from './guards.js';
import { type Identity, recordOf } from './identity.js';
import type { ItemSlot, SlotRequest } from './limits.js';
import { attemptAction, capabilityOf, countedResource, hookInfo, isApproval, occupiesSlot, rankIndex, resourceOf } from './resolve.js';
import { chainOf } from './run-origin.js';
import type { RunState } from './run-state.js';
import { suffixOf } from './scopes.js';
import type { Inst } from './state.js';
import { APPROVAL, clearStepTimer, stepTimerId, timedOutMessage } from './timers.js';
import { releaseLease } from './lease.js';

/** A step that cannot even be started as written (its arguments, its target): the same every time (§9.1). */
const PERMANENT: FailureKind = { permanent: true, owner: 'call' };
const NO_SECRETS: { readonly [name: string]: string } = Object.freeze({});

/** One item slot per `for each` around the instance, outermost first (null: none): each block's `parallel` bounds its own items. */
export function itemSlotsOf(inst: Inst): ItemSlot[] | null {
  let items: ItemSlot[] | null = null;
  for (let j = 0; j < inst.dims.length; j++) {
    const b = inst.dims[j]!;
    if (b.type === 'for_each') (items ??= []).push({ group: b.id + suffixOf(inst.dims, inst.path.slice(0, j)), index: inst.path[j]!, parallel: b.parallel });
  }
  return items;
}

export function slotRequest(c: RunState, inst: Inst): SlotRequest {
  const occupies = occupiesSlot(c, inst);
  const items = itemSlotsOf(inst);
  return {
    key: inst.key,
    occupies,
    resource: countedResource(c, inst),
    item: items?.at(-1) ?? null,
    // Only what the request has: a step of a plan without `for each` or budgets allocates nothing more.
    enclosing: items && items.length > 1 ? items.slice(0, -1) : undefined,
    capability: occupies ? (capabilityOf(c, inst)?.name ?? null) : null,
    budgets: budgetClaims(c, inst),
  };
}

/** The instance holds its slots (`inst.lease`): check guardrails and policy, then launch. */
export function beginStep(c: RunState, inst: Inst): void {
  if (!withinBudget(c, inst)) return releaseLease(c, inst);
  if (c.plan.guardrails.length > 0) {
    const e = env(c, inst, inst.logical.step);
    const violations = [
      ...preStepViolations(c.plan.guardrails, guardStep(c, inst), e, () => c.completedLog.map((x) => guardStep(c, x.inst))),
      ...assertViolations(c.plan.guardrails, e),
    ];
    const blocking = recordViolations(c, inst, violations);
    if (blocking) {
      releaseLease(c, inst);
      return blockStep(c, inst, blocking.message);
    }
  }
  const tool = uncheckedTool(c, inst);
  if (tool !== null) {
    // §8.3: a changed tool fails the run before the step starts, so the executor is asked first
    // (once per tool and run); the step holds its slot meanwhile, as for the policy hook.
    const token = ++inst.token;
    inst.activity = { kind: 'tool_check', token };
    c.inProgress.add(inst);
    c.command({ type: 'check_tool', key: inst.key, token, check: { capability: tool, plan: c.plan, secrets: c.cfg.configSecrets ?? {} } });
    return;
  }
  return askPolicy(c, inst, true);
}

/** The MCP tool the instance is about to call that this run has not checked yet, or null. */
function uncheckedTool(c: RunState, inst: Inst): CapabilityIR | null {
  if (inst.logical.step.action.type !== 'call') return null;
  const cap = capabilityOf(c, inst);
  const key = cap ? mcpToolKey(cap) : null;
  return key !== null && !c.toolsChecked.has(key) ? cap! : null;
}

export function mcpToolKey(cap: CapabilityIR): string | null {
  const h = cap.handler;
  return h && 'mcp' in h ? `${h.mcp}/${h.tool}/${h.hash}` : null;
}

/** After the guardrails and the tool check: the preExecution hook, if any, then the launch. */
export function askPolicy(c: RunState, inst: Inst, admitted = false): void {
  if (!c.cfg.preExecutionHook) return launch(c, inst, admitted);
  // The step holds its slot while the hook decides; nothing else about it changes meanwhile.
  const token = ++inst.token;
  inst.activity = { kind: 'policy', token };
  c.inProgress.add(inst);
  // The step's timeout bounds its wait for the hook too: a hook that never answers ends the step
  // (events.ts `timerFired`) instead of holding the run forever.
  const timeoutMs = inst.logical.step.timeout_ms ?? capabilityOf(c, inst)?.timeout_ms ?? null;
  if (timeoutMs !== null) armTimeout(c, inst, token, timeoutMs, 'preExecution hook');
  c.command({ type: 'check_policy', key: inst.key, token, info: hookInfo(c, inst, true) });
}

/** A blocking guardrail or policy hook stopped the step: it fails and so does the run. */
export function blockStep(c: RunState, inst: Inst, message: string): void {
  c.emit('step_failed', inst.key, { error: message, status: 'failed', final: true, blocked: true });
  instTerminal(c, inst);
  abortRun(c, 'failed', message);
}

/** What an attempt being launched knows of itself, for the part that starts its action. */
interface Launch {
  readonly token: number;
  readonly attempt: number;
  readonly cap: CapabilityIR | null;
  readonly res: ReturnType<typeof resourceOf>;
  readonly timeoutMs: number | null;
  /**
   * The attempt that was in flight when the run was interrupted, launched again (not a later
   * one), picks up where it was: when it started. Null for any other attempt.
   */
  readonly restoredWaitStart: number | null;
  /** §9.4: since when its waits for an available resource count against its timeout (null: it did not wait). */
  readonly waitedSince: number | null;
  /** An approval's evaluated arguments, or why they could not be evaluated; null for any other attempt. */
  readonly approval: ApprovalArgs | null;
}

type ApprovalArgs = { readonly args: { [k: string]: unknown } } | { readonly error: string };

function approvalArgs(c: RunState, inst: Inst): ApprovalArgs {
  try {
    return { args: evalArgs(c, inst, inst.logical.step.args) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** `admitted`: `beginStep` checked the budgets in this same turn, with nothing charged since. */
export function launch(c: RunState, inst: Inst, admitted = false): void {
  // Checked again where the reservation is charged: a step that waited on the tool check or the
  // policy hook was admitted before the steps launched meanwhile were charged (§8.2).
  if (!admitted && !withinBudget(c, inst)) return releaseLease(c, inst);
  const l = beginAttempt(c, inst);
  if (refusedByFlow(c, inst, l.attempt)) return;
  inst.waitedMs = 0;
  // A capability call: the step's own, or the `fallback` call of any step once it moved on to it.
  if (attemptAction(inst) === 'call') return startCall(c, inst, l);
  const action = inst.logical.step.action;
  switch (action.type) {
    case 'wait':
      return startWait(c, inst, l, action);
    case 'wait_until':
      return startUntil(c, inst, l, action);
    case 'run':
      return startSubplan(c, inst, l, action);
    case 'call':
      return startCall(c, inst, l);
  }
}

/**
 * Charges the attempt its reservation (§8.2: settled to its actual cost when it ends), sets what
 * the instance waits for and journals `step_started`.
 */
function beginAttempt(c: RunState, inst: Inst): Launch {
  const step = inst.logical.step;
  const cap = capabilityOf(c, inst);
  const res = resourceOf(c, inst);
  const r = inst.restored;
  const resuming = r?.inFlight === true && inst.rec.attempts + 1 === r.attempts;
  const token = ++inst.token;
  const reservation = reservationOf(c, inst);
  const kind = attemptAction(inst);
  inst.attemptCapCost = kind === 'call' ? reservation.capability : 0;
  inst.reportedSoFar = null;
  inst.attemptReserved = reservation.total;
  // What the instance waits for, set before `step_started` so observers see it running.
  inst.activity =
    kind === 'wait'
      ? { kind: 'wait', token }
      : kind === 'wait_until'
        ? { kind: 'until', token }
        : kind === 'run'
          ? { kind: 'subplan', token }
          : cap && isApproval(cap)
            ? { kind: 'approval', token, args: {} }
            : { kind: 'call', token };
  c.inProgress.add(inst);
  const attempt = inst.rec.attempts + 1;
  // An approval's arguments, evaluated before `step_started` so that it journals them (§8.8): the
  // inbox and a decision judged off the journal read them there (they may read a `for each` item).
  const approval = kind === 'call' && cap && isApproval(cap) ? approvalArgs(c, inst) : null;
  c.emit('step_started', inst.key, {
    attempt,
    phaseAttempt: inst.rec.phaseAttempts + 1,
    phase: inst.rec.phase,
    resourceIndex: rankIndex(inst),
    resource: res?.name ?? null,
    capability: cap?.name ?? null,
    cost: reservation.total,
    ...(step.labels ? { labels: step.labels } : {}),
    ...(approval && 'args' in approval ? { input: approval.args } : {}),
  });
  return {
    token,
    attempt,
    cap,
    res,
    approval,
    timeoutMs: step.timeout_ms ?? cap?.timeout_ms ?? null,
    restoredWaitStart: resuming ? (r.attemptStartedAt ?? r.startedAt) : null,
    waitedSince: inst.waitedMs > 0 ? c.now - inst.waitedMs : null,
  };
}

/**
 * §9.3: the attempt's call — the step's own in its main phase, its fallback's after — evaluates
 * its arguments' endorse/declassify calls, each journaled; a flow the compile only warned about
 * fails it before its handler is called with those arguments (true).
 */
function refusedByFlow(c: RunState, inst: Inst, attempt: number): boolean {
  const step = inst.logical.step;
  if (!step.relabels && !step.flow_refusals) return false;
  const call = inst.rec.phase === 'fallback' ? 'fallback' : undefined;
  journalRelabels(c, inst.key, step.relabels, call, attempt);
  const refused = refusalOf(step, call);
  if (!refused) return false;
  attemptFailed(c, inst, refusalText(refused), false, false, false, PERMANENT);
  return true;
}

/** A capability call goes to the executor; an approval waits for its decisions here. */
function startCall(c: RunState, inst: Inst, l: Launch): void {
  const step = inst.logical.step;
  const { cap, token, timeoutMs } = l;
  if (!cap) return attemptFailed(c, inst, `unknown capability ${step.capability}`, false, false, false, PERMANENT);
  if (isApproval(cap)) return startApproval(c, inst, l);
  const call = inst.rec.phase === 'fallback' ? step.fallback! : { capability: cap.name, args: step.args };
  let input: { [k: string]: unknown };
  try {
    input = evalArgs(c, inst, call.args);
  } catch (err) {
    // The call cannot even be made (an unset secret, a failing expression): permanent, and the
    // call's own — no other resource would evaluate them differently — but the fallback is tried.
    return attemptFailed(c, inst, `arguments: ${(err as Error).message}`, false, false, true, PERMANENT);
  }
  if (timeoutMs !== null) armTimeout(c, inst, token, timeoutMs, attemptWhat(capabilityOf(c, inst), resourceOf(c, inst)), l.waitedSince);
  const request: AttemptRequest = {
    runId: c.runId,
    stepId: inst.key,
    baseStepId: step.id,
    attempt: inst.rec.attempts,
    purpose: inst.rec.phase === 'fallback' ? 'fallback' : 'call',
    capability: cap,
    input,
    resource: l.res,
    timeoutMs,
    // A step that names no secret of its own shares the config's (read only): no copy per attempt.
    secrets: inst.secretsUsed ? { ...(c.cfg.configSecrets ?? {}), ...inst.secretsUsed } : (c.cfg.configSecrets ?? NO_SECRETS),
    plan: c.plan,
    previousError: inst.rec.lastError,
  };
  c.command({ type: 'start_attempt', attempt: inst.key, token, request });
}

/** An approval: its arguments evaluated and checked, then it waits for decisions (those kept for it first). */
function startApproval(c: RunState, inst: Inst, l: Launch): void {
  const { token, timeoutMs, restoredWaitStart } = l;
  const evaluated = l.approval ?? approvalArgs(c, inst);
  if ('error' in evaluated) return attemptFailed(c, inst, `arguments: ${evaluated.error}`, false, false, true, PERMANENT);
  const args = evaluated.args;
  const bad = badApprovalArgs(args);
  if (bad !== null) return attemptFailed(c, inst, `arguments: ${bad}`, false, false, false, PERMANENT);
  inst.activity = { kind: 'approval', token, args };
  // Its time ran out while no process waited on it (the run was paused or stopped): it timed
  // out then, and an answer that came since is too late, as it would have been live.
  if (timeoutMs !== null && restoredWaitStart !== null && restoredWaitStart + timeoutMs <= c.now)
    return attemptFailed(c, inst, timedOutMessage(APPROVAL, timeoutMs), true, false);
  if (timeoutMs !== null) armTimeout(c, inst, token, timeoutMs, APPROVAL, restoredWaitStart);
  const pending = c.pendingSignals.get(inst.key) ?? [];
  c.pendingSignals.delete(inst.key);
  for (const p of pending) {
    // Once one of them decided the step (or failed it), the rest find nothing left to decide.
    if (inst.rec.status !== 'running' || inst.activity.kind !== 'approval' || inst.activity.token !== token) break;
    decideApproval(c, inst, p.decision, p.by, p.comment, p.identity);
  }
}

/** `wait DURATION`: a resumed wait waits only what was left of it. */
function startWait(c: RunState, inst: Inst, l: Launch, action: Extract<StepIR['action'], { type: 'wait' }>): void {
  let ms: number;
  try {
    ms = Number(evaluate(action.duration_ms, env(c, inst, inst.logical.step)));
  } catch (err) {
    return attemptFailed(c, inst, `wait duration: ${(err as Error).message}`, false, false, false, PERMANENT);
  }
  const startAt = l.restoredWaitStart ?? c.now;
  inst.timer = { kind: 'wait', token: l.token };
  c.armTimer(stepTimerId(inst), startAt + ms - c.now);
}

/** `wait until EXPR timeout D`: done at once when EXPR holds already, else when a change makes it hold. */
function startUntil(c: RunState, inst: Inst, l: Launch, action: Extract<StepIR['action'], { type: 'wait_until' }>): void {
  if (action.timeout_ms !== null) armTimeout(c, inst, l.token, action.timeout_ms, 'wait until', l.restoredWaitStart);
  c.untilWaiters.add(inst);
  checkUntil(c, inst);
}

/** `run PLAN(args)`: the sub-plan runs under the parent's guardrails too (LANGUAGE.md §4). */
function startSubplan(c: RunState, inst: Inst, l: Launch, action: Extract<StepIR['action'], { type: 'run' }>): void {
  const sub = c.plan.subplans[action.plan];
  if (!sub) return attemptFailed(c, inst, `unknown sub-plan ${action.plan}`, false, false, false, PERMANENT);
  let args: { [k: string]: unknown };
  try {
    args = evalArgs(c, inst, action.args);
  } catch (err) {
    return attemptFailed(c, inst, `arguments: ${(err as Error).message}`, false, false, false, PERMANENT);
  }
  if (l.timeoutMs !== null) armTimeout(c, inst, l.token, l.timeoutMs, 'sub-plan', l.restoredWaitStart ?? l.waitedSince);
  const guardrails = c.plan.guardrails.length > 0 ? subplanGuardrails(sub.guardrails, c.plan.guardrails, c.completedLog.map((x) => guardStep(c, x.inst))) : sub.guardrails;
  // §9.3: its steps' labels are what this call's arguments give them (the sub-plan's own IR has its inputs' as declared).
  const labels = inst.logical.step.subplan_labels;
  const steps = labels ? sub.steps.map((x) => (labels[x.id] ? { ...x, labels: labels[x.id] } : x)) : sub.steps;
  const plan = guardrails === sub.guardrails && steps === sub.steps ? sub : { ...sub, guardrails, steps };
  c.command({ type: 'start_subplan', key: inst.key, token: l.token, name: action.plan, plan, childId: `${c.runId}/${inst.key}`, input: args, resumeSince: l.restoredWaitStart });
}

/** What a call that runs out of time was doing: a model call waited for its endpoint (§9.1: name it). */
function attemptWhat(cap: CapabilityIR | null, resource: ReturnType<typeof resourceOf>): string {
  const endpoint = cap ? modelEndpointOf(cap, resource) : undefined;
  return endpoint !== undefined ? `attempt waiting for model endpoint "${endpoint}"` : 'attempt';
}

/** `since`: when a resumed wait originally started, so only the remaining time is waited. */
export function armTimeout(c: RunState, inst: Inst, token: number, ms: number, what: string, since: number | null = null): void {
  const waited = since === null ? 0 : c.now - since;
  inst.timer = { kind: 'timeout', token, what, ms, waited };
  c.armTimer(stepTimerId(inst), ms - waited);
}

export function checkUntil(c: RunState, inst: Inst): void {
  const action = inst.logical.step.action;
  if (action.type !== 'wait_until' || inst.rec.status !== 'running') return;
  let ok = false;
  try {
    ok = truthy(evaluate(action.condition, env(c, inst, inst.logical.step)));
  } catch {
    ok = false; // a signal that is not there yet keeps the step waiting
  }
  if (ok) {
    c.untilWaiters.delete(inst);
    clearStepTimer(c, inst);
    succeed(c, inst, { context: { ...c.ctx } });
  }
}

/** `approver`, `approvals` and `not_starter` computed at run time (literals were checked by the compiler, by the same rules). */
function badApprovalArgs(args: { readonly [k: string]: unknown }): string | null {
  // A blank (or, read through `any`, a non-string) approver would read as "anyone with the role"
  // (approvalRule): the step fails instead.
  const a = args.approver;
  if (a !== undefined && (typeof a !== 'string' || approverNamesNobody(a))) return `${APPROVER_NAMES_NOBODY}, got ${JSON.stringify(a)}`;
  const n = args.approvals;
  if (n !== undefined && n !== null && !(typeof n === 'number' && Number.isInteger(n) && n >= 1)) return `approvals must be an integer of at least 1, got ${JSON.stringify(n)}`;
  const ns = args.not_starter;
  if (ns !== undefined && ns !== null && typeof ns !== 'boolean') return `not_starter must be true or false, got ${JSON.stringify(ns)}`;
  return null;
}

/**
 * Why `identity` may not make `decision` on the waiting approval `inst` (LANGUAGE.md §8.8), or
 * null when it may. A decision without an identity (no people configured) is never refused.
 */
export function approvalRefusal(c: RunState, inst: Inst, decision: 'approve' | 'reject', identity: Identity | null): string | null {
  if (inst.activity.kind !== 'approval') return null;
  if (identity === null) return unboundRefusal(c.facts.origin.people_bound === true, null);
  return refusal(approvalRule(inst.activity.args), identity, decision, { approvedBy: inst.rec.approvedBy, startedBy: c.facts.startedBy, chain: chainOf(c.facts.origin) });
}

/**
 * A decision on a waiting approval. With an identity (§8.8) it is checked — a refused one changes
 * nothing (the runtime already told the caller why) — and journaled (`approval_decided`); the
 * step completes once `approvals` distinct people approved, and fails at the first reject.
 * Without one, `by` is a label and the decision decides at once, as before people were known.
 */
export function decideApproval(c: RunState, inst: Inst, decision: 'approve' | 'reject', by: string | null, comment: string | null, identity: Identity | null = null): void {
  const args = inst.activity.kind === 'approval' ? inst.activity.args : {};
  // §8.8, §9.1: a decision this person may not make — or one without a person on a run bound to people — changes nothing.
  if (approvalRefusal(c, inst, decision, identity) !== null) return;
  if (identity === null) {
    clearStepTimer(c, inst);
    const approver = by ?? (typeof args.approver === 'string' ? args.approver : 'unknown');
    if (decision === 'approve') succeed(c, inst, { approved: true, approver, approvers: [approver], decision: 'approve', ...(comment !== null ? { comment } : {}), ...subjectOf(args) });
    else attemptFailed(c, inst, `rejected${by ? ` by ${by}` : ''}${comment ? `: ${comment}` : ''}`, false, false);
    return;
  }
  const rule = approvalRule(args);
  const who = recordOf(identity);
  const approved = inst.rec.approvedBy.length + (decision === 'approve' ? 1 : 0);
  c.emit('approval_decided', inst.key, { decision, by: who, ...(comment !== null ? { comment } : {}), approved, needed: rule.approvals });
  if (decision === 'reject') {
    clearStepTimer(c, inst);
    attemptFailed(c, inst, `rejected by ${who.subject}${comment ? `: ${comment}` : ''}`, false, false);
    return;
  }
  // Not enough distinct people yet: the step keeps waiting (its timeout still runs).
  if (approved < rule.approvals) return;
  clearStepTimer(c, inst);
  succeed(c, inst, {
    approved: true,
    approver: who.subject,
    approvers: inst.rec.approvedBy.map((p) => p.subject),
    decision: 'approve',
    ...(comment !== null ? { comment } : {}),
    ...subjectOf(args),
  });
}

/** §9.3: what the person approved comes back as `output.subject` (the compiler counts it trusted). */
function subjectOf(args: { readonly [k: string]: unknown }): { subject?: unknown } {
  return 'subject' in args ? { subject: args.subject } : {};
}
