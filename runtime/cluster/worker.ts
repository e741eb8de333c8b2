/**
 * `orch worker`: runs the steps of Postgres runs (docs/cluster.md, "The step queue"). Each
 * `exchange` with the database is one statement, one commit: it records the results finished
 * since the last one and claims as many ready attempts (`StepJob`) as the worker has free slots
 * (`batching.ts` decides when). For each claimed attempt:
 *
 * 1. check that this worker's copy of the handler is the owner's (else the attempt is `refused`);
 * 2. run it from this worker's own project and config (`WorkerAttempts`, worker-attempt.ts): its
 *    secrets, model endpoints, MCP servers and channels; handlers resolved inside `--project`
 *    with the local executor's realpath containment, on this process's worker threads;
 * 3. its result is recorded by the next exchange — only while the row is still running at that
 *    fence under the id it was claimed with — which NOTIFYs `orch_attempt`. A refused result (the
 *    worker was presumed dead, or the owner gave up on the attempt) is dropped and logged.
 *
 * A worker wakes on `orch_dispatch` (the owner's NOTIFY in the commit that dispatches) and polls
 * every second besides.
 *
 * The worker registers in `orch.workers`, heartbeats every second from a connection of its own,
 * and sweeps dead workers (`sweepDeadWorkers`). A worker that finds itself declared dead (it was
 * frozen or cut off past 5 s) starts none of the attempts it claimed under the old id and still
 * holds in line (the sweeper abandoned them), registers again under a new id and goes on claiming
 * under it (`registration.ts`); the attempts it was running finish and their results are refused.
 *
 * What to do with the attempts it holds is decided by a pure state machine (`WorkerCore`,
 * worker-core.ts), when to beat and when it is cut off by another (heartbeat.ts); `WorkerShell`
 * below only carries out their commands: exchanges, handler threads, timers, LISTENs.
 */
import { resolve } from 'node:path';
import type pg from 'pg';
import { projectRoot } from '../executor/handler-path.js';
import { modelOf } from '../models/prompt.js';
import type { ClusterDatabase } from '../backend/index.js';
import type { AttemptOutcome } from '../scheduler/types.js';
import { telemetrySettings } from '../telemetry/settings.js';
import { loadWorkerTracing } from '../telemetry/load-tracing.js';
import type { WorkerTracing } from '../telemetry/tracing.js';
import { handlerHash, sweepDeadWorkers, taskIdentifiers, type StepJob } from './jobs.js';
import { FreshCache } from './fresh-cache.js';
import { decideHeartbeat, startHeartbeat, type HeartbeatEvent } from './heartbeat.js';
import { ABANDON_CHANNEL, abandonNotice, DISPATCH_CHANNEL, exchange, jobOfRow, type Result } from './queue.js';
import { ListenSwitch } from './listen-switch.js';
import { WorkerRegistration } from './registration.js';
import { clusterTiming } from './timing.js';
import { WorkerAttempts } from './worker-attempt.js';
import { WorkerCore, type Claim, type WorkerCommand, type WorkerEvent } from './worker-core.js';

export interface WorkerOptions {
  /** The cluster's database (`Backend.cluster`). */
  readonly db: ClusterDatabase;
  /** Resources whose steps this worker takes besides steps on no resource. */
  readonly resources: readonly string[];
  /** Attempts at once (claimed at a time, and worker threads). */
  readonly slots: number;
  /** The project checkout handlers are resolved in. */
  readonly project: string;
  /** Stops the worker: no new jobs, running ones finish, then it deregisters. */
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Called once registered and taking jobs. */
  readonly onReady?: (id: string) => void;
}

export interface WorkerRow {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly resources: string[];
  readonly slots: number;
  readonly state: string;
  /** Milliseconds since the last heartbeat (database clock). */
  readonly heartbeatAgeMs: number;
  /**
   * Alive, but its heartbeat has missed more than two beats: cut off from the database (or
   * frozen). Its running handlers are aborted before it is declared dead (heartbeat.ts).
   */
  readonly unreachable: boolean;
  /** Attempts this worker is running now. */
  readonly running: number;
  /** Which they are (run, step key, attempt): the steps an unreachable worker holds until its lease lapses. */
  readonly holding: readonly HeldAttempt[];
}

export interface HeldAttempt {
  readonly run: string;
  readonly step: string;
  readonly attempt: number;
}

const jobRowsOf = `SELECT run_id, step_key, attempt, fence::text, job FROM orch.attempts WHERE worker = $1 AND status = 'running' AND job IS NOT NULL`;

