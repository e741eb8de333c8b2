/**
 * The journal fold: how one journal event changes a step instance's record and the run's facts.
 * It is the only place those records change — the live core applies it to every event it emits
 * and `replay` applies it to a stored journal — so a resumed run starts from exactly the state
 * the interrupted one had reached. Pure.
 */
import type { StepStatus } from '../../../compiler/index.js';
import type { RecordedIdentity, Starter } from './identity.js';
import type { RunOrigin } from './run-origin.js';
import type { AttemptUsage, RunEvent, StepUsage } from '../types.js';

/** What the journal says about one step instance (`id`, or `id[i]` inside `for each`). */
export interface StepRecord {
  status: StepStatus;
  attempts: number;
  output: unknown;
  error: string | null;
  resource: string | null;
  startedAt: number | null;
  /** When its latest attempt started (`startedAt` is its first's). */
  attemptStartedAt: number | null;
  completedAt: number | null;
  cost: number;
  phase: 'main' | 'fallback';
  resourceIndex: number;
  /** Attempts made on the current resource / phase (for the retry budget). */
  phaseAttempts: number;
  /** Started and never finished: the process died while it ran. */
  inFlight: boolean;
  compensated: boolean;
  /** Its compensation started (`compensation_started`) and has not ended (`step_compensated`). */
  compensating: boolean;
  completionOrder: number | null;
  /** v0.3: the last attempt's error, also after a retry (the model handler tells the model). */
  lastError: string | null;
  /** v0.3: tokens its attempts reported (summed), with the last model and endpoint; null when none did. */
  usage: StepUsage | null;
  /** v0.3 (§8.8): the people who approved this approval step so far (`approval_decided`), in order. */
  approvedBy: RecordedIdentity[];
  /**
   * §9.4: the resource a queued step was rebound to because its own was not available
   * (`step_rebound`), until its next `step_started` or `step_retried` says its place by index.
   */
  reboundTo: string | null;
  /** When the retry a `step_retried` put off is due (epoch ms); null when none is waiting. */
  retryAt: number | null;
}

/** What the journal says about the run as a whole. */
export interface RunFacts {
  paused: boolean;
  terminal: boolean;
  startedAt: number | null;
  lastSeq: number;
  readonly context: { [key: string]: unknown };
  /**
   * §9.4: when each of the run's own context values was set (the time of the event that carried
   * it), so a run without a live context sees a value go stale as its `max_age` passes.
   */
  readonly contextAt: { [key: string]: number };
  /** Steps completed so far: the next completion's place in the rollback order. */
  completions: number;
  /** v0.2: the last iteration each loop (by key) started (`loop_iteration`). */
  readonly iterations: { [loop: string]: number };
  /** v0.2: each decided race's winner, by the race's key (`race_won`). */
  readonly winners: { [race: string]: string };
  /** v0.2: steps cancelled as a whole (`orch cancel --step` for a step whose instances are still to come). */
  readonly cancelRequests: string[];
  /** Who started the run (`plan_created.started_by`; v0.3 journals: a person who used `POST /runs`). */
  startedBy: Starter | null;
  /** §9.1: the rest of where the run came from (`caused_by`, the chain, `people_bound`). */
  origin: Omit<RunOrigin, 'started_by'>;
  /** `warn` budgets that went past their limit (`budget_exceeded`, by `warnedKey`): journaled once a run. */
  readonly warned: string[];
}

/** Which `warn` budget a `budget_exceeded` speaks of: the run journals each once. */
export function warnedKey(budget: 'cost' | 'duration', label: string): string {
  return `${budget}:${label}`;
}

/** Which non-blocking guardrail violation a `guardrail_violation` is: once per guardrail, rule and step (an `assert`: once). */
export function violationKey(guardrail: string, rule: string, stepKey: string | null): string {
  return `${guardrail}\u0000${rule}\u0000${rule === 'assert' ? '' : (stepKey ?? '')}`;
}

export function newRecord(): StepRecord {
  return {
    status: 'pending',
    attempts: 0,
    output: null,
    error: null,
    resource: null,
    startedAt: null,
    attemptStartedAt: null,
    completedAt: null,
    cost: 0,
    phase: 'main',
    resourceIndex: 0,
    phaseAttempts: 0,
    inFlight: false,
    compensated: false,
    compensating: false,
    completionOrder: null,
    lastError: null,
    usage: null,
    approvedBy: [],
    reboundTo: null,
    retryAt: null,
  };
}

export function newFacts(context: { [key: string]: unknown } = {}): RunFacts {
  return { paused: false, terminal: false, startedAt: null, lastSeq: 0, context, contextAt: {}, completions: 0, iterations: {}, winners: {}, cancelRequests: [], startedBy: null, origin: {}, warned: [] };
}

/**
 * Applies a run-level event (and the sequence number of any event) to the run's facts. Every
 * event type is listed: a new one must be placed here (tsc says so), by what it does to a resume.
 */
