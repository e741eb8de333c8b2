/**
 * The step queue in `orch.attempts` and the sweeper, statement by statement on a real Postgres:
 * a batched dispatch wakes `orch_dispatch` and bumps the fence of an attempt dispatched again;
 * two workers claiming at once never claim one attempt twice (`FOR UPDATE SKIP LOCKED`); a
 * result is recorded only at its fence, by its worker, while running — also when its attempt is
 * abandoned while the exchange waits on its row; a worker that falls silent
 * is declared dead once its heartbeat is older than the threshold (by the database's clock) —
 * only then — and the attempts it claimed are abandoned and their owners woken, its late results
 * refused, while attempts nobody claimed stay dispatched. A dead id claims nothing, a worker that
 * registered again records results under the id it claimed with, and an attempt left running under
 * a dead id is abandoned by the next sweep. A worker gives back claimed attempts it will not start
 * (its window shrank): dispatched again at the same fence, for another worker. An owner LISTENs
 * for outcomes only while it waits on attempts (every listening backend works for every NOTIFY).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldHook } from '../cluster/attempt-rows.js';
import { ATTEMPT_CHANNEL, sweepDeadWorkers, taskIdentifier, type StepJob } from '../cluster/jobs.js';
import { DISPATCH_CHANNEL, dispatchAttempts, exchange, toldOutcomes, type Dispatch } from '../cluster/queue.js';
import { migrate } from '../backend/pg/migrations.js';
import { runCommitHooks } from '../scheduler/commit-hooks.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { waitUntil } from '../../test/support/wait.js';
import { Runtime } from '../index.js';
import { fx } from './helpers.js';
import { plan, step } from './ir-builder.js';

/** The sweeper's threshold here (the product's is 5 s, WORKER_DEAD_AFTER_S): same path, test speed. */
const DEAD_AFTER_MS = 1000;
const TASKS = [taskIdentifier(null)];

let db: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  db = await startPostgres();
  await migrate(db.url);
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

function dispatchOf(run: string, key: string, attempt = 1, handler: string | null = null): Dispatch {
  const job: Omit<StepJob, 'fence'> = {
    run,
    key,
    attempt,
    stepId: key,
    capability: { name: 'noop' } as StepJob['capability'],
    baseDir: '.',
    input: {},
    resource: null,
    secrets: [],
    timeoutMs: null,
    maxOutputBytes: null,
    handlerHash: handler,
  };
  return { run, key, attempt, task: taskIdentifier(null), handler, job };
}

async function register(id: string): Promise<void> {
  await pool.query(`INSERT INTO orch.workers (id, host, pid, slots) VALUES ($1, 'test', 1, 4)`, [id]);
}

const rowOf = async (run: string, key: string) =>
  (await pool.query<{ status: string; worker: string | null; fence: string }>(`SELECT status, worker, fence::text FROM orch.attempts WHERE run_id = $1 AND step_key = $2`, [run, key])).rows[0];

async function listen(channel: string): Promise<{ next: () => Promise<string | undefined>; end: () => Promise<void> }> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`LISTEN ${channel}`);
  const seen: (string | undefined)[] = [];
  c.on('notification', (n) => seen.push(n.payload));
  return {
    next: async () => {
      await waitUntil(() => seen.length > 0, `a notification on ${channel}`);
      return seen.shift();
    },
    end: () => c.end(),
  };
}

