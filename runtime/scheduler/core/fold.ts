/**
 * The journal fold: how one journal event changes a step instance's record and the run's facts.
 * It is the only place those records change — the live core applies it to every event it emits
 * and `replay` applies it to a stored journal — so a resumed run starts from exactly the state
 * the interrupted one had reached. Pure.
 */
import type { StepStatus } from '../../../compiler/index.js';
import type { RunEvent } from '../types.js';

/** What the journal says about one step instance (`id`, or `id[i]` inside `for each`). */
export interface StepRecord {
  status: StepStatus;
  attempts: number;
  output: unknown;
  error: string | null;
  resource: string | null;
  startedAt: number | null;
  completedAt: number | null;
  cost: number;
  phase: 'main' | 'fallback';
  resourceIndex: number;
  /** Attempts made on the current resource / phase (for the retry budget). */
  phaseAttempts: number;
  /** Started and never finished: the process died while it ran. */
  inFlight: boolean;
  compensated: boolean;
  completionOrder: number | null;
}

/** What the journal says about the run as a whole. */
export interface RunFacts {
  paused: boolean;
  terminal: boolean;
  startedAt: number | null;
  lastSeq: number;
  readonly context: { [key: string]: unknown };
  /** Steps completed so far: the next completion's place in the rollback order. */
  completions: number;
  /** v0.2: the last iteration each loop (by key) started (`loop_iteration`). */
  readonly iterations: { [loop: string]: number };
  /** v0.2: each decided race's winner, by the race's key (`race_won`). */
  readonly winners: { [race: string]: string };
  /** v0.2: steps cancelled as a whole (`orch cancel --step` for a step whose instances are still to come). */
  readonly cancelRequests: string[];
}

export function newRecord(): StepRecord {
  return {
    status: 'pending',
    attempts: 0,
    output: null,
    error: null,
    resource: null,
    startedAt: null,
    completedAt: null,
    cost: 0,
    phase: 'main',
    resourceIndex: 0,
    phaseAttempts: 0,
    inFlight: false,
    compensated: false,
    completionOrder: null,
  };
}

export function newFacts(context: { [key: string]: unknown } = {}): RunFacts {
  return { paused: false, terminal: false, startedAt: null, lastSeq: 0, context, completions: 0, iterations: {}, winners: {}, cancelRequests: [] };
}

/** Applies a run-level event (and the sequence number of any event) to the run's facts. */
export function foldRun(f: RunFacts, e: RunEvent): void {
  f.lastSeq = Math.max(f.lastSeq, e.seq);
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'plan_created':
      if (d.context && typeof d.context === 'object') Object.assign(f.context, d.context);
      // A run refused before it started (`consent_denied`) has no execution_started: it began here.
      if (f.startedAt === null) f.startedAt = e.ts;
      break;
    case 'execution_started':
      if (f.startedAt === null) f.startedAt = e.ts;
      break;
    case 'execution_paused':
      f.paused = true;
      break;
    case 'execution_resumed':
      f.paused = false;
      break;
    case 'execution_completed':
    case 'execution_failed':
    case 'execution_cancelled':
      f.terminal = true;
      break;
    case 'context_updated':
      if (d.patch && typeof d.patch === 'object') Object.assign(f.context, d.patch);
      break;
    case 'loop_iteration':
      if (e.stepId !== null && typeof d.index === 'number') f.iterations[e.stepId] = Math.max(f.iterations[e.stepId] ?? -1, d.index);
      break;
    case 'race_won':
      if (e.stepId !== null && typeof d.winner === 'string') f.winners[e.stepId] = d.winner;
      break;
    case 'step_cancelled':
      if (e.stepId !== null && d.whole === true && !f.cancelRequests.includes(e.stepId)) f.cancelRequests.push(e.stepId);
      break;
    default:
      break;
  }
}

/**
 * The run ended (failed, timed out, cancelled): what never started is cancelled. Those steps are
 * not journaled one by one; the run's end event stands for them.
 */
export function endsUnstarted(e: RunEvent): boolean {
  return e.type === 'execution_failed' || e.type === 'execution_cancelled';
}

export function cancelUnstarted(s: StepRecord): void {
  if (s.status === 'pending' || s.status === 'queued') s.status = 'cancelled';
}

/** Applies a step event to that step's record; `f` numbers completions. */
export function foldStep(s: StepRecord, e: RunEvent, f: RunFacts): void {
  const d = e.data as Record<string, unknown>;
  // An attempt whose outcome reported its own cost (see AttemptOutcome.cost).
  if (typeof d.cost_delta === 'number') s.cost += d.cost_delta;
  switch (e.type) {
    case 'step_queued':
      s.status = 'queued';
      break;
    case 'step_started':
      s.status = 'running';
      s.inFlight = true;
      s.attempts = Number(d.attempt ?? s.attempts + 1);
      s.phaseAttempts = Number(d.phaseAttempt ?? s.phaseAttempts + 1);
      s.phase = d.phase === 'fallback' ? 'fallback' : 'main';
      s.resourceIndex = Number(d.resourceIndex ?? 0);
      s.resource = (d.resource as string | null) ?? null;
      if (s.startedAt === null) s.startedAt = e.ts;
      s.cost += Number(d.cost ?? 0);
      break;
    case 'step_retried':
      s.inFlight = false;
      s.status = 'queued';
      if (d.phase === 'fallback') {
        s.phase = 'fallback';
        s.resourceIndex = 0;
      }
      if (typeof d.resourceIndex === 'number') s.resourceIndex = d.resourceIndex;
      if (d.reset === true) s.phaseAttempts = 0;
      break;
    case 'attempt_lost':
      // Its worker died: queued again, and the lost attempt does not count against the retries.
      s.inFlight = false;
      s.status = 'queued';
      s.phaseAttempts = Math.max(0, s.phaseAttempts - 1);
      break;
    case 'step_completed':
      s.status = 'completed';
      s.inFlight = false;
      s.output = d.output ?? null;
      s.completedAt = e.ts;
      s.completionOrder = f.completions++;
      if (typeof d.attempt === 'number') s.attempts = d.attempt;
      break;
    case 'step_failed':
      s.status = (d.status as StepStatus | undefined) ?? 'failed';
      s.inFlight = false;
      s.error = (d.error as string | undefined) ?? null;
      s.completedAt = e.ts;
      break;
    case 'step_skipped':
      s.status = 'skipped';
      s.inFlight = false;
      break;
    case 'step_cancelled':
      s.status = 'cancelled';
      s.inFlight = false;
      s.error = (d.reason as string | undefined) ?? null;
      s.completedAt = e.ts;
      break;
    case 'step_compensated':
      s.compensated = true;
      break;
    default:
      break;
  }
}
