/** How a `Runtime` is opened, and how each run is started or resumed on it. */
import type { Adoption } from './scheduler/core/run-state.js';
import type { Backend } from './backend/index.js';
import type { SignalRead } from './evaluate.js';
import type { OrchConfig } from './config.js';
import type { WorkerCoverage } from './cluster/remote-executor.js';
import type { WorkerExecutorOptions } from './executor/worker-executor.js';
import type { Identity, Starter } from './people/identity.js';
import type { RelabelIR } from '../compiler/index.js';
import type { LimitsProvider } from './scheduler/index.js';
import type { Run } from './scheduler/run.js';
import type { Clock, ExecutionResult, Executor, RunEvent, RunReader } from './scheduler/types.js';

export interface RuntimeOptions extends WorkerExecutorOptions {
  /**
   * Where runs are kept (`openBackend`, `memoryBackend`); the caller closes it after the runtime.
   * Without one, `db` names it.
   */
  readonly backend?: Backend;
  /**
   * The database `openBackend` opens (and the runtime closes) when no `backend` is given: a SQLite
   * path or a Postgres URL (a database `orch db migrate` prepared); default `$ORCH_DB`, else
   * `.orch/runs.db`. `null` runs without a journal (no resume, no controls).
   */
  readonly db?: string | null;
  /** Replaces the worker pool (tests, benchmarks). */
  readonly executor?: Executor;
  readonly clock?: Clock;
  /**
   * §9.4: the live state of each context signal (`orch serve`'s context store). Runs read their
   * signals through it, so a signal that went stale is unknown at once; without it a run reads the
   * context it was started and signalled with, each value going stale as its `max_age` passes.
   */
  readonly signal?: (name: string) => SignalRead;
  /** How often running runs look for pause/cancel/signal rows from other processes. */
  readonly controlPollMs?: number;
  /**
   * Stop a run (status `paused`) when only human approvals are left, instead of keeping it in
   * memory until a signal arrives (`orch run`; `orch serve` keeps waiting).
   */
  readonly suspendOnApproval?: boolean;
  /**
   * Who keeps resource slots and rate windows for all runs and sub-plans of this runtime. By
   * default the journal database (shared with every process using it), or this process's memory
   * without a file journal.
   */
  readonly limits?: LimitsProvider;
  /**
   * Where the steps run (`workers` needs a backend with workers: Postgres):
   * - `local` (the default): this process's worker threads;
   * - `workers`: `orch worker` processes (the step queue in orch.attempts), waiting for one if none is live;
   * - `auto`: on the workers when one is live as a run starts (or resumes), else in-process
   *   (always, on a backend without workers).
   */
  readonly placement?: Placement;
  /** Where trouble at the runtime's edges is told, once (an OTLP endpoint that cannot be reached); default stderr. */
  readonly warn?: (line: string) => void;
}

export type Placement = 'local' | 'workers' | 'auto';
/** Where one run's steps went. */
export type RunPlacement = 'workers' | 'in-process';

export interface StartOptions {
  readonly input?: unknown;
  readonly context?: { readonly [key: string]: unknown };
  /** §9.4: when each `context` value was set, where it was before this run (a retry's, from the journal); default now. */
  readonly contextAt?: { readonly [key: string]: number };
  readonly runId?: string;
  /** Sees every journal event of the run (after it happened; redacted). */
  readonly onEvent?: (event: RunEvent, run: RunReader) => void;
  /** Replaces the plan project's orch.config.* (which is the only one read otherwise). */
  readonly config?: OrchConfig;
  readonly suspendOnApproval?: boolean;
  /** Consent scopes granted to this run, besides the config's `consent`. */
  readonly consent?: readonly string[];
  /** The finished run this one retries (`Runtime.retry`). */
  readonly retryOf?: string;
  /**
   * W3C `traceparent` of the caller (`POST /runs`, an api trigger): a traced run joins that
   * trace, its run span a child of the caller's span. A malformed one is ignored.
   */
  readonly traceparent?: string;
  /**
   * §9.1: who starts the run (journaled as `plan_created.started_by`): the authenticated person
   * (`orch serve`), a trigger (`triggerStarter`); by default this machine's OS user (`cliStarter`).
   */
  readonly startedBy?: Identity | Starter | null;
  /** §9.1: the person whose signal fired the `when` trigger starting this run (`caused_by`). */
  readonly causedBy?: Identity | Starter | null;
  /** §9.1: the run whose end fired the `after` trigger starting this one (`chained_from`). */
  readonly chainedFrom?: string;
  /** §9.3: the endorse/declassify calls of the `with` of the trigger starting this run, journaled as it begins. */
  readonly relabels?: readonly RelabelIR[];
  /** The trigger starting the run, `null` for none (`plan_created.trigger`, the run row's `trigger`); `orch serve` says it. */
  readonly trigger?: string | null;
  /**
   * §9.1: the run's approvals are decided only by people (`people_bound`); by default whether
   * the project's config has an `auth` block.
   */
  readonly peopleBound?: boolean;
  /** §9.2 (`forkRun`): the run and step this run forks, and what it adopts from that run. */
  readonly forkedFrom?: { readonly run: string; readonly step: string };
  readonly adopted?: Adoption;
}

export interface ResumeOptions {
  readonly rerunInFlight?: boolean;
  /** On Postgres: take the run over once its owner's heartbeat is this old (default 10 s). */
  readonly takeOverAfterMs?: number;
  readonly suspendOnApproval?: boolean;
  readonly onEvent?: (event: RunEvent, run: RunReader) => void;
  readonly config?: OrchConfig;
}

export interface ActiveRun {
  readonly runId: string;
  readonly run: Run;
  readonly result: Promise<ExecutionResult>;
  /** Where its steps run (in-process under `auto` when no worker was live). */
  readonly placement: RunPlacement;
  /**
   * The live `orch worker` processes as it started, and the resources of its steps none of them
   * takes — when it could use workers (else null).
   */
  readonly workers: WorkerCoverage | null;
}
