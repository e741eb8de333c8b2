/**
 * How `orch serve` keeps the context store's signals in the trigger state's `serve_context`
 * table (LANGUAGE.md §9.4): each value with the time it was set and its source, so a restarted
 * server — or another server of a cluster — knows how old every signal is. Rows written before
 * v0.4 hold the bare value: read back as set when they are read, by `restored`.
 */
import type { HoldState, SignalRecord, Starter } from '../runtime/index.js';

const MARK = '$signal';
/**
 * A derived signal's `hold` (§9.4), kept under the derived signal's own name (which no source
 * sets): a restarted server goes on holding a `true` instead of starting with the expression's
 * `false` — a `when not context.occupied` would fire early.
 */
const HOLD = '$hold';

export function encodeHold(state: HoldState): unknown {
  return { [HOLD]: { true: state.true, until: state.until } };
}

/** The holds among the kept rows (`encodeHold`'s). */
export function decodeHolds(rows: { readonly [name: string]: unknown }): { [name: string]: HoldState } {
  const out: { [name: string]: HoldState } = {};
  for (const [name, row] of Object.entries(rows)) {
    const h = holdOf(row);
    if (h && typeof h.true === 'boolean' && (h.until === null || typeof h.until === 'number')) out[name] = { true: h.true, until: h.until };
  }
  return out;
}

function holdOf(row: unknown): Partial<HoldState> | undefined {
  return row !== null && typeof row === 'object' && HOLD in row ? (row as { [HOLD]: Partial<HoldState> })[HOLD] : undefined;
}

/**
 * `by`: the person whose `POST /signals` set it (§9.1), kept with the value so the server of a
 * cluster that holds the context — which fires the `when` triggers — records them as the run's
 * `caused_by`, as the server they signalled would have.
 */
export function encodeRecord(rec: SignalRecord, by?: Starter): unknown {
  return { [MARK]: { value: rec.value, set_at: rec.set_at, source: rec.source, ...(by ? { by } : {}) } };
}

/** The person who set the first of `names` that records one (`encodeRecord`'s `by`), or undefined. */
export function causeOf(rows: { readonly [name: string]: unknown }, names: readonly string[]): Starter | undefined {
  for (const name of names) {
    const row = rows[name];
    const by = row !== null && typeof row === 'object' && MARK in row ? (row as { [MARK]: { by?: unknown } })[MARK].by : undefined;
    if (isStarter(by)) return by;
  }
  return undefined;
}

function isStarter(v: unknown): v is Starter {
  if (v === null || typeof v !== 'object') return false;
  const o = v as { [k: string]: unknown };
  return typeof o.subject === 'string' && typeof o.issuer === 'string' && typeof o.method === 'string';
}

export function decodeRecords(rows: { readonly [name: string]: unknown }, now: number): { [name: string]: SignalRecord } {
  const out: { [name: string]: SignalRecord } = {};
  for (const [name, row] of Object.entries(rows)) {
    if (holdOf(row)) continue;
    const r = row !== null && typeof row === 'object' && MARK in row ? (row as { [MARK]: Partial<SignalRecord> })[MARK] : undefined;
    out[name] = r && typeof r.set_at === 'number' && typeof r.source === 'string' ? { value: r.value, set_at: r.set_at, source: r.source } : { value: row, set_at: now, source: 'restored' };
  }
  return out;
}
