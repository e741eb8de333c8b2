/**
 * The Postgres journal's events as one row per commit and run (`orch.event_batches`, migration
 * 16): a commit of many events writes one row per run it touches, the view `orch.events` still
 * shows one row per event, every reader agrees with SQLite over random sequences of commits,
 * offline appends and prunes, and a database at the previous version migrates with its events.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsyncJournal } from '../backend/index.js';
import { migrate } from '../backend/pg/migrations.js';
import { PgJournal } from '../backend/pg/journal.js';
import { storedEvent } from '../scheduler/journal-events.js';
import type { RunEvent, RunSummary } from '../scheduler/types.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { POSTGRES, SQLITE, type BackendPlace } from './backends.js';

function summary(runId: string, over: Partial<RunSummary> = {}): RunSummary {
  return { runId, plan: 'p', parentRunId: null, status: 'running', startedAt: 1000, completedAt: null, cost: 0, error: null, ...over };
}

const TYPES = ['step_started', 'step_completed', 'step_failed', 'execution_started'] as const;

function event(runId: string, seq: number, type: RunEvent['type'] = 'step_completed', stepId: string | null = null, data: Record<string, unknown> = {}): RunEvent {
  return storedEvent(runId, seq, 1000 + seq * 7, type, stepId, data)!;
}

describe('Postgres events as one row per commit', () => {
  let db: TestPostgres;
  let sql: pg.Client;
  beforeAll(async () => {
    db = await startPostgres();
    await migrate(db.url);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql.end();
    await db.stop();
  });

  it('writes one row per run a commit touches, and the events view shows each event as it was', async () => {
    const j = await PgJournal.open(db.url);
    try {
      await j.registerRun('two', 'p', {}, {}, 1000);
      await j.registerRun('two/sub', 'p', null, {}, 1000, 'two');
      const mine = Array.from({ length: 40 }, (_, i) => event('two', i + 1, TYPES[i % TYPES.length], `s${i}`, { i, text: `quote " and \\ and \u0000 and é ${i}` }));
      const sub = Array.from({ length: 35 }, (_, i) => event('two/sub', i + 1, 'step_started', i % 2 ? null : `inner${i}`, { attempt: 1 }));
      await j.commit(summary('two'), [...mine, ...sub]);
      const rows = await sql.query<{ run_id: string; first_seq: number; last_seq: number }>(
        'SELECT run_id, first_seq, last_seq FROM orch.event_batches ORDER BY run_id COLLATE "C"',
      );
      expect(rows.rows).toEqual([
        { run_id: 'two', first_seq: 1, last_seq: 40 },
        { run_id: 'two/sub', first_seq: 1, last_seq: 35 },
      ]);
      expect(await j.load('two')).toEqual(mine);
      expect(await j.load('two/sub')).toEqual(sub);
      // SQL readers (tests, operators) still see one row per event, its data the text written.
      const view = await sql.query<{ seq: number; ts: string; type: string; step_id: string | null; data: string }>(
        "SELECT seq, ts, type, step_id, data FROM orch.events WHERE run_id = 'two' ORDER BY seq",
      );
      expect(view.rows).toEqual(mine.map((e) => ({ seq: e.seq, ts: String(e.ts), type: e.type, step_id: e.stepId, data: JSON.stringify(e.data) })));
      // Kept in its row, compressed: no TOAST chunk rows beside it.
      const storage = await sql.query<{ s: string }>("SELECT attstorage AS s FROM pg_attribute WHERE attrelid = 'orch.event_batches'::regclass AND attname = 'events'");
      expect(storage.rows[0]!.s).toBe('m');
    } finally {
      await j.close();
    }
  });

  it('moves the events of a database at the previous version into batches, unchanged', async () => {
    const old = await startPostgres();
    try {
      await migrate(old.url, { upTo: 15 });
      const c = new pg.Client({ connectionString: old.url });
      await c.connect();
      try {
        await c.query("INSERT INTO orch.runs (id, plan, status, started_at) VALUES ('old', 'p', 'completed', 1), ('old/sub', 'p', 'completed', 1)");
        // As the journal wrote them: data the exact (redacted) JSON text, key order and spacing kept.
        const written = [
          ['old', 1, 100, 'plan_created', null, '{"by":"ann","note":"***"}'],
          ['old', 2, 105, 'step_started', 'a', '{"attempt":1}'],
          ['old', 3, 109, 'step_completed', 'a', '{"output":{"z":1,"a":"x \\" \\\\ \\u0000 é"}}'],
          ['old/sub', 1, 106, 'execution_started', null, '{}'],
        ] as const;
        for (const w of written) await c.query('INSERT INTO orch.events (run_id, seq, ts, type, step_id, data) VALUES ($1, $2, $3, $4, $5, $6)', [...w]);
        await migrate(old.url);
        const view = await c.query<{ run_id: string; seq: number; ts: string; type: string; step_id: string | null; data: string }>(
          'SELECT run_id, seq, ts, type, step_id, data FROM orch.events ORDER BY run_id COLLATE "C", seq',
        );
        expect(view.rows.map((r) => [r.run_id, r.seq, Number(r.ts), r.type, r.step_id, r.data])).toEqual(written);
      } finally {
        await c.end();
      }
      const j = await PgJournal.open(old.url);
      try {
        expect(await j.load('old')).toEqual([
          storedEvent('old', 1, 100, 'plan_created', null, { by: 'ann', note: '***' }),
          storedEvent('old', 2, 105, 'step_started', 'a', { attempt: 1 }),
          storedEvent('old', 3, 109, 'step_completed', 'a', { output: { z: 1, a: 'x " \\ \u0000 é' } }),
        ]);
        expect((await j.listRuns(true)).map((r) => [r.id, Number(r.event_count)])).toEqual([
          ['old', 3],
          ['old/sub', 1],
        ]);
        // The next event follows the last one moved.
        await j.appendOffline('old', 'execution_cancelled', { reason: null }, 'cancelled');
        expect((await j.load('old')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      } finally {
        await j.close();
      }
    } finally {
      await old.stop();
    }
  }, 60_000);

  it('two commits racing for the same seq range of a run cannot both land: the second waits for the first, then is refused', async () => {
    const first = await PgJournal.open(db.url);
    const second = await PgJournal.open(db.url);
    let release = () => undefined as void;
    try {
      await first.registerRun('race', 'p', {}, {}, 1000);
      await first.commit(summary('race'), [1, 2, 3, 4, 5].map((seq) => event('race', seq)));
      // The second has written this run's row as it stands: its next commit leaves the row alone
      // (as most commits do), so nothing but the batch check stands between the two.
      await second.commit(summary('race'), []);
      // The first process's next commit is held open (its hook waits) once its statements ran.
      const gate = new Promise<void>((r) => (release = r));
      let ran!: () => void;
      const statementsRan = new Promise<void>((r) => (ran = r));
      const hook = async (tx: unknown) => {
        await (tx as pg.ClientBase).query('SELECT 1');
        ran();
        await gate;
      };
      const held = first.commit(summary('race'), [6, 7, 8, 9, 10].map((seq) => event('race', seq)), [hook]);
      await statementsRan;
      // Another process commits an overlapping range meanwhile (it never saw 6..10 committed).
      const racing = second.commit(summary('race'), [8, 9, 10, 11, 12].map((seq) => event('race', seq)));
      const outcome = racing.then(() => 'landed' as const, () => 'refused' as const);
      // It either ends on its own (landed) or waits for the first commit's lock.
      const waiting = (async () => {
        for (;;) {
          const { rows } = await sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'");
          if (rows[0].n > 0) return 'waiting' as const;
          await new Promise((r) => setImmediate(r));
        }
      })();
      expect(await Promise.race([outcome, waiting])).toBe('waiting');
      release();
      await held;
      expect(await outcome).toBe('refused');
      await expect(racing).rejects.toThrow(/run race already has event 8; the commit is refused/);
      const rows = await sql.query("SELECT first_seq, last_seq FROM orch.event_batches WHERE run_id = 'race' ORDER BY first_seq");
      expect(rows.rows).toEqual([
        { first_seq: 1, last_seq: 5 },
        { first_seq: 6, last_seq: 10 },
      ]);
    } finally {
      release();
      await first.close();
      await second.close();
    }
  });
});

/** An offline append is stamped with the clock, read by each journal at its own instant. */
const unstamped = (e: RunEvent | undefined) => (e === undefined ? null : e.type === 'execution_cancelled' ? { ...e, ts: 0 } : e);

