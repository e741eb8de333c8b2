/**
 * The programmatic runtime (used by `orch run`, `orch resume`, the run controls and `orch serve`):
 * a `Runtime` owns one worker pool and one journal and executes any number of runs with the
 * scheduler core. Controls coming from other processes arrive through the journal's control
 * rows, which the runtime polls while it has runs in flight.
 *
 * ```ts
 * const rt = await Runtime.open({ db: '.orch/runs.db', workers: 4 });
 * const active = await rt.start(plan, { input });
 * const result = await active.result;      // ExecutionResult (LANGUAGE.md §6)
 * await rt.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { PlanIR } from '../compiler/index.js';
import { describeValueErrors, validateValue } from '../compiler/index.js';
import { RETENTION_INTERVAL_MS } from './journal/retention.js';
import { EMPTY_CONFIG, loadConfig, secretResolver, type OrchConfig } from './config.js';
import { projectRoot } from './executor/handler-path.js';
import { fillDefaults, WorkerExecutor, type WorkerExecutorOptions } from './executor/worker-executor.js';
import { SqliteJournal } from './journal/sqlite-journal.js';
import { SharedLimits } from './limits/shared-limits.js';
import { SqliteLimitStore } from './limits/sqlite-store.js';
import { Redactor } from './redact.js';
import { redactingJournal } from './redacting-journal.js';
import { realClock } from './scheduler/clock.js';
import { replay } from './scheduler/replay.js';
import { InProcessLimits, type LimitsProvider } from './scheduler/index.js';
import { Run } from './scheduler/run.js';
import type { Clock, ExecutionResult, Executor, RunEvent, RunReader } from './scheduler/types.js';

export { Run, RunDetached } from './scheduler/run.js';
export { SqliteJournal } from './journal/sqlite-journal.js';

export const DEFAULT_DB = join('.orch', 'runs.db');

/** A problem with what the caller asked for (bad input, unknown run …): CLI exit code 2. */
export class RuntimeUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeUsageError';
  }
}

export interface RuntimeOptions extends WorkerExecutorOptions {
  /** SQLite journal path; `null` runs without a journal (no resume, no controls). */
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
}

export interface ResumeOptions {
  readonly rerunInFlight?: boolean;
  readonly suspendOnApproval?: boolean;
  readonly onEvent?: (event: RunEvent, run: RunReader) => void;
  readonly config?: OrchConfig;
}

export interface ActiveRun {
  readonly runId: string;
  readonly run: Run;
  readonly result: Promise<ExecutionResult>;
}

export type ControlOutcome = { ok: true; message: string } | { ok: false; message: string };

export class Runtime {
  readonly journal: SqliteJournal | null;
  private readonly executor: Executor;
  private readonly ownsExecutor: WorkerExecutor | null;
  private readonly clock: Clock;
  private readonly active = new Map<string, Run>();
  private poller: ReturnType<typeof setInterval> | null = null;
  private readonly pollMs: number;
  private readonly suspendOnApproval: boolean;
  /** One redactor for everything this runtime writes: a secret seen once is blanked everywhere. */
  private readonly redactor = new Redactor();
  readonly limits: LimitsProvider;
  private readonly ownsLimits: SharedLimits | null = null;

