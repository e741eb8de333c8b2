/**
 * How both journals (SQLite and Postgres) store events: one row per commit and run — a batch —
 * not one per event. A commit's cost is mostly the rows and index entries it writes (SQLite's
 * b-tree pages, Postgres's heap tuples, index entries and WAL records); a batch writes one of each
 * for the ~75 events of a turn.
 *
 * A batch is the run, its first and last seq, the first event's ts, and its events as JSON text:
 * `[[ts − batch ts, type, step id, data], …]` for the seqs `first … last` in order. The type is
 * what the backend's `code` gives: SQLite a number from its `event_types` table, Postgres the
 * type's name (no table to keep in step between processes). `data` is the event's data as JSON
 * text, written verbatim, so a backend may redact it as it always has.
 */
import { storedEvent } from '../scheduler/journal-events.js';
import { eventDataError } from '../scheduler/event-data-check.js';
import type { RunEvent } from '../scheduler/types.js';
import { jsonSyntaxError } from '../../compiler/index.js';
import { isEpochMs, JournalCorrupt, reason } from '../journal-corrupt.js';

/** One batch row: the events of one run with consecutive seqs. */
export interface BatchRow {
  readonly runId: string;
  readonly first: number;
  readonly last: number;
  readonly ts: number;
  readonly events: string;
}

/** An event's data as the journal stores it (JSON text). */
const dataJson = (e: RunEvent): string => JSON.stringify(e.data) ?? '{}';

/**
 * The rows a commit writes: consecutive events of one run share a row (a commit normally holds
 * one run's next events, so one row).
 */
export function encodeBatches(events: readonly RunEvent[], code: (type: string) => number | string, data: (e: RunEvent) => string = dataJson): BatchRow[] {
  const rows: BatchRow[] = [];
  let start = 0;
  for (let i = 1; i <= events.length; i++) {
    const prev = events[i - 1]!;
    const next = events[i];
    if (next && next.runId === prev.runId && next.seq === prev.seq + 1) continue;
    const first = events[start]!;
    const ts0 = first.ts;
    let text = '[';
    for (let j = start; j < i; j++) {
      const e = events[j]!;
      const c = code(e.type);
      if (j > start) text += ',';
      text += `[${e.ts - ts0},${typeof c === 'number' ? c : JSON.stringify(c)},${e.stepId === null ? 'null' : JSON.stringify(e.stepId)},${data(e)}]`;
    }
    rows.push({ runId: first.runId, first: first.seq, last: prev.seq, ts: ts0, events: `${text}]` });
    start = i;
  }
  return rows;
}

type Tuple = [number, number | string, string | null, Record<string, unknown>];

/** Whether a stored tuple has the shape encodeBatches writes (its data is an event's object). */
function isTuple(t: unknown): t is Tuple {
  if (!Array.isArray(t) || t.length !== 4) return false;
  const [dt, type, stepId, data] = t as unknown[];
  return typeof dt === 'number' && (typeof type === 'number' || typeof type === 'string') && (stepId === null || typeof stepId === 'string') && typeof data === 'object' && data !== null && !Array.isArray(data);
}

/**
 * The events of one stored batch; a type this version does not know is skipped (`storedEvent`).
 * A batch that is not the JSON encodeBatches wrote, or an event whose data is not of its type
 * (event-data-check.ts), is `JournalCorrupt`, naming the run and seq.
 */
export function decodeBatch(runId: string, first: number, ts: number, events: string, name: (code: number | string) => string): RunEvent[] {
  let tuples: unknown;
  try {
    tuples = JSON.parse(events);
  } catch (err) {
    // Never V8's quote of the text: an event's data may hold a value that was not to be printed.
    const { message, offset } = jsonSyntaxError(events, err);
    const where = offset !== null && !/position \d+/.test(message) ? ` at position ${offset}` : '';
    throw new JournalCorrupt(runId, `the events from seq ${first}`, `are not valid JSON (${reason(message)}${where})`);
  }
  if (!Array.isArray(tuples)) throw new JournalCorrupt(runId, `the events from seq ${first}`, 'are not a list');
  const out: RunEvent[] = [];
  for (let i = 0; i < tuples.length; i++) {
    const t: unknown = tuples[i];
    if (!isTuple(t) || !isEpochMs(ts + t[0])) throw new JournalCorrupt(runId, `event ${first + i}`, 'is not [time, type, step, data]');
    let type: string;
    try {
      type = name(t[1]);
    } catch (err) {
      throw new JournalCorrupt(runId, `event ${first + i}`, `has no known type (${reason(err)})`);
    }
    const e = storedEvent(runId, first + i, ts + t[0], type, t[2], t[3]);
    if (!e) continue;
    const wrong = eventDataError(e.type, e.data);
    if (wrong !== null) throw new JournalCorrupt(runId, `event ${first + i} (${e.type})`, `has data of the wrong type (${wrong})`);
    out.push(e);
  }
  return out;
}