/** What every reader of a journal says about a set of runs. */
async function readings(j: AsyncJournal, runs: readonly string[]) {
  const listed = new Map((await j.listRuns(true)).map((r) => [r.id, Number(r.event_count)]));
  return Promise.all(
    runs.map(async (id) => ({
      id,
      events: (await j.load(id)).map(unstamped),
      first: unstamped(await j.first(id)),
      count: listed.get(id) ?? null,
      status: (await j.getRun(id))?.status ?? null,
    })),
  );
}

type Op =
  | { kind: 'commit'; run: number; withSub: boolean; sizes: [number, number]; types: number[]; steps: (string | null)[]; done: boolean }
  | { kind: 'offline'; run: number }
  | { kind: 'prune' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      run: fc.nat(1),
      withSub: fc.boolean(),
      sizes: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 5 })),
      types: fc.array(fc.nat(TYPES.length - 1), { minLength: 12, maxLength: 12 }),
      steps: fc.array(fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"', '\\', 'é', 'a\u0000b'))), { minLength: 12, maxLength: 12 }),
      done: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('offline' as const), run: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'prune' as const }) },
);

describe('the Postgres journal agrees with SQLite', () => {
  let places: BackendPlace[] = [];
  let journals: AsyncJournal[] = [];
  beforeAll(async () => {
    places = [await SQLITE.place(), await POSTGRES.place()];
    journals = await Promise.all(places.map(async (p) => (await (await p.open()).journal()).store));
  }, 60_000);
  afterAll(async () => {
    for (const p of places) await p.teardown();
  });

  it('on load, first, listRuns, appendOffline and prune over random sequences of commits', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        round++;
        const tops = [`r${round}a`, `r${round}b`];
        const runs = tops.flatMap((t) => [t, `${t}/sub`]);
        const next = new Map(runs.map((r) => [r, 1]));
        const finished = new Set<string>();
        const take = (run: string, n: number, from: number, o: Extract<Op, { kind: 'commit' }>) =>
          Array.from({ length: n }, (_, i) => event(run, next.get(run)! + i, TYPES[o.types[(from + i) % 12]!], o.steps[(from + i) % 12] ?? null, { i, s: o.steps[i % 12] }));
        for (const j of journals) {
          for (const t of tops) {
            await j.registerRun(t, 'p', {}, {}, 1000);
            await j.registerRun(`${t}/sub`, 'p', null, {}, 1000, t);
          }
        }
        for (const o of ops) {
          if (o.kind === 'commit') {
            const top = tops[o.run]!;
            if (finished.has(top)) continue;
            const events = [...take(top, o.sizes[0], 0, o), ...(o.withSub ? take(`${top}/sub`, o.sizes[1], o.sizes[0], o) : [])];
            for (const e of events) next.set(e.runId, e.seq + 1);
            const s = summary(top, o.done ? { status: 'completed', completedAt: 2000 } : {});
            for (const j of journals) await j.commit(s, events);
            if (o.done) finished.add(top);
          } else if (o.kind === 'offline') {
            const top = tops[o.run]!;
            for (const j of journals) await j.appendOffline(top, 'execution_cancelled', { reason: null }, 'cancelled');
            next.set(top, next.get(top)! + 1);
          } else {
            const pruned = await Promise.all(journals.map((j) => j.prune(3000)));
            expect(pruned[1]).toEqual(pruned[0]);
            for (const t of tops) if (finished.has(t)) for (const r of [t, `${t}/sub`]) next.set(r, 1);
          }
        }
        const [lite, pgRead] = await Promise.all(journals.map((j) => readings(j, runs)));
        expect(pgRead).toEqual(lite);
      }),
      { numRuns: 25 },
    );
  }, 240_000);
});
