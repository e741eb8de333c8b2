/**
 * The executor of `orch run --db postgres://… --remote`: each attempt becomes a row of
 * `orch.attempts` — the step queue — added inside the journal transaction that commits the
 * attempt's `step_started` (`prepare`, a batched commit hook: every attempt a commit starts is
 * one statement, `queue.ts` `dispatchAttempts`), so a worker only ever sees a step whose start is
 * durable; `orch worker` processes claim and run it (`worker.ts`). The outcome comes back through the attempt row: a worker NOTIFYs
 * `orch_attempt` when it records one, and a 500 ms poll covers a missed notification. The owner
 * hands it to the scheduler as the `done` of `Executor.start` — the same `attempt_succeeded` /
 * `attempt_failed` the local executor produces — and marks the row folded.
 *
 * An attempt abandoned after a worker claimed it — by the sweeper (that worker died), or by the
 * worker itself (it was cut off from the database and aborted the handler) — comes back to the
 * core as lost (`attempt_lost`): the step runs again as its next attempt, a new row and job.
 * One refused (or abandoned before any worker claimed it) is dispatched again with the next
 * fence; a dead worker can no longer record a result for it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { relative } from 'node:path';
import type pg from 'pg';
import { locateHandler, projectRoot } from '../executor/handler-path.js';
import { fillDefaults } from '../executor/value-defaults.js';
import type { ClusterDatabase } from '../backend/index.js';
import { batchedHook } from '../scheduler/commit-hooks.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, CommitHook, Executor } from '../scheduler/types.js';
import { attemptKey, foldHook, parseOutcome, recoverableAttempts, recoveredKey, runStep, type RecoveredAttempt } from './attempt-rows.js';
import { ATTEMPT_CHANNEL, handlerHash, sweepDeadWorkers, taskIdentifier, type StepJob } from './jobs.js';
import { ABANDON_CHANNEL, dispatchAttempts, toldOutcomes, type AbandonNotice, type Dispatch } from './queue.js';
import { clusterTiming, DEFAULT_CLUSTER_TIMING } from './timing.js';
import { FreshCache } from './fresh-cache.js';
import { jobSecretsAndModel } from './job-secrets.js';
import { ListenSwitch } from './listen-switch.js';

/** The default outcome poll (`clusterTiming().outcomePollMs` is the one used). */
export const OUTCOME_POLL_MS = DEFAULT_CLUSTER_TIMING.outcomePollMs;
/** Runs whose recorded handler hashes are kept in memory (`orch serve` runs many). */
const RUN_HASHES_KEPT = 256;
/** Outcome polls `orch_attempt` stays LISTENed to once nothing is waited on (2 s): runs started back to back do not switch it. */
const LISTEN_LINGER_POLLS = 4;

interface Pending {
  readonly req: AttemptRequest;
  readonly key: string;
  readonly done: (outcome: AttemptOutcome) => void;
  /**
   * The attempt whose row it waits on: its own, or — adopted from a dead owner — the earlier one
   * still on a worker, until that one is abandoned and it is dispatched itself.
   */
  attempt: number;
  /** The fence of the current dispatch (0 until its transaction committed). */
  fence: number;
}

export interface RemoteExecutorOptions {
  /** `--max-output`: passed to the workers with each job. */
  readonly maxOutputBytes?: number;
}

export interface WorkerCoverage {
  readonly live: number;
  readonly missing: readonly string[];
}

export class RemoteExecutor implements Executor {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly pending = new Map<string, Pending>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private checking: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly projectLimits = new Map<string, number>();
  /** Attempts whose row and job were added inside their `step_started` commit: their fence. */
  private readonly prepared = new Map<string, { readonly fence: number; readonly req: AttemptRequest; told?: { readonly fence: number; readonly outcome: string | null } }>();
  /** Outcomes a dead owner's workers recorded and it never folded, by run and step key: for the step's next attempt. */
  private readonly recovered = new Map<string, RecoveredAttempt>();
  /**
   * Plan directories relative to their project roots (the job's `baseDir`), looked up at most once
   * a second rather than per dispatch: the root is a look on disk, `relative` two path resolutions.
   */
  private readonly baseDirs = new FreshCache<string>();
  /** The handler hashes recorded for each run (`handlerHashes`), most recently used last. */
  private readonly runHashes = new Map<string, Promise<ReadonlyMap<string, string | null>>>();

