/**
 * The context's own journal (LANGUAGE.md §9.4, the contract of each backend's store): the
 * `context_updated`, `context_stale` and `context_rejected` events, kept apart from any run, in
 * the order they were written (`seq` grows), listed newest first and pruned by the journal's
 * retention. Several `orch serve` processes on one Postgres database append to one list.
 */

import { ANY, fieldsSchema, INTEGER, NUMBER, opt, req, STRING, type DataOf, type Fields, type JsonSchema } from '../scheduler/journal-events.js';

/**
 * Each context event type with the fields of its data — the one place they are declared: the
 * row types below and the data's JSON Schema (`contextEventsJsonSchema`) come from it. `count`:
 * how many messages a coalesced row stands for (runtime/context/journaling.ts), only above one.
 * Rows outlive the process that wrote them and are read by every server on the database: a field
 * added later must be optional.
 */
export const CONTEXT_EVENTS = {
  context_updated: { value: req<unknown>(ANY), source: req<string>(STRING), at: req<number>(NUMBER), count: opt<number>(INTEGER) },
  context_stale: { age: req<number>(NUMBER) },
  context_rejected: { source: req<string>(STRING), reason: req<string>(STRING), count: opt<number>(INTEGER) },
} as const satisfies { readonly [type: string]: Fields };

export type ContextEventType = keyof typeof CONTEXT_EVENTS;
export const CONTEXT_EVENT_TYPES = Object.keys(CONTEXT_EVENTS) as ContextEventType[];

export type ContextEventData<T extends ContextEventType> = DataOf<(typeof CONTEXT_EVENTS)[T]>;

/** One event as written. */
export type ContextEventRow = {
  [T in ContextEventType]: {
    readonly type: T;
    readonly signal: string;
    /** When it was journaled (epoch ms): what retention compares. */
    readonly time: number;
    readonly data: ContextEventData<T>;
  };
}[ContextEventType];

export type StoredContextEvent = ContextEventRow & { readonly seq: number };

/** The JSON Schema of one row as written (`type`, `signal`, `time`, `data`). */
export function contextEventsJsonSchema(): JsonSchema {
  return {
    type: 'object',
    properties: { type: { enum: CONTEXT_EVENT_TYPES }, signal: STRING, time: NUMBER, data: { type: 'object' } },
    required: ['type', 'signal', 'time', 'data'],
    additionalProperties: false,
    allOf: CONTEXT_EVENT_TYPES.map((type) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: { properties: { data: fieldsSchema(CONTEXT_EVENTS[type]) } },
    })),
  };
}

/**
 * A row read back from a store, typed again: the one place the stored form becomes a
 * `StoredContextEvent`. What a store holds was written through `ContextEventRow` (a test checks
 * the rows written against the schema); a type this version does not know (a newer Orch's on
 * the same database) gives null, which readers skip.
 */
export function storedContextEvent(seq: number, type: string, signal: string, time: number, data: unknown): StoredContextEvent | null {
  if (!(CONTEXT_EVENT_TYPES as readonly string[]).includes(type)) return null;
  const d = data !== null && typeof data === 'object' ? data : {};
  return { seq, type, signal, time, data: d } as StoredContextEvent;
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
