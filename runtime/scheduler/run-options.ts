/** How one run is started or resumed (`Run`'s options): its identity, what it resumes from, and how it reports. */
import type { Adoption } from './core/run-state.js';
import type { CostCeiling } from './core/run-state.js';
import type { LimitsService } from './core/limits.js';
import type { Starter } from '../people/identity.js';
import type { RunOrigin } from './core/run-origin.js';
import type { RestoredRun } from './replay.js';
import type { ExecutionResult } from './types.js';

export interface RunOptions {
  readonly runId: string;
  readonly input?: unknown;
  readonly context?: { readonly [key: string]: unknown };
  readonly parentRunId?: string | null;
  /** The finished run this one retries (journaled in `plan_created`). */
  readonly retryOf?: string | null;
  /** The run's trace ids (runtime/telemetry), journaled in `plan_created` as `trace_id` and `span_id`. */
  readonly trace?: { readonly trace_id: string; readonly span_id: string } | null;
  /** The folded journal of an interrupted run: resume instead of starting afresh. */
  readonly restored?: RestoredRun;
  /** On resume, run `idempotent false` steps that were in flight again instead of failing them. */
  readonly rerunInFlight?: boolean;
  /** On resume, steps in flight the executor recovered (`Executor.recover`): not failed as unknown. */
  readonly recovered?: ReadonlySet<string>;
  /** The same for the sub-plan runs of this run (and theirs), by sub-plan run id. */
  readonly recoveredSubplans?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * When nothing can happen any more except human approvals, stop: journal `execution_paused`
   * (`reason: "waiting for approval"`) and settle `done` with status `paused`. `orch run` uses it
   * so the process exits and `orch signal` continues the run later; `orch serve` keeps waiting.
   */
  readonly suspendOnApproval?: boolean;
  /**
   * Called synchronously with the result once the run ended and it was committed (before `done`
   * settles). Parent runs use it for sub-plans so a virtual-clock run stays synchronous.
   */
  readonly onFinish?: (result: ExecutionResult) => void;
  /**
   * A sub-plan's parent hears what the sub-plan waits for whenever that changes: the approvals,
   * when nothing else can happen in it; `[]` once something can (the parent is paused meanwhile).
   */
  readonly onApprovalWait?: (waiting: readonly string[]) => void;
  /** Who keeps slots and rate windows; by default the run's own (`InRunLimits`). */
  readonly limits?: LimitsService;
  /** A sub-plan's share of its parent's cost budgets. */
  readonly costCeilings?: readonly CostCeiling[];
  /** The consent scopes granted to the run (checked before it starts under `require_consent`). */
  readonly consent?: readonly string[];
  /** §8.8: the person who started the run (journaled in `plan_created.started_by`). */
  readonly startedBy?: Starter | null;
  /** §9.1: where else the run came from (journaled in `plan_created`): its cause, its chain, `people_bound`. */
  readonly origin?: Omit<RunOrigin, 'started_by'>;
  /** §9.2: what a forked run adopts from the run it forks. */
  readonly adopted?: Adoption;
}
