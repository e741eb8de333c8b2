/**
 * The HTTP server of `orch serve` / `orch ui`, on Fastify: one port for the JSON API, the live
 * event stream and the dashboard. Every request is checked against the role table
 * (`role-table.ts`): 401 without an identity (a bearer token or a browser session, whose
 * state-changing requests carry its CSRF token), 403 when the identity lacks the role. Every
 * state-changing request is written to the audit trail. Bad requests get `{"error": "…"}` with
 * 400 / 401 / 403 / 404 / 405 / 409 / 413 / 415 / 429.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { SYSTEM_ISSUER, type Identity, type StartedRun, type StoredSession } from '../../runtime/index.js';
import { bearerOf, CSRF_HEADER, People, SESSION_COOKIE } from './auth.js';
import { addJsonParser, DEFAULT_BODY_LIMIT, notJson } from './body.js';
import { allows, changesState, requirementOf, type Requirement } from './role-table.js';

/** Connection hardening (issue 15): how long a client may take, and how many may be connected. */
export interface HttpLimits {
  /** A client must have sent its request headers within this (slow-header clients are cut). */
  readonly headersTimeoutMs: number;
  /** …and its whole request, body included, within this (slow-body clients are cut). */
  readonly requestTimeoutMs: number;
  /** Connections beyond this are refused at accept. */
  readonly maxConnections: number;
  readonly bodyLimit: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 512,
  bodyLimit: DEFAULT_BODY_LIMIT,
};

declare module 'fastify' {
  /** Who may call a route (`config` of each route). */
  interface FastifyContextConfig {
    /** A page for people: without a session it redirects to the login page instead of a 401. */
    readonly page?: boolean;
    /** An `api` trigger's route (the role table has one entry for all of them). */
    readonly apiTrigger?: boolean;
    /** Internal: the generated 405 answer of a known path. */
    readonly methodNotAllowed?: boolean;
  }
  interface FastifyRequest {
    /** Who made the request (absent on public routes, and on refused requests). */
    identity?: Identity;
    /** The browser session the request came with (absent for bearer-token requests). */
    session?: StoredSession;
    /** For the audit trail of a sign-in attempt: the user it named, when configured. */
    auditSubject?: string;
    /** For the audit trail: the runs this request started, and their plans. */
    auditStarted?: StartedRun[];
    /** For the audit trail: the webhook source whose own token this request proved (\`POST /sources/NAME\`). */
    auditSource?: string;
  }
}

export interface AppOptions {
  readonly people: People;
  readonly limits: HttpLimits;
  readonly log?: (line: string) => void;
  /**
   * `auth.trust_proxy`: reverse proxies whose `X-Forwarded-*` headers are believed, so `req.ip`
   * (the sign-in brake, the audit trail), `req.protocol` (`Secure` cookies) and `req.host` are
   * the client's; none by default.
   */
  readonly trustProxy?: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/**
 * The node:http server under Fastify. Node checks its header and request deadlines only every
 * `connectionsCheckingInterval` (30 s by default), which let slow clients stay ~31 s / ~61 s
 * against 10 s / 30 s; checking at a tenth of the header deadline keeps the overshoot small.
 */
function limitedServer(limits: HttpLimits) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: 5000,
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 10))),
      },
      handler,
    );
    server.maxConnections = limits.maxConnections;
    return server;
  };
}

/**
 * A connection the HTTP parser gave up on: a slow client past its deadline gets 408, an oversized
 * header 431, anything else 400 — unless an answer is already on its way (a client that kept
 * sending after a `Connection: close` request), which must stay the only thing it reads.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Bytes after a `Connection: close` request (a body nobody reads): the answer to that request
  // is on its way and closes the connection; nothing more is to be said.
  if (err.code === 'HPE_CLOSED_CONNECTION') return;
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, text, error] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request took too long to arrive']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request headers too large']
        : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export async function createApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: o.limits.bodyLimit,
    requestTimeout: o.limits.requestTimeoutMs,
    keepAliveTimeout: 5000,
    serverFactory: limitedServer(o.limits),
    ...(o.trustProxy && o.trustProxy.length > 0 ? { trustProxy: [...o.trustProxy] } : {}),
    // Client data stays data: no type coercion, nothing removed or defaulted by a schema.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    clientErrorHandler,
    frameworkErrors: (err, _req, reply) => {
      void (reply as FastifyReply).code(400).send({ error: err.code === 'FST_ERR_BAD_URL' ? 'malformed request path' : err.message });
    },
  });
  await app.register(cookie);
  addJsonParser(app);

  const people = o.people;
  app.addHook('onRequest', authenticate(people));

  app.addHook('onResponse', auditTrail(people, o.log));

  app.setNotFoundHandler((req, reply) => {
    req.raw.resume();
    let path = req.url;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      // keep the raw URL
    }
    return reply.code(404).send({ error: `no route for ${req.method} ${path}` });
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: `request body is larger than ${o.limits.bodyLimit} bytes` });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: notJson(req.headers['content-type']) });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    o.log?.(`internal error on ${req.method} ${req.routeOptions.url ?? '(no route)'}: ${err.message}`);
    return reply.code(500).send({ error: 'internal error' });
  });

  answerOtherMethods(app);
  return app;
}

/** The `onRequest` hook: who is asking (a bearer token or a session), refused unless their roles allow the route (serve/http/role-table.ts). */
function authenticate(people: AppOptions['people']) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // A body nobody reads (GET, or a request refused here) is drained, so the connection stays
    // in step and the answer is the only one the client reads.
    if (SAFE_METHODS.has(req.method)) req.raw.resume();
    const config = req.routeOptions.config ?? {};
    const need = requirementOf(
      req.method,
      req.routeOptions.url,
      config.apiTrigger ? 'api-trigger' : config.methodNotAllowed ? 'method-not-allowed' : undefined,
    );
    if (need === 'public') return;
    const refuse = (status: 401 | 403, error: string) => {
      req.raw.resume();
      return status === 401 ? reply.code(401).header('www-authenticate', 'Bearer').send({ error }) : reply.code(403).send({ error });
  };
  let identity: Identity | undefined;
  const token = bearerOf(req.headers.authorization);
  if (token !== undefined) {
    const wait = people.bearerBrake.wait(req.ip);
    if (wait > 0) {
      req.raw.resume();
      const s = Math.max(1, Math.ceil(wait / 1000));
      return reply.code(429).header('retry-after', String(s)).send({ error: `too many wrong bearer tokens from this address; try again in ${s} s` });
    }
    const r = await people.bearer(token);
    if ('refused' in r) {
      people.bearerBrake.failed(req.ip);
      return refuse(401, r.refused);
    }
    identity = r;
  } else {
    const session = await people.session(req.cookies[SESSION_COOKIE]);
    if (session) {
      if (!SAFE_METHODS.has(req.method) && !People.csrfOk(session, req.headers[CSRF_HEADER])) {
        req.identity = session.identity;
        return refuse(403, `missing or invalid CSRF token (send the ${CSRF_HEADER} header)`);
      }
      req.session = session;
      identity = session.identity;
    }
  }
  if (!identity) {
    req.raw.resume();
    if (config.page) return reply.redirect('/login', 303);
    return refuse(401, 'missing or invalid bearer token');
  }
  req.identity = identity;
  if (!allows(identity.roles, need)) return refuse(403, forbidden(identity, need, req.method, req.routeOptions.url ?? req.url));
  };
}

