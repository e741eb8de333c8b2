/**
 * `orch worker`: a graphile-worker runner whose tasks are the steps of Postgres runs
 * (docs/cluster.md). Each job is one dispatch of an attempt (`StepJob`):
 *
 * 1. claim it — `status = 'running'` only while its fence matches and it is still `dispatched`
 *    (an abandoned or finished attempt is skipped without calling the handler);
 * 2. run it from this worker's own project and config (`WorkerAttempts`, worker-attempt.ts): its
 *    secrets, model endpoints, MCP servers and channels; handlers resolved inside `--project`
 *    with the local executor's realpath containment, on this process's worker threads;
 * 3. record the outcome — only while the row is still this worker's, running, at that fence —
 *    and NOTIFY `orch_attempt`. A refused result (the worker was presumed dead) is dropped.
 *
 * The worker registers in `orch.workers`, heartbeats every second from a connection of its own,
 * and sweeps dead workers (`sweepDeadWorkers`). A worker that finds itself declared dead (it was
 * frozen or cut off past 5 s) registers again under a new id and goes on (`registration.ts`).
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { run, type Runner, type Task, type TaskList, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { locateHandler, projectRoot } from '../executor/handler-path.js';
import { openMigratedPool, quietLogger } from '../journal/pg/migrations.js';
import { openPool } from '../journal/pg/pool.js';
import type { AttemptOutcome } from '../scheduler/types.js';
import { telemetrySettings } from '../telemetry/settings.js';
import { loadWorkerTracing, type WorkerTracing } from '../telemetry/tracing.js';
import { ATTEMPT_CHANNEL, handlerFlag, handlerHash, sweepDeadWorkers, taskIdentifiers, type StepJob } from './jobs.js';
import { WorkerRegistration } from './registration.js';
import { clusterTiming } from './timing.js';
import { WorkerAttempts } from './worker-attempt.js';

export interface WorkerOptions {
  readonly url: string;
  /** Resources whose steps this worker takes besides steps on no resource. */
  readonly resources: readonly string[];
  /** Attempts at once (graphile-worker concurrency and worker threads). */
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
  /** Attempts this worker is running now. */
  readonly running: number;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The owner names the plan's directory relative to its project root (the nearest folder up
  // with orch.config.*, package.json or .git); the worker finds its own root the same way, so
  // `--project` may be any folder of the checkout.
  const project = projectRoot(resolve(o.project));
  const pool = await openMigratedPool(o.url, 3);
  // graphile-worker's own pool, with pg's default conventions (job ids as strings).
  const jobPool = new pg.Pool({ connectionString: o.url, max: o.slots + 3, application_name: 'orch worker' });
  jobPool.on('error', () => undefined);
  jobPool.on('connect', (client) => client.on('error', () => undefined));
  const heartbeatPool = openPool(o.url, { max: 1 });
  // The worker's own config: secrets, model endpoints and prices, MCP servers, channels, limits
  // and telemetry (worker-attempt.ts). A broken one stops the worker here, before it registers.
  const attempts = await WorkerAttempts.open({ project, worker: () => reg?.id ?? 'starting', slots: o.slots }).catch(async (err: unknown) => {
    await Promise.all([pool.end(), jobPool.end(), heartbeatPool.end()].map((p) => p.catch(() => undefined)));
    throw err;
  });
  const tracing = await workerTracing(attempts);
  let runner: Runner | null = null;
  /** Runners not yet stopped: the current one, and one of a registration declared dead while it drains. */
  const runners = new Set<Runner>();
  let reg: WorkerRegistration | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  let stopping: Promise<void> | null = null;
  let renewing: Promise<void> | null = null;
  let declaredDead = false;
  /** Job flags of handler hashes this worker's project copy does not match: never fetched again. */
  const forbidden = new Set<string>();
  try {
    const registration = (reg = await WorkerRegistration.register(pool, { resources: o.resources, slots: o.slots }));
    const step: Task = async (payload) => runStep(payload as StepJob);
    const taskList: TaskList = {};
    for (const t of taskIdentifiers(o.resources)) taskList[t] = step;

    const runStep = async (job: StepJob): Promise<void> => {
      // Claimed and recorded under the registration of the moment: an attempt claimed under an id
      // declared dead is abandoned by the next sweep, and its result refused.
      const id = registration.id;
      const where = [job.run, job.key, job.attempt, job.fence];
      const mismatch = handlerMismatch(job);
      if (mismatch !== null) {
        if (job.handlerHash !== null) forbidden.add(handlerFlag(job.handlerHash));
        const refused = await pool.query(
          `WITH r AS (
             UPDATE orch.attempts SET status = 'refused', worker = $5, outcome = $6, finished_at = now()
              WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND fence = $4 AND status = 'dispatched'
              RETURNING run_id)
           SELECT pg_notify($7, run_id) FROM r`,
          [...where, id, JSON.stringify({ ok: false, error: mismatch }), ATTEMPT_CHANNEL],
        );
        if (refused.rowCount === 1) log(`refused ${job.run}/${job.key}#${job.attempt}: ${mismatch}`);
        return;
      }
      const claim = await pool.query(
        `UPDATE orch.attempts SET status = 'running', worker = $5, started_at = now()
          WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND fence = $4 AND status = 'dispatched'`,
        [...where, id],
      );
      if (claim.rowCount !== 1) {
        log(`skipped ${job.run}/${job.key}#${job.attempt}: no longer dispatched (abandoned or done)`);
        return;
      }
      const span = tracing?.attempt(job.traceparent, {
        runId: job.run,
        stepKey: job.stepId,
        attempt: job.attempt,
        resource: job.resource,
        capability: job.capability.name,
        worker: id,
      });
      // Untraced here, a traced owner's step span is still the handler's parent.
      const outcome = await attempts.run(job, span?.traceparent ?? job.traceparent);
      span?.end(outcome.ok ? { ok: true, ...usageAndCost(outcome) } : { ok: false, error: outcome.error, ...usageAndCost(outcome) });
      const recorded = await pool.query(
        `WITH done AS (
           UPDATE orch.attempts SET status = $6, outcome = $7, finished_at = now()
            WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND fence = $4 AND worker = $5 AND status = 'running'
            RETURNING run_id)
         SELECT pg_notify($8, run_id) FROM done`,
        [...where, id, outcome.ok ? 'succeeded' : 'failed', JSON.stringify(outcome), ATTEMPT_CHANNEL],
      );
      if (recorded.rowCount !== 1) log(`refused: the result of ${job.run}/${job.key}#${job.attempt} (this worker was presumed dead)`);
    };

    /** Why this worker must not run the job's handler (another copy of it than the owner's), or null. */
    const handlerMismatch = (job: StepJob): string | null => {
      const id = registration.id;
      if (job.handlerHash === null) return null;
      const where = locateHandler(job.capability, resolve(project, job.baseDir), project);
      if (!where.ok) return `${where.error} on worker ${id}, while the run's owner has it`;
      const mine = handlerHash(where.module);
      return mine === job.handlerHash ? null : `handler ${where.module} on worker ${id} has sha256 ${mine}, the run's owner has ${job.handlerHash}`;
    };

    const events = new EventEmitter() as WorkerEvents;
    events.on('worker:create', ({ worker }) => {
      registration.addJobWorker(worker.workerId).catch(() => undefined);
    });
    const startRunner = async (): Promise<Runner> => {
      const r = await run({
        pgPool: jobPool,
        taskList,
        concurrency: o.slots,
        noHandleSignals: true,
        pollInterval: 1000,
        logger: quietLogger(),
        forbiddenFlags: () => [...forbidden],
        // No cron: without this graphile-worker would read a `crontab` file of the current directory.
        parsedCronItems: [],
        events,
      });
      runners.add(r);
      void r.promise.finally(() => runners.delete(r)).catch(() => undefined);
      return r;
    };
    runner = await startRunner();

    const stop = (why: string) => {
      stopping ??= (async () => {
        log(`orch worker ${registration.id}: stopping (${why})`);
        if (heartbeat) clearInterval(heartbeat);
        await renewing;
        await Promise.all([...runners].map((r) => r.stop().catch(() => undefined)));
      })();
      return stopping;
    };
    /**
     * Declared dead (frozen or cut off past the dead-after time): the old runner takes no new job
     * and drains (the results of its attempts are refused: they were abandoned with the old id),
     * and the worker goes on under a new registration with a new runner.
     */
    const renew = () => {
      const old = runner;
      renewing ??= (async () => {
        void old?.stop().catch(() => undefined);
        const previous = await registration.again();
        log(`orch worker ${previous} was declared dead (no heartbeat for more than ${clusterTiming().workerDeadAfterMs / 1000} s): registered again as ${registration.id}`);
        if (!stopping) runner = await startRunner();
      })()
        .catch((err: unknown) => {
          declaredDead = true;
          log(`orch worker ${registration.id}: declared dead and cannot register again: ${(err as Error).message}`);
          void stop('declared dead');
        })
        .finally(() => (renewing = null));
    };
    heartbeat = setInterval(() => {
      registration
        .beat(heartbeatPool)
        .then((alive) => {
          if (!alive && !stopping) renew();
        })
        .catch(() => undefined);
      sweepDeadWorkers(heartbeatPool).catch(() => undefined);
    }, clusterTiming().heartbeatMs);
    o.signal?.addEventListener('abort', () => void stop('signal'), { once: true });
    o.onReady?.(registration.id);
    if (o.signal?.aborted) void stop('signal');
    // Until stopped: a runner replaced after a re-registration hands over to the next one.
    for (;;) {
      const current: Runner = runner;
      await current.promise.catch((err: unknown) => log(`orch worker ${registration.id}: ${(err as Error).message}`));
      await renewing;
      if (stopping || current === runner) break;
    }
    await stopping;
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    await reg?.stop().catch(() => undefined);
    await attempts.close();
    await tracing?.shutdown();
    await heartbeatPool.end().catch(() => undefined);
    await jobPool.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
  if (declaredDead) throw new Error(`orch worker ${reg?.id ?? ''} was declared dead (its heartbeat was more than 5 s old) and could not register again`);
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

export async function listWorkers(url: string, all: boolean): Promise<WorkerRow[]> {
  const pool = await openMigratedPool(url, 1);
  try {
    const { rows } = await pool.query<{
      id: string;
      host: string;
      pid: number;
      resources: string[];
      slots: number;
      state: string;
      age: number;
      running: number;
    }>(
      `SELECT w.id, w.host, w.pid, w.resources, w.slots, w.state,
              (extract(epoch FROM now() - w.heartbeat_at) * 1000)::bigint AS age,
              (SELECT count(*) FROM orch.attempts a WHERE a.worker = w.id AND a.status = 'running') AS running
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
      running: Number(r.running),
    }));
  } finally {
    await pool.end();
  }
}
