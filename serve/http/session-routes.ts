/**
 * Signing in and out (LANGUAGE.md §8.8). `POST /session` takes `{"user", "password"}` (a local
 * user) or `{"token"}` (the bootstrap token, where it is accepted) once, in a POST body, and
 * answers with an HttpOnly, SameSite=Strict session cookie and a CSRF cookie the page echoes
 * (double submit). Failed attempts slow further ones down, per user and per client address
 * (429 with Retry-After), counted in the journal's database so every server on it counts
 * together. When those counts cannot be read or written (the database is briefly unreachable or
 * read-only) the attempt is refused with 503 and Retry-After, before the password is checked:
 * letting it through uncounted would let a guesser go unthrottled for as long as the outage
 * lasts, and a right password could not open a session without the database anyway, so a
 * person loses nothing they could have had. `POST /session/logout` ends this session, `DELETE /sessions` every
 * session of the caller on every server sharing the database.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../../runtime/index.js';
import { CSRF_COOKIE, SESSION_COOKIE, type People } from './auth.js';
import { ADDRESS_RULE, USER_RULE, type ThrottleKey } from './login-throttle.js';

/** What the page and scripts may know of an identity (nothing secret). */
export function publicIdentity(id: Identity) {
  return { subject: id.subject, issuer: id.issuer, name: id.name, method: id.method, roles: id.roles, groups: id.groups };
}

/**
 * Opens a browser session for an identity this server has proven (a password here; OpenID
 * Connect in `oidc.ts`) and sets its cookies on the reply.
 */
export async function startSession(people: People, req: FastifyRequest, reply: FastifyReply, identity: Identity): Promise<void> {
  const { id, csrf } = await people.openSession(identity);
  req.identity = identity;
  const base = { path: '/', sameSite: 'strict', secure: req.protocol === 'https' } as const;
  // (Not returned: a FastifyReply is thenable, and awaiting it would wait for the answer.)
  reply
    .setCookie(SESSION_COOKIE, id, { ...base, httpOnly: true })
    // Double submit: the page reads this one and echoes it in x-csrf-token.
    .setCookie(CSRF_COOKIE, csrf, { ...base, httpOnly: false });
}

function clearCookies(reply: FastifyReply): FastifyReply {
  return reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' });
}

/** What a sign-in refused because the failure counts are out of reach answers (and how soon to retry). */
const UNAVAILABLE_RETRY_S = 5;
const UNAVAILABLE = Symbol('the login failure counts are out of reach');

export function registerSessionRoutes(app: FastifyInstance, people: People, log: (line: string) => void = () => {}): void {
  /** A throttle call, or UNAVAILABLE (logged, without any secret) when the store failed. */
  const counting = async <T>(work: () => Promise<T>): Promise<T | typeof UNAVAILABLE> => {
    try {
      return await work();
    } catch (err) {
      log(`sign-in refused (503): cannot read or write the sign-in failure counts: ${(err as Error).message}`);
      return UNAVAILABLE;
    }
  };
  const unavailable = (reply: FastifyReply) =>
    reply
      .code(503)
      .header('retry-after', String(UNAVAILABLE_RETRY_S))
      .send({ error: `signing in is unavailable: the server cannot reach its database; try again in ${UNAVAILABLE_RETRY_S} s` });
  const tooMany = (reply: FastifyReply, waitMs: number) =>
    reply
      .code(429)
      .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
      .send({ error: `too many failed sign-in attempts; try again in ${Math.max(1, Math.ceil(waitMs / 1000))} s` });

  app.post<{ Body: { user?: string; password?: string; token?: string } }>(
    '/session',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            user: { type: 'string', maxLength: 200 },
            password: { type: 'string', maxLength: 1000 },
            token: { type: 'string', maxLength: 1000 },
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const address: ThrottleKey = [`addr:${req.ip}`, ADDRESS_RULE];
      if (typeof body.user === 'string' || typeof body.password === 'string') {
        const user = (body.user ?? '').trim();
        if (!people.auth) return reply.code(400).send({ error: 'no users are configured on this server: sign in with the server token ({"token": …})' });
        if (user === '' || typeof body.password !== 'string') return reply.code(400).send({ error: 'signing in needs "user" and "password"' });
        if (people.auth.users.has(user)) req.auditSubject = user;
        const keys = [[`user:${user}`, USER_RULE], address] as const;
        // Let through, the attempt already counts as a failure: parallel guesses see it at once.
        const wait = await counting(() => people.throttle.take(keys));
        if (wait === UNAVAILABLE) return unavailable(reply);
        if (wait > 0) return tooMany(reply, wait);
        const identity = await people.passwordSignIn(user, body.password);
        if (!identity) return reply.code(401).send({ error: 'wrong user name or password' });
        if ((await counting(() => people.throttle.succeeded(keys))) === UNAVAILABLE) return unavailable(reply);
        await startSession(people, req, reply, identity);
        return reply.code(201).send({ who: identity.name, identity: publicIdentity(identity) });
      }
      if (typeof body.token === 'string') {
        const wait = await counting(() => people.throttle.take([address]));
        if (wait === UNAVAILABLE) return unavailable(reply);
        if (wait > 0) return tooMany(reply, wait);
        const identity = people.bootstrapSignIn(body.token);
        if (!identity) return reply.code(401).send({ error: people.bootstrapAllowed ? 'wrong token' : 'the server token is refused here: sign in with your user name and password' });
        if ((await counting(() => people.throttle.succeeded([address]))) === UNAVAILABLE) return unavailable(reply);
        await startSession(people, req, reply, identity);
        return reply.code(201).send({ who: identity.name, identity: publicIdentity(identity) });
      }
      return reply.code(400).send({ error: people.auth ? 'signing in needs "user" and "password"' : 'signing in needs the server token: {"token": …}' });
    },
  );

  app.post('/session/logout', async (req, reply) => {
    await people.closeSession(req.cookies[SESSION_COOKIE]);
    return clearCookies(reply).code(204).send();
  });

  // Sign-out everywhere: every browser session of the caller, on every server on this database.
  app.delete('/sessions', async (req, reply) => {
    const ended = await people.closeAll(req.identity!);
    return clearCookies(reply).code(200).send({ ended });
  });
}
