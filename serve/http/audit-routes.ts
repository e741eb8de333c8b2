/**
 * `GET /audit[?since=ISO|AGE&limit=N]`: the audit trail (admin only: it names people and their
 * addresses), oldest first. Read-only: nothing in Orch edits or deletes an entry.
 */
import type { FastifyInstance } from 'fastify';
import { parseAge, type PeopleStore } from '../../runtime/index.js';
import { messagesFor } from './schemas.js';

/** `since`: an ISO date/time, or an age (`30d`, `12h`) counted back from now; undefined when unreadable. */
export function sinceOf(text: string, now = Date.now()): number | undefined {
  const age = parseAge(text);
  if (age !== null) return now - age;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

export function registerAuditRoutes(app: FastifyInstance, store: PeopleStore): void {
  app.get<{ Querystring: { since?: string; limit?: string } }>(
    '/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { since: { type: 'string', maxLength: 100 }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,5}$' } },
        },
      },
      schemaErrorFormatter: messagesFor({ root: 'bad query', since: '"since" is too long', limit: '"limit" must be a positive integer' }),
    },
    async (req, reply) => {
      const since = req.query.since === undefined ? 0 : sinceOf(req.query.since);
      if (since === undefined) return reply.code(400).send({ error: '"since" must be a date (2026-01-31, ISO 8601) or an age such as 7d or 12h' });
      const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
      const entries = await store.audit({ since, limit });
      return { entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    },
  );
}