export function foldRun(f: RunFacts, e: RunEvent): void {
  f.lastSeq = Math.max(f.lastSeq, e.seq);
  switch (e.type) {
    case 'plan_created':
      Object.assign(f.context, e.data.context);
      for (const k of Object.keys(e.data.context)) f.contextAt[k] = e.ts;
      // A run refused before it started (`consent_denied`) has no execution_started: it began here.
      if (f.startedAt === null) f.startedAt = e.ts;
      f.startedBy = e.data.started_by ?? null;
      f.origin = originFacts(e.data);
      return;
    case 'execution_started':
      if (f.startedAt === null) f.startedAt = e.ts;
      return;
    case 'execution_paused':
    case 'execution_interrupted':
      f.paused = true;
      return;
    case 'execution_resumed':
      f.paused = false;
      return;
    case 'execution_completed':
    case 'execution_failed':
    case 'execution_cancelled':
      f.terminal = true;
      return;
    case 'context_updated':
      Object.assign(f.context, e.data.patch);
      for (const k of Object.keys(e.data.patch)) f.contextAt[k] = e.ts;
      return;
    case 'loop_iteration':
      if (e.stepId !== null) f.iterations[e.stepId] = Math.max(f.iterations[e.stepId] ?? -1, e.data.index);
      return;
    case 'race_won':
      if (e.stepId !== null) f.winners[e.stepId] = e.data.winner;
      return;
    case 'budget_exceeded':
      if (e.data.warn && !f.warned.includes(warnedKey(e.data.budget, e.data.label))) f.warned.push(warnedKey(e.data.budget, e.data.label));
      return;
    case 'guardrail_violation': {
      const key = violationKey(e.data.guardrail, e.data.rule, e.stepId);
      if (e.data.severity !== 'blocking' && !f.warned.includes(key)) f.warned.push(key);
      return;
    }
    case 'step_cancelled':
      if (e.stepId !== null && e.data.whole === true && !f.cancelRequests.includes(e.stepId)) f.cancelRequests.push(e.stepId);
      return;
    // The run goes on under the IR the upgrade recorded; the records of its steps stay.
    case 'plan_upgraded':
    case 'step_queued':
    case 'step_started':
    case 'step_completed':
    case 'step_failed':
    case 'step_retried':
    case 'step_skipped':
    case 'step_compensated':
    case 'compensation_started':
    case 'budget_overrun':
    case 'consent_denied':
    case 'step_log':
    case 'attempt_lost':
    case 'approval_decided':
    case 'step_adopted':
    case 'step_rebound':
    case 'endorsed':
    case 'declassified':
      return;
    default:
      return unknownEvent(e);
  }
}

/** Exhaustiveness: only an event of a type a newer Orch wrote (never produced by `storedEvent`) gets here. */
function unknownEvent(e: never): void {
  void e;
}

/**
 * The run ended (failed, timed out, cancelled): what never started is cancelled. Those steps are
 * not journaled one by one; the run's end event stands for them.
 */
export function endsUnstarted(e: RunEvent): boolean {
  return e.type === 'execution_failed' || e.type === 'execution_cancelled';
}

export function cancelUnstarted(s: StepRecord, e: RunEvent): void {
  if (s.status === 'pending' || s.status === 'queued') s.status = 'cancelled';
  else if (e.type === 'execution_cancelled' && s.status === 'running') {
    // A run cancelled while no process held it (`orch cancel` of a paused or interrupted run):
    // nothing journaled its approvals, waits or lost attempts as ended; the cancel ends them.
    s.status = 'cancelled';
    s.error = 'run cancelled';
    s.completedAt = e.ts;
  }
}

