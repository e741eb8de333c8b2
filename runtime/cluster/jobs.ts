/**
 * What the owner of a run and `orch worker` processes share (docs/cluster.md, "The step
 * queue"): the job payload, task identifiers, the NOTIFY channel, and the sweeper that turns
 * workers silent for more than 5 s into dead ones and abandons their attempts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type pg from 'pg';
import type { CapabilityIR } from '../../compiler/index.js';
import { clusterTiming, DEFAULT_CLUSTER_TIMING } from './timing.js';

/** Workers NOTIFY this channel (payload: the run id) when they record an outcome or abandon one. */
export const ATTEMPT_CHANNEL = 'orch_attempt';

/**
 * A worker whose heartbeat is older than this (database clock) is dead: the default of
 * `clusterTiming().workerDeadAfterMs` (runtime/cluster/timing.ts), which the code uses.
 */
export const WORKER_DEAD_AFTER_S = DEFAULT_CLUSTER_TIMING.workerDeadAfterMs / 1000;

/** One sweeper at a time across owners and workers. */
const SWEEP_LOCK = 0x6f72_6377; // 'orcw'

/** Task identifier of a step's job: one per resource, `orch_step` for steps on no resource. */
export function taskIdentifier(resource: string | null): string {
  return resource === null ? 'orch_step' : `orch_step:${resource}`;
}

/** The identifiers an `orch worker --resources a,b` takes: steps on no resource, and on a and b. */
export function taskIdentifiers(resources: readonly string[]): string[] {
  return [taskIdentifier(null), ...resources.map((r) => taskIdentifier(r))];
}

/** The job of one dispatch of an attempt. */
export interface StepJob {
  readonly run: string;
  /** The attempt row's `step_key`: the step instance key, with `~fallback` / `~compensate` for those purposes. */
  readonly key: string;
  readonly attempt: number;
  readonly fence: number;
  readonly stepId: string;
  readonly capability: CapabilityIR;
  /** The plan's `base_dir` relative to its project root (a worker resolves it inside `--project`). */
  readonly baseDir: string;
  readonly input: { readonly [name: string]: unknown };
  readonly resource: string | null;
  /**
   * The endpoint and model of the bound resource (§8.1), for a model call the worker answers with
   * its own `endpoints` (absent when the resource names neither).
   */
  readonly resourceModel?: { readonly endpoint?: string; readonly model?: string };
  /**
   * A model call's endpoint tier as compiled (§9.1): a worker whose own config gives that endpoint
   * a higher tier refuses the attempt (absent: not a model call, or an IR that records none).
   */
  readonly endpointTier?: 'local' | 'edge' | 'cloud';
  /**
   * The NAMES of the secrets the attempt needs (never values: runtime/cluster/job-secrets.ts). The
   * worker resolves each from its environment, then its own `orch.config` `secrets`, and fills
   * the input's placeholders with them; one it lacks fails the attempt, naming it.
   */
  readonly secrets: readonly string[];
  /** The tag of the input's placeholders (present when `secrets` is not empty): only those are filled. */
  readonly secretTag?: string;
  readonly timeoutMs: number | null;
  /** The owner's output limit; the worker applies the smaller of it and its own config's `maxOutputBytes`. */
  readonly maxOutputBytes: number | null;
  /** Why the previous attempt of the call failed: a model call tells the model (§8.1). */
  readonly previousError?: string;
  /** SHA-256 of the handler module's file on the owner (null: a built-in handler, or not found there). */
  readonly handlerHash: string | null;
  /**
   * W3C traceparent of the owner's step span when the run is traced: the worker's attempt span
   * is its child (absent from jobs of untraced runs and of older owners).
   */
  readonly traceparent?: string;
}

/** The key of one dispatch of an attempt, for logs: unique per fence. */
export const jobKey = (run: string, key: string, attempt: number, fence: number): string => `${run}/${key}#${attempt}.${fence}`;

/** A handler hash as a tag (`handler:<sha256>`). */
export const handlerFlag = (hash: string): string => `handler:${hash}`;

const hashes = new Map<string, { readonly stamp: string; readonly hash: string }>();

/** SHA-256 (hex) of a handler module's content, cached by path, mtime and size. */
export function handlerHash(file: string): string {
  const st = statSync(file);
  const stamp = `${st.mtimeMs}:${st.size}`;
  const known = hashes.get(file);
  if (known?.stamp === stamp) return known.hash;
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
  hashes.set(file, { stamp, hash });
  return hash;
}

export interface SweepResult {
  readonly dead: readonly string[];
  readonly abandoned: number;
}

/**
 * Marks workers silent for more than 5 s (the default `deadAfterMs`) dead, abandons the attempts
 * they claimed and had not finished — and any attempt running under an id that is no longer
 * alive (claimed by a frozen worker's exchange in flight as it was declared dead, before it
 * registered again) — and wakes the owners of the affected runs, all in one transaction. A worker
 * claims an attempt and takes it in one statement (`queue.ts` `exchange`), so there is no attempt
 * a dead worker fetched without claiming. Another process already sweeping: nothing
 * (`pg_try_advisory_xact_lock`).
 */
export async function sweepDeadWorkers(pool: pg.Pool, deadAfterMs = clusterTiming().workerDeadAfterMs): Promise<SweepResult> {
  const deadAfterS = deadAfterMs / 1000;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [SWEEP_LOCK]);
    if (!lock.rows[0]?.ok) {
      await client.query('COMMIT');
      return { dead: [], abandoned: 0 };
    }
    const dead = await client.query<{ id: string }>(
      `UPDATE orch.workers SET state = 'dead'
        WHERE id IN (SELECT id FROM orch.workers WHERE state = 'alive' AND heartbeat_at < now() - make_interval(secs => $1)
                     FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [deadAfterS],
    );
    const ids = dead.rows.map((r) => r.id);
    const abandoned = await client.query<{ run_id: string }>(
      `UPDATE orch.attempts SET status = 'abandoned', finished_at = now(), job = NULL
        WHERE status = 'running'
          AND (worker = ANY($1)
               -- claimed under an id already dead (a frozen worker woken, before it registered again)
               OR NOT EXISTS (SELECT 1 FROM orch.workers w WHERE w.id = orch.attempts.worker AND w.state = 'alive'))
        RETURNING run_id`,
      [ids],
    );
    for (const run of new Set(abandoned.rows.map((r) => r.run_id))) await client.query('SELECT pg_notify($1, $2)', [ATTEMPT_CHANNEL, run]);
    await client.query('COMMIT');
    return { dead: ids, abandoned: abandoned.rowCount ?? 0 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
