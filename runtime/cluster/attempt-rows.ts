/**
 * Reading and folding `orch.attempts` rows for adoption: what a run's new owner finds of the
 * attempts a dead owner left in flight, whichever executor continues the run — the workers
 * (`RemoteExecutor`) or this process (`AdoptingExecutor`, `--local`).
 */
import type pg from 'pg';
import { batchedHook } from '../scheduler/commit-hooks.js';
import type { AttemptOutcome, AttemptRequest, CommitHook } from '../scheduler/types.js';

/**
 * What a dead owner left of a step in flight: the outcome a worker recorded, or (`outcome` null)
 * an attempt still dispatched or running, whose outcome is still to come.
 */
export interface RecoveredAttempt {
  readonly attempt: number;
  readonly fence: number;
  readonly outcome: AttemptOutcome | null;
}

export interface RecoverableAttempts {
  /** By step key: the attempt a worker finished, or still has. */
  readonly adopted: ReadonlyMap<string, RecoveredAttempt>;
  /** Steps whose attempt in flight was abandoned or refused before any worker claimed it: its handler never ran. */
  readonly neverRan: ReadonlySet<string>;
}

/**
 * Of a run's steps in flight at the interruption (step key → attempt number), judged by the latest
 * unfolded attempt row up to the one in flight (an owner killed between adopting an outcome and
 * folding it left the adopting attempt in flight, with no row of its own): those a worker finished
 * or still has, and those whose handler provably never ran. A step in neither (a worker died
 * running it, or no row) is the scheduler core's to judge.
 */
export async function recoverableAttempts(pool: pg.Pool, runId: string, inFlight: ReadonlyMap<string, number>): Promise<RecoverableAttempts> {
  const { rows } = await pool.query<{ step_key: string; attempt: number; fence: number; status: string; claimed: boolean; outcome: string | null }>(
    `SELECT DISTINCT ON (step_key) step_key, attempt, fence, status, started_at IS NOT NULL AS claimed, outcome FROM orch.attempts
      WHERE run_id = $1 AND NOT folded AND step_key = ANY($2) AND attempt <= ($3::jsonb ->> step_key)::int
      ORDER BY step_key, attempt DESC`,
    [runId, [...inFlight.keys()], JSON.stringify(Object.fromEntries(inFlight))],
  );
  const adopted = new Map<string, RecoveredAttempt>();
  const neverRan = new Set<string>();
  for (const r of rows) {
    const at = { attempt: r.attempt, fence: Number(r.fence) };
    if (r.status === 'succeeded' || r.status === 'failed') adopted.set(r.step_key, { ...at, outcome: parseOutcome(r.outcome) });
    else if (r.status === 'dispatched' || r.status === 'running') adopted.set(r.step_key, { ...at, outcome: null });
    else if (!r.claimed && r.attempt === inFlight.get(r.step_key)) neverRan.add(r.step_key);
  }
  return { adopted, neverRan };
}

/**
 * Marks an outcome folded, inside the commit that records what it leads to (its step_completed …):
 * a crash before that commit leaves it unfolded, for the next owner to recover. The folds of one
 * commit are one statement (`batchedHook`).
 */
export function foldHook(run: string, key: string, attempt: number, fence: number): CommitHook {
  return batchedHook(foldRows, { run, key, attempt, fence });
}

interface Fold {
  readonly run: string;
  readonly key: string;
  readonly attempt: number;
  readonly fence: number;
}

/**
 * The folds of one commit, one statement. Each row is found by its primary key in a `LATERAL`
 * subquery (kept out of the join by `OFFSET 0`, as the exchange finds its results) and updated by
 * its `ctid`: whatever the table's size when the plan is made, that plan is a key look-up per fold.
 * Joined to the unnested rows with the key also bounded by `= ANY`, the plan the owner's connection
 * cached after its first folds — made on a young table of a few hundred rows — was sometimes a
 * sequential scan, kept as the table grew: in about one fresh bench run in six, every fold read
 * the whole table (docs/cluster.md, "The fold's plan").
 */
async function foldRows(tx: unknown, folds: readonly Fold[]): Promise<void> {
  await (tx as pg.ClientBase).query({
    name: 'orch_fold_attempts',
    text: `UPDATE orch.attempts a SET folded = true
       FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS f(run_id, step_key, attempt, fence),
            LATERAL (SELECT x.ctid AS t FROM orch.attempts x
                      WHERE x.run_id = f.run_id AND x.step_key = f.step_key AND x.attempt = f.attempt
                        AND x.fence = f.fence AND NOT x.folded
                     -- not pulled up into the join (the planner would order it back)
                     OFFSET 0) k
      -- the fence is checked in the look-up only: compared here too, it gave the planner a join
      -- on it (a hash join over a sequential scan of a small table)
      WHERE a.ctid = k.t AND NOT a.folded`,
    values: [folds.map((f) => f.run), folds.map((f) => f.key), folds.map((f) => f.attempt), folds.map((f) => f.fence)],
  });
}

/** The outcome a worker recorded (JSON text), or a failure saying it is unreadable. */
export function parseOutcome(text: string | null): AttemptOutcome {
  try {
    const o = JSON.parse(text ?? 'null') as AttemptOutcome | null;
    if (o && typeof o === 'object' && typeof o.ok === 'boolean') return o;
  } catch {
    // fall through
  }
  return { ok: false, error: 'the worker recorded no readable outcome' };
}

/** A step instance of a run, as a map key. */
export function runStep(run: string, key: string): string {
  return `${run}\u0000${key}`;
}

/** One attempt of a step instance of a run, as a map key. */
export function attemptKey(run: string, key: string, attempt: number): string {
  return `${runStep(run, key)}\u0000${attempt}`;
}

/** Where a recovered outcome of a step is kept (null: a fallback or compensation call, which never receives one). */
export function recoveredKey(req: AttemptRequest): string | null {
  return req.purpose === 'call' ? runStep(req.runId, req.stepId) : null;
}
