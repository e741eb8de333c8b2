/**
 * The programmatic runtime (used by `orch run`, `orch resume`, the run controls and `orch serve`):
 * a `Runtime` owns one worker pool and one journal and executes any number of runs with the
 * scheduler core. Controls coming from other processes arrive through the journal's control
 * rows, which the runtime polls while it has runs in flight.
 *
 * ```ts
 * const rt = await Runtime.open({ db: '.orch/runs.db', workers: 4 });   // or db: 'postgres://…'
 * const active = await rt.start(plan, { input });
 * const result = await active.result;      // ExecutionResult (LANGUAGE.md §6)
 * await rt.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { PlanIR } from '../compiler/index.js';
import { describeValueErrors, validateValue } from '../compiler/index.js';
import { RETENTION_INTERVAL_MS } from './backend/retention.js';
import { EMPTY_CONFIG, loadConfig, redactNamedSecrets, secretResolver, type OrchConfig } from './config.js';
import { envThenConfig, secretRefValues } from './secret-refs.js';
import { projectRoot } from './executor/handler-path.js';
import { fillDefaults, WorkerExecutor, type WorkerExecutorOptions } from './executor/worker-executor.js';
import type { AsyncJournal } from './backend/async-journal.js';
import { openRuntimeJournal, type RuntimeJournal } from './backend/open-backend.js';
import type { RunRow, SqliteJournal } from './backend/sqlite/journal.js';
import { SharedLimits } from './limits/shared-limits.js';
import { applyControl } from './apply-control.js';
import { recordOf, type Identity } from './people/identity.js';
import { cancelStepViaJournal, controlViaJournal, lastPause, signalViaJournal, waitsForApproval, type ControlOutcome, type SignalPayload } from './journal-controls.js';
import { Redactor } from './redact.js';
import { EMPTY_MODELS, ModelExecutor, modelClientFor } from './models/index.js';
import { placeholderSecrets } from './cluster/job-secrets.js';
import { redactingJournal } from './redacting-journal.js';
import { realClock } from './scheduler/clock.js';
import { replay, type RestoredRun } from './scheduler/replay.js';
import { InProcessLimits, type LimitsProvider } from './scheduler/index.js';
import { Run, RunDetached } from './scheduler/run.js';
import { checkUpgrade, upgradeRun, type UpgradeOutcome } from './upgrade.js';
import type { Clock, ExecutionResult, Executor, RunEvent, RunReader } from './scheduler/types.js';
import type { MigrateResult } from './backend/pg/migrations.js';
import { LeaseLost } from './backend/async-journal.js';
import { isPostgresUrl } from './backend/url.js';
import type { PeopleStore } from './people/people-store.js';
import { openSqlitePeopleStore } from './backend/sqlite/people-store.js';
import type { RemoteExecutor, WorkerCoverage } from './cluster/remote-executor.js';
import type { AdoptingExecutor } from './cluster/local-adoption.js';
import type { WorkerOptions, WorkerRow } from './cluster/worker.js';
import { telemetrySettings } from './telemetry/settings.js';
import { parseTraceparent } from './telemetry/traceparent.js';
import { loadTracing, type RunTracing, type StoredTrace } from './telemetry/tracing.js';
import { clusterTiming, DEFAULT_CLUSTER_TIMING } from './cluster/timing.js';

export { Run, RunDetached } from './scheduler/run.js';
export { neededScopes } from './scheduler/core/consent.js';
export { SqliteJournal } from './backend/sqlite/journal.js';
export { openJournal } from './backend/open-backend.js';
export type { AsyncJournal } from './backend/async-journal.js';
export * from './models/index.js';
export { attemptSpend, spendBy, type AttemptSpend, type SpendTotals } from './spend.js';

export const DEFAULT_DB = join('.orch', 'runs.db');

/** How long `close` waits for the runs it cancelled to write their end. */
const CLOSE_WAIT_MS = 2000;

import { RuntimeUsageError } from './usage-error.js';
export { RuntimeUsageError };
export { checkUpgrade, outputFieldReads, upgradeRun, type UpgradeCheck, type UpgradeOutcome, type UpgradeReason } from './upgrade.js';

export interface RuntimeOptions extends WorkerExecutorOptions {
  /**
   * SQLite journal path or Postgres URL (`postgres://…`, a database `orch db migrate` prepared);
   * default `$ORCH_DB`, else `.orch/runs.db`. `null` runs without a journal (no resume, no controls).
   */
  readonly db?: string | null;
  /** Replaces the worker pool (tests, benchmarks). */
  readonly executor?: Executor;
  readonly clock?: Clock;
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
   * Where the steps run (needs a Postgres `db` unless `local`):
   * - `local` (the default): this process's worker threads;
   * - `workers`: `orch worker` processes (the step queue in orch.attempts), waiting for one if none is live;
   * - `auto`: on the workers when one is live as a run starts (or resumes), else in-process.
   */
  readonly placement?: Placement;
}

export type Placement = 'local' | 'workers' | 'auto';
/** Where one run's steps went. */
export type RunPlacement = 'workers' | 'in-process';

