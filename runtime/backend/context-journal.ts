/**
 * The context's own journal (LANGUAGE.md §9.4, the contract of each backend's store): the
 * `context_updated`, `context_stale` and `context_rejected` events, kept apart from any run, in
 * the order they were written (`seq` grows), listed newest first and pruned by the journal's
 * retention. Several `orch serve` processes on one Postgres database append to one list.
 */

export type ContextEventType = 'context_updated' | 'context_stale' | 'context_rejected';

/** One event as written: its data is the event's own fields (`value`, `source`, `at`, `count`; `age`; `source`, `reason`). */
export interface ContextEventRow {
  readonly type: ContextEventType;
  readonly signal: string;
  /** When it was journaled (epoch ms): what retention compares. */
  readonly time: number;
  readonly data: { readonly [key: string]: unknown };
}

export interface StoredContextEvent extends ContextEventRow {
  readonly seq: number;
}

export interface ContextEventQuery {
  /** Only events older than this `seq` (the previous page's last). */
  readonly before?: number;
  readonly limit: number;
  readonly signal?: string;
}

export interface ContextJournal {
  append(rows: readonly ContextEventRow[]): Promise<void>;
  /** Newest first. */
  list(q: ContextEventQuery): Promise<StoredContextEvent[]>;
  /** Deletes the events journaled before `before` (epoch ms); how many went. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}
