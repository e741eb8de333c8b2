/**
 * `POST /sources/NAME` (LANGUAGE.md §9.4): a webhook source's messages, `{ "topic": T, "payload": P }`
 * with `Authorization: Bearer TOKEN` — the source's own token, not a person's: the route is public
 * in the role table and checks the token here. 202 with how many signals the message set; a value
 * of the wrong type sets nothing and is journaled as `context_rejected` by the store.
 */
import type { FastifyInstance } from 'fastify';
import type { ContextSources } from '../context-sources.js';
import { bearerOf } from './auth.js';
import { isPlainObject } from './body.js';

export function registerSourceRoutes(app: FastifyInstance, sources: ContextSources): void {
  app.post<{ Params: { name: string } }>('/sources/:name', async (req, reply) => {
    const source = sources.webhooks.get(req.params.name);
    if (!source) return reply.code(404).send({ error: `no webhook source "${req.params.name}"` });
    if (!source.authorized(bearerOf(req.headers.authorization)))
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: `source "${req.params.name}" needs its own bearer token` });
    const body = req.body;
    if (!isPlainObject(body) || typeof body.topic !== 'string' || !('payload' in body))
      return reply.code(400).send({ error: 'the body must be { "topic": string, "payload": any }' });
    const set = source.ingest.accept({ topic: body.topic, payload: body.payload });
    return reply.code(202).send({ set });
  });
}