/** What a runtime closes of the executor it made: its own worker threads, or the remote one. */
interface OwnedExecutor {
  limitOutputs(baseDir: string, maxOutputBytes: number): void;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly input?: unknown;
  readonly context?: { readonly [key: string]: unknown };
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
  /** §8.8: the authenticated person starting the run (journaled as `plan_created.started_by`). */
  readonly startedBy?: Identity | null;
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

export type { ControlOutcome } from './journal-controls.js';

/** The resources a plan's capability calls are bound to (and may be rebound to). */
function resourcesOf(plan: PlanIR): string[] {
  const names = new Set<string>();
  for (const s of plan.steps) {
    if (s.capability === null) continue;
    const bound = s.binding.resource ?? s.resource;
    if (bound !== null) names.add(bound);
    for (const f of s.binding.fallbacks) names.add(f);
  }
  return [...names];
}

/**
 * The call attempts a resumed run had in flight whose outcome the executor holds (on workers: a
 * worker recorded it and the process that died never folded it): their steps are not run again.
 */
async function recoverInFlight(executor: Executor, runId: string, restored: RestoredRun): Promise<ReadonlySet<string> | undefined> {
  if (!executor.recover) return undefined;
  const inFlight = new Map<string, number>();
  for (const [key, s] of restored.steps) if (s.inFlight) inFlight.set(key, s.attempts);
  return inFlight.size === 0 ? undefined : executor.recover(runId, inFlight);
}

/**
 * `recoverInFlight` for the unfinished sub-plan runs of a resumed run (and theirs), by sub-plan run
 * id: their steps a worker finished or still has are adopted like the run's own.
 */
async function recoverSubplans(executor: Executor, ids: readonly string[], load: (runId: string) => readonly RunEvent[]): Promise<ReadonlyMap<string, ReadonlySet<string>> | undefined> {
  if (!executor.recover || ids.length === 0) return undefined;
  const found = new Map<string, ReadonlySet<string>>();
  for (const id of ids) {
    const restored = replay(load(id));
    if (restored.terminal) continue;
    const steps = await recoverInFlight(executor, id, restored);
    if (steps?.size) found.set(id, steps);
  }
  return found.size ? found : undefined;
}

/**
 * How often a server or worker on Postgres calls `Runtime.resumeOrphans` (the default; the one used
 * is `clusterTiming().orphanPollMs`): a run is free once its owner's heartbeat is 10 s old
 * (OWNER_STALE_MS), so it is taken over within about 12 s.
 */
export const ORPHAN_POLL_MS = DEFAULT_CLUSTER_TIMING.orphanPollMs;

export class Runtime {
  /** The journal, on SQLite or Postgres. */
  readonly store: AsyncJournal | null;
  /** The same journal when it is SQLite (null on Postgres), for callers that read it synchronously. */
  readonly journal: SqliteJournal | null;
  private readonly opened: RuntimeJournal | null;
  /** The caller's executor (tests, benches): every run uses it. */
  private readonly given: Executor | null;
  /** This process's worker threads, made on first use (never under `workers`). */
  private local: (Executor & OwnedExecutor) | null = null;
  private readonly remote: RemoteExecutor | null;
  /** The Postgres URL of the journal (null on SQLite or without one): in-process resumes adopt workers' outcomes there. */
  private readonly pgUrl: string | null;
  /** This process's worker threads wrapped to adopt what workers did for a resumed run, opened on first need. */
  private adopting: Promise<AdoptingExecutor> | null = null;
  private readonly placement: Placement;
  private readonly executorOptions: RuntimeOptions;
  private readonly outputLimits = new Map<string, number>();
  private readonly clock: Clock;
  private readonly active = new Map<string, Run>();
  private poller: ReturnType<typeof setInterval> | null = null;
  private readonly pollMs: number;
  private readonly suspendOnApproval: boolean;
  /** One redactor for everything this runtime writes: a secret seen once is blanked everywhere. */
  private readonly redactor = new Redactor();
  readonly limits: LimitsProvider;
  private readonly ownsLimits: SharedLimits | null = null;

  private constructor(opts: RuntimeOptions, opened: RuntimeJournal | null, ownsLimits: SharedLimits | null, remote: RemoteExecutor | null, pgUrl: string | null) {
    this.opened = opened;
    this.pgUrl = pgUrl;
    this.store = opened?.store ?? null;
    this.journal = opened?.sqlite ?? null;
    this.ownsLimits = ownsLimits;
    this.limits = opts.limits ?? ownsLimits ?? new InProcessLimits();
    this.clock = opts.clock ?? realClock;
    this.pollMs = opts.controlPollMs ?? 200;
    this.suspendOnApproval = opts.suspendOnApproval ?? false;
    this.given = opts.executor ?? null;
    this.remote = remote;
    this.placement = remote ? (opts.placement ?? 'local') : 'local';
    this.executorOptions = opts;
  }

  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const db = opts.db === null ? null : (opts.db ?? process.env.ORCH_DB ?? DEFAULT_DB);
    const placement = opts.executor ? 'local' : (opts.placement ?? 'local');
    if (placement !== 'local' && (db === null || !isPostgresUrl(db)))
      throw new RuntimeUsageError('steps run on `orch worker` processes only with a Postgres journal (--db postgres://…)');
    const opened = db === null ? null : await openRuntimeJournal(db);
    let limits: SharedLimits | null = null;
    let remote: RemoteExecutor | null = null;
    try {
      const store = opts.limits ? null : await opened?.openLimitStore();
      if (store) limits = new SharedLimits(store);
      if (placement !== 'local' && db !== null) {
        const { RemoteExecutor } = await import('./cluster/remote-executor.js');
        remote = await RemoteExecutor.open(db, opts.maxOutputBytes ? { maxOutputBytes: opts.maxOutputBytes } : {});
      }
    } catch (err) {
      await limits?.close();
      await opened?.store.close();
      throw err;
    }
    return new Runtime(opts, opened, limits, remote, db !== null && isPostgresUrl(db) ? db : null);
  }

  activeCount(): number {
    return this.active.size;
  }

