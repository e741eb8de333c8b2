/**
 * Signing in and out (LANGUAGE.md §8.8). `POST /session` takes `{"user", "password"}` (a local
 * user) or `{"token"}` (the bootstrap token, where it is accepted) once, in a POST body, and
 * answers with an HttpOnly, SameSite=Strict session cookie and a CSRF cookie the page echoes
 * (double submit). Failed attempts slow further ones down, per user and per client address
 * (429 with Retry-After). `POST /session/logout` ends this session, `DELETE /sessions` every
 * session of the caller on every server sharing the database.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../../runtime/index.js';
import { CSRF_COOKIE, SESSION_COOKIE, type People } from './auth.js';
import { ADDRESS_RULE, USER_RULE } from './login-throttle.js';

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

export function registerSessionRoutes(app: FastifyInstance, people: People): void {
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
      const address: [string, typeof ADDRESS_RULE] = [`addr:${req.ip}`, ADDRESS_RULE];
      if (typeof body.user === 'string' || typeof body.password === 'string') {
        const user = (body.user ?? '').trim();
        if (!people.auth) return reply.code(400).send({ error: 'no users are configured on this server: sign in with the server token ({"token": …})' });
        if (user === '' || typeof body.password !== 'string') return reply.code(400).send({ error: 'signing in needs "user" and "password"' });
        if (people.auth.users.has(user)) req.auditSubject = user;
        const keys = [[`user:${user}`, USER_RULE], address] as const;
        const wait = people.throttle.wait(keys);
        if (wait > 0) return tooMany(reply, wait);
        const identity = await people.passwordSignIn(user, body.password);
        if (!identity) {
          people.throttle.failed(keys);
          return reply.code(401).send({ error: 'wrong user name or password' });
        }
        people.throttle.succeeded(`user:${user}`);
        await startSession(people, req, reply, identity);
        return reply.code(201).send({ who: identity.name, identity: publicIdentity(identity) });
      }
      if (typeof body.token === 'string') {
        const wait = people.throttle.wait([address]);
        if (wait > 0) return tooMany(reply, wait);
        const identity = people.bootstrapSignIn(body.token);
        if (!identity) {
          people.throttle.failed([address]);
          return reply.code(401).send({ error: people.bootstrapAllowed ? 'wrong token' : 'the server token is refused here: sign in with your user name and password' });
        }
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