  /**
   * `orch_attempt`, LISTENed to only while this process waits on attempts, and for a few polls
   * after (runs started back to back keep it). Postgres has every listening backend run a
   * transaction for every NOTIFY of the database: a process that owns no run on workers — each
   * `orch worker`'s take-over runtime, an idle `orch serve` — would wake Postgres and itself for
   * every exchange and dispatch of everyone else's runs. Once the LISTEN lands, a look at the rows
   * finds what was told before it (the poll would, a moment later).
   */
  private readonly listening: ListenSwitch;
  /** When this process last started or prepared an attempt (ms). */
  private busyAt = -Infinity;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly listener: pg.Client | null,
    private readonly opts: RemoteExecutorOptions,
  ) {
    this.listening = new ListenSwitch(
      () => (this.closed ? null : this.listener),
      ATTEMPT_CHANNEL,
      () => this.pending.size > 0 || this.prepared.size > 0 || performance.now() - this.busyAt < LISTEN_LINGER_POLLS * clusterTiming().outcomePollMs,
      () => this.check(),
    );
  }

  /** About to wait on attempts: listen (the LISTEN is sent before the commit that dispatches them). */
  private busy(): void {
    this.busyAt = performance.now();
    this.listening.tune();
  }

  static async open(db: ClusterDatabase, opts: RemoteExecutorOptions = {}): Promise<RemoteExecutor> {
    const pool = await db.pool(4);
    let listener: pg.Client | null = db.client();
    try {
      await listener.connect();
    } catch {
      // The poll alone still finds every outcome.
      await listener.end().catch(() => undefined);
      listener = null;
    }
    const ex = new RemoteExecutor(pool, listener, opts);
    listener?.on('notification', (n) => ex.told(n.payload));
    ex.timers.push(
      setInterval(() => {
        ex.check();
        ex.listening.tune();
      }, clusterTiming().outcomePollMs),
    );
    ex.timers.push(
      setInterval(() => {
        sweepDeadWorkers(pool).catch(() => undefined);
      }, clusterTiming().sweepMs),
    );
    for (const t of ex.timers) t.unref();
    return ex;
  }

  /**
   * The `orch worker` processes alive (heartbeat fresh), and which of `resources` none of them
   * takes (`--resources`): a step on such a resource would wait for a worker that lists it.
   */
  async coverage(resources: readonly string[]): Promise<WorkerCoverage> {
    const { rows } = await this.pool.query<{ n: number; missing: string[] }>(
      `WITH live AS (SELECT resources FROM orch.workers WHERE state = 'alive' AND heartbeat_at > now() - make_interval(secs => $1))
       SELECT (SELECT count(*)::int FROM live) AS n,
              array(SELECT r FROM unnest($2::text[]) AS r WHERE NOT EXISTS (SELECT 1 FROM live WHERE r = ANY(live.resources)) ORDER BY r) AS missing`,
      [clusterTiming().workerDeadAfterMs / 1000, [...new Set(resources)]],
    );
    return { live: rows[0]!.n, missing: rows[0]!.missing };
  }

  /** A project's `maxOutputBytes` (orch.config), sent with its jobs unless `--max-output` wins. */
  limitOutputs(baseDir: string, maxOutputBytes: number): void {
    this.projectLimits.set(baseDir, maxOutputBytes);
  }

  /**
   * Resuming a run whose owner died: of the steps in flight then (step key → attempt number), those
   * a worker has, had or never got, judged by the latest unfolded attempt row up to the one in
   * flight (an owner killed between adopting an outcome and folding it left the adopting attempt
   * in flight, with no row of its own):
   * - an outcome a worker recorded: the step's next attempt receives it (`start`), is dispatched to
   *   no worker, and folds the row in the commit of what it leads to;
   * - still dispatched or running: the next attempt waits on that row, as if dispatched itself;
   * - the attempt in flight abandoned or refused before any worker claimed it (`started_at` null):
   *   its handler never ran, so the next attempt is dispatched like any other.
   * Steps not returned (a worker died while running one, or no row) are the core's to judge:
   * run again when idempotent, else failed as unknown.
   */
  async recover(runId: string, inFlight: ReadonlyMap<string, number>): Promise<ReadonlySet<string>> {
    const { adopted, neverRan } = await recoverableAttempts(this.pool, runId, inFlight);
    for (const [key, at] of adopted) this.recovered.set(runStep(runId, key), at);
    return new Set([...adopted.keys(), ...neverRan]);
  }

  /** The attempt row and its job, added by the journal commit that writes the attempt's `step_started`. */
  prepare(req: AttemptRequest): CommitHook {
    // Its outcome is already known (`recover`): no worker runs it.
    const known = recoveredKey(req);
    if (known !== null && this.recovered.has(known)) return async () => undefined;
    this.busy();
    // The attempts a commit starts are added together: one statement for the whole turn.
    return batchedHook(this.dispatchPrepared, req);
  }

  /** The rows of attempts whose step_started `tx` commits, with one statement. */
  private readonly dispatchPrepared = async (tx: unknown, reqs: readonly AttemptRequest[]): Promise<void> => {
    const ds = await Promise.all(reqs.map((req) => this.dispatchOf(req)));
    const fences = await dispatchAttempts(tx as pg.ClientBase, this.owner, ds);
    reqs.forEach((req, i) => this.prepared.set(attemptId(req), { fence: fences[i]!, req }));
  };

  /** A prepared attempt the run no longer starts: nobody may run it. */
  discard(req: AttemptRequest): void {
    if (!this.prepared.delete(attemptId(req))) return;
    this.abandon(req.runId, stepKey(req), req.attempt).catch(() => undefined);
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void): AttemptHandle {
    const key = stepKey(req);
    const id = attemptId(req);
    const known = recoveredKey(req);
    const recovered = known === null ? undefined : this.recovered.get(known);
    if (known !== null) this.recovered.delete(known);
    const entry: Pending = { req, key, done, attempt: req.attempt, fence: 0 };
    const prepared = this.prepared.get(id);
    this.busy();
    if (recovered?.outcome === null) {
      // Still on a worker: wait on that attempt's row.
      entry.attempt = recovered.attempt;
      entry.fence = recovered.fence;
      this.pending.set(pendingId(entry), entry);
      queueMicrotask(() => this.check());
    } else if (recovered !== undefined) {
      this.pending.set(id, entry);
      const outcome = { ...recovered.outcome, commitHook: foldHook(req.runId, key, recovered.attempt, recovered.fence) };
      queueMicrotask(() => this.finish(id, entry, outcome));
    } else if (prepared !== undefined) {
      this.pending.set(id, entry);
      // Already durable with its step_started; its outcome may even have been told already.
      this.prepared.delete(id);
      entry.fence = prepared.fence;
      const early = prepared.told;
      if (early !== undefined && early.fence === prepared.fence)
        queueMicrotask(() => this.finish(id, entry, { ...parseOutcome(early.outcome), commitHook: foldHook(req.runId, key, req.attempt, early.fence) }));
      else if (early !== undefined) queueMicrotask(() => this.check());
    } else {
      this.pending.set(id, entry);
      this.redispatch(entry);
    }
    return {
      abort: (reason) => {
        const current = pendingId(entry);
        if (this.pending.get(current) !== entry) return;
        this.pending.delete(current);
        this.abandon(req.runId, key, entry.attempt, reason).catch(() => undefined);
      },
    };
  }

  /** Dispatches the entry's own attempt (again: next fence, new job); a failure fails the attempt. */
  private redispatch(entry: Pending): void {
    entry.fence = 0;
    this.dispatch(entry).catch((err: unknown) =>
      this.finish(pendingId(entry), entry, { ok: false, error: `cannot dispatch to a worker: ${(err as Error).message}` }),
    );
  }

  /**
   * An attempt the owner gave up on (timeout, cancel): a worker still running it can no longer
   * record its result, and is told (`ABANDON_CHANNEL`) so that its handler's ctx.signal fires.
   */
  private async abandon(run: string, key: string, attempt: number, reason = 'cancelled'): Promise<void> {
    const notice: AbandonNotice = { run, key, attempt, reason: reason.slice(0, 500) };
    await this.pool.query(
      `WITH up AS (
         UPDATE orch.attempts SET status = 'abandoned', folded = true, finished_at = now(), job = NULL
          WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND status IN ('dispatched', 'running')
          RETURNING status)
       SELECT pg_notify($4, $5) FROM up`,
      [run, key, attempt, ABANDON_CHANNEL, JSON.stringify(notice)],
    );
  }

  /**
   * The attempt row (a new fence when it existed), in a statement of its own: an attempt
   * dispatched again (its worker died or refused it), or one whose `step_started` commit carried
   * no hooks.
   */
  private async dispatch(entry: Pending): Promise<void> {
    const { req, key } = entry;
    const [fence] = await dispatchAttempts(this.pool, this.owner, [await this.dispatchOf(req)]);
    entry.fence = fence!;
    // Aborted while this statement ran: its abandon found no row yet.
    if (this.pending.get(pendingId(entry)) !== entry) await this.abandon(req.runId, key, req.attempt);
  }

  /** The handler hash workers must have for this attempt's capability: the one recorded for its run. */
  private async recordedHash(req: AttemptRequest): Promise<string | null> {
    let hashes = this.runHashes.get(req.runId);
    if (hashes === undefined) {
      hashes = this.handlerHashes(req);
      // A run is looked up again after its entry was evicted: the table has it.
      if (this.runHashes.size >= RUN_HASHES_KEPT) this.runHashes.delete(this.runHashes.keys().next().value!);
      hashes.catch(() => this.runHashes.delete(req.runId));
    } else this.runHashes.delete(req.runId);
    this.runHashes.set(req.runId, hashes);
    const known = await hashes;
    // A capability the first owner had no row for (a run recorded before this table): this file's.
    return known.has(req.capability.name) ? known.get(req.capability.name)! : ownHandlerHash(req);
  }

  /**
   * Records, once per run, the hash of every capability's handler as this process finds it —
   * the first owner to dispatch wins (`ON CONFLICT DO NOTHING`), so a new owner after a take-over,
   * or after the project was upgraded, still asks workers for the version the run started with —
   * and reads back what is recorded.
   */
  private async handlerHashes(req: AttemptRequest): Promise<ReadonlyMap<string, string | null>> {
    const caps = Object.values(req.plan.capabilities ?? {});
    if (!caps.some((c) => c.name === req.capability.name)) caps.push(req.capability);
    const own = caps.map((c) => [c.name, ownHandlerHash({ ...req, capability: c })] as const);
    const { rows } = await this.pool.query<{ capability: string; hash: string | null }>(
      `WITH mine AS (
         INSERT INTO orch.run_handlers (run_id, capability, hash)
         SELECT $1, c, h FROM unnest($2::text[], $3::text[]) AS t(c, h)
         ON CONFLICT (run_id, capability) DO NOTHING)
       SELECT capability, hash FROM orch.run_handlers WHERE run_id = $1
       UNION ALL SELECT c, h FROM unnest($2::text[], $3::text[]) AS t(c, h)
        WHERE NOT EXISTS (SELECT 1 FROM orch.run_handlers r WHERE r.run_id = $1 AND r.capability = t.c)`,
      [req.runId, own.map(([c]) => c), own.map(([, h]) => h)],
    );
    return new Map(rows.map((r) => [r.capability, r.hash]));
  }

  /** What a worker needs to run the attempt: its queue, its handler hash, its payload. */
  private async dispatchOf(req: AttemptRequest): Promise<Dispatch> {
    const handlerHash = await this.recordedHash(req);
    const job: Omit<StepJob, 'fence'> = {
      run: req.runId,
      key: stepKey(req),
      attempt: req.attempt,
      stepId: req.stepId,
      capability: req.capability,
      baseDir: this.baseDirs.get(req.plan.base_dir, () => relative(projectRoot(req.plan.base_dir), req.plan.base_dir)),
      input: fillDefaults(req.capability.input, req.input) as StepJob['input'],
      resource: req.resource?.name ?? null,
      timeoutMs: req.timeoutMs,
      maxOutputBytes: this.opts.maxOutputBytes ?? this.projectLimits.get(req.plan.base_dir) ?? null,
      handlerHash,
      ...jobSecretsAndModel(req),
      ...(req.traceparent !== undefined ? { traceparent: req.traceparent } : {}),
    };
    return { run: req.runId, key: job.key, attempt: req.attempt, task: taskIdentifier(job.resource), handler: handlerHash, job };
  }

  /** Looks for outcomes of this process's attempts; one look at a time, another right after if asked meanwhile. */
  private check(): void {
    if (this.closed || this.pending.size === 0) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = this.look()
      .catch(() => undefined)
      .finally(() => {
        this.checking = null;
        if (this.again) {
          this.again = false;
          this.check();
        }
      });
  }

  /**
   * A worker's NOTIFY: the outcomes it recorded, folded at once with no read, when they fit the
   * payload; else (a run id: a large outcome, the sweeper, a refusal) a look at the rows.
   */
  private told(payload: string | undefined): void {
    const t = toldOutcomes(payload);
    if (t === null) {
      // A run id alone: the attempts about to start look at the rows once they wait on them.
      for (const p of this.prepared.values()) if (p.req.runId === payload) p.told ??= { fence: -1, outcome: null };
      return this.check();
    }
    let look = false;
    for (const d of t.done) {
      const id = attemptKey(t.run, d.key, d.attempt);
      const entry = this.pending.get(id);
      const prepared = this.prepared.get(id);
      if (entry === undefined && prepared !== undefined && (d.status === 'succeeded' || d.status === 'failed')) {
        // Told before the run started waiting on it (its commit's effects still to run): kept for `start`.
        prepared.told = { fence: Number(d.fence), outcome: d.outcome };
        continue;
      }
      if (entry === undefined) {
        // Another owner's run, or one this process already folded: nothing to do. One of ours
        // whose entry waits under another attempt: the rows say what to do.
        if ([...this.pending.values()].some((p) => p.req.runId === t.run)) look = true;
        continue;
      }
      if (entry.fence !== Number(d.fence) || (d.status !== 'succeeded' && d.status !== 'failed')) {
        look = true;
        continue;
      }
      this.finish(id, entry, { ...parseOutcome(d.outcome), commitHook: foldHook(t.run, d.key, d.attempt, Number(d.fence)) });
    }
    if (look) this.check();
  }

  /**
   * The rows of the steps this process waits on that have ended, looked up by the primary key
   * (their runs and step keys; a row of another attempt is passed over below).
   */
  private async look(): Promise<void> {
    const waiting = [...this.pending.values()];
    const { rows } = await this.pool.query<{ run_id: string; step_key: string; attempt: number; fence: number; status: string; outcome: string | null; worker: string | null; claimed: boolean }>({
      name: 'orch_look_attempts',
      text: `SELECT run_id, step_key, attempt, fence, status, outcome, worker, started_at IS NOT NULL AS claimed FROM orch.attempts
        WHERE run_id = ANY($1) AND step_key = ANY($2) AND NOT folded AND status IN ('succeeded', 'failed', 'abandoned', 'refused')`,
      values: [[...new Set(waiting.map((p) => p.req.runId))], [...new Set(waiting.map((p) => p.key))]],
    });
    for (const r of rows) {
      const id = attemptKey(r.run_id, r.step_key, r.attempt);
      const entry = this.pending.get(id);
      if (!entry || entry.fence !== Number(r.fence)) continue;
      if (r.status === 'abandoned' && r.claimed && r.worker !== null && entry.attempt === entry.req.attempt) {
        // The worker running it died (§7.5), or gave it back itself, cut off from the database (its
        // outcome says why): the core journals `attempt_lost` and runs the step again as its next
        // attempt, so the handler's second run is an attempt of its own; this row is folded in that commit.
        const worker = r.worker;
        const given = r.outcome === null ? null : parseOutcome(r.outcome);
        const lost = given !== null && !given.ok ? { worker, reason: given.error } : { worker };
        const error = given !== null && !given.ok ? given.error : `worker ${worker} died while running it`;
        this.finish(id, entry, { ok: false, error, lost, commitHook: foldHook(r.run_id, r.step_key, r.attempt, Number(r.fence)) });
        continue;
      }
      if (r.status === 'abandoned' || r.status === 'refused') {
        // Its handler never ran (no worker claimed it, or one would not run it): the same attempt
        // again, next fence, new job — an adopted one (a dead owner's attempt, lost with its
        // worker) as the entry's own attempt, which is already the next one.
        if (entry.attempt !== entry.req.attempt) {
          this.pending.delete(id);
          entry.attempt = entry.req.attempt;
          this.pending.set(pendingId(entry), entry);
        }
        this.redispatch(entry);
        continue;
      }
      this.finish(id, entry, { ...parseOutcome(r.outcome), commitHook: foldHook(r.run_id, r.step_key, r.attempt, Number(r.fence)) });
    }
  }

  private finish(id: string, entry: Pending, outcome: AttemptOutcome): void {
    if (this.pending.get(id) !== entry) return;
    this.pending.delete(id);
    entry.done(outcome);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.checking;
    // Committed with their step_started, but their run stopped before starting them (cancelled,
    // detached): no worker may run them for nobody.
    await Promise.allSettled([...this.prepared.values()].map(({ req }) => this.abandon(req.runId, stepKey(req), req.attempt)));
    this.prepared.clear();
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}

/** The hash of the handler file this process would run (null: built-in, or not found here). */
function ownHandlerHash(req: AttemptRequest): string | null {
  const h = req.capability.handler;
  if (h === null || 'builtin' in h) return null;
  const where = locateHandler(req.capability, req.plan.base_dir, projectRoot(req.plan.base_dir));
  return where.ok ? handlerHash(where.module) : null;
}

function attemptId(req: AttemptRequest): string {
  return attemptKey(req.runId, stepKey(req), req.attempt);
}

/** Where a pending entry is filed: under the attempt whose row it waits on. */
function pendingId(entry: Pending): string {
  return attemptKey(entry.req.runId, entry.key, entry.attempt);
}

/** The attempt row's `step_key`: the instance key, marked for fallback and compensation calls. */
function stepKey(req: AttemptRequest): string {
  return req.purpose === 'call' ? req.stepId : `${req.stepId}~${req.purpose}`;
}
