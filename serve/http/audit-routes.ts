/**
 * `GET /audit`: the audit trail (admin only: it names people and their addresses), newest first,
 * a page at a time (`limit`, then `before=` the `next` of the previous page), filtered by time
 * (`since`, `until`), person (`user`, `issuer`), run (`run`: the entries that named it and the
 * one that started it), answer (`status`) and route; `order=oldest` reads it forwards. With the
 * entries come the refused requests that proved no identity, counted per hour (`refused`). Read
 * only: entries go only by `auth.audit_retention`.
 */
import type { FastifyInstance } from 'fastify';
import { parseAge, type AuditEntry, type AuditQuery, type PeopleStore } from '../../runtime/index.js';
import { messagesFor } from './schemas.js';

/** `since`: an ISO date/time, or an age (`30d`, `12h`) counted back from now; undefined when unreadable. */
export function sinceOf(text: string, now = Date.now()): number | undefined {
  const age = parseAge(text);
  if (age !== null) return now - age;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * An audit entry as JSON (`GET /audit`, `orch audit --format json`): its time as ISO 8601, and who
 * as §8.8 names it — `subject`, `issuer`, `method` (how they proved it: password, token, oidc,
 * bootstrap). `method` is the same value as `authMethod`, kept beside it for the readers of the
 * earlier shape; `httpMethod` is the request's.
 */
export function auditEntryJson(e: AuditEntry): Omit<AuditEntry, 'at'> & { readonly at: string; readonly method: AuditEntry['authMethod'] } {
  return { ...e, at: new Date(e.at).toISOString(), method: e.authMethod };
}

export const AUDIT_PAGE = 100;
export const AUDIT_MAX_PAGE = 1000;

interface AuditQuerystring {
  since?: string;
  until?: string;
  before?: string;
  limit?: string;
  user?: string;
  issuer?: string;
  run?: string;
  status?: string;
  route?: string;
  order?: 'newest' | 'oldest';
}

const text = { type: 'string', minLength: 1, maxLength: 300 } as const;
const count = (digits: number) => ({ type: 'string', pattern: `^[1-9][0-9]{0,${digits}}$` }) as const;

export function registerAuditRoutes(app: FastifyInstance, store: PeopleStore): void {
  app.get<{ Querystring: AuditQuerystring }>(
    '/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'string', maxLength: 100 },
            until: { type: 'string', maxLength: 100 },
            before: count(15),
            limit: count(5),
            user: text,
            issuer: text,
            run: text,
            status: { type: 'string', pattern: '^[1-5][0-9][0-9]$' },
            route: text,
            order: { type: 'string', enum: ['newest', 'oldest'] },
          },
        },
      },
      schemaErrorFormatter: messagesFor({
        root: 'bad query',
        since: '"since" is too long',
        until: '"until" is too long',
        before: '"before" must be an entry id (the "next" of the previous page)',
        limit: '"limit" must be a positive integer',
        status: '"status" must be an HTTP status code',
        order: '"order" must be newest or oldest',
        user: '"user" must be a name of at most 300 characters',
        issuer: '"issuer" must be at most 300 characters',
        run: '"run" must be a run id',
        route: '"route" must be a route pattern such as /runs/:id/cancel',
      }),
    },
    async (req, reply) => {
      const q = req.query;
      const times: { since?: number; until?: number } = {};
      for (const key of ['since', 'until'] as const) {
        if (q[key] === undefined) continue;
        const t = sinceOf(q[key]);
        if (t === undefined) return reply.code(400).send({ error: `"${key}" must be a date (2026-01-31, ISO 8601) or an age such as 7d or 12h` });
        times[key] = t;
      }
      const limit = Math.min(q.limit === undefined ? AUDIT_PAGE : Number(q.limit), AUDIT_MAX_PAGE);
      const filters = {
        ...times,
        ...(q.user !== undefined ? { subject: q.user } : {}),
        ...(q.status !== undefined ? { status: Number(q.status) } : {}),
        ...(q.route !== undefined ? { route: q.route } : {}),
      };
      const query: AuditQuery = {
        ...filters,
        limit,
        order: q.order ?? 'newest',
        ...(q.before !== undefined ? { before: Number(q.before) } : {}),
        ...(q.issuer !== undefined ? { issuer: q.issuer } : {}),
        ...(q.run !== undefined ? { runId: q.run } : {}),
      };
      const entries = await store.audit(query);
      // The next page: older entries (newest first) — forwards has no end to page towards but now.
      const next = query.order === 'newest' && entries.length === limit ? entries[entries.length - 1]!.id : null;
      // Refused requests name no run and no issuer: asked for those, there are none to count.
      const refused = q.run !== undefined || q.issuer !== undefined || q.before !== undefined ? [] : await store.refused({ ...filters, limit: AUDIT_MAX_PAGE });
      return {
        entries: entries.map(auditEntryJson),
        next,
        refused: refused.map((r) => ({ ...r, hour: new Date(r.hour).toISOString(), firstAt: new Date(r.firstAt).toISOString(), lastAt: new Date(r.lastAt).toISOString() })),
      };
    },
  );
}
