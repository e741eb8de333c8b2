/**
 * How `orch serve` keeps the context store's signals in the trigger state's `serve_context`
 * table (LANGUAGE.md §9.4): each value with the time it was set and its source, so a restarted
 * server — or another server of a cluster — knows how old every signal is. Rows written before
 * v0.4 hold the bare value: read back as set when they are read, by `restored`.
 */
import type { SignalRecord } from '../runtime/index.js';

const MARK = '$signal';

export function encodeRecord(rec: SignalRecord): unknown {
  return { [MARK]: { value: rec.value, set_at: rec.set_at, source: rec.source } };
}

export function decodeRecords(rows: { readonly [name: string]: unknown }, now: number): { [name: string]: SignalRecord } {
  const out: { [name: string]: SignalRecord } = {};
  for (const [name, row] of Object.entries(rows)) {
    const r = row !== null && typeof row === 'object' && MARK in row ? (row as { [MARK]: Partial<SignalRecord> })[MARK] : undefined;
    out[name] = r && typeof r.set_at === 'number' && typeof r.source === 'string' ? { value: r.value, set_at: r.set_at, source: r.source } : { value: row, set_at: now, source: 'restored' };
  }
  return out;
}
