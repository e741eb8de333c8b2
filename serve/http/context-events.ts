/**
 * `GET /context/events` (LANGUAGE.md §9.4): the context's own journal — `context_updated`,
 * `context_stale`, `context_rejected` — newest first, in pages: `?limit=` (default 100, at most
 * 1000), `?before=SEQ` (the previous page's `next`), `?signal=NAME`. Each event is
 * `{ seq, type, time, signal, …its fields }` with `time` (when it was journaled) and a
 * `context_updated`'s `at` as ISO times (`at` null for a value of unknown age, a retained message); a coalesced `context_updated` has `count` (how many
 * messages it stands for, runtime/context/journaling.ts).
 */
import type { FastifyInstance } from 'fastify';
import { shownSignal, UNKNOWN_AGE, type ContextEventRow, type ContextJournal, type StoredContextEvent } from '../../runtime/index.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** One event as the API and the live stream show it (the value of a `secret` signal as `***`). */
export function contextEventView(e: ContextEventRow | StoredContextEvent, secrets: ReadonlySet<string> = new Set()): { [key: string]: unknown } {
  const head = { ...('seq' in e ? { seq: e.seq } : {}), type: e.type, time: new Date(e.time).toISOString(), signal: e.signal };
  if (e.type !== 'context_updated') return { ...head, ...e.data };
  const { value, at, ...rest } = e.data;
  return { ...head, value: shownSignal(secrets, e.signal, value), ...rest, at: at === UNKNOWN_AGE ? null : new Date(at).toISOString() };
}

export function registerContextEvents(app: FastifyInstance, journal: ContextJournal | null, secrets: ReadonlySet<string> = new Set()): void {
  app.get<{ Querystring: { limit?: string; before?: string; signal?: string } }>(
    '/context/events',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            // Query values stay strings here (the app does not coerce): digits only.
            limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
            before: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
            signal: { type: 'string', maxLength: 300 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      if (!journal) return { events: [], next: null };
      const limit = Math.min(MAX_LIMIT, Number(req.query.limit ?? DEFAULT_LIMIT));
      const events = await journal.list({ limit, ...(req.query.before !== undefined ? { before: Number(req.query.before) } : {}), ...(req.query.signal !== undefined ? { signal: req.query.signal } : {}) });
      return { events: events.map((e) => contextEventView(e, secrets)), next: events.length === limit ? events.at(-1)!.seq : null };
    },
  );
}
