/**
 * The injected dependencies of the scheduler core and the values it produces. Everything that
 * touches the outside world (time, handlers, the journal, policy hooks, secrets, randomness) comes
 * in through `SchedulerDeps`, so the same core runs `orch run` (real clock, worker threads,
 * SQLite) and `orch verify` (virtual clock, simulated handlers, no journal).
 */
import type { CapabilityIR, PlanIR, ResourceIR, StepStatus } from '../../compiler/index.js';
import type { LimitsProvider } from './core/limits.js';

/** Opaque timer handle returned by a `Clock`. */
export type TimerId = { readonly __timer: true } | number | object;

export interface Clock {
  /** Epoch milliseconds (a virtual clock may start anywhere). */
  now(): number;
  setTimer(ms: number, callback: () => void): TimerId;
  cancelTimer(id: TimerId): void;
}

/** One attempt of a capability call, handed to the executor. */
export interface AttemptRequest {
  readonly runId: string;
  /** Instance key: the step id, or `id[i]` for the i-th item of a `for each` block. */
  readonly stepId: string;
  /** The IR step id (without the item index). */
  readonly baseStepId: string;
  readonly attempt: number;
  readonly purpose: 'call' | 'fallback' | 'compensate';
  readonly capability: CapabilityIR;
  readonly input: { readonly [name: string]: unknown };
  readonly resource: ResourceIR | null;
  /** The scheduler enforces it (aborting the attempt); executors may use it for their own limits. */
  readonly timeoutMs: number | null;
  /** Secrets the arguments referenced, plus those the configuration provides. */
  readonly secrets: { readonly [name: string]: string };
  readonly plan: PlanIR;
}

/**
 * `cost`: what this attempt of the capability actually cost, when the executor knows (the
 * verifier's `simulate … cost A..B`). It replaces the capability's `cost` charged when the
 * attempt started; the resource's cost stays. Without it the estimate is the attempt's cost.
 */
export type AttemptOutcome = (
  | { readonly ok: true; readonly output: unknown; readonly logs?: readonly string[]; readonly cost?: number }
  | {
      readonly ok: false;
      readonly error: string;
      readonly logs?: readonly string[];
      readonly cost?: number;
      /**
       * The attempt did not fail: the cluster worker running it died (LANGUAGE.md §7.5). The core
       * journals `attempt_lost` and starts the step again as a new attempt, its retry budget unspent.
       */
      readonly lost?: { readonly worker: string };
    }
) & {
  /**
   * Runs inside the journal commit that records this outcome (`step_completed` / `step_failed` /
   * `step_retried`): the remote executor marks the outcome folded there. Not run without a journal.
   */
  readonly commitHook?: CommitHook;
};

export interface AttemptHandle {
  /** Stop the attempt (timeout, cancel, abort). Its outcome, if it still arrives, is ignored. */
  abort(reason: string): void;
}