  /** Validates the input against the plan's input schema and starts a journaled run. */
  async start(plan: PlanIR, opts: StartOptions = {}): Promise<ActiveRun> {
    const input = fillDefaults(plan.input, opts.input ?? {});
    const check = validateValue(plan.input, input);
    if (!check.ok) throw new RuntimeUsageError(`input does not match plan ${plan.plan}: ${describeValueErrors(check.errors)}`);
    const config = opts.config ?? (await this.projectConfig(plan));
    const runId = opts.runId ?? newRunId(plan.plan);
    if (await this.store?.getRun(runId)) throw new RuntimeUsageError(`run ${runId} already exists`);
    const { executor, placement, workers } = await this.executorForRun(plan);
    const tracing = await this.tracingFor(config);
    const { deps, redactor } = this.deps(plan, config, executor, opts.onEvent, tracing);
    this.runOptions.set(runId, { onEvent: opts.onEvent, suspendOnApproval: opts.suspendOnApproval, config: opts.config });
    // The IR holds no secret values (only `secret("NAME")` expressions) and must stay intact for resume.
    await this.store?.registerRun(runId, plan.plan, plan, redactor.value(input), this.clock.now());
    const trace =
      tracing?.beginRun({ runId, plan: plan.plan, parent: parseTraceparent(opts.traceparent), resumed: false, remoteAttempts: placement === 'workers' }) ?? null;
    const run = new Run(plan, deps, {
      runId,
      trace,
      input,
      context: opts.context,
      consent: [...new Set([...(config.consent ?? []), ...(opts.consent ?? [])])].sort(),
      suspendOnApproval: opts.suspendOnApproval ?? this.suspendOnApproval,
      ...(opts.retryOf ? { retryOf: opts.retryOf } : {}),
      ...(opts.startedBy ? { startedBy: recordOf(opts.startedBy) } : {}),
    });
    return this.track(run, tracing, { placement, workers });
  }

  /** Continues an interrupted (or paused) run from its journal. */
  /**
   * Retries a failed, timed-out or cancelled run: a new run of the plan IR and input its journal
   * holds (the IR it started with, even if the source changed since), with the consent it was
   * granted, recorded as `retryOf` in the new run's `plan_created`. Every step runs again: a
   * finished run may have compensated what it did, so nothing of it is reused.
   */
  async retry(runId: string, opts: Omit<StartOptions, 'input' | 'consent' | 'retryOf'> = {}): Promise<ActiveRun> {
    const journal = this.requireJournal();
    const row = await journal.getRun(runId);
    if (!row) throw new RuntimeUsageError(`no run ${runId} in ${journal.location}`);
    if (!row.ir) throw new RuntimeUsageError(`run ${runId} is a sub-plan run; retry its parent ${row.parent_id ?? ''}`);
    if (!['failed', 'timeout', 'cancelled'].includes(row.status))
      throw new RuntimeUsageError(`run ${runId} is ${row.status}: only a failed, timed-out or cancelled run can be retried`);
    // The journal keeps inputs redacted: a secret value in them cannot be sent again.
    if (row.input?.includes('"***"')) throw new RuntimeUsageError(`run ${runId} cannot be retried: its journaled input holds a redacted secret (start a new run with the input instead)`);
    const first = (await journal.load(runId))[0];
    const consent = first?.type === 'plan_created' ? [...(first.data.consent ?? [])] : [];
    return this.start(JSON.parse(row.ir) as PlanIR, { ...opts, input: row.input ? JSON.parse(row.input) : {}, consent, retryOf: runId });
  }

  /**
   * Resumes the unfinished runs nobody advances: left by a process that stopped, or — on a shared
   * Postgres — whose owner's heartbeat went stale (a server, `orch run` or `orch worker` polls
   * this every few seconds). Paused runs stay paused, runs a live process owns stay there, and
   * `skip` leaves out the runs this process already has. The lease lets one process take each:
   * a run another process took first is `lost`, not an error.
   */
  async resumeOrphans(o: {
    readonly skip: (runId: string) => boolean;
    /** Called before each resume (a server names the run's plan for its event stream). */
    readonly before?: (row: RunRow) => void;
    readonly resume?: ResumeOptions;
  }): Promise<{ readonly resumed: ActiveRun[]; readonly failed: { readonly runId: string; readonly error: Error; readonly lost: boolean }[] }> {
    const journal = this.requireJournal();
    const resumed: ActiveRun[] = [];
    const failed: { runId: string; error: Error; lost: boolean }[] = [];
    for (const row of await journal.unfinishedRuns()) {
      if ((row.status !== 'running' && row.status !== 'paused') || o.skip(row.id)) continue;
      if (await journal.ownedElsewhere(row.id, o.resume?.takeOverAfterMs)) continue;
      if (row.status === 'paused' && !(await this.heldWhilePaused(journal, row))) continue;
      try {
        o.before?.(row);
        resumed.push(await this.resume(row.id, o.resume));
      } catch (err) {
        failed.push({ runId: row.id, error: err as Error, lost: err instanceof RuntimeUsageError });
      }
    }
    return { resumed, failed };
  }

  /** Paused runs already read and found paused for good, by id: the row's owner and heartbeat then. */
  private readonly pausedForGood = new Map<string, string>();

  /**
   * Whether a paused run was paused while its process kept waiting for an approval (it is an
   * orphan once that process is gone), rather than paused by request or stopped at an approval by
   * `orch run` (then it waits for `resume` / `orch signal`). Each such run's journal is read once
   * per owner and heartbeat, not at every poll.
   */
  private async heldWhilePaused(journal: AsyncJournal, row: RunRow): Promise<boolean> {
    const seen = `${row.owner_pid}|${row.heartbeat_at}`;
    if (this.pausedForGood.get(row.id) === seen) return false;
    const held = (await lastPause(journal, row.id))?.held === true;
    if (!held) this.pausedForGood.set(row.id, seen);
    return held;
  }

