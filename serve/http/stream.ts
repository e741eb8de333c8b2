/**
 * `GET /stream[?run=ID]`: live run events as Server-Sent Events (`text/event-stream`), one
 * `event: run` message per journal event, `data` a JSON object `{runId, planId, event}`. Usable
 * from scripts (`curl -N -H "Authorization: Bearer …"`) as well as by the dashboard.
 */
import type { FastifyInstance } from 'fastify';
import type { LiveHub } from '../live.js';

/** A client that stops reading is cut off once this much is queued for it. */
const MAX_BUFFERED = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export interface StreamRegistry {
  /** Ends every open stream (server shutdown). */
  closeAll(): void;
}

export function registerStream(app: FastifyInstance, hub: LiveHub): StreamRegistry {
  const open = new Set<() => void>();
  app.get<{ Querystring: { run?: string } }>(
    '/stream',
    { schema: { querystring: { type: 'object', properties: { run: { type: 'string', maxLength: 300 } } } } },
    (req, reply) => {
      const only = req.query.run;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': orch live events\n\n');
      const end = () => {
        unsubscribe();
        clearInterval(beat);
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      const unsubscribe = hub.subscribe((e) => {
        if (only !== undefined && e.runId !== only) return;
        if (res.writableLength > MAX_BUFFERED) return end();
        const seq = typeof e.event.seq === 'number' ? e.event.seq : 0;
        res.write(`id: ${e.runId}:${seq}\nevent: run\ndata: ${JSON.stringify(e)}\n\n`);
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