  private constructor(opts: RuntimeOptions) {
    this.journal = opts.db === null ? null : new SqliteJournal(resolve(opts.db ?? DEFAULT_DB));
    if (opts.limits) this.limits = opts.limits;
    else if (this.journal && this.journal.path !== ':memory:' && !this.journal.path.endsWith(':memory:')) {
      this.ownsLimits = new SharedLimits(new SqliteLimitStore(this.journal.path));
      this.limits = this.ownsLimits;
    } else this.limits = new InProcessLimits();
    this.clock = opts.clock ?? realClock;
    this.pollMs = opts.controlPollMs ?? 200;
    this.suspendOnApproval = opts.suspendOnApproval ?? false;
    if (opts.executor) {
      this.executor = opts.executor;
      this.ownsExecutor = null;
    } else {
      this.ownsExecutor = new WorkerExecutor(opts);
      this.executor = this.ownsExecutor;
    }
  }

  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    return new Runtime(opts);
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
    if (this.journal?.getRun(runId)) throw new RuntimeUsageError(`run ${runId} already exists`);
    const { deps, redactor } = this.deps(plan, config, opts.onEvent);
    // The IR holds no secret values (only `secret("NAME")` expressions) and must stay intact for resume.
    this.journal?.registerRun(runId, plan.plan, plan, redactor.value(input), this.clock.now());
    const run = new Run(plan, deps, {
      runId,
      input,
      context: opts.context,
      consent: [...new Set([...(config.consent ?? []), ...(opts.consent ?? [])])].sort(),
      suspendOnApproval: opts.suspendOnApproval ?? this.suspendOnApproval,
      ...(opts.retryOf ? { retryOf: opts.retryOf } : {}),
    });
    return this.track(run, redactor);
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
    const row = journal.getRun(runId);
    if (!row) throw new RuntimeUsageError(`no run ${runId} in ${journal.path}`);
    if (!row.ir) throw new RuntimeUsageError(`run ${runId} is a sub-plan run; retry its parent ${row.parent_id ?? ''}`);
    if (!['failed', 'timeout', 'cancelled'].includes(row.status))
      throw new RuntimeUsageError(`run ${runId} is ${row.status}: only a failed, timed-out or cancelled run can be retried`);
    // The journal keeps inputs redacted: a secret value in them cannot be sent again.
    if (row.input?.includes('"***"')) throw new RuntimeUsageError(`run ${runId} cannot be retried: its journaled input holds a redacted secret (start a new run with the input instead)`);
    const first = journal.load(runId)[0];
    const consent = first?.type === 'plan_created' && Array.isArray(first.data.consent) ? (first.data.consent as string[]) : [];
    return this.start(JSON.parse(row.ir) as PlanIR, { ...opts, input: row.input ? JSON.parse(row.input) : {}, consent, retryOf: runId });
  }

  async resume(runId: string, opts: ResumeOptions = {}): Promise<ActiveRun> {
    const journal = this.requireJournal();
    const row = journal.getRun(runId);
    if (!row) throw new RuntimeUsageError(`no run ${runId} in ${journal.path}`);
    if (!row.ir) throw new RuntimeUsageError(`run ${runId} is a sub-plan run; resume its parent ${row.parent_id ?? ''}`);
    // Folded as the pages are read: the whole history is never in memory at once.
    let first: RunEvent | undefined;
    const restored = replay(
      (function* (events) {
        for (const e of events) {
          first ??= e;
          yield e;
        }
      })(journal.events(runId)),
    );
    if (restored.terminal) throw new RuntimeUsageError(`run ${runId} has already finished (${row.status})`);
    if (this.active.has(runId)) throw new RuntimeUsageError(`run ${runId} is already running in this process`);
    const plan = JSON.parse(row.ir) as PlanIR;
    const config = opts.config ?? (await this.projectConfig(plan));
    const { deps, redactor } = this.deps(plan, config, opts.onEvent);
    // Signals and context values sent while no process ran the run are applied before it starts,
    // so an approval answered offline is seen by the approval step right away.
    const early = journal.takeControls(runId);
    const context: Record<string, unknown> = {};
    for (const c of early) if (c.kind === 'context' && c.payload) Object.assign(context, JSON.parse(c.payload));
    // The grants the run started with (its first event): hooks keep seeing them after a resume.
    const granted = first?.type === 'plan_created' && Array.isArray(first.data.consent) ? (first.data.consent as string[]) : [];
    const run = new Run(plan, deps, {
      runId,
      consent: granted,
      input: row.input ? JSON.parse(row.input) : {},
      context,
      restored,
      rerunInFlight: opts.rerunInFlight,
      suspendOnApproval: opts.suspendOnApproval ?? this.suspendOnApproval,
    });
    for (const c of early)
      if (c.kind === 'signal' && c.step_id) {
        const p = c.payload ? (JSON.parse(c.payload) as Record<string, unknown>) : {};
        run.signal(c.step_id, p.decision === 'reject' ? 'reject' : 'approve', (p.by as string) ?? null, (p.comment as string) ?? null);
      }
    const active = this.track(run, redactor);
    for (const c of early) if (c.kind === 'cancel_step' && c.step_id) run.cancelStep(c.step_id, 'cancelled by user');
    // A cancel the previous process never got to apply still counts (a stale pause does not:
    // resuming is the explicit request to continue).
    if (early.some((c) => c.kind === 'cancel')) run.cancel('cancelled by user');
    return active;
  }

  /** Pause / resume / cancel a run in this process, or ask the process running it via the journal. */
  async control(runId: string, kind: 'pause' | 'resume' | 'cancel'): Promise<ControlOutcome> {
    const local = this.active.get(runId);
    if (local) {
      const ok = kind === 'pause' ? local.pause() : kind === 'resume' ? local.resume() : local.cancel();
      return ok ? { ok: true, message: `${kind} ${runId}` } : { ok: false, message: `run ${runId} is ${local.status()}` };
    }
    const journal = this.requireJournal();
    const row = journal.getRun(runId);
    if (!row) return { ok: false, message: `no run ${runId}` };
    if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
      return { ok: false, message: `run ${runId} has already finished (${row.status})` };
    if (journal.ownedElsewhere(runId)) {
      journal.addControl(runId, kind);
      return { ok: true, message: `${kind} requested for ${runId} (running in process ${row.owner_pid})` };
    }
    if (kind === 'cancel') {
      journal.appendOffline(runId, 'execution_cancelled', { reason: 'cancelled by user' }, 'cancelled');
      return { ok: true, message: `cancelled ${runId}` };
    }
    if (kind === 'pause') {
      if (row.status === 'paused') return { ok: false, message: `run ${runId} is already paused` };
      journal.appendOffline(runId, 'execution_paused', {}, 'paused');
      return { ok: true, message: `paused ${runId} (no process was running it)` };
    }
    return { ok: false, message: `run ${runId} is not running in any process; use \`orch resume ${runId}\`` };
  }

  /** Delivers an approval decision (or context values) to a run here or in another process. */
  async signal(
    runId: string,
    payload: { stepId: string; decision: 'approve' | 'reject'; by?: string | null; comment?: string | null } | { context: Record<string, unknown> },
  ): Promise<ControlOutcome> {
    const local = this.active.get(runId);
    if (local) {
      if ('context' in payload) {
        local.updateContext(payload.context);
        return { ok: true, message: 'context updated' };
      }
      const r = local.signal(payload.stepId, payload.decision, payload.by ?? null, payload.comment ?? null);
      return r === 'ok' ? { ok: true, message: `${payload.decision} ${payload.stepId}` } : { ok: false, message: r };
    }
    const journal = this.requireJournal();
    const row = journal.getRun(runId);
    if (!row) return { ok: false, message: `no run ${runId}` };
    if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
      return { ok: false, message: `run ${runId} has already finished (${row.status})` };
    if ('context' in payload) journal.addControl(runId, 'context', null, payload.context);
    else journal.addControl(runId, 'signal', payload.stepId, { decision: payload.decision, by: payload.by ?? null, comment: payload.comment ?? null });
    const where = journal.ownedElsewhere(runId) ? `process ${row.owner_pid}` : `the next \`orch resume ${runId}\``;
    return { ok: true, message: `signal recorded for ${runId}; delivered by ${where}` };
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
    const journal = this.requireJournal();
    const row = journal.getRun(runId);
    if (!row) return { ok: false, message: `no run ${runId}` };
    if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
      return { ok: false, message: `run ${runId} has already finished (${row.status})` };
    journal.addControl(runId, 'cancel_step', stepId);
    const where = journal.ownedElsewhere(runId) ? `process ${row.owner_pid}` : `the next \`orch resume ${runId}\``;
    return { ok: true, message: `cancel of step ${stepId} recorded for ${runId}; applied by ${where}` };
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
  async close(opts: { readonly cancel?: boolean } = {}): Promise<void> {
    if (opts.cancel === false) {
      for (const run of [...this.active.values()]) {
        run.detach();
        try {
          this.journal?.disown(run.runId);
        } catch {
          // A busy database: the run is still resumable once this process has exited.
        }
      }
      this.active.clear();
    } else for (const run of this.active.values()) run.cancel('runtime closed');
    this.stopPolling();
    await this.ownsExecutor?.close();
    await this.ownsLimits?.close();
    this.journal?.close();
  }

  // ───────────────────────────── internals ─────────────────────────────

  private retainedAt = -Infinity;

  /** The config's `retention`, at most once an hour per runtime (a run start triggers it). */
  private applyRetention(ms: number): void {
    const now = Date.now();
    if (!this.journal || now - this.retainedAt < RETENTION_INTERVAL_MS) return;
    this.retainedAt = now;
    this.journal.prune(now - ms);
  }

  private requireJournal(): SqliteJournal {
    if (!this.journal) throw new RuntimeUsageError('this runtime has no journal (--db)');
    return this.journal;
  }

  /** The orch.config.* of the plan's project directory, and only that one. */
  private async projectConfig(plan: PlanIR): Promise<OrchConfig> {
    try {
      return await loadConfig(projectRoot(plan.base_dir));
    } catch (err) {
      throw new RuntimeUsageError((err as Error).message);
    }
  }

  private deps(plan: PlanIR, config: OrchConfig, onEvent?: (e: RunEvent, r: RunReader) => void) {
    const redactor = this.redactor;
    for (const v of Object.values(config.secrets)) redactor.add(v);
    if (config.maxOutputBytes != null) this.ownsExecutor?.limitOutputs(plan.base_dir, config.maxOutputBytes);
    if (config.retentionMs != null) this.applyRetention(config.retentionMs);
    const deps = {
      clock: this.clock,
      executor: this.executor,
      journal: this.journal ? redactingJournal(this.journal, redactor) : undefined,
      hooks: config.hooks,
      secret: secretResolver(config, redactor),
      configSecrets: config.secrets,
      redact: (v: unknown) => redactor.value(v),
      // Changes arriving in one event-loop turn share a transaction (measured: ~75 events per
      // commit on the 10k-step bench), and an idle run commits on the very next turn.
      defer: (f: () => void) => setImmediate(f),
      limits: this.limits,
      observe: onEvent ? (e: RunEvent, r: RunReader) => onEvent(redactor.value(e), r) : undefined,
    };
    return { deps, redactor };
  }

  private track(run: Run, _redactor: Redactor): ActiveRun {
    this.active.set(run.runId, run);
    const result = run.start().finally(() => {
      this.active.delete(run.runId);
      if (this.active.size === 0) this.stopPolling();
    });
    // A detached run (close({ cancel: false })) rejects; callers that only poll must not crash.
    result.catch(() => undefined);
    if (this.journal) this.startPolling();
    return { runId: run.runId, run, result };
  }

  private startPolling(): void {
    if (this.poller || !this.journal) return;
    this.poller = setInterval(() => this.poll(), this.pollMs);
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }

  private lastHeartbeat = 0;

  private poll(): void {
    const journal = this.journal;
    if (!journal) return;
    // Liveness is mostly the owner pid; the heartbeat only needs to be fresh within seconds,
    // and each one is a write transaction, so it is written at most once a second.
    const beat = Date.now() - this.lastHeartbeat >= 1000;
    if (beat) this.lastHeartbeat = Date.now();
    for (const run of this.active.values()) {
      try {
        if (beat) journal.heartbeat(run.runId);
        for (const c of journal.takeControls(run.runId)) {
          const payload = c.payload ? (JSON.parse(c.payload) as Record<string, unknown>) : {};
          if (c.kind === 'pause') run.pause();
          else if (c.kind === 'resume') run.resume();
          else if (c.kind === 'cancel') run.cancel('cancelled by user');
          else if (c.kind === 'context') run.updateContext(payload);
          else if (c.kind === 'cancel_step' && c.step_id) run.cancelStep(c.step_id, 'cancelled by user');
          else if (c.kind === 'signal' && c.step_id)
            run.signal(c.step_id, payload.decision === 'reject' ? 'reject' : 'approve', (payload.by as string) ?? null, (payload.comment as string) ?? null);
        }
      } catch {
        // A busy database delays controls to the next poll; it never stops the run.
      }
    }
  }
}

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

