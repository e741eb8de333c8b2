/**
 * The SQLite journal's batch layout (runtime/backend/sqlite/event-batches.ts), on real SQLite files:
 * whatever commits a run's events were split into, `load` and the `events` view give back exactly
 * the events written; a journal from before batches is migrated on open; runs that interleave keep
 * their own events; the limits of the key space are errors, not corruption.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SEQ } from '../backend/sqlite/event-batches.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { SqliteJournal } from '../backend/sqlite/journal.js';
import { isEventType } from '../scheduler/journal-events.js';
import type { EventType, RunEvent, RunSummary } from '../scheduler/types.js';

/**
 * An event as the storage layer sees it: any type and data (the journal stores what it is given;
 * types it does not know, from a newer version, are kept in the table and skipped by `load`).
 */
const raw = (e: { runId: string; seq: number; ts: number; type: string; stepId: string | null; data: unknown }): RunEvent => e as unknown as RunEvent;
import { tempDir } from './helpers.js';

const TYPES: readonly EventType[] = ['plan_created', 'step_queued', 'step_started', 'step_completed', 'step_log', 'race_won'];

function summary(runId: string, over: Partial<RunSummary> = {}): RunSummary {
  return { runId, plan: 'p', parentRunId: null, status: 'running', startedAt: 1000, completedAt: null, cost: 0, error: null, ...over };
}

/** What the `events` view shows of a run, parsed. */
function viewRows(file: string, runId: string) {
  const d = openSqlite(file, { readonly: true });
  try {
    const rows = d.prepare('SELECT run_id, seq, ts, type, step_id, data FROM events WHERE run_id = ? ORDER BY seq').all(runId) as {
      run_id: string;
      seq: number;
      ts: number;
      type: string;
      step_id: string | null;
      data: string;
    }[];
    return rows.map((r) => ({ runId: r.run_id, seq: r.seq, ts: r.ts, type: r.type, stepId: r.step_id, data: JSON.parse(r.data) as unknown }));
  } finally {
    d.close();
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const eventBody = fc.record({
  // Clock steps, backwards included: a batch stores each ts against its first.
  dt: fc.integer({ min: -5, max: 5000 }),
  type: fc.oneof(fc.constantFrom(...TYPES), fc.constant('a_type_from_a_newer_version' as EventType)),
  stepId: fc.option(fc.oneof(fc.constantFrom('a', 'fan[3]', 'loop#2/x'), fc.string({ maxLength: 12 })), { nil: null }),
  data: fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 }),
});