/** Applies a step event to that step's record; `f` numbers completions. Every event type is listed. */
export function foldStep(s: StepRecord, e: RunEvent, f: RunFacts): void {
  switch (e.type) {
    case 'step_queued':
      s.status = 'queued';
      return;
    case 'step_started':
      s.status = 'running';
      s.inFlight = true;
      s.attempts = e.data.attempt;
      s.phaseAttempts = e.data.phaseAttempt;
      s.phase = e.data.phase;
      s.resourceIndex = e.data.resourceIndex;
      s.resource = e.data.resource;
      s.reboundTo = null;
      s.retryAt = null;
      if (s.startedAt === null) s.startedAt = e.ts;
      s.attemptStartedAt = e.ts;
      s.cost += e.data.cost;
      return;
    case 'step_retried':
      // An attempt whose outcome reported its own cost (see AttemptOutcome.cost), and its tokens.
      s.cost += e.data.cost_delta ?? 0;
      addUsage(s, e.data.usage);
      s.inFlight = false;
      s.status = 'queued';
      if (e.data.phase === 'fallback') {
        s.phase = 'fallback';
        s.resourceIndex = 0;
      }
      if (e.data.resourceIndex !== undefined) s.resourceIndex = e.data.resourceIndex;
      if (e.data.resourceIndex !== undefined || e.data.phase === 'fallback') s.reboundTo = null;
      if (e.data.reset === true) s.phaseAttempts = 0;
      // A resume before this time waits out the rest of the backoff (§7.1: time spans an outage).
      s.retryAt = e.data.delay_ms > 0 ? e.ts + e.data.delay_ms : null;
      s.lastError = e.data.error;
      return;
    case 'step_rebound':
      // Another resource, with a fresh retry budget, as a rebinding after a failure has.
      s.reboundTo = e.data.to;
      s.phaseAttempts = 0;
      return;
    case 'attempt_lost':
      // Its worker died: queued again, and the lost attempt does not count against the retries.
      s.inFlight = false;
      s.status = 'queued';
      s.phaseAttempts = Math.max(0, s.phaseAttempts - 1);
      return;
    case 'step_completed':
      s.cost += e.data.cost_delta ?? 0;
      addUsage(s, e.data.usage);
      s.status = 'completed';
      s.inFlight = false;
      s.output = e.data.output ?? null;
      s.completedAt = e.ts;
      s.completionOrder = f.completions++;
      if (e.data.attempt !== undefined) s.attempts = e.data.attempt;
      return;
    case 'step_adopted':
      // §9.2: completed in the run this one forks; its handler is not called here.
      s.status = 'completed';
      s.inFlight = false;
      s.output = e.data.output ?? null;
      s.completedAt = e.ts;
      s.completionOrder = f.completions++;
      if (e.data.attempts !== undefined) s.attempts = e.data.attempts;
      if (e.data.resource !== undefined) s.resource = e.data.resource;
      return;
    case 'step_failed':
      s.cost += e.data.cost_delta ?? 0;
      addUsage(s, e.data.usage);
      s.status = e.data.status;
      s.inFlight = false;
      s.error = e.data.error;
      s.lastError = s.error;
      s.completedAt = e.ts;
      return;
    case 'step_skipped':
      s.status = 'skipped';
      s.inFlight = false;
      return;
    case 'step_cancelled':
      s.cost += e.data.cost_delta ?? 0;
      addUsage(s, e.data.usage);
      s.status = 'cancelled';
      s.inFlight = false;
      s.error = e.data.reason;
      s.completedAt = e.ts;
      return;
    // A compensation is money spent for its step (§7.2): charged when it starts, settled when it ends.
    case 'compensation_started':
      s.compensating = true;
      s.cost += e.data.cost ?? 0;
      return;
    case 'step_compensated':
      s.compensating = false;
      s.compensated = true;
      s.cost += e.data.cost_delta ?? 0;
      return;
    case 'approval_decided':
      if (e.data.decision === 'approve') s.approvedBy.push(e.data.by);
      return;
    // Events about a step that change nothing in its record, and the run-level ones (foldRun).
    case 'step_log':
    case 'guardrail_violation':
    case 'budget_exceeded':
    case 'budget_overrun':
    case 'loop_iteration':
    case 'race_won':
    case 'plan_created':
    case 'plan_upgraded':
    case 'execution_started':
    case 'execution_paused':
    case 'execution_interrupted':
    case 'execution_resumed':
    case 'execution_completed':
    case 'execution_failed':
    case 'execution_cancelled':
    case 'context_updated':
    case 'consent_denied':
    case 'endorsed':
    case 'declassified':
      return;
    default:
      return unknownEvent(e);
  }
}

/**
 * A token count over attempts: `so far` (undefined before the first) plus one attempt's; unknown
 * (null) once an attempt did not report it — a sum over what was reported would read as exact.
 */
export function addTokens(soFar: number | null | undefined, more: number | null | undefined): number | null {
  if (soFar === null || more === undefined || more === null) return null;
  return (soFar ?? 0) + more;
}

function addUsage(s: StepRecord, u: AttemptUsage | undefined): void {
  if (!u) return;
  const prev = s.usage;
  s.usage = {
    input_tokens: addTokens(prev?.input_tokens, u.input_tokens),
    output_tokens: addTokens(prev?.output_tokens, u.output_tokens),
    model: u.model ?? prev?.model ?? null,
    endpoint: u.endpoint ?? prev?.endpoint ?? null,
  };
}

/** The fields of a `plan_created` that say where the run came from, besides its starter (§9.1). */
export function originFacts(d: Omit<RunOrigin, 'started_by'>): Omit<RunOrigin, 'started_by'> {
  return {
    ...(d.caused_by ? { caused_by: d.caused_by } : {}),
    ...(d.chained_from !== undefined ? { chained_from: d.chained_from } : {}),
    ...(d.trigger !== undefined ? { trigger: d.trigger } : {}),
    ...(d.people_bound !== undefined ? { people_bound: d.people_bound } : {}),
    ...(d.chain_people ? { chain_people: d.chain_people } : {}),
    ...(d.forked_from ? { forked_from: d.forked_from } : {}),
  };
}