// What the layers above use of this one. The scheduler's types are its contract: all of them.
export type * from './scheduler/types.js';
export { REDACTED, evaluate, truthy } from './evaluate.js';
export type { EvalEnv } from './evaluate.js';
export { workerScript } from './executor/worker-executor.js';
export type { RunRow } from './journal/sqlite-journal.js';
export { parseAge } from './journal/retention.js';
export type { PruneResult } from './journal/retention.js';
export { openSqlite, sqliteDriver } from './journal/sqlite-driver.js';
export type { SqlDatabase, SqliteDriverName } from './journal/sqlite-driver.js';
export { loadPlan, readJsonArg } from './load-plan.js';
export { preStepViolations } from './scheduler/guardrails.js';
export type { GuardStep } from './scheduler/guardrails.js';
export { VirtualClock } from './scheduler/index.js';
export {
  InProcessLimits,
  InRunLimits,
  LimitCounters,
  type LimitsProvider,
  type LimitsService,
  type SharedClaim,
  type SharedGrant,
  type SharedLimitStore,
} from './scheduler/index.js';
export { replay } from './scheduler/replay.js';
export type { RestoredStep } from './scheduler/replay.js';
export { Redactor } from './redact.js';
export { toJsonOutput, DEFAULT_MAX_OUTPUT_BYTES } from './executor/json-output.js';
export { placedSteps } from './placed-steps.js';
