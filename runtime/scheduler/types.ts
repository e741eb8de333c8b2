/**
 * The injected dependencies of the scheduler core and the values it produces. Everything that
 * touches the outside world (time, handlers, the journal, policy hooks, secrets, randomness) comes
 * in through `SchedulerDeps`, so the same core runs `orch run` (real clock, worker threads,
 * SQLite) and `orch verify` (virtual clock, simulated handlers, no journal).
 */
import type { CapabilityIR, PlanIR, ResourceIR, StepStatus } from '../../compiler/index.js';
import type { LimitsProvider } from './core/limits.js';
import type { AttemptUsage, RunEvent } from './journal-events.js';
import type { SignalRead } from '../evaluate.js';
import type { Starter } from '../people/identity.js';

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
  /**
   * W3C `traceparent` of the attempt's span when the run is traced (runtime/telemetry): the
   * handler's `ctx.traceparent`, and the parent of a worker's attempt span. Never set by the core.
   */
  readonly traceparent?: string;
  /** Why the previous attempt of this call failed (the model handler tells the model, §8.1). */
  readonly previousError?: string | null;
  /**
   * A model call's endpoint tier as compiled (§9.1) where `plan` is not at hand to say it: a
   * worker's job carries it (runtime/models/endpoint-tier.ts reads the plan otherwise).
   */
  readonly endpointTier?: 'local' | 'edge' | 'cloud';
}

/** A tool the run is about to call for the first time: is the live tool the one the plan was checked against? */
export interface ToolCheck {
  readonly capability: CapabilityIR;
  readonly plan: PlanIR;
  /** The secrets the configuration provides (a server's `env` and `headers` may name them). */
  readonly secrets: { readonly [name: string]: string };
}

/**
 * `cost`: what this attempt of the capability actually cost, when the executor knows (the
 * verifier's `simulate … cost A..B`). It replaces the capability's `cost` charged when the
 * attempt started; the resource's cost stays. Without it the estimate is the attempt's cost.
 */
/** Why another attempt would fail the same way (see AttemptOutcome's `final`). */
export type FinalFailure = 'unloadable' | 'config' | 'refused';

/**
 * Whose a failure is (LANGUAGE.md §9.1), which decides whether another resource is tried:
 * `resource` — the bound resource's own (its endpoint's missing key, its 401/403, a worker that
 * refuses its endpoint's tier): another resource may succeed; `call` — the call's own (its
 * arguments, a tool's error answer): no other resource would answer differently, so the step is
 * never rebound for it. Absent: unknown — a transient failure rebinds as before (§7.2), a
 * permanent one does not.
 */
export type FailureOwner = 'resource' | 'call';

export type AttemptOutcome = (
  | { readonly ok: true; readonly output: unknown; readonly logs?: readonly string[]; readonly cost?: number }
  | {
      readonly ok: false;
      readonly error: string;
      readonly logs?: readonly string[];
      readonly cost?: number;
      /**
       * Another attempt would fail the same way, so the step is not retried (its `fallback` call,
       * if any, still runs): `unloadable`, the handler could not be loaded (its module is missing or
       * outside the project, or lacks the export) — no handler ran, so the attempt costs nothing;
       * `config`, a channel that is not configured, a missing secret, an MCP tool that changed
       * since the lock or is missing from its server, or a model call whose prompt would carry a
       * secret value (never sent, runtime/models); `refused`, a request the other side refused
       * for good (HTTP 4xx other than 408/409/425/429, or a handler's error marked `permanent`).
       * The step's end event says `permanent: true` (LANGUAGE.md §9.1).
       */
      readonly final?: FinalFailure;
      /** Whose failure it is (`FailureOwner`): with `final`, `resource` lets the next fallback resource be tried. */
      readonly owner?: FailureOwner;
      /**
       * The attempt did not fail: the cluster worker running it died (LANGUAGE.md §7.5), or gave it
       * back cut off from the database (`reason`). The core journals `attempt_lost` and starts the
       * step again as a new attempt, its retry budget unspent.
       */
      readonly lost?: { readonly worker: string; readonly reason?: string };
    }
) & {
  /** Tokens, model and endpoint the attempt reported (§8.1); its cost is `cost`. */
  readonly usage?: AttemptUsage;
  /**
   * Runs inside the journal commit that records this outcome (`step_completed` / `step_failed` /
   * `step_retried`): the remote executor marks the outcome folded there. Not run without a journal.
   */
  readonly commitHook?: CommitHook;
};