export async function runWorker(o: WorkerOptions): Promise<void> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The owner names the plan's directory relative to its project root (the nearest folder up
  // with orch.config.*, package.json or .git); the worker finds its own root the same way, so
  // `--project` may be any folder of the checkout.
  const project = projectRoot(resolve(o.project));
  // The exchange is this pool's statement: planned once per connection (`genericPlans`).
  const pool = await o.db.pool(3, { genericPlans: true });
  const heartbeatPool = o.db.rawPool(1);
  let reg: WorkerRegistration | null = null;
  // The worker's own config: secrets, model endpoints and prices, MCP servers, channels, limits
  // and telemetry (worker-attempt.ts). A broken one stops the worker here, before it registers.
  const attempts = await WorkerAttempts.open({ project, worker: () => reg?.id ?? 'starting', slots: o.slots }).catch(async (err: unknown) => {
    await Promise.all([pool.end(), heartbeatPool.end()].map((p) => p.catch(() => undefined)));
    throw err;
  });
  const tracing = await workerTracing(attempts);
  let shell: WorkerShell | null = null;
  try {
    reg = await WorkerRegistration.register(pool, { resources: o.resources, slots: o.slots });
    shell = new WorkerShell({ options: o, log, project, pool, heartbeatPool, registration: reg, attempts, tracing });
    await shell.run();
  } finally {
    await shell?.close();
    await reg?.stop().catch(() => undefined);
    await attempts.close();
    await tracing?.shutdown();
    await heartbeatPool.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
  if (shell?.core.declaredDead) throw new Error(`orch worker ${reg.id} was declared dead (its heartbeat was more than 5 s old) and could not register again`);
}

interface ShellParts {
  readonly options: WorkerOptions;
  readonly log: (line: string) => void;
  readonly project: string;
  readonly pool: pg.Pool;
  readonly heartbeatPool: pg.Pool;
  readonly registration: WorkerRegistration;
  readonly attempts: WorkerAttempts;
  readonly tracing: WorkerTracing | null;
}

/**
 * The worker's effects: its database connections, timers and handler threads. It tells the core
 * (worker-core.ts) and the heartbeat (heartbeat.ts) what happened and carries out their commands.
 */
class WorkerShell {
  readonly core: WorkerCore;
  private readonly tasks: string[];
  /** This copy's handler hashes, read (a `stat`, and the file when it changed) at most once a second. */
  private readonly hashes = new FreshCache<string>();
  /** Handler hashes this worker's project copy does not match: never claimed again. */
  private readonly forbidden = new Set<string>();
  /** Each handed attempt's way to give it up (the worker was declared dead or cut off, or its owner gave up on it). */
  private readonly giveUps = new WeakMap<Claim, AbortController>();
  private listener: pg.Client | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly timing = { heartbeatMs: clusterTiming().heartbeatMs, deadAfterMs: clusterTiming().workerDeadAfterMs };
  private beats = startHeartbeat(performance.now());
  private readonly dispatches: ListenSwitch;
  private readonly abandons: ListenSwitch;
  private resolveDrained!: () => void;
  private readonly whenDrained = new Promise<void>((r) => (this.resolveDrained = r));

  constructor(private readonly p: ShellParts) {
    const { slots } = p.options;
    this.tasks = taskIdentifiers(p.options.resources);
    this.core = new WorkerCore({ slots, shares: (job) => p.attempts.shares(job) });
    const core = this.core;
    // Listens for dispatches only while it could take them (`WorkerCore.wantsDispatches`); once a
    // LISTEN lands, a claim looks for what was dispatched meanwhile.
    this.dispatches = new ListenSwitch(
      () => this.listener,
      DISPATCH_CHANNEL,
      (listening) => core.wantsDispatches(listening),
      () => this.feed({ kind: 'listening' }),
    );
    /*
     * Listens for its owners' abandons (`orch_abandon`: race lost, cancelled, timed out) only while
     * it runs a slow attempt, whose handler an abort should reach at once; a fast attempt is over in
     * a few milliseconds anyway. An abandon sent in the instant before its LISTEN lands is missed:
     * that handler runs until it ends or its timeout, and its result is refused, as before.
     */
    this.abandons = new ListenSwitch(() => this.listener, ABANDON_CHANNEL, () => core.slow > 0 && !core.stopping);
  }

  async run(): Promise<void> {
    const o = this.p.options;
    await this.listen();
    this.poll = setInterval(() => this.feed({ kind: 'wake' }), clusterTiming().claimPollMs);
    this.heartbeat = setInterval(() => this.heartbeatEvent({ kind: 'tick', now: performance.now() }), this.timing.heartbeatMs);
    o.signal?.addEventListener('abort', () => this.feed({ kind: 'stop', why: 'signal' }), { once: true });
    o.onReady?.(this.p.registration.id);
    this.feed(o.signal?.aborted ? { kind: 'stop', why: 'signal' } : { kind: 'pump' });
    await this.whenDrained;
  }

