/**
 * `POST /sources/NAME` (LANGUAGE.md §9.4): a webhook source's messages, `{ "topic": T, "payload": P }`
 * with `Authorization: Bearer TOKEN` — the source's own token, not a person's: the route is public
 * in the role table and checks the token here. 202 with how many signals the message set; a value
 * of the wrong type sets nothing and is journaled as `context_rejected` by the store. Wrong
 * tokens count on the server's bearer brake like any wrong bearer token: a source's token is
 * written by people, so guessing it must be slow too.
 */
import type { FastifyInstance } from 'fastify';
import { isTopicName } from '../../runtime/index.js';
import type { ContextSources } from '../context-sources.js';
import { bearerOf } from './auth.js';
import type { BearerBrake } from './bearer-brake.js';
import { isPlainObject } from './body.js';

/**
 * `settled`: resolves once the values handed over so far are in the store (the sources' batcher
 * takes a turn's messages at its end): a 202 means set, so a `GET /context` right after sees it.
 */
export function registerSourceRoutes(app: FastifyInstance, sources: ContextSources, brake: BearerBrake, settled: () => Promise<void> = async () => {}): void {
  app.post<{ Params: { name: string } }>('/sources/:name', async (req, reply) => {
    const source = sources.webhooks.get(req.params.name);
    if (!source) return reply.code(404).send({ error: `no webhook source "${req.params.name}"` });
    const wait = brake.wait(req.ip);
    if (wait > 0) {
      const s = Math.max(1, Math.ceil(wait / 1000));
      return reply.code(429).header('retry-after', String(s)).send({ error: `too many wrong bearer tokens from this address; try again in ${s} s` });
    }
    if (!source.authorized(bearerOf(req.headers.authorization))) {
      brake.failed(req.ip);
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: `source "${req.params.name}" needs its own bearer token` });
    }
    req.auditSource = req.params.name;
    const body = req.body;
    if (!isPlainObject(body) || typeof body.topic !== 'string' || !('payload' in body))
      return reply.code(400).send({ error: 'the body must be { "topic": string, "payload": any }' });
    if (!isTopicName(body.topic)) return reply.code(400).send({ error: 'a topic name holds no "+", "#" or NUL: those are for subscriptions' });
    const set = source.ingest.accept({ topic: body.topic, payload: body.payload });
    await settled();
    return reply.code(202).send({ set });
  });
}