  async resume(runId: string, opts: ResumeOptions = {}): Promise<ActiveRun> {
    const journal = this.requireJournal();
    const row = await journal.getRun(runId);
    if (!row) throw new RuntimeUsageError(`no run ${runId} in ${journal.location}`);
    if (!row.ir) throw new RuntimeUsageError(`run ${runId} is a sub-plan run; resume its parent ${row.parent_id ?? ''}`);
    // On SQLite the journal is folded as its pages are read, so a large run's whole history is
    // never in memory at once; Postgres hands it over in one piece.
    let first: RunEvent | undefined;
    const restored = replay(
      (function* (events: Iterable<RunEvent>) {
        for (const e of events) {
          first ??= e;
          yield e;
        }
      })(this.journal ? this.journal.events(runId) : await journal.load(runId)),
    );
    if (restored.terminal) throw new RuntimeUsageError(`run ${runId} has already finished (${row.status})`);
    if (this.active.has(runId)) throw new RuntimeUsageError(`run ${runId} is already running in this process`);
    // The lease, taken before anything of the run is done here: of two processes resuming an
    // orphan at once, one does; the other is told who has it.
    if (!(await journal.acquire(runId, opts.takeOverAfterMs))) throw new RuntimeUsageError(`run ${runId} is being run by another process (its heartbeat is fresh)`);
    const plan = JSON.parse(row.ir) as PlanIR;
    const config = opts.config ?? (await this.projectConfig(plan));
    const subplans = await this.opened!.preload(runId);
    const placed = await this.executorForRun(plan);
    const { placement, workers } = placed;
    const executor = await this.adoptingFor(placed.executor, placement);
    const recovered = await recoverInFlight(executor, runId, restored);
    const recoveredSubplans = await recoverSubplans(executor, subplans, (id) => this.opened!.sink.load?.(id) ?? []);
    const tracing = await this.tracingFor(config);
    const { deps } = this.deps(plan, config, executor, opts.onEvent, tracing);
    // The trace the run began (its first event keeps it): this process continues it.
    tracing?.beginRun({ runId, plan: plan.plan, stored: storedTrace(first), resumed: true, remoteAttempts: placement === 'workers' });
    this.runOptions.set(runId, { onEvent: opts.onEvent, suspendOnApproval: opts.suspendOnApproval, config: opts.config });
    // Signals and context values sent while no process ran the run are applied before it starts,
    // so an approval answered offline is seen by the approval step right away.
    const early = await journal.takeControls(runId);
    const context: Record<string, unknown> = {};
    for (const c of early) if (c.kind === 'context' && c.payload) Object.assign(context, JSON.parse(c.payload));
    // The grants the run started with (its first event): hooks keep seeing them after a resume.
    const granted = first?.type === 'plan_created' ? [...(first.data.consent ?? [])] : [];
    const run = new Run(plan, deps, {
      runId,
      consent: granted,
      input: row.input ? JSON.parse(row.input) : {},
      context,
      restored,
      rerunInFlight: opts.rerunInFlight,
      recovered,
      recoveredSubplans,
      suspendOnApproval: opts.suspendOnApproval ?? this.suspendOnApproval,
    });
    for (const c of early) if (c.kind === 'signal') applyControl(run, c);
    for (const c of early) if (c.kind === 'upgrade' && c.payload) this.upgradesDue.set(runId, (JSON.parse(c.payload) as { ir: PlanIR }).ir);
    const active = this.track(run, tracing, { placement, workers });
    for (const c of early) if (c.kind === 'cancel_step') applyControl(run, c);
    // A cancel the previous process never got to apply still counts (a stale pause does not:
    // resuming is the explicit request to continue).
    if (early.some((c) => c.kind === 'cancel')) run.cancel('cancelled by user');
    return active;
  }

  /**
   * `orch upgrade` (LANGUAGE.md §8.6) from this process: a run executing here is moved at its next
   * turn that waits only for approvals (as a control from another process would); any other run
   * through its journal (`upgradeRun`: written at once, or handed to the live process holding it).
   */
  async upgrade(runId: string, plan: PlanIR, opts: { readonly dryRun?: boolean } = {}): Promise<UpgradeOutcome> {
    const journal = this.requireJournal();
    if (!this.active.has(runId)) return upgradeRun(journal, runId, plan, opts);
    const check = await upgradeRun(journal, runId, plan, { dryRun: true });
    if (!check.compatible || opts.dryRun || check.fromHash === check.toHash) return check;
    this.upgradesDue.set(runId, plan);
    return { ...check, requested: true };
  }

  /** Pause / resume / cancel a run in this process, or ask the process running it via the journal. */
  async control(runId: string, kind: 'pause' | 'resume' | 'cancel'): Promise<ControlOutcome> {
    const local = this.active.get(runId);
    if (local) {
      const ok = kind === 'pause' ? local.pause() : kind === 'resume' ? local.resume() : local.cancel();
      if (ok) return { ok: true, message: `${kind} ${runId}` };
      if (kind === 'resume' && local.awaitingApproval())
        return { ok: false, message: waitsForApproval(runId, local.approvalsWaiting()) };
      return { ok: false, message: `run ${runId} is ${local.status()}` };
    }
    return controlViaJournal(this.requireJournal(), runId, kind);
  }

  /** Delivers an approval decision (or context values) to a run here or in another process. */
  async signal(runId: string, payload: SignalPayload): Promise<ControlOutcome> {
    const local = this.active.get(runId);
    if (local) {
      if ('context' in payload) {
        local.updateContext(payload.context);
        return { ok: true, message: 'context updated' };
      }
      const identity = payload.identity ?? null;
      // §8.8: a person who may not decide is told why, and nothing changes.
      const refused = local.decisionRefusal(payload.stepId, payload.decision, identity);
      if (refused !== null) return { ok: false, forbidden: true, message: refused };
      const r = local.signal(payload.stepId, payload.decision, payload.by ?? null, payload.comment ?? null, identity);
      return r === 'ok' ? { ok: true, message: `${payload.decision} ${payload.stepId}` } : { ok: false, message: r };
    }
    return signalViaJournal(this.requireJournal(), runId, payload);
  }