describe('the step queue', () => {
  it('dispatches many attempts in one statement, wakes workers, and gives one dispatched again the next fence', async () => {
    const woke = await listen(DISPATCH_CHANNEL);
    try {
      const fences = await dispatchAttempts(pool, 'owner', [dispatchOf('q1', 'a'), dispatchOf('q1', 'b'), dispatchOf('q1', 'c')]);
      expect(fences).toEqual([1, 1, 1]);
      expect(await woke.next()).toBe(taskIdentifier(null));
      expect(await dispatchAttempts(pool, 'owner', [dispatchOf('q1', 'b')])).toEqual([2]);
    } finally {
      await woke.end();
    }
    await pool.query(`DELETE FROM orch.attempts`);
  });

  it('stores each job as its JSON text, line feeds and all, and gives a batch mixing new and dispatched-again rows their fences in order', async () => {
    const odd = (key: string): Dispatch => {
      const d = dispatchOf('q6', key);
      return { ...d, job: { ...d.job, input: { text: 'a\nb\r\n"c"\u2028\\n\u0000 é 𝄞', list: ['\n', { x: '\n' }] } } };
    };
    const first = [odd('a'), odd('b')];
    expect(await dispatchAttempts(pool, 'owner', first)).toEqual([1, 1]);
    const second = [odd('c'), odd('a'), odd('d'), odd('b')];
    expect(await dispatchAttempts(pool, 'owner', second)).toEqual([1, 2, 1, 2]);
    const { rows } = await pool.query<{ step_key: string; job: string }>(`SELECT step_key, job FROM orch.attempts WHERE run_id = 'q6' ORDER BY step_key`);
    expect(rows.map((r) => r.step_key)).toEqual(['a', 'b', 'c', 'd']);
    for (const r of rows) expect(r.job).toBe(JSON.stringify(odd(r.step_key).job));
    await pool.query(`DELETE FROM orch.attempts`);
  });

  it('never lets two workers claim one attempt, and records a result only at its fence, by its worker', async () => {
    await register('w1');
    await register('w2');
    await dispatchAttempts(pool, 'owner', Array.from({ length: 10 }, (_, i) => dispatchOf('q2', `s${i}`)));
    const [a, b] = await Promise.all([exchange(pool, 'w1', [], 6, TASKS, []), exchange(pool, 'w2', [], 6, TASKS, [])]);
    const keys = [...a.claimed, ...b.claimed].map((j) => j.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(10);
    const job = a.claimed[0]!;
    expect(job.fence).toBe(1);
    expect(job.run).toBe('q2');
    expect((await rowOf('q2', job.key))!.status).toBe('running');

    const outcome = JSON.stringify({ ok: true, output: 1 });
    // Another worker, or a stale fence: refused, nothing written.
    const wrong = await exchange(pool, 'w2', [{ run: 'q2', key: job.key, attempt: 1, fence: 1, status: 'succeeded', outcome }], 0, TASKS, []);
    expect(wrong.refused).toHaveLength(1);
    const stale = await exchange(pool, 'w1', [{ run: 'q2', key: job.key, attempt: 1, fence: 7, status: 'succeeded', outcome }], 0, TASKS, []);
    expect(stale.refused).toHaveLength(1);
    expect((await rowOf('q2', job.key))!.status).toBe('running');

    const told = await listen(ATTEMPT_CHANNEL);
    try {
      const ok = await exchange(pool, 'w1', [{ run: 'q2', key: job.key, attempt: 1, fence: 1, status: 'succeeded', outcome }], 0, TASKS, []);
      expect(ok.refused).toHaveLength(0);
      // The outcome itself rides in the notification: the owner needs no read.
      const payload = toldOutcomes(await told.next());
      expect(payload).toEqual({ run: 'q2', done: [{ key: job.key, attempt: 1, fence: 1, status: 'succeeded', outcome }] });
    } finally {
      await told.end();
    }
    expect((await rowOf('q2', job.key))!.status).toBe('succeeded');
    // Recorded once: the same result again is refused.
    expect((await exchange(pool, 'w1', [{ run: 'q2', key: job.key, attempt: 1, fence: 1, status: 'failed', outcome }], 0, TASKS, [])).refused).toHaveLength(1);
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
  });

  it('tells the owner every outcome of a large exchange in notifications of their own, never its run id alone', async () => {
    await register('w1');
    await dispatchAttempts(pool, 'owner', Array.from({ length: 70 }, (_, i) => dispatchOf('q7', `s${i}`)));
    const { claimed } = await exchange(pool, 'w1', [], 70, TASKS, []);
    expect(claimed).toHaveLength(70);
    const outcome = JSON.stringify({ ok: true, output: null });
    const told = await listen(ATTEMPT_CHANNEL);
    try {
      const results = claimed.map((j) => ({ run: j.run, key: j.key, attempt: j.attempt, fence: j.fence, status: 'succeeded' as const, outcome }));
      expect((await exchange(pool, 'w1', results, 0, TASKS, [])).refused).toHaveLength(0);
      const done: string[] = [];
      let notifications = 0;
      while (done.length < 70) {
        const payload = toldOutcomes(await told.next());
        expect(payload?.run).toBe('q7');
        notifications++;
        for (const d of payload!.done) {
          expect(d).toMatchObject({ attempt: 1, fence: 1, status: 'succeeded', outcome });
          done.push(d.key);
        }
      }
      expect(new Set(done)).toEqual(new Set(claimed.map((j) => j.key)));
      expect(notifications).toBe(3);
    } finally {
      await told.end();
    }
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
  });

  it('refuses a result whose attempt is abandoned while the exchange waits on its row, and records the other results of that exchange', async () => {
    await register('w1');
    await dispatchAttempts(pool, 'owner', [dispatchOf('q5', 'a'), dispatchOf('q5', 'b')]);
    const { claimed } = await exchange(pool, 'w1', [], 2, TASKS, []);
    expect(claimed).toHaveLength(2);
    const outcome = JSON.stringify({ ok: true, output: 1 });
    const results = claimed.map((j) => ({ run: j.run, key: j.key, attempt: j.attempt, fence: j.fence, status: 'succeeded' as const, outcome }));
    // The owner abandons `a` in a transaction still open when the worker's exchange reaches the row.
    const owner = await pool.connect();
    try {
      await owner.query('BEGIN');
      await owner.query(`UPDATE orch.attempts SET status = 'abandoned', folded = true, finished_at = now(), job = NULL WHERE run_id = 'q5' AND step_key = 'a'`);
      const answer = exchange(pool, 'w1', results, 0, TASKS, []);
      await waitUntil(
        async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%orch.attempts%'`)).rowCount! > 0,
        'the exchange waiting on the abandoned row',
      );
      await owner.query('COMMIT');
      const { refused } = await answer;
      expect(refused.map((r) => r.key)).toEqual(['a']);
    } finally {
      owner.release();
    }
    expect((await rowOf('q5', 'a'))!.status).toBe('abandoned');
    expect((await rowOf('q5', 'b'))!.status).toBe('succeeded');
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
  });

  it('takes back what a worker gives back unstarted, at the same fence, wakes the others, and lets one of them claim it; the giver can no longer record it', async () => {
    await register('w1');
    await register('w2');
    await dispatchAttempts(pool, 'owner', [dispatchOf('q4', 'a'), dispatchOf('q4', 'b'), dispatchOf('q4', 'c')]);
    const first = await exchange(pool, 'w1', [], 3, TASKS, []);
    expect(first.claimed).toHaveLength(3);
    const back = first.claimed.slice(1).map((j) => ({ run: j.run, key: j.key, attempt: j.attempt, fence: j.fence }));
    const woke = await listen(DISPATCH_CHANNEL);
    try {
      // Given back in the same statement as a claim of its own: it does not take them again.
      const again = await exchange(pool, 'w1', [], 3, TASKS, [], back);
      expect(again.claimed).toHaveLength(0);
      expect(await woke.next()).toBe(taskIdentifier(null));
    } finally {
      await woke.end();
    }
    for (const r of back) expect(await rowOf('q4', r.key)).toEqual({ status: 'dispatched', worker: null, fence: '1' });
    // Another worker's row, or one no longer running: a give-back changes nothing.
    await exchange(pool, 'w2', [], 0, TASKS, [], [{ run: 'q4', key: first.claimed[0]!.key, attempt: 1, fence: 1 }]);
    expect((await rowOf('q4', first.claimed[0]!.key))!.worker).toBe('w1');
    const other = await exchange(pool, 'w2', [], 3, TASKS, []);
    expect(other.claimed.map((j) => j.key).sort()).toEqual(back.map((r) => r.key).sort());
    const outcome = JSON.stringify({ ok: true, output: 1 });
    const late = await exchange(pool, 'w1', [{ run: 'q4', key: back[0]!.key, attempt: 1, fence: 1, status: 'succeeded', outcome }], 0, TASKS, []);
    expect(late.refused).toHaveLength(1);
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
  });

  it('folds outcomes by key, at their fence, with a plan made on a young table and kept as it grows', async () => {
    // An owner's connection keeps the plan it made after its first folds: made on a table of a few
    // rows, the fold joined to its keys read the whole table with every commit from then on.
    const owner = new pg.Client({ connectionString: db.url, options: '-c plan_cache_mode=force_generic_plan' });
    await owner.connect();
    const finished = (run: string, n: number, from = 0) =>
      pool.query(
        `INSERT INTO orch.attempts (run_id, step_key, attempt, owner, status, outcome)
         SELECT $1, 's' || i, 1, 'owner', 'succeeded', '{"ok":true}' FROM generate_series($2::int, $3::int) i`,
        [run, from, from + n - 1],
      );
    const fold = async (folds: readonly [string, string, number][]) => {
      await owner.query('BEGIN');
      await runCommitHooks(owner, folds.map(([run, key, fence]) => foldHook(run, key, 1, fence)));
      const { rows } = await owner.query<{ seq: string }>(`SELECT seq_scan::text AS seq FROM pg_stat_xact_user_tables WHERE relid = 'orch.attempts'::regclass`);
      await owner.query('COMMIT');
      return Number(rows[0]!.seq);
    };
    try {
      await finished('f1', 3);
      expect(await fold([['f1', 's0', 1], ['f1', 's1', 1]])).toBe(0);
      await finished('f2', 3000);
      // The second fold runs the plan the first made; one key is at a stale fence.
      expect(await fold([['f2', 's5', 1], ['f2', 's6', 2], ['f1', 's2', 1]])).toBe(0);
      const { rows } = await pool.query<{ k: string }>(`SELECT run_id || '/' || step_key AS k FROM orch.attempts WHERE folded ORDER BY 1`);
      expect(rows.map((r) => r.k)).toEqual(['f1/s0', 'f1/s1', 'f1/s2', 'f2/s5']);
    } finally {
      await owner.end();
    }
    await pool.query(`DELETE FROM orch.attempts`);
  });

  it('leaves attempts whose handler hash the worker forbids to the others', async () => {
    await register('w1');
    await dispatchAttempts(pool, 'owner', [dispatchOf('q3', 'x', 1, 'h1'), dispatchOf('q3', 'y', 1, 'h2'), dispatchOf('q3', 'z', 1, null)]);
    const got = await exchange(pool, 'w1', [], 4, TASKS, ['h1']);
    expect(got.claimed.map((j) => j.key).sort()).toEqual(['y', 'z']);
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
  });
});

describe('a worker that registers again after being declared dead', () => {
  it('claims nothing under the dead id, records a result under the id it claimed with, and an attempt left running under a dead id is abandoned by the next sweep', async () => {
    await register('old');
    await dispatchAttempts(pool, 'owner', [dispatchOf('re', 'a'), dispatchOf('re', 'b'), dispatchOf('re', 'c')]);
    const first = await exchange(pool, 'old', [], 1, TASKS, []);
    expect(first.claimed).toHaveLength(1);
    const a = first.claimed[0]!;
    // Declared dead; then an exchange of the old id in flight claims nothing.
    await pool.query(`UPDATE orch.workers SET state = 'dead' WHERE id = 'old'`);
    expect((await exchange(pool, 'old', [], 3, TASKS, [])).claimed).toHaveLength(0);
    // Registered again as `new`: it claims, and the result of `a` goes under `old`, its claim's id.
    await register('new');
    const second = await exchange(pool, 'new', [{ run: 're', key: a.key, attempt: 1, fence: 1, worker: 'old', status: 'succeeded', outcome: '{"ok":true}' }], 1, TASKS, []);
    expect(second.refused).toHaveLength(0);
    expect(second.claimed).toHaveLength(1);
    expect((await rowOf('re', a.key))!.status).toBe('succeeded');
    // The same result under the new id would have been refused: the row was not its.
    const b = second.claimed[0]!;
    expect((await rowOf('re', b.key))!.worker).toBe('new');
    // A claim that landed under the old id all the same (the race with the sweeper) is abandoned by the next sweep.
    const c = ['a', 'b', 'c'].find((k) => k !== a.key && k !== b.key)!;
    await pool.query(`UPDATE orch.attempts SET status = 'running', worker = 'old', started_at = now() WHERE run_id = 're' AND step_key = $1`, [c]);
    const swept = await sweepDeadWorkers(pool, 60_000);
    expect(swept.dead).toEqual([]);
    expect(swept.abandoned).toBe(1);
    expect((await rowOf('re', c))!.status).toBe('abandoned');
    expect((await rowOf('re', b.key))!.status).toBe('running');
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
  });
});

describe('a worker that falls silent', () => {
  it('is declared dead by the sweeper once its heartbeat is older than the threshold, and only then', async () => {
    await register('silent');
    await dispatchAttempts(pool, 'owner', [dispatchOf('r1', 'a'), dispatchOf('r1', 'b')]);
    const claimed = await exchange(pool, 'silent', [], 1, TASKS, []);
    expect(claimed.claimed).toHaveLength(1);
    const mine = claimed.claimed[0]!.key;
    const other = mine === 'a' ? 'b' : 'a';

    const ageMs = async () =>
      (await pool.query<{ ms: number }>(`SELECT (extract(epoch from now() - heartbeat_at) * 1000)::float8 AS ms FROM orch.workers WHERE id = 'silent'`)).rows[0]!.ms;
    // Fresh: left alone (the threshold a little older than its heartbeat).
    const fresh = await sweepDeadWorkers(pool, (await ageMs()) + DEAD_AFTER_MS);
    expect(fresh.dead).toEqual([]);
    expect((await rowOf('r1', mine))!.status).toBe('running');

    const told = await listen(ATTEMPT_CHANNEL);
    try {
      // Older than the threshold now, by the database's clock: no fixed sleep.
      await waitUntil(async () => (await ageMs()) > DEAD_AFTER_MS, `the heartbeat to be ${DEAD_AFTER_MS} ms old`);
      const swept = await sweepDeadWorkers(pool, DEAD_AFTER_MS);
      expect(swept.dead).toEqual(['silent']);
      expect(swept.abandoned).toBe(1);
      // The owner is woken to start the step again elsewhere.
      expect(await told.next()).toBe('r1');
    } finally {
      await told.end();
    }
    expect((await rowOf('r1', mine))!.status).toBe('abandoned');
    expect((await rowOf('r1', other))!.status).toBe('dispatched');
    // Its late result is refused.
    const late = await exchange(pool, 'silent', [{ run: 'r1', key: mine, attempt: 1, fence: 1, status: 'succeeded', outcome: '{"ok":true}' }], 0, TASKS, []);
    expect(late.refused).toHaveLength(1);
    expect((await rowOf('r1', mine))!.status).toBe('abandoned');
  }, 60_000);
});

describe("an owner's outcome listener", () => {
  /** What the owners' listener connections last ran (`orch` connections only: not this test's). */
  const listenerState = async (): Promise<string[]> =>
    (await pool.query<{ query: string }>(`SELECT query FROM pg_stat_activity WHERE application_name = 'orch' AND query IN ('LISTEN orch_attempt', 'UNLISTEN orch_attempt')`)).rows.map((r) => r.query);

  it('LISTENs only while it waits on attempts, hears the outcome, and stops listening once idle', async () => {
    // (the test answers for the worker: no handler runs)
    const ir = plan({ name: 'listened', capabilities: [fx('echo', 'echo')], steps: [step({ id: 'a', capability: 'echo' })] });
    // Attempts the tests above left dispatched would be claimed first.
    await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
    const rt = await Runtime.open({ db: db.url, placement: 'workers' });
    try {
      // An owner with nothing to wait on (a worker's take-over runtime, an idle server) does not
      // listen: its listener is connected once `open` resolves, and used to LISTEN right there.
      expect(await listenerState()).toEqual([]);
      const active = await rt.start(ir, { config: { file: null, hooks: {}, secrets: {} } });
      await waitUntil(async () => (await listenerState()).includes('LISTEN orch_attempt'), 'the owner listening');
      // A worker claims the attempt and records its outcome: the owner is told and completes the run.
      await register('w-listen');
      let claimed: readonly StepJob[] = [];
      await waitUntil(async () => (claimed = (await exchange(pool, 'w-listen', [], 1, TASKS, [])).claimed).length === 1, 'the attempt claimed');
      expect(claimed[0]!.run).toBe(active.runId);
      const j = claimed[0]!;
      const outcome = JSON.stringify({ ok: true, output: null });
      await exchange(pool, 'w-listen', [{ run: j.run, key: j.key, attempt: j.attempt, fence: j.fence, status: 'succeeded', outcome }], 0, TASKS, []);
      expect((await active.result).status).toBe('completed');
      await waitUntil(async () => (await listenerState()).includes('UNLISTEN orch_attempt'), 'the owner no longer listening', 10_000);
    } finally {
      await rt.close();
      await pool.query(`DELETE FROM orch.attempts; DELETE FROM orch.workers`);
    }
  });
});
