/**
 * A run's owner that freezes inside a commit (SIGSTOP, a VM pause) holds its run row's FOR SHARE
 * fence lock. The server ends that idle-in-transaction session, so another process can take the
 * run over; the frozen owner, once it wakes, is told it lost the lease and nothing of its commit
 * lands. A real Postgres cluster, two journals with two owners.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../backend/pg/migrations.js';
import { PgJournal } from '../backend/pg/journal.js';
import type pg from 'pg';
import type { CommitHook, RunEvent, RunSummary } from '../scheduler/types.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';

// The server ends a session idle in a transaction once a run lease would be stale (10 s in the
// product): here a tenth of it, the same code path at test speed (runtime/cluster/timing.ts).
process.env.ORCH_CLUSTER_TIME_SCALE = '0.1';

let db: TestPostgres;

beforeAll(async () => {
  db = await startPostgres();
  await migrate(db.url);
}, 60_000);

afterAll(async () => {
  await db?.stop();
});

const summary = (runId: string): RunSummary => ({
  runId,
  plan: 'p',
  parentRunId: null,
  status: 'running',
  startedAt: 1,
  completedAt: null,
  cost: 0,
  error: null,
});
const event = (runId: string, seq: number): RunEvent => ({ runId, seq, ts: seq, type: 'step_queued', stepId: `s${seq}`, data: {} });
/** A commit hook that writes a row of its own (a rate hit under `key`) in the commit's transaction. */
const hit =
  (key: string): CommitHook =>
  async (tx) =>
    void (await (tx as pg.ClientBase).query('INSERT INTO orch.rate_hits (key, at) VALUES ($1, 1)', [key]));
const hits = async (j: PgJournal, key: string): Promise<number> => j.rateHitsSince(key, 0);

describe('a run owner frozen inside a commit', () => {
  it('loses the run to a take-over, and its late commit is refused as a lost lease', async () => {
    const a = await PgJournal.open(db.url);
    const b = await PgJournal.open(db.url);
    try {
      await a.registerRun('r1', 'p', {}, {}, 1);
      await a.commit(summary('r1'), [event('r1', 1)]);

      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      let wake!: () => void;
      const frozen = new Promise<void>((r) => (wake = r));
      // The hook runs inside the commit's transaction, after the fence took its lock.
      const late = a.commit(summary('r1'), [event('r1', 2)], [
        async () => {
          entered();
          await frozen;
        },
      ]);
      const lateResult = late.then(
        () => null,
        (err: unknown) => err,
      );
      await inside;

      // Without the server ending A's session, this UPDATE would wait on A's lock for ever.
      const t0 = Date.now();
      expect(await b.acquire('r1', 0)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(30_000);

      wake();
      const err = (await lateResult) as { code?: string } | null;
      expect(err?.code).toBe('ORCH_LEASE_LOST');
      // A later commit by A is refused by the fence itself, though its statements were sent with
      // the fence (`transaction`): neither its events nor what its hooks wrote land.
      await expect(a.commit(summary('r1'), [event('r1', 3)], [hit('lost lease')])).rejects.toMatchObject({ code: 'ORCH_LEASE_LOST' });
      expect(await hits(b, 'lost lease')).toBe(0);
      // B, the owner now, goes on from what landed: only A's first commit.
      expect((await b.load('r1')).map((e) => e.seq)).toEqual([1]);
      await b.commit(summary('r1'), [event('r1', 2)]);
      expect((await b.load('r1')).map((e) => e.seq)).toEqual([1, 2]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});

describe('a commit, its statements sent together', () => {
  it('lands whole, or nothing of it when any statement fails', async () => {
    const j = await PgJournal.open(db.url);
    try {
      await j.registerRun('r2', 'p', {}, {}, 1);
      await j.commit(summary('r2'), [event('r2', 1), event('r2', 2)], [hit('whole')]);
      expect((await j.load('r2')).map((e) => e.seq)).toEqual([1, 2]);
      expect(await hits(j, 'whole')).toBe(1);

      // A hook whose statement fails, after another that wrote: the events sent before both, the
      // run row and the other hook's row are all rolled back.
      const failing: CommitHook = async (tx) => void (await (tx as pg.ClientBase).query('SELECT 1 / 0'));
      await expect(j.commit({ ...summary('r2'), status: 'completed', completedAt: 5 }, [event('r2', 3)], [hit('partial'), failing])).rejects.toThrow(/division by zero/);
      expect((await j.load('r2')).map((e) => e.seq)).toEqual([1, 2]);
      expect(await hits(j, 'partial')).toBe(0);
      expect((await j.getRun('r2'))?.status).toBe('running');

      // An event already written (its seq taken) fails the whole commit as well.
      await expect(j.commit(summary('r2'), [event('r2', 2), event('r2', 4)], [hit('duplicate')])).rejects.toThrow();
      expect((await j.load('r2')).map((e) => e.seq)).toEqual([1, 2]);
      expect(await hits(j, 'duplicate')).toBe(0);

      // The connection is fine afterwards: the next commit lands.
      await j.commit(summary('r2'), [event('r2', 3)]);
      expect((await j.load('r2')).map((e) => e.seq)).toEqual([1, 2, 3]);
    } finally {
      await j.close();
    }
  }, 60_000);
});
