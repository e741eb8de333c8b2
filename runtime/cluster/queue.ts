/**
 * The step queue in `orch.attempts` (migration 9; docs/cluster.md, "The step queue"): the
 * attempt row is the job. Two statements carry every step between an owner and the workers:
 *
 * - `dispatchAttempts` — the owner upserts the rows of many attempts at once (a new fence for one
 *   dispatched again) and NOTIFYs `orch_dispatch`, inside the journal commit of their
 *   `step_started` events; a worker can only see a step whose start is durable.
 * - `exchange` — a worker, in one statement (one commit), records its finished results, each
 *   fenced (`fence`, `worker` = the id it claimed the attempt under, `running`), NOTIFYs the runs'
 *   owners, gives back claimed attempts it will not start (`Release`), and — while its
 *   registration is alive — claims up to N ready attempts of its tasks with
 *   `FOR UPDATE SKIP LOCKED`, so two workers never claim one attempt.
 */
import type pg from 'pg';
import { attemptKey } from './attempt-rows.js';
import { jobText } from './job-text.js';
import { ATTEMPT_CHANNEL, type StepJob } from './jobs.js';

/** The owner NOTIFYs this channel (payload: the task identifier) when it dispatches attempts. */
export const DISPATCH_CHANNEL = 'orch_dispatch';
/**
 * Owners NOTIFY this channel when they give up on an attempt (race lost, step or run cancelled,
 * timeout): payload `AbandonNotice` as JSON. The worker running it aborts its handler.
 */
export const ABANDON_CHANNEL = 'orch_abandon';

export interface AbandonNotice {
  readonly run: string;
  readonly key: string;
  readonly attempt: number;
  /** The owner's reason (`lost race pick to hare`, `cancelled by user`, `timeout`). */
  readonly reason: string;
}

/** A notice from `payload`, or null when it is not one. */
export function abandonNotice(payload: string | undefined): AbandonNotice | null {
  try {
    const n = JSON.parse(payload ?? '') as Partial<AbandonNotice> | null;
    return n && typeof n.run === 'string' && typeof n.key === 'string' && typeof n.attempt === 'number' && typeof n.reason === 'string' ? (n as AbandonNotice) : null;
  } catch {
    return null;
  }
}

/** One attempt to dispatch: its row's key, queue and payload (the job without its fence). */
export interface Dispatch {
  readonly run: string;
  readonly key: string;
  readonly attempt: number;
  readonly task: string;
  readonly handler: string | null;
  readonly job: Omit<StepJob, 'fence'>;
}

/**
 * Upserts the attempts' rows as `dispatched` on `db` (the caller's transaction, or alone in its
 * own) and wakes idle workers; the fence of each, in order. An attempt that had a row (its worker
 * died before claiming it, or refused it) gets the next fence.
 */
export async function dispatchAttempts(db: pg.ClientBase | pg.Pool, owner: string, ds: readonly Dispatch[]): Promise<number[]> {
  if (ds.length === 0) return [];
  const { rows } = await db.query<{ run_id: string | null; step_key: string; attempt: number; fence: string }>({
    // Prepared once per connection: planned once, not with every dispatch.
    name: 'orch_dispatch_attempts',
    // The rows' keys as one JSON document (a text array was escaped character by character by
    // the driver), their jobs as one text, a line each: JSON text never holds a raw line feed.
    // Inside the document each job was parsed as JSON by Postgres, most of the statement's time
    // (docs/cluster.md, "The dispatch's JSON"); split on line feeds, it is only copied.
    // Only the rows dispatched again come back (a new row's fence is the column's default, 1),
    // and each task is notified once: returning and notifying every row cost the owner a row to
    // read and Postgres a `pg_notify` call per step, for one notification a task in the end.
    text: `WITH d AS (
       SELECT run_id, step_key, attempt, task, handler, job FROM ROWS FROM (
         json_to_recordset($1::json) AS (run_id text, step_key text, attempt int, task text, handler text),
         unnest(string_to_array($4, E'\\n'))) AS d(run_id, step_key, attempt, task, handler, job)),
     up AS (
       INSERT INTO orch.attempts AS a (run_id, step_key, attempt, owner, status, task, handler, job)
       SELECT run_id, step_key, attempt, $2, 'dispatched', task, handler, job FROM d
       ON CONFLICT (run_id, step_key, attempt) DO UPDATE
         SET fence = a.fence + 1, owner = excluded.owner, worker = NULL, status = 'dispatched',
             -- the last refusal stays readable while no worker with the right handler took it
             outcome = CASE WHEN a.status = 'refused' THEN a.outcome END,
             folded = false, dispatched_at = now(), dispatched_xact = txid_current(), started_at = NULL, finished_at = NULL,
             task = excluded.task, handler = excluded.handler, job = excluded.job
       RETURNING a.run_id, a.step_key, a.attempt, a.fence, a.task)
     SELECT run_id, step_key, attempt, fence::text FROM up WHERE fence <> ${NEW_FENCE}
     UNION ALL
     SELECT NULL, NULL, NULL, pg_notify($3, task)::text FROM (SELECT DISTINCT task FROM up) AS woke`,
    values: [
      JSON.stringify(ds.map((d) => ({ run_id: d.run, step_key: d.key, attempt: d.attempt, task: d.task, handler: d.handler }))),
      owner,
      DISPATCH_CHANNEL,
      ds.map((d) => jobText(d.job)).join('\n'),
    ],
  });
  const fences = new Map<string, number>();
  for (const r of rows) if (r.run_id !== null) fences.set(attemptKey(r.run_id, r.step_key, r.attempt), Number(r.fence));
  return ds.map((d) => fences.get(attemptKey(d.run, d.key, d.attempt)) ?? NEW_FENCE);
}