  async close(): Promise<void> {
    this.stopTimers();
    if (this.holdTimer) clearTimeout(this.holdTimer);
    await this.listener?.end().catch(() => undefined);
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.poll) clearInterval(this.poll);
  }

  private async listen(): Promise<void> {
    const listener = this.p.options.db.client();
    this.listener = listener;
    try {
      await listener.connect();
      await listener.query(`LISTEN ${DISPATCH_CHANNEL}`);
      listener.on('notification', (n) => {
        if (n.channel === ABANDON_CHANNEL) {
          const notice = abandonNotice(n.payload);
          if (notice !== null) this.feed({ kind: 'abandoned', notice });
        } else if (n.payload === undefined || this.tasks.includes(n.payload)) this.feed({ kind: 'wake' });
      });
      this.dispatches.listened();
    } catch {
      // The poll alone still finds every attempt.
      await listener.end().catch(() => undefined);
      this.listener = null;
    }
  }

  /** Tells the core what happened and carries out its commands, in order. */
  private feed(event: WorkerEvent): void {
    for (const c of this.core.handle(event, { now: performance.now(), id: this.p.registration.id })) this.carry(c);
  }

  private carry(c: WorkerCommand): void {
    switch (c.kind) {
      case 'exchange':
        exchange(this.p.pool, c.as, c.report, c.claim, this.tasks, [...this.forbidden], c.release).then(
          (answer) => this.feed({ kind: 'exchanged', answer }),
          (err: unknown) => this.feed({ kind: 'exchange-failed', error: (err as Error).message }),
        );
        return;
      case 'start':
        return this.start(c.claim);
      case 'abort':
        return this.giveUps.get(c.claim)?.abort(c.reason);
      case 'hold':
        this.holdTimer = setTimeout(() => {
          this.holdTimer = null;
          this.feed({ kind: 'hold-ended' });
        }, c.ms);
        return;
      case 'cancel-hold':
        if (this.holdTimer) clearTimeout(this.holdTimer);
        this.holdTimer = null;
        return;
      case 'pump-soon':
        setImmediate(() => this.feed({ kind: 'pump-turn' }));
        return;
      case 'adopt':
        void this.adopt(c.id, c.afterMs);
        return;
      case 'register-again':
        return this.registerAgain();
      case 'tune':
        this.dispatches.tune();
        this.abandons.tune();
        return;
      case 'stop-timers':
        return this.stopTimers();
      case 'log':
        return this.p.log(c.line);
      case 'drained':
        return this.resolveDrained();
    }
  }

  /** After a failed exchange: the attempts recorded as claimed under `id` (its answer may have been lost). */
  private async adopt(id: string, afterMs: number): Promise<void> {
    await new Promise<void>((r) => setTimeout(r, afterMs).unref());
    const found = await this.p.pool.query<{ run_id: string; step_key: string; attempt: number; fence: string; job: string | null }>(jobRowsOf, [id]).then(
      ({ rows }) => rows.map(jobOfRow).filter((j): j is StepJob => j !== null),
      (err: unknown) => err as Error,
    );
    this.feed(found instanceof Error ? { kind: 'adopt-failed', id, error: found.message } : { kind: 'adopted', id, jobs: found });
  }

  private start(claim: Claim): void {
    const { job } = claim;
    const giveUp = new AbortController();
    this.giveUps.set(claim, giveUp);
    this.runStep(claim, giveUp.signal)
      .catch(
        (err: unknown): Result => ({
          run: job.run,
          key: job.key,
          attempt: job.attempt,
          fence: job.fence,
          worker: claim.worker,
          status: 'failed',
          outcome: JSON.stringify({ ok: false, error: `worker ${claim.worker}: ${(err as Error).message}` }),
        }),
      )
      .then((result) => this.feed({ kind: 'finished', claim, result }));
  }

  /** Runs one claimed attempt; its result, recorded by a later exchange under the id it was claimed with. */
  private async runStep({ job, worker }: Claim, signal: AbortSignal): Promise<Result> {
    const where = { run: job.run, key: job.key, attempt: job.attempt, fence: job.fence, worker };
    const mismatch = this.handlerMismatch(job, worker);
    if (mismatch !== null) {
      if (job.handlerHash !== null) this.forbidden.add(job.handlerHash);
      this.p.log(`refused ${job.run}/${job.key}#${job.attempt}: ${mismatch}`);
      return { ...where, status: 'refused', outcome: JSON.stringify({ ok: false, error: mismatch }) };
    }
    const span = this.p.tracing?.attempt(job.traceparent, {
      runId: job.run,
      stepKey: job.stepId,
      attempt: job.attempt,
      resource: job.resource,
      capability: job.capability.name,
      worker,
      requestModel: job.capability.llm && job.capability.handler === null ? modelOf(job.capability, job.resourceModel) : null,
    });
    // Untraced here, a traced owner's step span is still the handler's parent.
    const outcome = await this.p.attempts.run(job, span?.traceparent ?? job.traceparent, signal);
    span?.end(outcome.ok ? { ok: true, ...usageAndCost(outcome) } : { ok: false, error: outcome.error, ...usageAndCost(outcome) });
    return { ...where, status: outcome.ok ? 'succeeded' : 'failed', outcome: JSON.stringify(outcome) };
  }

  /** Why this worker must not run the job's handler (another copy of it than the owner's), or null. */
  private handlerMismatch(job: StepJob, id: string): string | null {
    if (job.handlerHash === null) return null;
    const { attempts, project } = this.p;
    const where = attempts.locate(job.capability, resolve(project, job.baseDir), project);
    if (!where.ok) return `${where.error} on worker ${id}, while the run's owner has it`;
    const mine = this.hashes.get(where.module, () => handlerHash(where.module));
    return mine === job.handlerHash ? null : `handler ${where.module} on worker ${id} has sha256 ${mine}, the run's owner has ${job.handlerHash}`;
  }

  /** Declared dead: registers again under a new id (registration.ts) and claims under it. */
  private registerAgain(): void {
    this.p.registration.again().then(
      (previous) => {
        this.heartbeatEvent({ kind: 'renewed', now: performance.now(), ok: true });
        this.feed({ kind: 'registered', previous, deadAfterMs: this.timing.deadAfterMs });
      },
      (err: unknown) => {
        this.heartbeatEvent({ kind: 'renewed', now: performance.now(), ok: false });
        this.feed({ kind: 'register-failed', error: (err as Error).message });
      },
    );
  }

  /** Feeds the heartbeat's decisions (heartbeat.ts) an event and carries out its commands. */
  private heartbeatEvent(event: HeartbeatEvent): void {
    const { registration, heartbeatPool, log } = this.p;
    const d = decideHeartbeat(this.beats, event, this.timing);
    this.beats = d.state;
    for (const c of d.commands) {
      if (c.kind === 'beat') {
        const id = registration.id;
        const sentAt = performance.now();
        registration.beat(heartbeatPool, id).then(
          (alive) => this.heartbeatEvent({ kind: 'answered', now: performance.now(), sentAt, id, current: registration.id, alive: alive || this.core.stopping }),
          () => this.heartbeatEvent({ kind: 'failed', now: performance.now() }),
        );
        sweepDeadWorkers(heartbeatPool).catch(() => undefined);
      } else if (c.kind === 'renew') this.feed({ kind: 'declared-dead', old: c.dead });
      else if (c.kind === 'cut-off') this.feed({ kind: 'cut-off', silentMs: c.silentMs, deadAfterMs: this.timing.deadAfterMs });
      else log(`orch worker ${registration.id}: the database answers again after ${(c.silentMs / 1000).toFixed(1)} s`);
    }
  }
}

