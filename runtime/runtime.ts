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
import type { PlanIR } from '../compiler/index.js';
import { databaseOf, LeaseLost, openBackend, type AsyncJournal, type Backend, type RunRow, type RuntimeJournal } from './backend/index.js';
import { loadConfig, type OrchConfig } from './config.js';
import { projectRoot } from './executor/handler-path.js';
import { planInput, refuseTooDeep } from './plan-input.js';
import { SharedLimits } from './limits/shared-limits.js';
import { applyControl } from './apply-control.js';
import { cliStarter, starterOf } from './people/identity.js';
import { startOrigin } from './people/run-chain.js';
import { cancelStepViaJournal, controlViaJournal, lastPause, noSuchStep, refusedStep, signalViaJournal, waitsForApproval, type ControlOutcome, type SignalPayload } from './journal-controls.js';
import { Redactor } from './redact.js';
import { recoverInFlight, recoverSubplans, RunExecutors } from './run-executors.js';
import type { ActiveRun, ResumeOptions, RuntimeOptions, StartOptions } from './runtime-options.js';
import { RunWiring, storedTrace } from './run-wiring.js';
import { realClock } from './scheduler/clock.js';
import { replay } from './scheduler/replay.js';
import { InProcessLimits, type LimitsProvider } from './scheduler/index.js';
import { Run, RunDetached } from './scheduler/run.js';
import { namesNothing } from './scheduler/control-paths.js';
import { cancelRemovedSubRuns, checkUpgrade, inputUnder, loadSubRuns, upgradeRun, type UpgradeOutcome } from './upgrade.js';
import type { Clock, ExecutionResult, RunEvent } from './scheduler/types.js';
import { parseTraceparent } from './telemetry/traceparent.js';
import type { RunTracing } from './telemetry/tracing.js';
import { clusterTiming } from './cluster/timing.js';
import { RuntimeUsageError } from './usage-error.js';

/** How long `close` waits for the runs it cancelled to write their end. */
const CLOSE_WAIT_MS = 2000;

export class Runtime {
  /** The journal, on SQLite or Postgres. */
  readonly store: AsyncJournal | null;
  /** The same journal when it is SQLite (null elsewhere), for callers that read it synchronously. */
  readonly journal: RuntimeJournal['sqlite'];
  /** Where runs are kept (null: runs without a journal). */
  readonly backend: Backend | null;
  private readonly opened: RuntimeJournal | null;
  /** A backend the runtime opened from `db` is the runtime's to close; a given one, its caller's. */
  private readonly ownsBackend: boolean;
  private readonly executors: RunExecutors;
  private readonly wiring: RunWiring;
  private readonly clock: Clock;
  private readonly active = new Map<string, Run>();
  private poller: ReturnType<typeof setInterval> | null = null;
  private readonly pollMs: number;
  private readonly suspendOnApproval: boolean;
  readonly limits: LimitsProvider;
  private readonly ownsLimits: SharedLimits | null = null;