/** The fence of an attempt row when first inserted (`orch.attempts.fence DEFAULT 1`, migration 4). */
const NEW_FENCE = 1;

/** The longest NOTIFY payload that carries outcomes (Postgres refuses more than 8000 bytes). */
const NOTIFY_PAYLOAD_MAX = 7900;
/**
 * Outcomes a NOTIFY carries at most: a no-op step's result is ~130 bytes of payload, so 32 fit
 * with room for larger outputs; a part that still does not fit is sent as its run id (a read).
 */
const TOLD_PER_NOTIFY = 32;

/** What a worker's NOTIFY on `orch_attempt` carries: the run id alone, or the outcomes it recorded. */
export interface ToldOutcomes {
  readonly run: string;
  readonly done: readonly { readonly key: string; readonly attempt: number; readonly fence: number; readonly status: string; readonly outcome: string | null }[];
}

/** The outcomes of an `orch_attempt` payload, or null (a run id alone: read the rows). */
export function toldOutcomes(payload: string | undefined): ToldOutcomes | null {
  if (payload === undefined || !payload.startsWith('{')) return null;
  try {
    const t = JSON.parse(payload) as ToldOutcomes;
    return typeof t.run === 'string' && Array.isArray(t.done) ? t : null;
  } catch {
    return null;
  }
}

/** A finished attempt's result, as a worker records it. */
export interface Result {
  readonly run: string;
  readonly key: string;
  readonly attempt: number;
  readonly fence: number;
  /**
   * The worker id the attempt was claimed under (default: the exchange's). A worker that
   * registered again since (registration.ts) records it under the old id, whose running attempts
   * the sweeper abandoned when it declared that id dead: such a result is refused.
   */
  readonly worker?: string;
  /**
   * `refused`: the worker would not run its handler (another copy of it than the owner's).
   * `abandoned`: the worker gave it back, its handler aborted when it was cut off from the
   * database (the outcome's `error` says so): its owner journals it lost and runs the step again.
   */
  readonly status: 'succeeded' | 'failed' | 'refused' | 'abandoned';
  /** The outcome as JSON text. */
  readonly outcome: string;
}

/** A claimed attempt a worker gives back unstarted (its window shrank): `dispatched` again at the same fence. */
export interface Release {
  readonly run: string;
  readonly key: string;
  readonly attempt: number;
  readonly fence: number;
}

export interface ExchangeAnswer {
  /** The results this worker may no longer record (it was presumed dead, or the owner gave up). */
  readonly refused: readonly Result[];
  /** The attempts claimed, now `running` on this worker. */
  readonly claimed: readonly StepJob[];
}

/**
 * Records `results` (each only while its row is still running at its fence under the id it was
 * claimed with) and claims, under `worker` and only while that id is alive in `orch.workers`, up
 * to `claim` ready attempts of `tasks` whose handler hash is not in `forbidden`: one statement.
 */
