/**
 * How the SQLite journal stores events: one row per commit (a batch), not one per event.
 *
 * A commit's cost is mostly the pages it writes to the WAL. An event per row in a table keyed by
 * `(run_id, seq)` made every commit rewrite two to eight pages of an index b-tree (each split
 * rebalances siblings), for about 3 µs per event on the main thread. A batch row instead lives in
 * a rowid table whose key is `run key × 2^26 + first seq`: a run's batches form one contiguous,
 * ever-growing key range, so a commit appends at the end of the b-tree (SQLite's quick balance)
 * and writes about one page.
 *
 * A batch's `events` column is the text both journals share (../event-batch-text.ts), its types as
 * codes from the `event_types` table (the table is the truth: a type this version has not seen
 * gets the next code). The `events` view turns batches back into one row per event with the
 * columns the journal always had, for SQL readers.
 */
import { EVENT_TYPES } from '../../scheduler/journal-events.js';
import type { SqlDatabase } from './driver.js';

/** Bits of a batch key that hold the first seq: a run may have up to 2^26 − 1 events. */
export const SEQ_SPAN = 2 ** 26;
export const MAX_SEQ = SEQ_SPAN - 1;
/** Run keys stay below 2^27 so that a batch key is an exact JS number (< 2^53). */
export const MAX_RUN_KEY = 2 ** 27 - 1;

/** Every type this version writes (runtime/scheduler/journal-events.ts), seeded into `event_types` in that order (codes 1, 2, …). */
const KNOWN_TYPES = EVENT_TYPES;

export const BATCH_SCHEMA = `
CREATE TABLE IF NOT EXISTS run_keys (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS event_types (
  code INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT OR IGNORE INTO event_types (name) VALUES ${KNOWN_TYPES.map((t) => `('${t}')`).join(', ')};
CREATE TABLE IF NOT EXISTS event_batches (
  id INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  events TEXT NOT NULL
);
`;

/** The batches of run key `k`: ids in [lo, hi]. */
const RANGE = (k: string) => `${k} * ${SEQ_SPAN} AND ${k} * ${SEQ_SPAN} + ${MAX_SEQ}`;

/** One row per event, as the journal's `events` table had them (seq order within a run). */
const EVENTS_VIEW = `
CREATE VIEW IF NOT EXISTS events (run_id, seq, ts, type, step_id, data) AS
  SELECT k.run_id, b.id - k.key * ${SEQ_SPAN} + e.key, b.ts + json_extract(e.value, '$[0]'), t.name,
         json_extract(e.value, '$[2]'), json_extract(e.value, '$[3]')
  FROM run_keys k
  JOIN event_batches b ON b.id BETWEEN ${RANGE('k.key')}
  JOIN json_each(b.events) e
  JOIN event_types t ON t.code = json_extract(e.value, '$[1]');
`;

/** SQL for the number of events of the run whose key is the column `k` (e.g. `k.key`). */
export const eventCountSql = (k: string) =>
  `(SELECT COALESCE(SUM(b.last_seq - (b.id - ${k} * ${SEQ_SPAN}) + 1), 0) FROM event_batches b WHERE b.id BETWEEN ${RANGE(k)})`;

/**
 * Runs inside the schema transaction: a journal written before batches keeps its events in an
 * `events` table; they move into batches of one event each, and the view takes the table's name.
 */
export function migrateEvents(db: SqlDatabase): void {
  const kind = (db.prepare("SELECT type FROM sqlite_master WHERE name = 'events'").get() as { type: string } | undefined)?.type;
  if (kind === 'table') {
    db.exec(`
      INSERT OR IGNORE INTO run_keys (run_id) SELECT run_id FROM events GROUP BY run_id ORDER BY MIN(ts);
      INSERT OR IGNORE INTO event_types (name) SELECT DISTINCT type FROM events;
      INSERT INTO event_batches (id, last_seq, ts, events)
        SELECT k.key * ${SEQ_SPAN} + e.seq, e.seq, e.ts, json_array(json_array(0, t.code, e.step_id, json(e.data)))
        FROM events e JOIN run_keys k ON k.run_id = e.run_id JOIN event_types t ON t.name = e.type;
      DROP TABLE events;
    `);
  }
  db.exec(EVENTS_VIEW);
}

/** Maps event types to their codes and back, as the database has them. */
export class EventTypeCodes {
  private readonly codes = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(private readonly db: SqlDatabase) {
    this.reload();
  }

  /** Drops what was learnt: a code given in a transaction that rolled back may be given again. */
  forget(): void {
    this.codes.clear();
    this.names.clear();
    this.reload();
  }

  private reload(): void {
    for (const r of this.db.prepare('SELECT code, name FROM event_types').all() as { code: number; name: string }[]) {
      this.codes.set(r.name, r.code);
      this.names.set(r.code, r.name);
    }
  }

  /** The code of `type`, giving it one if the database has none yet (call inside a write transaction). */
  code(type: string): number {
    let c = this.codes.get(type);
    if (c === undefined) {
      this.db.prepare('INSERT OR IGNORE INTO event_types (name) VALUES (?)').run(type);
      this.reload();
      c = this.codes.get(type)!;
    }
    return c;
  }

  /** The type a code stands for (possibly one a newer version added: `storedEvent` skips it). */
  name(code: number): string {
    let n = this.names.get(code);
    if (n === undefined) {
      // Another process (a newer version) added a type since this one loaded the table.
      this.reload();
      n = this.names.get(code);
      if (n === undefined) throw new Error(`journal: unknown event type code ${code}`);
    }
    return n;
  }
}