// The audit trail: every state-changing request that reached a route, with who, what, the
// outcome, when and from where. A refused one that proved no identity (a wrong password, a
// wrong bearer token, a 429) is counted per hour instead of stored alone: a stranger cannot
// bury the people's actions under their own failures. A failure to write it is logged, never
// turned into an error after the fact (the answer has gone).
function auditTrail(people: AppOptions['people'], log: AppOptions['log']) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!changesState(req.method) || req.routeOptions.url === undefined) return;
    const id = req.identity;
    const failed = (err: unknown) => log?.(`could not write the audit trail: ${(err as Error).message}`);
    // A webhook source proves no person, but its own token: its messages change the context
    // (and may start runs), so each is a row as that source.
    const who = id
      ? { subject: id.subject, issuer: id.issuer, authMethod: id.method, name: id.name }
      : req.auditSource !== undefined
        ? { subject: `source:${req.auditSource}`, issuer: SYSTEM_ISSUER, authMethod: 'token' as const, name: `source ${req.auditSource}` }
        : null;
    if (!who) {
      if (reply.statusCode < 400) return;
      const refused = { httpMethod: req.method, route: req.routeOptions.url, status: reply.statusCode, subject: req.auditSubject ?? null, client: req.ip ?? null };
      await people.store.countRefused(refused, Date.now()).catch(failed);
      return;
    }
    const params = (req.params ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    await people.store
      .appendAudit({
        at: Date.now(),
        ...who,
        httpMethod: req.method,
        route: req.routeOptions.url,
        path: pathOf(req.url),
        runId: str(params.id),
        stepId: str(params.step),
        status: reply.statusCode,
        client: req.ip ?? null,
        ...(req.auditStarted?.length ? { started: req.auditStarted } : {}),
      })
      .catch(failed);
  };
}

// 405 with `Allow` for a known path and a method it does not take (Fastify's router answers
// 404 for those): every route's other methods get a route of their own. `OPTIONS` asks which
// methods a path takes: 204 with `Allow` (and no CORS headers: no other origin is let in).
function answerOtherMethods(app: FastifyInstance): void {
  const methodsOf = new Map<string, Set<string>>();
  app.addHook('onRoute', (r) => {
    if (r.config?.methodNotAllowed) return;
    const set = methodsOf.get(r.url) ?? new Set<string>();
    for (const m of [r.method].flat()) if (m !== 'HEAD') set.add(m);
    methodsOf.set(r.url, set);
  });
  pendingMethodFill.set(app, () => {
    for (const [url, allowed] of methodsOf) {
      const others = METHODS.filter((m) => !allowed.has(m));
      if (others.length === 0) continue;
      const allow = [...allowed].join(', ');
      app.route({
        method: others,
        url,
        config: { methodNotAllowed: true },
        handler: async (req, reply) =>
          req.method === 'OPTIONS'
            ? reply.code(204).header('allow', `${allow}, OPTIONS`).send()
            : reply.code(405).header('allow', allow).send({ error: `method ${req.method} not allowed on ${url}; use ${allow}` }),
      });
    }
  });
}

/** The 403's message: what is needed, and what the caller has. */
export function forbidden(identity: Identity, need: Requirement, method: string, route: string): string {
  const has = identity.roles.length > 0 ? `has ${identity.roles.join(', ')}` : 'has no role';
  return `${method} ${route} needs the ${need} role; ${identity.name} (${identity.subject}) ${has}`;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > 500 ? `${path.slice(0, 500)}…` : path;
}

const pendingMethodFill = new WeakMap<FastifyInstance, () => void>();

/** Call once every route is registered: adds the 405 answers. */
export function finishRoutes(app: FastifyInstance): void {
  pendingMethodFill.get(app)?.();
  pendingMethodFill.delete(app);
}