export async function exchange(
  db: pg.Pool | pg.ClientBase,
  worker: string,
  results: readonly Result[],
  claim: number,
  tasks: readonly string[],
  forbidden: readonly string[],
  release: readonly Release[] = [],
): Promise<ExchangeAnswer> {
  const { rows } = await db.query<{ kind: string; run_id: string | null; step_key: string | null; attempt: number | null; fence: string | null; job: string | null }>({
    // Prepared once per connection: a worker's every exchange is this statement, planned once.
    name: 'orch_exchange',
    text: `WITH r AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $13::text[]) AS r(run_id, step_key, attempt, fence, status, outcome, worker)),
     -- Each result's row found by its primary key, then updated by its ctid: a row abandoned since
     -- (by the sweeper, by its owner) is rechecked at that ctid and refused (pg-sweep's race test).
     -- Joined directly, the generic plan — made on a young table, where attempts_by_worker looks
     -- like one row — compared every running attempt of every worker with every result (64 × 48
     -- per exchange on the bench); 'running' is a parameter so that the look-up cannot take that
     -- index either.
     done AS (
       UPDATE orch.attempts a SET status = r.status, outcome = r.outcome, finished_at = now(), job = NULL,
              -- a refused attempt never ran: it counts as unclaimed
              started_at = CASE WHEN r.status = 'refused' THEN NULL ELSE a.started_at END
         FROM r, LATERAL (
                SELECT x.ctid AS t FROM orch.attempts x
                 WHERE x.run_id = r.run_id AND x.step_key = r.step_key AND x.attempt = r.attempt
                   AND x.fence = r.fence AND x.worker = r.worker AND x.status = $19
                -- not pulled up into the join (the planner would order it back)
                OFFSET 0) k
        WHERE a.ctid = k.t
       RETURNING a.run_id, a.step_key, a.attempt, a.fence, a.status, a.outcome),
     -- the outcomes themselves, when they fit a notification (8000 bytes): the owner needs no read.
     -- At most $20 a notification: all of a run's in one, a worker's line of no-op steps
     -- outgrew the payload every few exchanges, and each time the owner read its waiting rows.
     told AS (
       SELECT pg_notify($8, CASE WHEN octet_length(p) <= $12 THEN p ELSE run_id END)
         FROM (SELECT run_id, json_build_object('run', run_id, 'done', json_agg(json_build_object(
                 'key', step_key, 'attempt', attempt, 'fence', fence, 'status', status, 'outcome', outcome)))::text AS p
                 FROM (SELECT *, (row_number() OVER (PARTITION BY run_id) - 1) / $20 AS part FROM done) d
                GROUP BY run_id, part) x),
     picked AS (
       SELECT ctid AS t, job FROM orch.attempts
        WHERE status = 'dispatched' AND job IS NOT NULL AND task = ANY($9) AND (handler IS NULL OR handler <> ALL($10))
          -- an id declared dead claims nothing (a frozen worker woken before it registered again)
          AND EXISTS (SELECT 1 FROM orch.workers w WHERE w.id = $7 AND w.state = 'alive')
        ORDER BY dispatched_at LIMIT $11
        FOR UPDATE SKIP LOCKED),
     -- the locked version updated where it lies (its ctid cannot change under our lock): no
     -- primary-key descent per claimed row to find it again
     claimed AS (
       UPDATE orch.attempts a SET status = 'running', worker = $7, started_at = now()
         FROM picked p
        WHERE a.ctid = p.t
       RETURNING a.run_id, a.step_key, a.attempt, a.fence, p.job),
     -- given back unstarted, at the same fence (this statement's own claim does not see them)
     released AS (
       UPDATE orch.attempts a SET status = 'dispatched', worker = NULL, started_at = NULL
         FROM unnest($14::text[], $15::text[], $16::int[], $17::bigint[]) AS x(run_id, step_key, attempt, fence)
        WHERE a.run_id = x.run_id AND a.step_key = x.step_key AND a.attempt = x.attempt AND a.fence = x.fence
          AND a.worker = $7 AND a.status = 'running'
       RETURNING a.task),
     woke AS (SELECT pg_notify($18, task) FROM (SELECT DISTINCT task FROM released) t)
     SELECT 'done' AS kind, run_id, step_key, attempt, NULL::text AS fence, NULL::text AS job FROM done
     UNION ALL SELECT 'claimed', run_id, step_key, attempt, fence::text, job FROM claimed
     UNION ALL SELECT 'told', NULL, NULL, NULL, NULL, NULL FROM told
     UNION ALL SELECT 'woke', NULL, NULL, NULL, NULL, NULL FROM woke`,
    values: [
      results.map((r) => r.run),
      results.map((r) => r.key),
      results.map((r) => r.attempt),
      results.map((r) => r.fence),
      results.map((r) => r.status),
      results.map((r) => r.outcome),
      worker,
      ATTEMPT_CHANNEL,
      [...tasks],
      [...forbidden],
      claim,
      NOTIFY_PAYLOAD_MAX,
      results.map((r) => r.worker ?? worker),
      release.map((r) => r.run),
      release.map((r) => r.key),
      release.map((r) => r.attempt),
      release.map((r) => r.fence),
      DISPATCH_CHANNEL,
      'running',
      TOLD_PER_NOTIFY,
    ],
  });
  const recorded = new Set(rows.filter((r) => r.kind === 'done').map((r) => attemptKey(r.run_id!, r.step_key!, r.attempt!)));
  const claimed: StepJob[] = [];
  for (const r of rows) {
    if (r.kind !== 'claimed') continue;
    const job = jobOfRow({ run_id: r.run_id!, step_key: r.step_key!, attempt: r.attempt!, fence: r.fence!, job: r.job });
    if (job) claimed.push(job);
  }
  return { refused: results.filter((r) => !recorded.has(attemptKey(r.run, r.key, r.attempt))), claimed };
}

/** A running attempt's row as the job its worker runs (null: its payload is gone, the attempt ended). */
export function jobOfRow(r: { readonly run_id: string; readonly step_key: string; readonly attempt: number; readonly fence: string; readonly job: string | null }): StepJob | null {
  const payload = JSON.parse(r.job ?? 'null') as Omit<StepJob, 'fence'> | null;
  return payload === null ? null : { ...payload, run: r.run_id, key: r.step_key, attempt: r.attempt, fence: Number(r.fence) };
}