  private constructor(opts: RuntimeOptions, backend: { readonly backend: Backend; readonly owned: boolean } | null, opened: RuntimeJournal | null, ownsLimits: SharedLimits | null, executors: RunExecutors) {
    this.backend = backend?.backend ?? null;
    this.ownsBackend = backend?.owned ?? false;
    this.opened = opened;
    this.store = opened?.store ?? null;
    this.journal = opened?.sqlite ?? null;
    this.ownsLimits = ownsLimits;
    this.limits = opts.limits ?? ownsLimits ?? new InProcessLimits();
    this.clock = opts.clock ?? realClock;
    this.pollMs = opts.controlPollMs ?? 200;
    this.suspendOnApproval = opts.suspendOnApproval ?? false;
    this.executors = executors;
    this.wiring = new RunWiring({ clock: this.clock, limits: this.limits, sink: opened?.sink ?? null, store: this.store, executors, redactor: new Redactor(), ...(opts.warn ? { warn: opts.warn } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** On `opts.backend`, else on the backend `opts.db` names (which the runtime then closes). */
  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const owned = !opts.backend && opts.db !== null;
    const backend = opts.backend ?? (opts.db === null ? null : await openBackend(databaseOf(opts.db)));
    let opened: RuntimeJournal | null = null;
    let limits: SharedLimits | null = null;
    try {
      opened = backend ? await backend.journal() : null;
      const store = opts.limits || !backend ? null : await backend.limits();
      if (store) limits = new SharedLimits(store);
      const executors = await RunExecutors.open(opts, backend?.cluster ?? null);
      return new Runtime(opts, backend ? { backend, owned } : null, opened, limits, executors);
    } catch (err) {
      await limits?.close();
      if (owned) await backend?.close();
      throw err;
    }
  }

  activeCount(): number {
    return this.active.size;
  }

  /** Validates the input against the plan's input schema and starts a journaled run. */
  async start(plan: PlanIR, opts: StartOptions = {}): Promise<ActiveRun> {
    const input = planInput(plan, opts.input);
    refuseTooDeep(opts.context, 'the context');
    const config = opts.config ?? (await this.projectConfig(plan));
    const runId = opts.runId ?? newRunId(plan.plan);
    if (await this.store?.getRun(runId)) throw new RuntimeUsageError(`run ${runId} already exists`);
    const { executor, placement, workers } = await this.executors.forRun(plan);
    const tracing = await this.wiring.tracingFor(config);
    const deps = this.wiring.deps(plan, config, executor, opts.onEvent, tracing);
    this.runOptions.set(runId, { onEvent: opts.onEvent, suspendOnApproval: opts.suspendOnApproval, config: opts.config });
    // The IR holds no secret values (only `secret("NAME")` expressions) and must stay intact for resume.
    await this.store?.registerRun(runId, plan.plan, plan, deps.redact!(input), this.clock.now(), null, opts.trigger);
    const trace =
      tracing?.beginRun({ runId, plan: plan.plan, parent: parseTraceparent(opts.traceparent), resumed: false, remoteAttempts: placement === 'workers' }) ?? null;
    const run = new Run(plan, deps, {
      runId,
      trace,
      input,
      context: opts.context,
      ...(opts.contextAt ? { contextAt: opts.contextAt } : {}),
      consent: [...new Set([...(config.consent ?? []), ...(opts.consent ?? [])])].sort(),
      suspendOnApproval: opts.suspendOnApproval ?? this.suspendOnApproval,
      ...(opts.retryOf ? { retryOf: opts.retryOf } : {}),
      ...(opts.adopted ? { adopted: opts.adopted } : {}),
      ...(opts.relabels?.length ? { startRelabels: opts.relabels } : {}),
      startedBy: opts.startedBy ? starterOf(opts.startedBy) : cliStarter(),
      origin: await startOrigin(
        { ...opts, peopleBound: opts.peopleBound ?? config.auth !== undefined },
        async (id) => {
          const first = (await this.store?.load(id))?.[0];
          return first?.type === 'plan_created' ? first.data : null;
        },
      ),
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
    const events = await journal.load(runId);
    const first = events[0];
    const consent = first?.type === 'plan_created' ? [...(first.data.consent ?? [])] : [];
    // The context the run had, each value as old as it is (§9.4): a retry reads what the run read,
    // stale where that has aged past its max_age since; a live context (orch serve) reads its own.
    const had = opts.context === undefined ? replay(events) : null;
    const context = had && Object.keys(had.context).length > 0 ? { context: had.context, contextAt: had.contextAt ?? {} } : {};
    return this.start(JSON.parse(row.ir) as PlanIR, { ...opts, ...context, input: row.input ? JSON.parse(row.input) : {}, consent, retryOf: runId });
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
    const placed = await this.executors.forRun(plan);
    const { placement, workers } = placed;
    const executor = await this.executors.adoptingFor(placed.executor, placement);
    const recovered = await recoverInFlight(executor, runId, restored);
    const recoveredSubplans = await recoverSubplans(executor, subplans, (id) => this.opened!.sink.load?.(id) ?? []);
    const tracing = await this.wiring.tracingFor(config);
    const deps = this.wiring.deps(plan, config, executor, opts.onEvent, tracing);
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
      // Under an upgraded IR, as that version reads it (its new defaults filled in).
      input: inputUnder(plan, row.input ? JSON.parse(row.input) : {}),
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
   * turn that waits only for approvals and waits (as a control from another process would); any other run
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
    if ('context' in payload) refuseTooDeep(payload.context, 'the context');
    const local = this.active.get(runId);
    if (local) {
      if ('context' in payload) {
        local.updateOwnContext(payload.context);
        return { ok: true, message: 'context updated' };
      }
      const identity = payload.identity ?? null;
      // §8.8: a person who may not decide is told why, and nothing changes.
      // §9.1: a run bound to people refuses a decision that comes with no person — a conflict
      // with the run, not a person refused. A step the plan does not have is missing (404)
      // before either, as through the journal.
      const refused = local.decisionRefusal(payload.stepId, payload.decision, identity);
      if (refused !== null && namesNothing(local.plan, payload.stepId)) return noSuchStep(local.plan.plan, runId, payload.stepId);
      if (refused !== null) return identity === null ? { ok: false, message: refused } : { ok: false, forbidden: true, message: refused };
      const r = local.signal(payload.stepId, payload.decision, payload.by ?? null, payload.comment ?? null, identity);
      return r === 'ok' ? { ok: true, message: `${payload.decision} ${payload.stepId}` } : refusedStep(local.plan, payload.stepId, r);
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
      return r === 'ok' ? { ok: true, message: `cancelled step ${stepId} of ${runId}` } : refusedStep(local.plan, stepId, r);
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
    await this.executors.close(phase);
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
    if (this.ownsBackend) await this.backend?.close();
    // Spans of everything that happened here leave before the process does.
    phase('the traces to leave');
    await this.wiring.shutdownTraces();
  }

  /**
   * Exports every span ended so far, of every exporter this runtime traces to (none untraced);
   * the tracing thread is up once it resolves. Spans otherwise leave in batches, and at `close`.
   */
  async flushTraces(): Promise<void> {
    await this.wiring.flushTraces();
  }

  // ───────────────────────────── internals ─────────────────────────────

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
    const runId = run.runId;
    const row = journal ? await journal.getRun(runId) : undefined;
    if (!journal || !row?.ir) return run.holdStarts(false);
    const oldPlan = JSON.parse(row.ir) as PlanIR;
    const restored = replay(await journal.load(runId));
    const subruns = await loadSubRuns(journal, runId, oldPlan, restored);
    const check = checkUpgrade(oldPlan, newPlan, restored, subruns, row.input ? JSON.parse(row.input) : {});
    // Refused after all (the run moved on since it was asked): it goes on under its own IR.
    if (!check.compatible || check.fromHash === check.toHash || !run.idleOnWaits()) return run.holdStarts(false);
    let stopped!: () => void;
    const detached = new Promise<void>((r) => (stopped = r));
    let settle!: { resolve: (r: ExecutionResult) => void; reject: (e: unknown) => void };
    const result = new Promise<ExecutionResult>((resolve, reject) => (settle = { resolve, reject }));
    this.replacements.set(runId, { stopped, result });
    const handle = this.handles.get(runId);
    if (!run.detach()) {
      this.replacements.delete(runId);
      return run.holdStarts(false);
    }
    await detached;
    this.replacements.delete(runId);
    try {
      await journal.upgradeOffline(runId, newPlan, { from_hash: check.fromHash, to_hash: check.toHash, changes: check.changes });
      await cancelRemovedSubRuns(journal, runId, newPlan, subruns);
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
        if (due) {
          // §8.6: the run moves at its next turn: nothing new starts until the attempts in flight end.
          run.holdStarts(true);
          if (run.idleOnWaits()) {
            this.upgradesDue.delete(run.runId);
            void this.switchPlan(run, due).catch(() => run.holdStarts(false));
          }
        }
      } catch (err) {
        // Another process took the run over (this one was presumed dead): stop advancing it here.
        if (err instanceof LeaseLost) run.detach('taken-over');
        // A busy database delays controls to the next poll; it never stops the run.
      }
    }
  }
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

/** `telemetry.trace_url` of the plan's project config (the dashboard's link to a run's trace). */
export async function traceUrlTemplate(plan: PlanIR): Promise<string | undefined> {
  return (await loadConfig(projectRoot(plan.base_dir))).telemetry?.trace_url;
}

/**
 * An input or context value nested deeper than a handler's output may be is refused before it is
 * journaled: V8 parses any depth, but storing the value overflows the stack, which would fail the
 * run's journal instead of saying what is wrong with what was given.
 */
