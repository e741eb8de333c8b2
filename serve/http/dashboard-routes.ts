/**
 * The dashboard: the login page, the single-page app and its bundle, the browser session, and
 * the JSON views only the dashboard needs (approvals inbox, resources, workers, spend). The app itself is built
 * from `serve/ui/` by esbuild at `npm run build` into `dist/ui/`.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { packagePath } from '../../compiler/index.js';
import { pendingApprovals } from '../approvals.js';
import { resourceUsage } from '../resources.js';
import type { SpendTotal } from '../metrics-spend.js';
import type { RunStarter } from '../run-starter.js';
import type { People } from './auth.js';
import { publicIdentity } from './session-routes.js';

export interface DashboardDeps {
  readonly people: People;
  readonly starter: RunStarter;
  /** Actual spend of the finished runs (LANGUAGE.md §8.2), the totals `/metrics` reports. */
  readonly spend: () => Promise<readonly SpendTotal[]>;
  /** `orch serve` or `orch ui`: shown in the header. */
  readonly mode: 'serve' | 'ui';
  /** Whether `POST /runs/ID/steps/STEP/cancel` exists (the button shows only then). */
  readonly stepCancel: boolean;
  /** The OpenID provider's name when `auth.oidc` is configured: the login page offers "Sign in with NAME". */
  readonly oidcName?: string;
}

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

/** Which sign-in forms the login page shows: a user's password, the server token, OpenID Connect. */
function loginKinds(people: People, oidc: boolean): string[] {
  const auth = people.auth;
  return [...(auth && auth.users.size > 0 ? ['password'] : []), ...(people.bootstrapAllowed ? ['token'] : []), ...(oidc ? ['oidc'] : [])];
}

const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function shell(page: 'app' | 'login', deps: DashboardDeps): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orch${page === 'login' ? ' — sign in' : ''}</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body data-page="${page}" data-mode="${deps.mode}" data-step-cancel="${deps.stepCancel ? 'yes' : 'no'}" data-login="${loginKinds(deps.people, deps.oidcName !== undefined).join(' ')}"${deps.oidcName !== undefined ? ` data-oidc="${attr(deps.oidcName)}"` : ''}>
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

  app.get('/', { config: { page: true } }, async (_req, reply) => reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(shell('app', deps)));
  app.get('/login', async (_req, reply) =>
    reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(shell('login', deps)),
  );
  app.get('/ui/app.js', async (_req, reply) => {
    if (js === null) return reply.code(500).send({ error: 'the dashboard bundle is missing: run `npm run build`' });
    return reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(js);
  });
  app.get('/ui/app.css', async (_req, reply) => {
    if (css === null) return reply.code(500).send({ error: 'the dashboard bundle is missing: run `npm run build`' });
    return reply.header('cache-control', 'no-cache').type('text/css; charset=utf-8').send(css);
  });

  app.get('/session', async (req) => {
    const id = req.identity!;
    return { who: id.name, identity: publicIdentity(id), stepCancel: deps.stepCancel, mode: deps.mode };
  });

  app.get('/approvals', async () => ({ approvals: await pendingApprovals(deps.starter) }));
  app.get('/resources', async () => resourceUsage(deps.starter));
  // The runs page's spend by plan, capability and model; `model: null` where no model reported one.
  app.get('/spend', async () => ({
    totals: (await deps.spend()).map((t) => ({ ...t.labels, model: t.labels.model || null, cost: t.cost, input_tokens: t.input_tokens, output_tokens: t.output_tokens })),
  }));
  // A cluster's workers (`orch workers`): the dashboard marks an unreachable one and the steps it
  // holds until its lease lapses. `cluster: false` where the backend has no workers.
  app.get('/workers', async () => {
    const workers = (await deps.starter.workers?.()) ?? null;
    return { cluster: workers !== null, workers: workers ?? [] };
  });
}