describe('the SQLite journal stores a commit as one batch row', () => {
  it('gives back exactly the events written, however they were split into commits (load, the events view, counts)', () => {
    fc.assert(
      fc.property(fc.array(eventBody, { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 60 }), (bodies, cuts) => {
        const file = join(tempDir('orch-batches-'), 'runs.db');
        const j = new SqliteJournal(file);
        try {
          let ts = 1_764_000_000_000;
          const events: RunEvent[] = bodies.map((b, i) => raw({ runId: 'r', seq: i + 1, ts: (ts += b.dt), type: b.type, stepId: b.stepId, data: b.data }));
          for (let at = 0, c = 0; at < events.length; c++) {
            const n = cuts[c % cuts.length]!;
            j.commit(summary('r'), events.slice(at, at + n));
            at += n;
          }
          // A type this version does not know is stored and kept, but not handed to the scheduler.
          expect(j.load('r')).toEqual(events.filter((e) => isEventType(e.type)));
          expect(viewRows(file, 'r')).toEqual(events);
          expect(j.listRuns().find((r) => r.id === 'r')?.event_count).toBe(events.length);
        } finally {
          j.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps interleaved runs apart, reads a run a page of batches at a time, and prunes batches with their runs', () => {
    const file = join(tempDir('orch-batches-'), 'runs.db');
    const j = new SqliteJournal(file);
    // 2,500 one-event commits per run: more batches than one page of `events()` reads.
    for (let seq = 1; seq <= 2500; seq++)
      for (const runId of ['a', 'b', 'a/sub'])
        j.commit(summary(runId, { parentRunId: runId === 'a/sub' ? 'a' : null }), [raw({ runId, seq, ts: 5000 + seq, type: 'step_log', stepId: `s${seq}`, data: { line: `${runId} ${seq}` } })]);
    for (const runId of ['a', 'b', 'a/sub']) {
      const loaded = j.load(runId);
      expect(loaded).toHaveLength(2500);
      expect(loaded.every((e, i) => e.runId === runId && e.seq === i + 1 && e.type === 'step_log' && e.data.line === `${runId} ${i + 1}`)).toBe(true);
    }
    j.commit(summary('a', { status: 'completed', completedAt: 9000 }), [raw({ runId: 'a', seq: 2501, ts: 9000, type: 'execution_completed', stepId: null, data: {} })]);
    j.commit(summary('a/sub', { parentRunId: 'a', status: 'completed', completedAt: 9000 }), [raw({ runId: 'a/sub', seq: 2501, ts: 9000, type: 'execution_completed', stepId: null, data: {} })]);
    expect(j.prune(10_000)).toEqual({ runs: 2, events: 5002 });
    expect(j.load('a')).toEqual([]);
    expect(j.load('a/sub')).toEqual([]);
    expect(j.load('b')).toHaveLength(2500);
    // A run id used again after its prune starts over with a key of its own.
    j.registerRun('a', 'p', null, {}, 11_000);
    j.commit(summary('a', { startedAt: 11_000 }), [raw({ runId: 'a', seq: 1, ts: 11_000, type: 'plan_created', stepId: null, data: {} })]);
    expect(j.load('a').map((e) => e.type)).toEqual(['plan_created']);
    expect(viewRows(file, 'b')).toHaveLength(2500);
    j.close();
  });

  it('forgets a run key and a type code given in a commit that rolled back (SQLite may give them again)', () => {
    const file = join(tempDir('orch-batches-'), 'runs.db');
    const j = new SqliteJournal(file);
    const e = (runId: string, seq: number, type = 'step_queued'): RunEvent => raw({ runId, seq, ts: seq, type, stepId: null, data: { runId } });
    // The first commit of n writes seq 1 twice: refused, its key and its new type rolled back.
    expect(() => j.commit(summary('n'), [e('n', 1, 'a_new_type'), e('n', 1, 'a_new_type')])).toThrow(/already has event 1/);
    // m now gets the key (and the type code) n had been given.
    j.commit(summary('m'), [e('m', 1, 'another_new_type')]);
    j.commit(summary('n'), [e('n', 1, 'a_new_type')]);
    expect(viewRows(file, 'm').map((x) => [x.type, (x.data as { runId: string }).runId])).toEqual([['another_new_type', 'm']]);
    expect(viewRows(file, 'n').map((x) => [x.type, (x.data as { runId: string }).runId])).toEqual([['a_new_type', 'n']]);
    // The run row a refused commit wrote is written again by the next one with the same summary.
    expect(() => j.commit(summary('n', { status: 'failed' }), [e('n', 1)])).toThrow(/already has event 1/);
    j.commit(summary('n', { status: 'failed' }), [e('n', 2)]);
    expect(j.getRun('n')!.status).toBe('failed');
    j.close();
  });

  it('refuses a seq past what a run may hold, writing nothing of that commit', () => {
    const j = new SqliteJournal(join(tempDir('orch-batches-'), 'runs.db'));
    j.commit(summary('r'), [raw({ runId: 'r', seq: 1, ts: 1, type: 'plan_created', stepId: null, data: {} })]);
    expect(() =>
      j.commit(summary('r', { status: 'failed' }), [
        { runId: 'r', seq: 2, ts: 2, type: 'step_queued', stepId: 'a', data: {} },
        { runId: 'r', seq: MAX_SEQ + 1, ts: 2, type: 'step_queued', stepId: 'b', data: {} },
      ]),
    ).toThrow(/more events than a run may hold/);
    expect(j.load('r')).toHaveLength(1);
    expect(j.getRun('r')!.status).toBe('running');
    j.close();
  });

  it('migrates a journal written before batches: its events move into batches and the view takes the table name', () => {
    const file = join(tempDir('orch-batches-'), 'runs.db');
    // The layout of earlier versions: one row per event.
    const old = openSqlite(file);
    old.exec(`
      CREATE TABLE runs (id TEXT PRIMARY KEY, plan TEXT NOT NULL, parent_id TEXT, status TEXT NOT NULL, started_at INTEGER NOT NULL,
        completed_at INTEGER, cost REAL NOT NULL DEFAULT 0, error TEXT, ir TEXT, input TEXT, owner_pid INTEGER, heartbeat_at INTEGER);
      CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, type TEXT NOT NULL, step_id TEXT,
        data TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
      INSERT INTO runs (id, plan, status, started_at) VALUES ('old', 'p', 'running', 100), ('done', 'p', 'completed', 50);
      INSERT INTO events VALUES
        ('old', 1, 100, 'plan_created', NULL, '{"plan":"p"}'),
        ('old', 2, 101, 'step_started', 'fetch', '{"attempt":1,"note":"it''s \\"quoted\\""}'),
        ('done', 1, 50, 'plan_created', NULL, '{}'),
        ('done', 2, 60, 'a_type_only_the_old_version_wrote', 'x', '{"n":[1,2]}');
    `);
    old.close();
    const j = new SqliteJournal(file);
    const expected = [
      { runId: 'old', seq: 1, ts: 100, type: 'plan_created', stepId: null, data: { plan: 'p' } },
      { runId: 'old', seq: 2, ts: 101, type: 'step_started', stepId: 'fetch', data: { attempt: 1, note: 'it\'s "quoted"' } },
    ];
    expect(j.load('old')).toEqual(expected);
    expect(viewRows(file, 'done').map((e) => e.type)).toEqual(['plan_created', 'a_type_only_the_old_version_wrote']);
    expect(j.load('done').map((e) => e.type)).toEqual(['plan_created']);
    expect(viewRows(file, 'old')).toEqual(expected);
    // The run goes on where it was: the next seq follows, a repeated one is refused.
    j.commit(summary('old'), [raw({ runId: 'old', seq: 3, ts: 102, type: 'step_completed', stepId: 'fetch', data: {} })]);
    expect(() => j.commit(summary('old'), [raw({ runId: 'old', seq: 3, ts: 103, type: 'step_completed', stepId: 'fetch', data: {} })])).toThrow();
    j.appendOffline('old', 'execution_cancelled', { reason: 'x' }, 'cancelled');
    expect(j.load('old').map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    j.close();
    const d = openSqlite(file, { readonly: true });
    expect(d.prepare("SELECT type FROM sqlite_master WHERE name = 'events'").get()).toEqual({ type: 'view' });
    d.close();
    // Opening it again changes nothing.
    const again = new SqliteJournal(file);
    expect(again.load('old')).toHaveLength(4);
    again.close();
  });
});