export interface AttemptHandle {
  /** Stop the attempt (timeout, cancel, abort). Its outcome, if it still arrives, is ignored. */
  abort(reason: string): void;
  /**
   * Optional, for an attempt with a timeout: `began` is called once, asynchronously, when its
   * handler actually starts — the attempt may first wait in the executor's queue for a free
   * thread, and its timeout counts from then (docs/language.md). Without it the handler starts
   * as the attempt is dispatched.
   */
  onStart?(began: () => void): void;
}

export interface Executor {
  /**
   * Starts one attempt. `done` must be called exactly once, asynchronously (never from inside
   * `start`), unless the attempt was aborted first. `logged`, when the executor can, receives log
   * lines while the attempt runs; the outcome's `logs` then holds only the lines not given there.
   * `reported`, when the executor can, receives what the attempt has reported so far (`ctx.usage`,
   * its running total) each time it reports: an attempt that times out is charged at least that.
   */
  start(request: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void, reported?: (usage: AttemptUsage) => void): AttemptHandle;
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
  /**
   * Optional: before a run's first step calling an MCP tool starts (LANGUAGE.md §8.3), how the
   * live tool differs from the locked one the capability names (changed, vanished), or null when
   * it does not — or when that cannot be known here (a server that does not start is the
   * attempt's failure, as before). Without it the step starts and its attempt checks.
   */
  checkTool?(check: ToolCheck): Promise<string | null>;
}

/**
 * Runs inside a journal commit's transaction (on Postgres, given its client); a throw rolls the commit back.
 * A hook with `batch` may instead be run together with the other hooks of that commit that share
 * its `group`: `group(transaction, items)` once, for one statement instead of one per hook (the
 * attempt rows of a turn's started steps, the folds of its outcomes). Calling the hook itself is
 * the same as its group with its item alone.
 */
export type CommitHook = ((transaction: unknown) => Promise<void>) & { readonly batch?: CommitBatch };

export interface CommitBatch {
  readonly group: (transaction: unknown, items: readonly unknown[]) => Promise<void>;
  readonly item: unknown;
}

export type { AttemptUsage, EventData, EventType, PlanChange, RunEvent, RunEventOf } from './journal-events.js';

/** `interrupted`: stopped on request (Ctrl-C), to be continued by `orch resume`; not finished. */
/** Every status a run can have (`orch runs --status`, `GET /runs?status=`). */
export const RUN_STATUSES = ['running', 'paused', 'interrupted', 'completed', 'failed', 'cancelled', 'timeout'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

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
  /**
   * Counted from 1, as `ctx.attempt` and the journal count: before an attempt (preExecution) the
   * attempt about to start, after the step (postExecution) the attempt that ended it.
   */
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
  /** §9.4: the live state of each context signal; without it a run reads its own context. */
  readonly signal?: (name: string) => SignalRead;
  /** §9.4, without `signal`: the run's own context values go stale as their `max_age` passes (`CoreConfig.contextAges`). */
  readonly contextAges?: boolean;
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
  /** orch.config `prices` by model, for budget reservations of model calls (LANGUAGE.md §8.2). */
  readonly modelPrices?: { readonly [model: string]: { readonly input_per_mtok: number; readonly output_per_mtok: number } };
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
  /** v0.3 (§8.1): what the step actually cost, every attempt counted. */
  readonly cost?: number;
  /** v0.3: tokens and model its attempts reported, when any did. */
  readonly usage?: StepUsage;
}

/**
 * Tokens summed over a step's attempts; the model and endpoint of the last one that reported.
 * A count is null — unknown, not 0 — when an attempt recorded usage without it (an endpoint that
 * reports no usage, a handler's `ctx.usage` with only a cost).
 */
export interface StepUsage {
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly model: string | null;
  readonly endpoint: string | null;
}

/** LANGUAGE.md §6: the shape `orch run --json` prints. */
export interface ExecutionResult {
  readonly planId: string;
  readonly runId: string;
  /** `paused`: stopped waiting for an approval (`orch signal` continues it); an extension. */
  readonly status: 'completed' | 'failed' | 'cancelled' | 'timeout' | 'paused' | 'interrupted';
  /** §9.1: who started the run (absent for a run of a journal before v0.4 that recorded none). */
  readonly started_by?: Starter;
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
  /** Actuals: `{cost, elapsed, status, started_by}` as the `run` root of expressions sees them. */
  actuals(): { readonly cost: number; readonly elapsed: number; readonly status: RunStatus; readonly started_by?: string | null };
  context(): { readonly [key: string]: unknown };
  /** §9.4: a context signal's state as the run's conditions read it (an invariant reads the same). */
  contextSignal?(name: string): SignalRead;
  input(): unknown;
}
