/**
 * `GET /stream[?run=ID]`: live run events as Server-Sent Events (`text/event-stream`), one
 * `event: run` message per journal event, `data` a JSON object `{runId, planId, event}`. Usable
 * from scripts (`curl -N -H "Authorization: Bearer …"`) as well as by the dashboard.
 *
 * A stream lasts as long as what opened it: every few seconds its credential is checked again,
 * as a new request's would be, and the stream ends once it no longer proves a viewer — its API
 * token revoked or expired, its session signed out (here, everywhere, or on another server of
 * the database), its user removed from the config or left without the role.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContextEventRow } from '../../runtime/index.js';
import type { LiveHub } from '../live.js';
import { contextEventView } from './context-events.js';
import { bearerOf, SESSION_COOKIE, type People } from './auth.js';
import { allows } from './role-table.js';

/** A client that stops reading is cut off once this much is queued for it. */
const MAX_BUFFERED = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;
/** How often an open stream's credential is checked again (default; tests pass less). */
export const STREAM_RECHECK_MS = 2000;

export interface StreamRegistry {
  /** Ends every open stream (server shutdown). */
  closeAll(): void;
}

/** Whether the credential `req` came with still proves a viewer now. */
function stillViewer(people: People, req: FastifyRequest): () => Promise<boolean> {
  const token = bearerOf(req.headers.authorization);
  const cookie = req.cookies[SESSION_COOKIE];
  return async () => {
    const identity = token !== undefined ? await people.bearer(token) : (await people.session(cookie))?.identity;
    return identity !== undefined && !('refused' in identity) && allows(identity.roles, 'viewer');
  };
}

/**
 * `context`: the context's journaled events (§9.4), sent as `event: context` messages to a stream
 * not limited to one run.
 */
export function registerStream(app: FastifyInstance, hub: LiveHub, people: People, recheckMs = STREAM_RECHECK_MS, context?: LiveHub<ContextEventRow>, secrets: ReadonlySet<string> = new Set()): StreamRegistry {
  const open = new Set<() => void>();
  app.get<{ Querystring: { run?: string } }>(
    '/stream',
    { schema: { querystring: { type: 'object', properties: { run: { type: 'string', maxLength: 300 } } } } },
    (req, reply) => {
      const only = req.query.run;
      reply.hijack();
      const res = reply.raw;
      // HEAD asks only whether the stream would open: no body is ever written to it, so a stream
      // left open would never even send its headers, and would hold a subscription and the connection.
      if (req.method === 'HEAD') return void res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }).end();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': orch live events\n\n');
      const valid = stillViewer(people, req);
      let checking = false;
      const recheck = setInterval(() => {
        if (checking) return;
        checking = true;
        valid()
          .then((ok) => {
            if (!ok) end();
          }, () => {
            // The database did not answer: the stream stays until it can be asked again.
          })
          .finally(() => (checking = false));
      }, recheckMs);
      recheck.unref();
      const end = () => {
        unsubscribe();
        unsubscribeContext();
        clearInterval(beat);
        clearInterval(recheck);
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      const unsubscribe = hub.subscribe((e) => {
        if (only !== undefined && e.runId !== only) return;
        if (res.writableLength > MAX_BUFFERED) return end();
        const seq = typeof e.event.seq === 'number' ? e.event.seq : 0;
        res.write(`id: ${e.runId}:${seq}\nevent: run\ndata: ${JSON.stringify(e)}\n\n`);
      });
      const unsubscribeContext =
        only !== undefined || !context
          ? () => {}
          : context.subscribe((row) => {
              if (res.writableLength > MAX_BUFFERED) return end();
              res.write(`event: context\ndata: ${JSON.stringify(contextEventView(row, secrets))}\n\n`);
            });
      const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      beat.unref();
      open.add(end);
      req.raw.on('close', end);
      res.on('error', end);
    },
  );
  return {
    closeAll: () => {
      for (const end of [...open]) end();
    },
  };
}
