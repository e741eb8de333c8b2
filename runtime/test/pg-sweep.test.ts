/**
 * The sweeper and a worker that dies between fetching a step's job and claiming its attempt: a
 * real graphile-worker process locks the job and is killed (SIGKILL) inside the task, before any
 * claim, without ever registering in `orch.workers`. With `max_attempts 1` nobody fetches that job
 * again, so unless the sweeper abandons the attempt the owner waits for it for ever (the hang the
 * chaos test met once in CI). A fresh lock is left alone: a live worker claims within
 * milliseconds.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKey, sweepDeadWorkers, taskIdentifier } from '../cluster/jobs.js';
import { migrate } from '../journal/pg/migrations.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { waitUntil } from '../../test/support/wait.js';

/** The sweeper's threshold here (the product's is 5 s, WORKER_DEAD_AFTER_S): same path, test speed. */
const DEAD_AFTER_MS = 1000;

let db: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  db = await startPostgres();
  await migrate(db.url);
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

/** A graphile-worker process whose task kills its own process: the job stays locked by a dead worker. */
function lockAndDie(url: string): Promise<number | null> {
  const script = `
    import { run } from 'graphile-worker';
    await run({
      connectionString: process.env.DB,
      concurrency: 1,
      noHandleSignals: true,
      pollInterval: 200,
      parsedCronItems: [],
      taskList: { ${JSON.stringify(taskIdentifier(null))}: async () => process.kill(process.pid, 'SIGKILL') },
    });
    await new Promise(() => {});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), env: { ...process.env, DB: url }, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal === 'SIGKILL' ? null : code)));
}

const status = async (key: string) =>
  (await pool.query<{ status: string }>(`SELECT status FROM orch.attempts WHERE run_id = 'r1' AND step_key = $1`, [key])).rows[0]?.status;

describe('a job locked by a worker that died before claiming its attempt', () => {
  it('is abandoned by the sweeper once its lock is older than the dead-worker threshold, and only then', async () => {
    await pool.query(`INSERT INTO orch.attempts (run_id, step_key, attempt, owner, status) VALUES ('r1', 'a', 1, 'owner', 'dispatched')`);
    await pool.query(`SELECT graphile_worker.add_job($1, '{}'::json, max_attempts => 1, job_key => $2)`, [taskIdentifier(null), jobKey('r1', 'a', 1, 1)]);

    expect(await lockAndDie(db.url)).toBeNull();
    const job = (await pool.query<{ locked_by: string | null; attempts: number }>(`SELECT locked_by, attempts FROM graphile_worker.jobs`)).rows;
    expect(job).toHaveLength(1);
    expect(job[0]!.locked_by).not.toBeNull();
    expect(job[0]!.attempts).toBe(1);

    // The lock's age by the database's clock, which is the one the sweeper reads.
    const lockAgeMs = async () =>
      (await pool.query<{ ms: number }>(`SELECT (extract(epoch from now() - locked_at) * 1000)::float8 AS ms FROM graphile_worker.jobs`)).rows[0]!.ms;

    // Freshly locked: a live worker would be claiming it now. The threshold is a little older
    // than the lock (the same code path as the product's 5 s, at test speed), so it is left alone.
    await sweepDeadWorkers(pool, (await lockAgeMs()) + DEAD_AFTER_MS);
    expect(await status('a')).toBe('dispatched');

    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      await listener.query('LISTEN orch_attempt');
      const woken = new Promise<string | undefined>((resolve) => listener.once('notification', (n) => resolve(n.payload)));
      // Older than the threshold now, by the database's clock: no fixed sleep.
      await waitUntil(async () => (await lockAgeMs()) > DEAD_AFTER_MS, `the job's lock to be ${DEAD_AFTER_MS} ms old`);
      const swept = await sweepDeadWorkers(pool, DEAD_AFTER_MS);
      expect(swept.abandoned).toBe(1);
      expect(await status('a')).toBe('abandoned');
      // The owner is woken to dispatch it again under the next fence.
      expect(await woken).toBe('r1');
    } finally {
      await listener.end();
    }
  }, 60_000);
});