/**
 * The worker's tracing: the `OTEL_*` variables, else its project's `orch.config` `telemetry`; span
 * text is redacted with every secret the worker holds or resolves.
 */
async function workerTracing(attempts: WorkerAttempts): Promise<WorkerTracing | null> {
  const settings = telemetrySettings(attempts.config.telemetry);
  if (!settings) return null;
  return loadWorkerTracing(settings, (text) => String(attempts.redactor.value(text))).catch(() => null);
}

function usageAndCost(o: AttemptOutcome): { cost?: number; usage?: unknown } {
  const usage = (o as { usage?: unknown }).usage;
  return { ...(o.cost !== undefined ? { cost: o.cost } : {}), ...(usage !== undefined ? { usage } : {}) };
}

export async function listWorkers(db: ClusterDatabase, all: boolean): Promise<WorkerRow[]> {
  const pool = await db.pool(1);
  try {
    const { rows } = await pool.query<{
      id: string;
      host: string;
      pid: number;
      resources: string[];
      slots: number;
      state: string;
      age: number;
      holding: HeldAttempt[];
    }>(
      `SELECT w.id, w.host, w.pid, w.resources, w.slots, w.state,
              (extract(epoch FROM now() - w.heartbeat_at) * 1000)::bigint AS age,
              (SELECT coalesce(json_agg(json_build_object('run', a.run_id, 'step', a.step_key, 'attempt', a.attempt) ORDER BY a.run_id, a.step_key, a.attempt), '[]')
                 FROM orch.attempts a WHERE a.worker = w.id AND a.status = 'running') AS holding
         FROM orch.workers w
        WHERE $1 OR w.state = 'alive'
        ORDER BY w.started_at, w.id`,
      [all],
    );
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      resources: r.resources,
      slots: r.slots,
      state: r.state,
      heartbeatAgeMs: Number(r.age),
      unreachable: r.state === 'alive' && Number(r.age) > 2.5 * clusterTiming().heartbeatMs,
      running: r.holding.length,
      holding: r.holding,
    }));
  } finally {
    await pool.end();
  }
}
