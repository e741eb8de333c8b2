/**
 * The dashboard: the login page, the single-page app and its bundle, the browser session, and
 * the JSON views only the dashboard needs (approvals inbox, resources). The app itself is built
 * from `serve/ui/` by esbuild at `npm run build` into `dist/ui/`.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packagePath } from '../../compiler/index.js';
import { pendingApprovals } from '../approvals.js';
import { resourceUsage } from '../resources.js';
import type { RunStarter } from '../run-starter.js';
import { CSRF_COOKIE, SESSION_COOKIE, tokenMatches, type Sessions } from './auth.js';

export interface DashboardDeps {
  readonly token: string;
  readonly sessions: Sessions;
  readonly starter: RunStarter;
  /** `orch serve` or `orch ui`: shown in the header. */
  readonly mode: 'serve' | 'ui';
  /** Whether `POST /runs/ID/steps/STEP/cancel` exists (the button shows only then). */
  readonly stepCancel: boolean;
  /** The OpenID provider's name when `auth.oidc` is configured: the login page offers "Sign in with NAME". */
  readonly oidcName?: string;
}

/** Sets a new browser session's cookies: the HttpOnly session id, and the CSRF token the page echoes. */
export function setSessionCookies(req: FastifyRequest, reply: FastifyReply, id: string, csrf: string): FastifyReply {
  const base = { path: '/', sameSite: 'strict', secure: req.protocol === 'https' } as const;
  return reply
    .setCookie(SESSION_COOKIE, id, { ...base, httpOnly: true })
    // Double submit: the page reads this one and echoes it in x-csrf-token.
    .setCookie(CSRF_COOKIE, csrf, { ...base, httpOnly: false });
}

const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The bundle, read once; a missing bundle is a clear page, not a crash. */
function asset(name: string): string | null {
  try {
    return readFileSync(packagePath('dist', 'ui', name), 'utf8');
  } catch {
    return null;
  }
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

function shell(page: 'app' | 'login', deps: DashboardDeps): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orch${page === 'login' ? ' — sign in' : ''}</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body data-page="${page}" data-mode="${deps.mode}" data-step-cancel="${deps.stepCancel ? 'yes' : 'no'}"${deps.oidcName ? ` data-oidc="${attr(deps.oidcName)}"` : ''}>
<noscript>The Orch dashboard needs JavaScript.</noscript>
<div id="root"></div>
<script src="/ui/app.js"></script>
</body>
</html>
`;
}

export function registerDashboard(app: FastifyInstance, deps: DashboardDeps): void {
  const js = asset('app.js');
  const css = asset('app.css');
  const matches = tokenMatches(deps.token);

  app.get('/', { config: { page: true } }, async (_req, reply) => reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(shell('app', deps)));
  app.get('/login', { config: { public: true } }, async (_req, reply) =>
    reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(shell('login', deps)),
  );
  app.get('/ui/app.js', { config: { public: true } }, async (_req, reply) => {
    if (js === null) return reply.code(500).send({ error: 'the dashboard bundle is missing: run `npm run build`' });
    return reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(js);
  });
  app.get('/ui/app.css', { config: { public: true } }, async (_req, reply) => {
    if (css === null) return reply.code(500).send({ error: 'the dashboard bundle is missing: run `npm run build`' });
    return reply.header('cache-control', 'no-cache').type('text/css; charset=utf-8').send(css);
  });

  // The token travels once, in a POST body; the browser keeps only an HttpOnly session cookie.
  app.post<{ Body: { token: string; name?: string } }>(
    '/session',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', maxLength: 1000 }, name: { type: 'string', maxLength: 100 } },
        },
      },
    },
    async (req, reply) => {
      if (!matches(req.body.token)) return reply.code(401).send({ error: 'wrong token' });
      const who = (req.body.name ?? '').trim() || 'operator';
      const { id, session } = deps.sessions.open(who);
      return setSessionCookies(req, reply, id, session.csrf).code(201).send({ who });
    },
  );
  app.post('/session/logout', async (req, reply) => {
    deps.sessions.close(req.cookies[SESSION_COOKIE]);
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' }).code(204).send();
  });
  app.get('/session', async (req) => ({
    who: req.session?.who ?? 'api client',
    ...(req.session?.identity ? { identity: req.session.identity } : {}),
    stepCancel: deps.stepCancel,
    mode: deps.mode,
  }));

  app.get('/approvals', async () => ({ approvals: await pendingApprovals(deps.starter) }));
  app.get('/resources', async () => resourceUsage(deps.starter));
}
