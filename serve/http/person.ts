/**
 * The one adapter from a request to the person the runtime checks (LANGUAGE.md §8.8).
 *
 * Every request the role table lets through carries an authenticated `Identity` (`req.identity`,
 * serve/http/app.ts). Without an `auth` block the only identity is the bootstrap token, and there
 * is no person: decisions carry no identity, an approval's `approver` is a label and the
 * decision is recorded as the bootstrap's. With people configured every identity is a person —
 * the bootstrap's included, which matches no approver — who decides (and is checked).
 *
 * Whoever it is, the identity of a request that starts a run (or fires the trigger, posts the
 * event or sends the signal that does) is recorded as its starter (§9.1 `started_by`,
 * `caused_by`): with or without people, on every way in.
 */
import type { FastifyRequest } from 'fastify';
import { starterOf, type Identity, type Starter } from '../../runtime/index.js';

/** The authenticated person who made the request; null when no people are configured. */
export function requestIdentity(req: FastifyRequest, peopleConfigured: boolean): Identity | null {
  const identity = req.identity;
  if (!identity) return null;
  return peopleConfigured || identity.method !== 'bootstrap' ? identity : null;
}

/** Who made the request, as a run records its starter (§9.1); undefined only on a public route. */
export function requestStarter(req: FastifyRequest): Starter | undefined {
  return req.identity ? starterOf(req.identity) : undefined;
}

/** Who decides, for the runtime: the person, or — without people — the identity's subject as a label. */
export function decider(req: FastifyRequest, peopleConfigured: boolean): { readonly identity: Identity | null; readonly by: string } {
  const identity = requestIdentity(req, peopleConfigured);
  return { identity, by: (identity ?? req.identity)?.subject ?? 'orch serve' };
}
