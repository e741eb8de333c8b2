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
import type { RunEvent } from '../scheduler/types.js';

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

/** The events of one stored batch; a type this version does not know is skipped (`storedEvent`). */
export function decodeBatch(runId: string, first: number, ts: number, events: string, name: (code: number | string) => string): RunEvent[] {
  const tuples = JSON.parse(events) as Tuple[];
  const out: RunEvent[] = [];
  for (let i = 0; i < tuples.length; i++) {
    const t = tuples[i]!;
    const e = storedEvent(runId, first + i, ts + t[0], name(t[1]), t[2], t[3]);
    if (e) out.push(e);
  }
  return out;
}
