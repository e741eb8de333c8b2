/**
 * The one adapter from a request to the person the runtime checks (LANGUAGE.md §8.8).
 *
 * Until serve authenticates people (the `auth` block), there is no person: the bearer token and a
 * browser session's typed name act as before — decisions carry no identity, so an approval's
 * `approver` is a label and the typed name is recorded as given. Once the authentication layer
 * puts the authenticated `Identity` on the request (`req.identity`), that person decides (and is
 * checked) and starts runs (`plan_created.started_by`).
 *
 * Merge point: swap the body of `requestIdentity` for the authentication layer's own accessor.
 * It must give null while no people are configured (the bootstrap token alone): an identity,
 * the bootstrap's included, is checked against each approval's `approver`, and the bootstrap
 * matches none — every approval would be refused.
 */
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../../runtime/index.js';
import type { Session } from './auth.js';

/** The authenticated person who made the request; null when no people are configured. */
export function requestIdentity(req: FastifyRequest): Identity | null {
  return (req as FastifyRequest & { identity?: Identity }).identity ?? null;
}

/** Who decides, for the runtime: the person, or — without people — the label recorded as today. */
export function decider(req: FastifyRequest): { readonly identity: Identity | null; readonly by: string } {
  const identity = requestIdentity(req);
  if (identity) return { identity, by: identity.subject };
  const session = (req as FastifyRequest & { session?: Session }).session;
  return { identity: null, by: session ? session.who : 'orch serve' };
}