  /**
   * Cancels one step of a run (LANGUAGE.md §7.1, `orch cancel RUN --step STEP`): here, or in the
   * process running it (through the journal's controls), or at the next `orch resume`.
   */
  async cancelStep(runId: string, stepId: string): Promise<ControlOutcome> {
    const local = this.active.get(runId);
    if (local) {
      const r = local.cancelStep(stepId, 'cancelled by user');
      return r === 'ok' ? { ok: true, message: `cancelled step ${stepId} of ${runId}` } : { ok: false, message: r };
    }
    return cancelStepViaJournal(this.requireJournal(), runId, stepId);
  }

  /** Merges context values into every run in flight here. */
  updateContextAll(values: Record<string, unknown>): void {
    for (const run of this.active.values()) run.updateContext(values);
  }

  /**
   * Stops the runtime: the worker pool and the journal are closed. Runs still in flight are
   * cancelled (journaled as cancelled), or with `{ cancel: false }` left unfinished and
   * resumable — their `result` rejects with `RunDetached` (`orch serve` shutting down).
   */
  async close(opts: { readonly cancel?: boolean; readonly phase?: (waitingFor: string) => void } = {}): Promise<void> {
    const phase = opts.phase ?? (() => {});
    const results = [...this.results.values()];
    if (opts.cancel === false) {
      for (const run of [...this.active.values()]) {
        run.detach();
        // A busy database: the run is still resumable once this process has exited.
        await this.store?.disown(run.runId).catch(() => undefined);
      }
      this.active.clear();
    } else for (const run of this.active.values()) run.cancel('runtime closed');
    this.stopPolling();
    phase('the in-process step executor');
    await this.local?.close();
    phase('the adoption of worker outcomes');
    await (await this.adopting?.catch(() => null))?.close();
    phase('the step dispatcher');
    await this.remote?.close();
    phase('the shared limits');
    await this.ownsLimits?.close();
    // A cancelled run's last commit goes to the journal after this turn (at once on SQLite, a
    // round trip on Postgres); it lands before the journal closes, unless the run hangs.
    phase('the runs to end');
    await Promise.race([Promise.allSettled(results), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    // Pending writes of the cancelled runs (their last commit, a disown) land before the pool ends.
    phase("the runs' last writes");
    await Promise.allSettled([...this.settling]);
    phase('the orphan poll');
    await this.polling;
    phase('the journal to close');
    await this.store?.close();
    // Spans of everything that happened here leave before the process does.
    phase('the traces to leave');
    for (const t of this.tracings.values()) await (await t)?.shutdown();
  }

  /**
   * Exports every span ended so far, of every exporter this runtime traces to (none untraced);
   * the tracing thread is up once it resolves. Spans otherwise leave in batches, and at `close`.
   */
  async flushTraces(): Promise<void> {
    for (const t of this.tracings.values()) await (await t)?.flush();
  }

  // ───────────────────────────── internals ─────────────────────────────

  private retainedAt = -Infinity;

  /** The config's `retention`, at most once an hour per runtime (a run start triggers it). */
  private applyRetention(ms: number): void {
    const now = Date.now();
    if (!this.store || now - this.retainedAt < RETENTION_INTERVAL_MS) return;
    this.retainedAt = now;
    // Pruning is housekeeping: a failure is retried an hour later, it never fails the run.
    this.store.prune(now - ms).catch(() => undefined);
  }

  private requireJournal(): AsyncJournal {
    if (!this.store) throw new RuntimeUsageError('this runtime has no journal (--db)');
    return this.store;
  }

  /** The orch.config.* of the plan's project directory, and only that one. */
  private async projectConfig(plan: PlanIR): Promise<OrchConfig> {
    try {
      return await loadConfig(projectRoot(plan.base_dir));
    } catch (err) {
      throw new RuntimeUsageError((err as Error).message);
    }
  }

  /**
   * The executor of a run about to start or resume. Under `auto` the choice is made per run, so
   * an `orch serve` started before its workers hands them the runs that start once they are up;
   * and only when the live workers take every resource the run's steps are bound to — else a
   * step would wait for a worker nobody is running.
   */
  private async executorForRun(plan: PlanIR): Promise<{ executor: Executor; placement: RunPlacement; workers: WorkerCoverage | null }> {
    if (this.given) return { executor: this.given, placement: 'in-process', workers: null };
    const workers = this.remote && this.placement !== 'local' ? await this.remote.coverage(resourcesOf(plan)) : null;
    if (this.remote && (this.placement === 'workers' || (workers !== null && workers.live > 0 && workers.missing.length === 0)))
      return { executor: this.remote, placement: 'workers', workers };
    if (!this.local) {
      this.local = new WorkerExecutor(this.executorOptions);
      for (const [dir, bytes] of this.outputLimits) this.local.limitOutputs(dir, bytes);
    }
    return { executor: this.local, placement: 'in-process', workers };
  }

  /**
   * The executor a resumed run continues on: in this process on Postgres, the worker threads
   * wrapped so that what workers finished or still run of its steps in flight is adopted (a run
   * that was on workers and is resumed `--local`, or with no worker live); else `executor` itself.
   */
  private async adoptingFor(executor: Executor, placement: RunPlacement): Promise<Executor> {
    if (this.given || placement !== 'in-process' || this.pgUrl === null || executor !== this.local) return executor;
    const url = this.pgUrl;
    const inner = executor;
    this.adopting ??= import('./cluster/local-adoption.js').then(({ AdoptingExecutor }) => AdoptingExecutor.open(inner, url));
    this.adopting.catch(() => (this.adopting = null));
    return this.adopting;
  }

  /** One tracer per exporter configuration, its SDK loaded on first use; null when tracing is off. */
  private readonly tracings = new Map<string, Promise<RunTracing | null>>();

  private async tracingFor(config: OrchConfig): Promise<RunTracing | null> {
    const settings = telemetrySettings(config.telemetry);
    if (!settings) return null;
    const key = `${settings.tracesUrl} ${settings.serviceName} ${settings.protocol}`;
    let t = this.tracings.get(key);
    if (!t) {
      // Tracing observes runs; when it cannot start (no built tracing thread), runs go on untraced.
      t = loadTracing(settings, (text) => String(this.redactor.value(text))).catch(() => null);
      this.tracings.set(key, t);
    }
    return t;
  }

  private deps(plan: PlanIR, config: OrchConfig, executor: Executor, onEvent?: (e: RunEvent, r: RunReader) => void, tracing: RunTracing | null = null) {
    const redactor = this.redactor;
    for (const v of Object.values(config.secrets)) redactor.add(v);
    // `"secret:NAME"` in an MCP server's env/headers or a channel (LANGUAGE.md §8): blanked before any step runs.
    for (const v of secretRefValues({ mcp: config.mcp, channels: config.channels }, envThenConfig(config.secrets))) redactor.add(v);
    redactNamedSecrets(plan, config, redactor);
    if (config.maxOutputBytes != null) {
      this.outputLimits.set(plan.base_dir, config.maxOutputBytes);
      this.local?.limitOutputs(plan.base_dir, config.maxOutputBytes);
      this.remote?.limitOutputs(plan.base_dir, config.maxOutputBytes);
    }
    if (config.retentionMs != null) this.applyRetention(config.retentionMs);
    // Steps on workers: no secret value leaves this process. `secret("NAME")` stands for the value
    // a worker resolves from its own environment and config (runtime/cluster/job-secrets.ts), and
    // model calls are answered there, with its endpoints and prices.
    const onWorkers = executor === this.remote;
    const secret = onWorkers ? placeholderSecrets((p) => redactor.add(p)) : secretResolver(config, redactor);
    const deps = {
      clock: this.clock,
      // `kind llm` calls with a prompt are answered by the built-in model handler, here (§8.1); the
      // tracer sees every attempt, the model calls included.
      executor: ((inner: Executor) => (tracing ? tracing.executor(inner) : inner))(
        onWorkers ? executor : new ModelExecutor(executor, { models: config.models ?? EMPTY_MODELS, secret, client: modelClientFor, redact: (t) => redactor.text(t) }),
      ),
      modelPrices: config.models?.prices,
      journal: this.opened ? redactingJournal(this.opened.sink, redactor) : undefined,
      hooks: config.hooks,
      secret,
      configSecrets: config.secrets,
      redact: (v: unknown) => redactor.value(v),
      // Changes arriving in one event-loop turn share a transaction (measured: ~11 events, 3–4
      // steps, per commit on the 10k-step bench), and an idle run commits on the very next turn.
      // Holding a commit over more turns to make it bigger did not pay: the workers' hand-offs
      // wait on this thread either way.
      defer: (f: () => void) => setImmediate(f),
      limits: this.limits,
      observe: observer(tracing, onEvent ? (e: RunEvent, r: RunReader) => onEvent(redactor.value(e), r) : undefined),
    };
    return { deps, redactor };
  }

  /** What the journal still does for runs that stopped here (Postgres: disown), awaited by close. */
  private readonly settling = new Set<Promise<void>>();
  private readonly results = new Map<string, Promise<ExecutionResult>>();

  private track(run: Run, tracing: RunTracing | null, where: Pick<ActiveRun, 'placement' | 'workers'>): ActiveRun {
    this.active.set(run.runId, run);
    const stopped = async () => {
      if (this.active.get(run.runId) === run) this.active.delete(run.runId);
      if (this.handles.get(run.runId)?.run === run) this.handles.delete(run.runId);
      // Suspended at an approval, detached or finished: this process's spans of the run end.
      tracing?.endRun(run.runId);
      this.results.delete(run.runId);
      if (this.active.size === 0 && !this.replacements.has(run.runId)) this.stopPolling();
      if (!this.opened) return;
      const opened = this.opened;
      const done = (async () => {
        // A heartbeat of this run may be in flight in the poll: it must land before the disown.
        await this.polling?.catch(() => undefined);
        await opened.finished(run.runId);
      })().catch(() => undefined);
      this.settling.add(done);
      await done;
      this.settling.delete(done);
    };
    // The result is handed on once the journal is done with the run, so a caller that acts on it
    // (`orch signal` right after `orch run` stopped at an approval) finds the run free.
    const result = run.start().then(
      async (r) => (await stopped(), r),
      async (err: unknown) => {
        await stopped();
        // Detached to go on under an upgraded IR (`switchPlan`): the caller gets the new run's end.
        const next = err instanceof RunDetached ? this.replacements.get(run.runId) : undefined;
        if (next) {
          next.stopped();
          return next.result;
        }
        throw err;
      },
    );
    // A detached run (close({ cancel: false })) rejects; callers that only poll must not crash.
    result.catch(() => undefined);
    this.results.set(run.runId, result);
    if (this.store) this.startPolling();
    const handle: Mutable<ActiveRun> = { runId: run.runId, run, result, ...where };
    this.handles.set(run.runId, handle);
    return handle;
  }

  private startPolling(): void {
    if (this.poller || !this.store) return;
    this.poller = setInterval(() => {
      // A slow database: the next poll waits for this one instead of piling up.
      if (this.polling) return;
      this.polling = this.poll().finally(() => (this.polling = null));
    }, this.pollMs);
  }

  /** The poll in progress (also awaited by a run that stops, see `track`). */
  private polling: Promise<void> | null = null;

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }

  private lastHeartbeat = 0;

  /** The options each run here was started or resumed with, to resume it the same way after an upgrade. */
  private readonly runOptions = new Map<string, Pick<StartOptions, 'onEvent' | 'suspendOnApproval' | 'config'>>();
  /** `orch upgrade` of runs executing here (a control from another process), applied at their next quiet turn. */
  private readonly upgradesDue = new Map<string, PlanIR>();
  /** What `start`/`resume` returned for each run here: an upgraded run's `run` becomes the new one. */
  private readonly handles = new Map<string, Mutable<ActiveRun>>();
  /** Runs being moved to a new IR: the detached run's `result` follows the new one. */
  private readonly replacements = new Map<string, { stopped: () => void; result: Promise<ExecutionResult> }>();

  /**
   * Moves a run this process executes to a new IR (LANGUAGE.md §8.6), at a turn where it waits
   * only for approvals (no attempt in flight, so nothing is lost or run twice): the compatibility
   * is checked again against the journal, the run is detached (committing what it holds), the new
   * IR and `plan_upgraded` are journaled, and the run is resumed here under the new IR. Callers
   * holding the old run's `result` get the new run's.
   */
  private async switchPlan(run: Run, newPlan: PlanIR): Promise<void> {
    const journal = this.store;
    if (!journal) return;
    const runId = run.runId;
    const row = await journal.getRun(runId);
    if (!row?.ir) return;
    const check = checkUpgrade(JSON.parse(row.ir) as PlanIR, newPlan, replay(await journal.load(runId)));
    if (!check.compatible || check.fromHash === check.toHash || !run.awaitingApproval()) return;
    let stopped!: () => void;
    const detached = new Promise<void>((r) => (stopped = r));
    let settle!: { resolve: (r: ExecutionResult) => void; reject: (e: unknown) => void };
    const result = new Promise<ExecutionResult>((resolve, reject) => (settle = { resolve, reject }));
    this.replacements.set(runId, { stopped, result });
    const handle = this.handles.get(runId);
    if (!run.detach()) {
      this.replacements.delete(runId);
      return;
    }
    await detached;
    this.replacements.delete(runId);
    try {
      await journal.upgradeOffline(runId, newPlan, { from_hash: check.fromHash, to_hash: check.toHash, changes: check.changes });
      const active = await this.resume(runId, this.runOptions.get(runId) ?? {});
      // Whoever holds the first handle (a server's map of its runs) now reads the new run.
      if (handle) handle.run = active.run;
      active.result.then(settle.resolve, settle.reject);
    } catch (err) {
      settle.reject(err);
    }
  }

  private async poll(): Promise<void> {
    const journal = this.store;
    if (!journal) return;
    // Liveness is mostly the owner pid; the heartbeat only needs to be fresh within seconds,
    // and each one is a write transaction, so it is written at most once a second (by default).
    const beat = Date.now() - this.lastHeartbeat >= clusterTiming().heartbeatMs;
    if (beat) this.lastHeartbeat = Date.now();
    for (const run of [...this.active.values()]) {
      if (!this.active.has(run.runId)) continue;
      try {
        if (beat) await journal.heartbeat(run.runId);
        const controls = await journal.takeControls(run.runId);
        for (const c of controls) {
          if (c.kind === 'upgrade' && c.payload) this.upgradesDue.set(run.runId, (JSON.parse(c.payload) as { ir: PlanIR }).ir);
          else applyControl(run, c);
        }
        // Not awaited here: the run it replaces ends through `track`, which waits for this poll.
        const due = this.upgradesDue.get(run.runId);
        if (due && run.awaitingApproval()) {
          this.upgradesDue.delete(run.runId);
          void this.switchPlan(run, due).catch(() => undefined);
        }
      } catch (err) {
        // Another process took the run over (this one was presumed dead): stop advancing it here.
        if (err instanceof LeaseLost) run.detach();
        // A busy database delays controls to the next poll; it never stops the run.
      }
    }
  }
}

/** What sees a run's events: the tracer's spans (raw events: it redacts the text it keeps), then the caller. */
function observer(tracing: RunTracing | null, onEvent: ((e: RunEvent, r: RunReader) => void) | undefined): ((e: RunEvent, r: RunReader) => void) | undefined {
  if (!tracing) return onEvent;
  if (!onEvent) return (e, r) => tracing.observe(e, r);
  return (e, r) => {
    tracing.observe(e, r);
    onEvent(e, r);
  };
}

/** The trace a run's `plan_created` keeps, if it was traced. */
function storedTrace(first: RunEvent | undefined): StoredTrace | null {
  const d = first?.type === 'plan_created' ? first.data : null;
  return d && typeof d.trace_id === 'string' && typeof d.span_id === 'string' ? { trace_id: d.trace_id, span_id: d.span_id } : null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function newRunId(plan: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${plan}-${t}-${randomUUID().slice(0, 6)}`;
}

/** One-shot helpers: open a runtime, run one plan to its end, close. */
export async function startRun(plan: PlanIR, opts: StartOptions & RuntimeOptions = {}): Promise<ExecutionResult> {
  const rt = await Runtime.open(opts);
  try {
    const active = await rt.start(plan, opts);
    return await active.result;
  } finally {
    await rt.close();
  }
}

export async function resumeRun(runId: string, opts: ResumeOptions & RuntimeOptions = {}): Promise<ExecutionResult> {
  const rt = await Runtime.open(opts);
  try {
    const active = await rt.resume(runId, opts);
    return await active.result;
  } finally {
    await rt.close();
  }
}

export { EMPTY_CONFIG };
export { traceLink } from './telemetry/settings.js';
export { parseTraceparent, formatTraceparent, type SpanRef } from './telemetry/traceparent.js';
export type { AttemptUsage, StoredTrace } from './telemetry/tracing.js';

/** `telemetry.trace_url` of the plan's project config (the dashboard's link to a run's trace). */
export async function traceUrlTemplate(plan: PlanIR): Promise<string | undefined> {
  return (await loadConfig(projectRoot(plan.base_dir))).telemetry?.trace_url;
}

/** `orch db migrate`. pg is loaded on demand: runs on a SQLite journal never load it. */
export async function migratePostgres(url: string): Promise<MigrateResult> {
  return (await import('./backend/pg/migrations.js')).migrate(url);
}

// What the layers above use of this one. The scheduler's types are its contract: all of them.
/** The part of a pg pool the layers above use for rows they keep in the Orch database. */
export interface PgPool {
  query(sql: string, params?: unknown[]): Promise<{ readonly rows: unknown[]; readonly rowCount: number | null }>;
  end(): Promise<void>;
}

/**
 * A pool on a migrated Orch database (refused with "run `orch db migrate`" otherwise), for what the
 * layers above keep there themselves (`orch serve`'s trigger state). pg is loaded on demand.
 */
export async function openPgPool(url: string, max: number): Promise<PgPool> {
  return (await import('./backend/pg/migrations.js')).openMigratedPool(url, max);
}

export type * from './scheduler/types.js';
export { REDACTED, evaluate, truthy } from './evaluate.js';
export type { EvalEnv } from './evaluate.js';
export { workerScript, WorkerExecutor } from './executor/worker-executor.js';
export { CLUSTER_TIME_SCALE_ENV, CLUSTER_TIMING_ENV, clusterTiming, DEFAULT_CLUSTER_TIMING, type ClusterTiming } from './cluster/timing.js';
export type { RunRow } from './backend/sqlite/journal.js';
export { parseAge } from './backend/retention.js';
export type { PruneResult } from './backend/retention.js';
export { openSharedSqlite, openSqlite, sqliteDriver } from './backend/sqlite/driver.js';
export { SEQ_SPAN } from './backend/sqlite/event-batches.js';
export type { MigrateResult } from './backend/pg/migrations.js';
export { displayUrl, isPostgresUrl } from './backend/url.js';
export type { WorkerOptions, WorkerRow } from './cluster/worker.js';

/** `orch worker`: runs steps of Postgres runs until SIGINT / SIGTERM (pg loaded on demand). */
export async function runOrchWorker(opts: WorkerOptions): Promise<void> {
  return (await import('./cluster/worker.js')).runWorker(opts);
}

/** `orch workers`: the workers registered on the database (live ones unless `all`). */
export async function listOrchWorkers(url: string, all = false): Promise<WorkerRow[]> {
  return (await import('./cluster/worker.js')).listWorkers(url, all);
}
export type { SqlDatabase, SqliteDriverName } from './backend/sqlite/driver.js';
export { loadPlan, portablePlan, readJsonArg, type LoadPlanOptions } from './load-plan.js';
export { preStepViolations } from './scheduler/guardrails.js';
export type { GuardStep } from './scheduler/guardrails.js';
export { VirtualClock } from './scheduler/index.js';
export {
  InProcessLimits,
  InRunLimits,
  LimitCounters,
  rateWindow,
  type LimitsProvider,
  type LimitsService,
  type SharedClaim,
  type SharedGrant,
  type SharedLimitStore,
} from './scheduler/index.js';
export { replay } from './scheduler/replay.js';
export { resultFromJournal } from './scheduler/index.js';
export { baseId } from './scheduler/core/state.js';
export type { RestoredStep } from './scheduler/replay.js';
export { Redactor } from './redact.js';
export { loadConfig, secretResolver, type OrchConfig } from './config.js';
export { toJsonOutput, DEFAULT_MAX_OUTPUT_BYTES } from './executor/json-output.js';
export { placedSteps } from './placed-steps.js';
export { importedServers, lockProject } from './mcp/lock.js';
export type { LockOptions, LockResult } from './mcp/lock.js';
export { McpTools } from './mcp/tools.js';
export { connectServer, serverSpec } from './mcp/connect.js';
export type { McpConnection, McpServerSpec } from './mcp/connect.js';
export { ChannelSender } from './channels/sender.js';
export {
  EVENT_TYPES,
  EVENTS_SCHEMA_ID,
  eventAttempt,
  eventReason,
  eventResource,
  eventsJsonSchema,
  isEventType,
  makeEvent,
  storedEvent,
} from './scheduler/journal-events.js';
export { ROLES, AUTH_METHODS, LOCAL_ISSUER, recordOf, type Role, type AuthMethod, type Identity, type RecordedIdentity } from './people/identity.js';
export {
  parseOidcConfig,
  oidcClientSecret,
  isLoopbackHost,
  OidcConfigError,
  DEFAULT_GROUPS_CLAIM,
  OIDC_CALLBACK_PATH,
  OIDC_LOGIN_PATH,
  type OidcConfig,
} from './people/oidc-config.js';
export { identityFromClaims, groupsFromClaim, rolesOfGroups, displayName, type Claims, type IdentityFromClaims } from './people/oidc-identity.js';
export { envThenConfig, type SecretLookup } from './secret-refs.js';
export {
  AuthConfigError,
  localRoles,
  looksLikePasswordHash,
  parseAuthConfig,
  type AuthConfig,
  type LocalUser,
  type PasswordRef,
} from './people/auth-config.js';
export { decoyHash, hashPassword, verifyPassword } from './people/passwords.js';
export { newApiToken, sha256Hex, type ApiTokenRow, type AuditEntry, type AuditRow, type LoginFailures, type PeopleStore, type StoredSession } from './people/people-store.js';
export { openSqlitePeopleStore };

/** The people store (sessions, API tokens, audit) of the journal database `db`: a SQLite path or a Postgres URL. */
export async function openPeopleStore(db: string): Promise<PeopleStore> {
  if (!isPostgresUrl(db)) return openSqlitePeopleStore(db);
  const [{ pgPeopleStore }, { openMigratedPool }] = await Promise.all([import('./backend/pg/people-store.js'), import('./backend/pg/migrations.js')]);
  return pgPeopleStore(await openMigratedPool(db, 2));
}
export { approvalRule, matchesApprover, refusal as approvalRefusal, samePerson, GROUP_PREFIX, type ApprovalRule, type DecisionState } from './people/approval-rule.js';
export { memoryTriggerState, openTriggerState, openTriggerStateFor, type TriggerStateStore } from './backend/trigger-state.js';
