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
 */
import { resolve } from 'node:path';
import type pg from 'pg';
import { projectRoot } from '../executor/handler-path.js';
import type { ClusterDatabase } from '../backend/index.js';
import type { AttemptOutcome } from '../scheduler/types.js';
import { telemetrySettings } from '../telemetry/settings.js';
import { loadWorkerTracing } from '../telemetry/load-tracing.js';
import type { WorkerTracing } from '../telemetry/tracing.js';
import { drained, ExchangePace, mayHold, nextExchange, stillWanted } from './batching.js';
import { handlerHash, sweepDeadWorkers, taskIdentifiers, type StepJob } from './jobs.js';
import { attemptKey } from './attempt-rows.js';
import { FreshCache } from './fresh-cache.js';
import { decideHeartbeat, startHeartbeat, type HeartbeatEvent } from './heartbeat.js';
import { ABANDON_CHANNEL, abandonNotice, DISPATCH_CHANNEL, exchange, jobOfRow, type Release, type Result } from './queue.js';
import { ListenSwitch } from './listen-switch.js';
import { WorkerRegistration } from './registration.js';
import { clusterTiming } from './timing.js';
import { WorkerAttempts } from './worker-attempt.js';

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
}

/** How long finished results may wait for more to share their exchange, at most (`mayHold`). */
const HOLD_MS = 5;

/** A claimed attempt and the worker id it was claimed under (its result is recorded under that id). */
interface Claim {
  readonly job: StepJob;
  readonly worker: string;
  /** Set once handed to the threads: gives the attempt up (the worker was declared dead, or its owner gave up on it). */
  giveUp?: AbortController;
  /** Handed over as an attempt that may not share a message (slow or unknown): its owner's abandon is listened for. */
  slow?: boolean;
  /** Aborted because the worker was cut off from the database: given back when it ends, not reported. */
  cutOff?: boolean;
}

const jobId = (job: StepJob): string => `${attemptKey(job.run, job.key, job.attempt)}\u0000${job.fence}`;