export interface Executor {
  /**
   * Starts one attempt. `done` must be called exactly once, asynchronously (never from inside
   * `start`), unless the attempt was aborted first. `logged`, when the executor can, receives log
   * lines while the attempt runs; the outcome's `logs` then holds only the lines not given there.
   */
  start(request: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle;
  /**
   * Optional: work to do for an attempt inside the journal transaction that commits its
   * `step_started` (the remote executor adds its job there). `start` follows once it is durable;
   * `discard` instead when the attempt is no longer current by then.
   */
  prepare?(request: AttemptRequest): CommitHook;
  discard?(request: AttemptRequest): void;
  /**
   * Optional, on resuming a run another process owned: of the call attempts in flight at the
   * interruption (step instance key → attempt number), the steps this executor knows to be safe
   * to start again: their outcome is held (a worker recorded it; the process that died never
   * folded it) or still to come from the attempt in flight (the next attempt receives it instead
   * of running the handler again), or their handler provably never ran.
   */
  recover?(runId: string, inFlight: ReadonlyMap<string, number>): Promise<ReadonlySet<string>>;
}

/** Runs inside a journal commit's transaction (on Postgres, given its client); a throw rolls the commit back. */
export type CommitHook = (transaction: unknown) => Promise<void>;

export type EventType =
  | 'plan_created'
  | 'execution_started'
  | 'step_queued'
  | 'step_started'
  | 'step_completed'
  | 'step_failed'
  | 'step_retried'
  | 'step_skipped'
  | 'step_compensated'
  | 'guardrail_violation'
  | 'execution_paused'
  | 'execution_resumed'
  | 'execution_completed'
  | 'execution_failed'
  | 'execution_cancelled'
  /** Extension: a live context signal changed (`orch signal RUN --context`). */
  | 'context_updated'
  /** v0.2: one step instance cancelled on its own (a race's loser, `orch cancel RUN --step`). */
  | 'step_cancelled'
  /** v0.2: a `repeat` block starts iteration `data.index` (stepId: the loop's key). */
  | 'loop_iteration'
  /** v0.2: a `race` block was won by `data.winner` (stepId: the race's key). */
  | 'race_won'
  /** v0.2 (§7.2): a budget was (or would have been) exceeded; `warn` budgets let the run go on. */
  | 'budget_exceeded'
  /** v0.2 (§7.2): consent scopes the plan needs were not granted; nothing ran. */
  | 'consent_denied'
  /** v0.2 (§7.3): a line a handler wrote (stdout, stderr, ctx.log), redacted. */
  | 'step_log'
  /**
   * §7.5: the cluster worker running attempt `data.attempt` died (`data.worker`, its id); the step
   * runs again as the next attempt, its retry budget unspent. Data: `{ attempt, worker }`.
   */
  | 'attempt_lost';

export interface RunEvent {
  readonly runId: string;
  /** 1, 2, 3 … per run, without gaps. */
  readonly seq: number;
  /** Epoch ms from the scheduler's clock. */
  readonly ts: number;
  readonly type: EventType;
  readonly stepId: string | null;
  readonly data: { readonly [key: string]: unknown };
}

export type RunStatus = 'running' | 'paused' | 'completed' | 'failed' | 'cancelled' | 'timeout';

/** The run-level facts a journal keeps next to the events (for `orch runs`). */
export interface RunSummary {
  readonly runId: string;
  readonly plan: string;
  readonly parentRunId: string | null;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly completedAt: number | null;
  readonly cost: number;
  readonly error: string | null;
}

export interface JournalSink {
  /**
   * Persists the events of one state change together with the run summary they lead to, in ONE
   * transaction. Called before any effect of that change (e.g. dispatching a started step) runs.
   * A journal on a network database answers with a promise: the run's effects then wait for it,
   * and the run hands it its next commit only once it settled (commits of a run never overlap,
   * so they land in order; a journal may still group the commits of several runs).
   */
  commit(summary: RunSummary, events: readonly RunEvent[], hooks?: readonly CommitHook[]): void | Promise<void>;
  /** Stored events of a run (for resuming sub-plan runs); optional. */
  load?(runId: string): readonly RunEvent[];
}

export interface StepHookInfo {
  readonly runId: string;
  readonly stepId: string;
  readonly baseStepId: string;
  readonly capability: string | null;
  readonly kind: string | null;
  readonly resource: string | null;
  readonly data: string;
  readonly attempt: number;
  /** The step's evaluated arguments, secrets as `***` (null when they cannot be evaluated yet). */
  readonly input: { readonly [name: string]: unknown } | null;
}

/** What a policy hook sees of the run (LANGUAGE.md §7.3). */
export interface HookContext {
  readonly plan: string;
  readonly runId: string;
  readonly input: unknown;
  readonly context: { readonly [key: string]: unknown };
  /** The consent scopes granted to the run. */
  readonly consent: readonly string[];
}

export interface PolicyHooks {
  preExecution?(step: StepHookInfo, ctx: HookContext): { allow: boolean; reason?: string } | Promise<{ allow: boolean; reason?: string }>;
  postExecution?(
    step: StepHookInfo,
    result: { readonly status: StepStatus; readonly output: unknown; readonly error: string | null },
    ctx: HookContext,
  ): unknown;
}

export interface SchedulerDeps {
  readonly clock: Clock;
  readonly executor: Executor;
  readonly journal?: JournalSink;
  /** Sees every event right after the state change it records (the verifier checks invariants here). */
  readonly observe?: (event: RunEvent, run: RunReader) => void;
  readonly hooks?: PolicyHooks;
  /** Resolves `secret("NAME")`; an unknown name should throw. */
  readonly secret?: (name: string) => string;
  /** Secrets handed to every handler (from the configuration). */
  readonly configSecrets?: { readonly [name: string]: string };
  /** Replaces secret values in text bound for the journal/logs/results. */
  readonly redact?: (value: unknown) => unknown;
  /** Uniform [0,1) for retry jitter; inject a seeded one for reproducible runs. */
  readonly random?: () => number;
  /**
   * When given, commits and dispatches are coalesced: state changes arriving in one turn of the
   * event loop share one journal transaction (`setImmediate` in `orch run`). Without it every
   * state change is committed synchronously, which keeps a virtual-clock run fully deterministic.
   */
  readonly defer?: (flush: () => void) => void;
  /**
   * Builds each run's limits (sub-plans included) so that they count against shared slots;
   * without it every run keeps its own (`InRunLimits`). `RunOptions.limits` wins over it.
   */
  readonly limits?: LimitsProvider;
}

export interface StepResult {
  readonly stepId: string;
  readonly status: StepStatus;
  readonly output: unknown;
  readonly error: string | null;
  readonly attempts: number;
  readonly resource: string | null;
  readonly duration: number;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

/** LANGUAGE.md §6: the shape `orch run --json` prints. */
export interface ExecutionResult {
  readonly planId: string;
  readonly runId: string;
  /** `paused`: stopped waiting for an approval (`orch signal` continues it); an extension. */
  readonly status: 'completed' | 'failed' | 'cancelled' | 'timeout' | 'paused';
  readonly steps: readonly StepResult[];
  readonly output: unknown;
  readonly error: string | null;
  /** When `paused`: the approval steps it waits for, by instance key (`id[i]` inside for each). */
  readonly waiting?: readonly string[];
  readonly metadata: {
    readonly totalDuration: number;
    readonly totalCost: number;
    readonly totalSteps: number;
    readonly completedSteps: number;
    readonly failedSteps: number;
    readonly skippedSteps: number;
    /** Steps cancelled on their own (`orch cancel RUN --step`, a race's losers); not counted as failed. */
    readonly cancelledSteps: number;
  };
  readonly startedAt: string;
  readonly completedAt: string;
}

/** What an observer may read from a run while it executes (read-only). */
export interface RunReader {
  readonly runId: string;
  readonly plan: PlanIR;
  status(): RunStatus;
  /** StepView of an IR step id (a `for each` step aggregates its items). */
  stepView(id: string): import('../../compiler/index.js').StepView | undefined;
  /** v0.2: a `race` or `repeat` block as the run sees it (`NAME.winner`, `NAME.iterations`). */
  blockView?(id: string): import('../../compiler/index.js').BlockView | undefined;
  /** v0.2: step `id` as instance `key` sees it (its item or iteration, else the whole step). */
  viewFrom?(key: string, id: string): import('../../compiler/index.js').StepView | undefined;
  /** Instance keys currently running (started, not finished). */
  running(): readonly string[];
  /** Actuals: `{cost, elapsed, status}` as the `run` root of expressions sees them. */
  actuals(): { readonly cost: number; readonly elapsed: number; readonly status: RunStatus };
  context(): { readonly [key: string]: unknown };
  input(): unknown;
}
