/**
 * How the context store's changes reach the context journal (LANGUAGE.md §9.4) without one row
 * per message at high rates. The rule: per signal and event type (`context_updated`,
 * `context_rejected`), the first event after a quiet spell is written at once and opens a window
 * of `windowMs` (1 s); events inside the window only replace the pending one (the last wins) and
 * count; when the window ends the pending event is written with `count` — how many messages it
 * stands for — and a new window opens. So a signal updated 10,000 times a second writes about one
 * row a second, and a signal set now and then writes every set. `context_stale` comes at most once
 * per set, also across restarts, and is never held back by a window; it first writes what its
 * signal had pending, so the journal's order stays the order of the changes.
 *
 * Rows are appended in batches, one append in flight at a time; a failed append keeps its rows
 * for the next one (up to `MAX_BUFFERED`). Retention: at most once an hour, what is older than the
 * config's `retention` goes.
 */
import { RETENTION_INTERVAL_MS } from '../backend/index.js';
import type { ContextEventRow, ContextJournal } from '../backend/index.js';
import type { Clock, TimerId } from '../scheduler/types.js';
import type { ContextChange } from './store.js';

export const COALESCE_WINDOW_MS = 1000;
/** Rows kept while the database does not answer; older ones go first beyond this. */
const MAX_BUFFERED = 10_000;
/** Rows of a signal read back to find its last freshness row (past its rejections) at its first staleness. */
const STALE_LOOKBACK = 100;

export interface ContextJournalingOptions {
  readonly journal: ContextJournal;
  readonly clock: Clock;
  readonly windowMs?: number;
  /** The config's `retention` (ms); null: kept forever. */
  readonly retentionMs?: number | null;
  /** Each row as it is written (the live stream). */
  readonly onRow?: (row: ContextEventRow) => void;
}

interface Window {
  pending: ContextEventRow | null;
  count: number;
  timer: TimerId;
}

export class ContextJournaling {
  private readonly windows = new Map<string, Window>();
  private buffer: ContextEventRow[] = [];
  private writing: Promise<void> | null = null;
  private prunedAt = -Infinity;
  private closed = false;

  constructor(private readonly o: ContextJournalingOptions) {}

  /** One change of the store (subscribe it: `store.subscribe((c) => journaling.change(c))`). */
  change(c: ContextChange): void {
    if (this.closed) return;
    const row = toRow(c, this.o.clock.now());
    if (c.type === 'context_stale') {
      this.release(`context_updated\0${c.signal}`);
      const said = this.saidStale.get(c.signal);
      if (said === undefined) return this.staleOnce(c.signal, row);
      if (said !== false) return;
      this.saidStale.set(c.signal, true);
      return this.write(row);
    }
    if (c.type === 'context_updated') this.saidStale.set(c.signal, false);
    const key = `${c.type}\0${c.signal}`;
    const w = this.windows.get(key);
    if (w) {
      w.pending = row;
      w.count++;
      return;
    }
    this.write(row);
    this.open(key);
  }

  /**
   * Per signal, whether the journal's newest row of it says stale (`pending` while that is looked
   * up): a going-stale is journaled once, also across a restart, whose store re-reads a signal
   * kept from before and finds it stale again. Unknown until this process writes a row of it.
   */
  private readonly saidStale = new Map<string, boolean | 'pending'>();
  private readonly lookups = new Set<Promise<void>>();

  /**
   * The first going-stale of a signal this process sees: written unless the journal's newest
   * freshness row of it (an update or a staleness; rejections change nothing) is a staleness
   * already — a signal that went stale while no server ran is journaled now. An update that
   * comes during the look-up makes the signal fresh again: the staleness is then not written
   * after it (the journal would say stale of a fresh signal).
   */
  private staleOnce(signal: string, row: ContextEventRow): void {
    this.saidStale.set(signal, 'pending');
    const lookup = this.o.journal
      .list({ signal, limit: STALE_LOOKBACK })
      .then(
        (rows) => rows.find((r) => r.type !== 'context_rejected')?.type === 'context_stale',
        () => false,
      )
      .then((said) => {
        this.lookups.delete(lookup);
        if (this.closed || this.saidStale.get(signal) !== 'pending') return;
        this.saidStale.set(signal, true);
        if (!said) this.write(row);
      });
    this.lookups.add(lookup);
  }

  /** Writes every pending event now and waits until everything is appended. */
  async flush(): Promise<void> {
    while (this.lookups.size > 0) await Promise.all(this.lookups);
    for (const key of [...this.windows.keys()]) this.release(key);
    while (this.writing || this.buffer.length > 0) await (this.writing ?? this.drain());
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
  }

  private open(key: string): void {
    const w: Window = { pending: null, count: 0, timer: this.o.clock.setTimer(this.o.windowMs ?? COALESCE_WINDOW_MS, () => this.end(key)) };
    this.windows.set(key, w);
  }

  private end(key: string): void {
    const w = this.windows.get(key);
    this.windows.delete(key);
    if (!w?.pending) return;
    this.write(withCount(w.pending, w.count));
    this.open(key);
  }

  /** Closes a window early, writing what it held. */
  private release(key: string): void {
    const w = this.windows.get(key);
    if (!w) return;
    this.o.clock.cancelTimer(w.timer);
    this.windows.delete(key);
    if (w.pending) this.write(withCount(w.pending, w.count));
  }

  private write(row: ContextEventRow): void {
    this.buffer.push(row);
    if (this.buffer.length > MAX_BUFFERED) this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
    try {
      this.o.onRow?.(row);
    } catch {
      // The live stream's failure is its own.
    }
    if (!this.writing) void this.drain();
  }

  private drain(): Promise<void> {
    const rows = this.buffer;
    this.buffer = [];
    this.writing = (async () => {
      try {
        if (rows.length > 0) await this.o.journal.append(rows);
        await this.retain();
      } catch {
        // Kept for the next append (the database may be back by then).
        this.buffer = [...rows, ...this.buffer].slice(-MAX_BUFFERED);
        this.writing = null;
        return;
      }
      this.writing = null;
      if (this.buffer.length > 0) void this.drain();
    })();
    return this.writing;
  }

  private async retain(): Promise<void> {
    const ms = this.o.retentionMs;
    const now = this.o.clock.now();
    if (ms == null || now - this.prunedAt < RETENTION_INTERVAL_MS) return;
    this.prunedAt = now;
    await this.o.journal.prune(now - ms).catch(() => undefined);
  }
}

function toRow(c: ContextChange, time: number): ContextEventRow {
  switch (c.type) {
    case 'context_updated':
      return { type: c.type, signal: c.signal, time, data: { value: c.value, source: c.source, at: c.at } };
    case 'context_stale':
      return { type: c.type, signal: c.signal, time, data: { age: c.age } };
    case 'context_rejected':
      return { type: c.type, signal: c.signal, time, data: { source: c.source, reason: c.reason } };
  }
}

/** The pending row of a window stands for the first-written one's successors: `count` of them. */
function withCount(row: ContextEventRow, count: number): ContextEventRow {
  if (count <= 1) return row;
  switch (row.type) {
    case 'context_updated':
      return { ...row, data: { ...row.data, count } };
    case 'context_rejected':
      return { ...row, data: { ...row.data, count } };
    case 'context_stale':
      return row; // never held in a window
  }
}