export async function runWorker(o: WorkerOptions): Promise<void> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The owner names the plan's directory relative to its project root (the nearest folder up
  // with orch.config.*, package.json or .git); the worker finds its own root the same way, so
  // `--project` may be any folder of the checkout.
  const project = projectRoot(resolve(o.project));
  const pool = await o.db.pool(3);
  const heartbeatPool = o.db.rawPool(1);
  let reg: WorkerRegistration | null = null;
  // The worker's own config: secrets, model endpoints and prices, MCP servers, channels, limits
  // and telemetry (worker-attempt.ts). A broken one stops the worker here, before it registers.
  const attempts = await WorkerAttempts.open({ project, worker: () => reg?.id ?? 'starting', slots: o.slots }).catch(async (err: unknown) => {
    await Promise.all([pool.end(), heartbeatPool.end()].map((p) => p.catch(() => undefined)));
    throw err;
  });
  const tracing = await workerTracing(attempts);
  const tasks = taskIdentifiers(o.resources);
  let listener: pg.Client | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  let poll: ReturnType<typeof setInterval> | null = null;
  let declaredDead = false;
  /** This copy's handler hashes, read (a `stat`, and the file when it changed) at most once a second. */
  const hashes = new FreshCache<string>();
  /** Handler hashes this worker's project copy does not match: never claimed again. */
  const forbidden = new Set<string>();
  // The exchange loop's state (batching.ts decides from it).
  let running = 0;
  let inFlight = false;
  let wanted = true;
  let stopping = false;
  /** Registering again after being declared dead: nothing is claimed until the new id exists. */
  let renewing = false;
  let failures = 0;
  const pace = new ExchangePace();
  const results: Result[] = [];
  let resolveDrained!: () => void;
  const whenDrained = new Promise<void>((r) => (resolveDrained = r));
  try {
    const registration = (reg = await WorkerRegistration.register(pool, { resources: o.resources, slots: o.slots }));

    /** Runs one claimed attempt; its result, recorded by a later exchange under the id it was claimed with. */
    const runStep = async ({ job, worker, giveUp }: Claim): Promise<Result> => {
      const where = { run: job.run, key: job.key, attempt: job.attempt, fence: job.fence, worker };
      const mismatch = handlerMismatch(job, worker);
      if (mismatch !== null) {
        if (job.handlerHash !== null) forbidden.add(job.handlerHash);
        log(`refused ${job.run}/${job.key}#${job.attempt}: ${mismatch}`);
        return { ...where, status: 'refused', outcome: JSON.stringify({ ok: false, error: mismatch }) };
      }
      const span = tracing?.attempt(job.traceparent, {
        runId: job.run,
        stepKey: job.stepId,
        attempt: job.attempt,
        resource: job.resource,
        capability: job.capability.name,
        worker,
      });
      // Untraced here, a traced owner's step span is still the handler's parent.
      const outcome = await attempts.run(job, span?.traceparent ?? job.traceparent, giveUp?.signal);
      span?.end(outcome.ok ? { ok: true, ...usageAndCost(outcome) } : { ok: false, error: outcome.error, ...usageAndCost(outcome) });
      return { ...where, status: outcome.ok ? 'succeeded' : 'failed', outcome: JSON.stringify(outcome) };
    };

    /** Why this worker must not run the job's handler (another copy of it than the owner's), or null. */
    const handlerMismatch = (job: StepJob, id: string): string | null => {
      if (job.handlerHash === null) return null;
      const where = attempts.locate(job.capability, resolve(project, job.baseDir), project);
      if (!where.ok) return `${where.error} on worker ${id}, while the run's owner has it`;
      const mine = hashes.get(where.module, () => handlerHash(where.module));
      return mine === job.handlerHash ? null : `handler ${where.module} on worker ${id} has sha256 ${mine}, the run's owner has ${job.handlerHash}`;
    };

    /** When the oldest unrecorded result finished (performance.now()), and the timer that ends its hold. */
    let heldSince = 0;
    let pumpQueued = false;
    let holdTimer: ReturnType<typeof setTimeout> | null = null;
    /** One exchange at a time: record what finished, claim what the free slots can take. */
    const pump = (): void => {
      const window = o.slots * pace.prefetch;
      const ageMs = results.length > 0 ? performance.now() - heldSince : 0;
      // Waiting for a slot: in line here, or handed to the threads beyond their slots (in chunks).
      const waiting = line.length + Math.max(0, executing - o.slots);
      const holding = !inFlight && mayHold({ results: results.length, waiting, window, ageMs, holdMs: HOLD_MS, cover: Math.max(1, o.slots >> 1) });
      // Not handed to the threads yet, and beyond a window that shrank: for another worker to take.
      const surplus = Math.min(line.length, Math.max(0, running - window));
      const state = { slots: o.slots, window, running, results: results.length + cutOffReleases.length, inFlight, wanted: wanted && !renewing, stopping, holding, fast: pace.fast, surplus };
      const next = nextExchange(state);
      if (next === null) {
        if (holding && holdTimer === null)
          holdTimer = setTimeout(
            () => {
              holdTimer = null;
              pump();
            },
            Math.max(0, HOLD_MS - ageMs),
          );
        if (drained(state)) resolveDrained();
        return;
      }
      if (holdTimer !== null) {
        clearTimeout(holdTimer);
        holdTimer = null;
      }
      inFlight = true;
      const report = results.splice(0, results.length);
      const as = registration.id;
      const cutOff = cutOffReleases.splice(0, cutOffReleases.length);
      const released = [...(next.release ? giveBack(surplus, as) : []), ...cutOff.filter((c) => c.worker === as).map(releaseOf)];
      exchange(pool, as, report, next.claim, tasks, [...forbidden], released)
        .then(
          (answer) => {
            failures = 0;
            for (const r of answer.refused) {
              if (r.status === 'refused') continue;
              log(`refused: the result of ${r.run}/${r.key}#${r.attempt} (this worker was presumed dead, or the owner gave up on it)`);
            }
            wanted = stillWanted(next.claim, answer.claimed.length, wanted);
            for (const job of answer.claimed) {
              // Claimed under an id declared dead meanwhile: the sweeper abandons it, none starts here.
              if (as !== registration.id) log(`dropped ${job.run}/${job.key}#${job.attempt}: claimed as ${as}, declared dead since`);
              else track({ job, worker: as });
            }
            tune();
          },
          (err: unknown) => {
            // The database is unreachable: the results wait for the next exchange (their fence
            // still guards them); what this one may have claimed the sweeper gives back if this
            // worker dies, and `adopt` below finds it if it lives.
            results.unshift(...report);
            cutOffReleases.unshift(...cutOff);
            if (failures++ === 0) log(`orch worker ${registration.id}: ${(err as Error).message}; retrying`);
            wanted = true;
            return new Promise<void>((r) => setTimeout(r, Math.min(2000, 100 * failures)).unref()).then(adopt);
          },
        )
        .finally(() => {
          inFlight = false;
          pump();
          tune();
        });
    };

    /** Attempts recorded as claimed by this worker that it does not run (the answer of an exchange was lost): run them. */
    const mine = new Set<string>();
    const adopt = async (): Promise<void> => {
      const id = registration.id;
      const { rows } = await pool
        .query<{ run_id: string; step_key: string; attempt: number; fence: string; job: string | null }>(
          `SELECT run_id, step_key, attempt, fence::text, job FROM orch.attempts WHERE worker = $1 AND status = 'running' AND job IS NOT NULL`,
          [id],
        )
        .catch(() => ({ rows: [] }));
      if (id !== registration.id) return;
      for (const r of rows) {
        const job = jobOfRow(r);
        if (!job || mine.has(jobId(job)) || results.some((x) => x.run === job.run && x.key === job.key && x.attempt === job.attempt)) continue;
        track({ job, worker: id });
      }
    };
    /**
     * The last `n` claims in line under `as`, out of it: their rows go back to `dispatched` with
     * the exchange about to start. Should it fail, `adopt` finds them still this worker's and runs them.
     */
    const giveBack = (n: number, as: string): Release[] => {
      const back: Release[] = [];
      for (let i = line.length - 1; i >= 0 && back.length < n; i--) {
        const { job, worker } = line[i]!;
        if (worker !== as) continue;
        line.splice(i, 1);
        mine.delete(jobId(job));
        running--;
        back.push({ run: job.run, key: job.key, attempt: job.attempt, fence: job.fence });
      }
      return back;
    };
    /** Claimed attempts waiting for a slot, in claim order. */
    const line: Claim[] = [];
    /** Attempts whose handlers ended after a cut-off aborted them: given back (dispatched again) by the next exchange. */
    const cutOffReleases: Claim[] = [];
    const releaseOf = ({ job }: Claim): Release => ({ run: job.run, key: job.key, attempt: job.attempt, fence: job.fence });
    /** Claimed attempts handed to the threads and not finished. */
    const handed = new Set<Claim>();
    /**
     * Its owner gave up on an attempt (race lost, cancelled, timed out; its row is `abandoned`, so
     * no result of it would be recorded): not started, it never starts; running, its handler's
     * ctx.signal fires with the owner's reason (the executor ends it after its grace).
     */
    const abandoned = (n: ReturnType<typeof abandonNotice>): void => {
      if (n === null) return;
      const is = ({ job }: Claim) => job.run === n.run && job.key === n.key && job.attempt === n.attempt;
      for (let i = line.length - 1; i >= 0; i--) {
        if (!is(line[i]!)) continue;
        mine.delete(jobId(line[i]!.job));
        line.splice(i, 1);
        running--;
      }
      for (const claim of handed) if (is(claim)) claim.giveUp?.abort(n.reason);
    };
    let executing = 0;
    const track = (claim: Claim): void => {
      mine.add(jobId(claim.job));
      running++;
      line.push(claim);
      startNext();
    };
    /**
     * Hands attempts from the line to the threads: one per free slot, and beyond that those that
     * may share a message (fast, idempotent, no timeout), which the executor runs in chunks on the
     * busy threads — one message for many — instead of each waiting here for a slot.
     */
    const startNext = (): void => {
      while (line.length > 0) {
        const shares = attempts.shares(line[0]!.job);
        if (executing >= o.slots && !(shares && executing < o.slots * pace.prefetch)) break;
        pace.observe(shares);
        const claim = line.shift()!;
        const { job } = claim;
        claim.giveUp = new AbortController();
        handed.add(claim);
        executing++;
        if (!shares) {
          claim.slow = true;
          slowRunning++;
          hearAbandons();
        }
        runStep(claim)
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
          .then((r) => {
            mine.delete(jobId(job));
            handed.delete(claim);
            if (claim.slow) {
              slowRunning--;
              hearAbandons();
            }
            executing--;
            running--;
            if (claim.cutOff) {
              // Its result is not reported: the attempt goes back to be run again (by whichever
              // worker claims it), or — had this id been declared dead meanwhile — was abandoned.
              if (claim.worker === registration.id) cutOffReleases.push(claim);
              wanted = true;
            } else {
              if (results.length === 0) heldSince = performance.now();
              results.push(r);
            }
            startNext();
            // The attempts of a chunk finish together: one exchange for all of them, not one for the first.
            if (!pumpQueued) {
              pumpQueued = true;
              setImmediate(() => {
                pumpQueued = false;
                pump();
              });
            }
            if (running === 0) tune();
          });
      }
    };

    const wake = (): void => {
      wanted = true;
      pump();
    };
    /**
     * Listens for dispatches only while it could take them: a worker whose slots are all busy stops
     * listening, and starts again once it is idle and its last claim came back short — then claims
     * once, for what was dispatched meanwhile. A worker busy meanwhile hears of new attempts from its
     * next exchange (every finished attempt leads to one), or from the poll.
     */
    const dispatches = new ListenSwitch(
      () => listener,
      DISPATCH_CHANNEL,
      // On again only once idle for good: nothing running, no exchange in flight, its last claim short.
      (listening) => (stopping ? listening : listening ? running < o.slots : running === 0 && !inFlight && !wanted),
      wake,
    );
    const tune = (): void => dispatches.tune();
    /**
     * Listens for its owners' abandons (`orch_abandon`: race lost, cancelled, timed out) only while
     * it runs a slow attempt, whose handler an abort should reach at once; a fast attempt is over in
     * a few milliseconds anyway, so a worker busy with those does not listen. An abandon sent in the
     * instant before its LISTEN lands is missed: that handler runs until it ends or its timeout,
     * and its result is refused, as before.
     */
    let slowRunning = 0;
    const abandons = new ListenSwitch(() => listener, ABANDON_CHANNEL, () => slowRunning > 0 && !stopping);
    const hearAbandons = (): void => abandons.tune();
    listener = o.db.client();
    try {
      await listener.connect();
      await listener.query(`LISTEN ${DISPATCH_CHANNEL}`);
      listener.on('notification', (n) => {
        if (n.channel === ABANDON_CHANNEL) return abandoned(abandonNotice(n.payload));
        if (n.payload === undefined || tasks.includes(n.payload)) wake();
      });
      dispatches.listened();
    } catch {
      // The poll alone still finds every attempt.
      await listener.end().catch(() => undefined);
      listener = null;
    }
    poll = setInterval(wake, clusterTiming().claimPollMs);

    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      log(`orch worker ${registration.id}: stopping (${why})`);
      if (heartbeat) clearInterval(heartbeat);
      if (poll) clearInterval(poll);
      pump();
    };
    /**
     * Declared dead (frozen or cut off past the dead-after time): the attempts claimed under the old
     * id and waiting in line were abandoned with it and may have run elsewhere by now, so none of
     * them starts here; those running finish (their results are refused). The worker registers
     * again and claims under the new id.
     */
    const renew = (old: string): void => {
      if (stopping) return;
      renewing = true;
      for (const claim of line.filter((c) => c.worker === old)) {
        line.splice(line.indexOf(claim), 1);
        mine.delete(jobId(claim.job));
        running--;
      }
      // Handed to the threads but perhaps not started (a chunk's later members): none may start.
      for (const claim of handed) if (claim.worker === old) claim.giveUp?.abort(`worker ${old} was declared dead`);
      registration
        .again()
        .then(
          (previous) => {
            log(`orch worker ${previous} was declared dead (no heartbeat for more than ${clusterTiming().workerDeadAfterMs / 1000} s): registered again as ${registration.id}`);
            renewing = false;
            heartbeatEvent({ kind: 'renewed', now: performance.now(), ok: true });
            wake();
          },
          (err: unknown) => {
            renewing = false;
            heartbeatEvent({ kind: 'renewed', now: performance.now(), ok: false });
            declaredDead = true;
            log(`orch worker ${registration.id}: declared dead and cannot register again: ${(err as Error).message}`);
            stop('declared dead');
          },
        );
    };
    /**
     * No beat answered for most of its lease: the running handlers are aborted (their ctx.signal)
     * and their attempts given back once they end, before the sweeper could hand them to another
     * worker — so a handler cut off here never overlaps the attempt's next run (heartbeat.ts).
     */
    const cutOff = (silentMs: number): void => {
      const id = registration.id;
      const reason = `worker ${id} lost the database for ${(silentMs / 1000).toFixed(1)} s: its lease lapses in ${((clusterTiming().workerDeadAfterMs - silentMs) / 1000).toFixed(1)} s`;
      let aborted = 0;
      for (const claim of handed) {
        if (claim.worker !== id || claim.cutOff) continue;
        claim.cutOff = true;
        claim.giveUp?.abort(reason);
        aborted++;
      }
      log(`orch worker ${id}: no heartbeat answered for ${(silentMs / 1000).toFixed(1)} s (unreachable database); ${aborted} running handler${aborted === 1 ? '' : 's'} aborted, their attempts given back`);
    };
    const timing = { heartbeatMs: clusterTiming().heartbeatMs, deadAfterMs: clusterTiming().workerDeadAfterMs };
    let beats = startHeartbeat(performance.now());
    /** Feeds the heartbeat's decisions (heartbeat.ts) an event and carries out its commands. */
    const heartbeatEvent = (event: HeartbeatEvent): void => {
      const d = decideHeartbeat(beats, event, timing);
      beats = d.state;
      for (const c of d.commands) {
        if (c.kind === 'beat') {
          const id = registration.id;
          const sentAt = performance.now();
          registration.beat(heartbeatPool, id).then(
            (alive) => heartbeatEvent({ kind: 'answered', now: performance.now(), sentAt, id, current: registration.id, alive: alive || stopping }),
            () => heartbeatEvent({ kind: 'failed', now: performance.now() }),
          );
          sweepDeadWorkers(heartbeatPool).catch(() => undefined);
        } else if (c.kind === 'renew') renew(c.dead);
        else if (c.kind === 'cut-off') cutOff(c.silentMs);
        else log(`orch worker ${registration.id}: the database answers again after ${(c.silentMs / 1000).toFixed(1)} s`);
      }
    };
    heartbeat = setInterval(() => heartbeatEvent({ kind: 'tick', now: performance.now() }), timing.heartbeatMs);
    o.signal?.addEventListener('abort', () => stop('signal'), { once: true });
    o.onReady?.(registration.id);
    if (o.signal?.aborted) stop('signal');
    else pump();
    await whenDrained;
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    if (poll) clearInterval(poll);
    await listener?.end().catch(() => undefined);
    await reg?.stop().catch(() => undefined);
    await attempts.close();
    await tracing?.shutdown();
    await heartbeatPool.end().catch(() => undefined);
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
      unreachable: r.state === 'alive' && Number(r.age) > 2.5 * clusterTiming().heartbeatMs,
      running: Number(r.running),
    }));
  } finally {
    await pool.end();
  }
}
