/**
 * Sign-in with OpenID Connect, end to end: a real provider (`oidc-provider`) and orch's server in
 * this process, real Chromium in between. The provider lives on 127.0.0.1 and orch on
 * `orch.test` (mapped to 127.0.0.1 in Chromium), so the browser crosses sites as it would in
 * production, and the session cookie's SameSite=Strict is put to the test. The acceptance scenario
 * of issue #41 runs there too, on a server with people (`auth.oidc.roles` by group) and a real
 * runtime: roles and an `approvals: 2` step decided by people signed in through the provider.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { openBackend, parseAuthConfig, parseOidcConfig } from '../../runtime/index.js';
import { runCli } from '../../test/support/cli-in-process.js';
import { LOGIN_COOKIE, loginCookieKey, openLogin, sealLogin } from '../http/oidc-login-cookie.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { startServer, type RunningServer } from '../server.js';
import { CHROMIUM, haveChromium, screenshotDir } from './dashboard-helpers.js';
import { FakeStarter } from './fake-starter.js';
import { http, waitFor } from './http-helpers.js';
import { startTestProvider, type TestProvider } from './oidc-provider.js';
import { tempDir } from './serve-process.js';

if (!haveChromium) console.warn('oidc-browser.test: SKIPPED — /usr/bin/chromium is missing (apt-get install -y chromium)');

const TOKEN = 'oidc-test-token-0123456789';
const SECRET = 'right-client-secret-4f1c9a2e';
const WRONG = 'wrong-client-secret-77d0e2b5';
const ACCOUNTS = {
  alice: { name: 'Alice Example', groups: ['finance', 'ops', 'marketing'], email: 'alice@example.com' },
  mallory: { name: 'Mallory', groups: ['marketing'] },
  // The people of the acceptance scenario (issue #41), on a server whose `auth.oidc.roles` grant roles by group.
  vera: { name: 'Vera Viewer', groups: ['auditors'] },
  oscar: { name: 'Oscar Ops', groups: ['ops', 'ops-leads'] },
  fiona: { name: 'Fiona Finance', groups: ['finance'] },
  felix: { name: 'Felix Finance', groups: ['finance'] },
};

/** Two finance people must approve; the operator who starts it is an approver, but not of finance. */
const PAY = `plan pay {
  input { amount: int }
  step ask = approval(approver: "group:finance", summary: "Pay \${input.amount}?", approvals: 2)
  output { approvers: ask.output.approvers }
}
`;

interface Orch {
  readonly server: RunningServer;
  /** As the browser reaches it (orch.test, mapped to 127.0.0.1). */
  readonly url: string;
  readonly logs: string[];
}

let provider: TestProvider;
let good: Orch;
let wrongSecret: Orch;
let providerDown: Orch;
let people: Orch & { readonly db: string; readonly dir: string; readonly starter: RunStarter };
let browser: Browser;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

async function startOrch(issuer: string, clientSecret: string): Promise<Orch> {
  const config = parseOidcConfig(
    { issuer, client_id: 'orch', client_secret: 'secret:OIDC_SECRET', name: 'Test ID', scopes: ['openid', 'profile', 'email', 'groups'], roles: { finance: ['approver'], ops: ['operator'] } },
    'orch.config.json',
  );
  const logs: string[] = [];
  const server = await startServer({
    plans: [],
    triggers: [],
    starter: new FakeStarter(),
    evaluate: () => null,
    state: await (await openBackend(join(tempDir(), 'state.db'))).triggerState(),
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
    log: (line) => logs.push(line),
    oidc: { config, clientSecret },
  });
  return { server, url: `http://orch.test:${server.port}`, logs };
}

/** orch with people (an `auth` block whose OIDC groups grant roles) and a real runtime on one SQLite journal, serving PAY. */
async function startPeopleOrch(issuer: string): Promise<typeof people> {
  const dir = tempDir('orch-oidc-people-');
  const db = join(dir, 'runs.db');
  writeFileSync(join(dir, 'pay.orch'), PAY);
  const out = compile({ entry: join(dir, 'pay.orch') });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const auth = parseAuthConfig({
    oidc: {
      issuer, client_id: 'orch', client_secret: 'secret:OIDC_SECRET', name: 'Test ID', scopes: ['openid', 'profile', 'email', 'groups'],
      roles: { auditors: ['viewer'], ops: ['operator'], 'ops-leads': ['approver'], finance: ['approver'] },
    },
  })!;
  const starter = await openRuntimeStarter({ backend: await openBackend(db), plans: out.plans, log: () => {} });
  const logs: string[] = [];
  const server = await startServer({
    plans: out.plans,
    triggers: [],
    starter,
    evaluate: () => null,
    state: await (await openBackend(db)).triggerState(),
    people: await (await openBackend(db)).people(),
    auth,
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
    log: (line) => logs.push(line),
    oidc: { config: auth.oidc!, clientSecret: SECRET },
  });
  return { server, url: `http://orch.test:${server.port}`, logs, db, dir, starter };
}

beforeAll(async () => {
  if (!haveChromium) return;
  provider = await startTestProvider(ACCOUNTS);
  // Discovery is lazy: orch starts before its provider answers (and one never will).
  [good, wrongSecret, providerDown, people] = await Promise.all([
    startOrch(provider.issuer, SECRET),
    startOrch(provider.issuer, WRONG),
    freePort().then((p) => startOrch(`http://127.0.0.1:${p}`, SECRET)),
    startPeopleOrch(provider.issuer),
  ]);
  provider.register({ clientId: 'orch', clientSecret: SECRET, redirectUris: [good, wrongSecret, people].map((o) => `${o.url}/auth/oidc/callback`) });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP orch.test 127.0.0.1', '--disable-features=HttpsUpgrades'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([good, wrongSecret, providerDown, people].map((o) => o?.server.close()));
  await provider?.close();
});

/** A fresh browser (no cookies at orch or the provider) on orch's login page. */
async function freshLoginPage(orch: Orch): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  // The provider's dev pages import a web font; there is no internet here.
  await context.route(/fonts\.googleapis\.com/, (r) => r.abort());
  const page = await context.newPage();
  await page.goto(`${orch.url}/`);
  await page.waitForURL(/\/login$/);
  return { context, page };
}

/** From orch's login page: to the provider, sign in there as `account`; resolves with orch's answer to the callback. */
async function signInAtProvider(page: Page, account: string, beforeSubmit?: () => Promise<void>): Promise<Response> {
  await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
  await page.locator('input[name=login]').waitFor();
  expect(new URL(page.url()).origin).toBe(provider.issuer);
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'any password');
  await beforeSubmit?.();
  const callback = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/oidc/callback');
  await page.click('button[type=submit]');
  return callback;
}

/** A fresh browser signed in through the provider as `account`, on orch's dashboard. */
async function signedIn(orch: Orch, account: string): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await freshLoginPage(orch);
  const answer = await signInAtProvider(page, account);
  expect(answer.status()).toBe(200);
  await page.waitForURL(`${orch.url}/`);
  return { context, page };
}

/** A request from the page with its session cookie and CSRF token, as the dashboard's own code sends it. */
const fromPage = (page: Page, method: string, path: string, body?: unknown) =>
  page.evaluate(async ([m, p, b]) => {
    const csrf = decodeURIComponent(/(?:^|;\s*)orch_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '');
    const r = await fetch(p, { method: m, headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, ...(m === 'GET' ? {} : { body: JSON.stringify(b ?? {}) }) });
    const text = await r.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { status: r.status, json };
  }, [method, path, body] as const);

const sessionOf = (page: Page) => page.evaluate(async () => {
  const r = await fetch('/session');
  return { status: r.status, body: r.ok ? ((await r.json()) as Record<string, unknown>) : null };
});

describe.skipIf(!haveChromium)('sign-in with OpenID Connect, in Chromium', () => {
  it('signs in at the provider and lands on the dashboard with the provider\'s identity and roles from its groups', async () => {
    const { context, page } = await freshLoginPage(good);
    try {
      await page.screenshot({ path: join(screenshotDir(), 'login-oidc.png') });
      const answer = await signInAtProvider(page, 'alice');
      expect(answer.status()).toBe(200);
      await page.waitForURL(`${good.url}/`);
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      const session = await sessionOf(page);
      expect(session.status).toBe(200);
      expect(session.body).toMatchObject({
        who: 'Alice Example',
        identity: { subject: 'alice', issuer: provider.issuer, name: 'Alice Example', method: 'oidc', roles: ['operator', 'approver'], groups: ['finance', 'ops', 'marketing'] },
      });
      // A real session: the API answers it, and the pending sign-in cookie is spent.
      expect(await page.evaluate(async () => (await fetch('/runs')).status)).toBe(200);
      expect((await context.cookies()).map((c) => c.name)).not.toContain(LOGIN_COOKIE);
      expect(good.logs.join('\n')).toMatch(/signed in alice \(Alice Example\) of http:\/\/127\.0\.0\.1:\d+ as operator, approver/);
    } finally {
      await context.close();
    }
  });

  it('a tampered state is refused and opens no session', async () => {
    const { context, page } = await freshLoginPage(good);
    try {
      // The provider's redirect back to orch, altered on the way.
      provider.rewriteRedirects((url) => {
        if (url.pathname === '/auth/oidc/callback' && url.searchParams.has('state')) url.searchParams.set('state', `${url.searchParams.get('state')}x`);
      });
      const answer = await signInAtProvider(page, 'alice');
      expect(answer.status()).toBe(400);
      await expect(page.locator('[role=alert]').textContent()).resolves.toMatch(/Sign-in with Test ID failed: .*"state"/);
      expect((await sessionOf(page)).status).toBe(401);
    } finally {
      provider.rewriteRedirects(null);
      await context.close();
    }
  });

  it('a callback without the PKCE verifier (its sealed cookie gone) is refused', async () => {
    const { context, page } = await freshLoginPage(good);
    try {
      const answer = await signInAtProvider(page, 'alice', async () => {
        const pending = (await context.cookies()).find((c) => c.name === LOGIN_COOKIE);
        expect(pending).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/auth/oidc/' });
        await context.clearCookies({ name: LOGIN_COOKIE });
      });
      expect(answer.status()).toBe(400);
      await expect(page.locator('[role=alert]').textContent()).resolves.toContain('no sign-in waiting for this answer');
      expect((await sessionOf(page)).status).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('a wrong client secret fails the sign-in with a clear message, and the secret appears nowhere', async () => {
    const { context, page } = await freshLoginPage(wrongSecret);
    try {
      const answer = await signInAtProvider(page, 'alice');
      expect(answer.status()).toBe(502);
      const text = await page.locator('[role=alert]').textContent();
      expect(text).toContain("Test ID refused Orch's client credentials (invalid_client): check auth.oidc.client_id and the secret auth.oidc.client_secret names");
      const everything = `${await page.content()}\n${wrongSecret.logs.join('\n')}`;
      expect(everything).toContain('invalid_client');
      expect(everything).not.toContain(WRONG);
      expect(everything).not.toContain(SECRET);
      expect((await sessionOf(page)).status).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('a person whose groups grant no role is told so, and gets no session', async () => {
    const { context, page } = await freshLoginPage(good);
    try {
      const answer = await signInAtProvider(page, 'mallory');
      expect(answer.status()).toBe(403);
      await expect(page.locator('[role=alert]').textContent()).resolves.toContain('Mallory is known to Test ID, but your groups (marketing) grant no role in Orch');
      expect((await sessionOf(page)).status).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('the provider is asked for a code with PKCE (S256), state and nonce; its refusal is shown, not a session', async () => {
    const base = good.server.url;
    const start = await http(base, 'GET', '/auth/oidc/login', { headers: { host: new URL(good.url).host } });
    expect(start.status).toBe(303);
    const to = new URL(String(start.headers.location));
    expect(to.origin).toBe(provider.issuer);
    const q = Object.fromEntries(to.searchParams);
    expect(q).toMatchObject({ client_id: 'orch', response_type: 'code', code_challenge_method: 'S256', scope: 'openid profile email groups', redirect_uri: `${good.url}/auth/oidc/callback` });
    expect(q.code_challenge).toMatch(/^[\w-]{43}$/);
    expect(q.state!.length).toBeGreaterThanOrEqual(32);
    expect(q.nonce!.length).toBeGreaterThanOrEqual(32);
    const cookie = String([start.headers['set-cookie']].flat()[0]).split(';')[0]!;
    expect(cookie).toMatch(new RegExp(`^${LOGIN_COOKIE}=`));
    // The person said no at the provider.
    const denied = await http(base, 'GET', `/auth/oidc/callback?error=access_denied&error_description=End-User+aborted+interaction&state=${q.state}&iss=${encodeURIComponent(provider.issuer)}`, { headers: { cookie } });
    expect(denied.status, denied.text).toBe(403);
    expect(denied.text).toContain('Test ID did not sign you in (access_denied: End-User aborted interaction)');
    // No session cookie; only the pending sign-in's, cleared.
    expect([denied.headers['set-cookie']].flat().join('\n')).not.toMatch(/orch_session=/);
    expect([denied.headers['set-cookie']].flat().join('\n')).toMatch(new RegExp(`${LOGIN_COOKIE}=;`));
    // The pending sign-in is spent: the same cookie again is refused.
    const again = await http(base, 'GET', `/auth/oidc/callback?code=abc&state=${q.state}`, { headers: { cookie } });
    expect(again.status).toBe(400);
  });

  it('an unreachable provider: the server still started, and sign-in is a clear 502 page and a log line', async () => {
    const base = providerDown.server.url;
    expect((await http(base, 'GET', '/health')).status).toBe(200);
    const login = await http(base, 'GET', '/login');
    expect(login.text).toContain('data-oidc="Test ID"');
    const r = await http(base, 'GET', '/auth/oidc/login');
    expect(r.status).toBe(502);
    expect(r.text).toMatch(/cannot reach the OpenID provider http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(providerDown.logs.join('\n')).toMatch(/oidc login: cannot reach the OpenID provider/);
    // Nothing without a session: the callback is refused before the provider is asked.
    const cb = await http(base, 'GET', '/auth/oidc/callback?code=x&state=y');
    expect(cb.status).toBe(400);
  });

  it('acceptance: signed in through the provider, a viewer cannot approve or cancel, an approver outside the group cannot decide, two finance people complete approvals: 2, and the journal and orch audit name their OIDC subjects', async () => {
    const issuer = provider.issuer;
    const opened: BrowserContext[] = [];
    const as = async (account: string) => {
      const s = await signedIn(people, account);
      opened.push(s.context);
      return s.page;
    };
    try {
      // The operator starts the run from his session.
      const oscar = await as('oscar');
      const started = await fromPage(oscar, 'POST', '/runs', { plan: 'pay', input: { amount: 900 } });
      expect(started.status).toBe(202);
      const id = started.json.runId as string;
      const pending = async (page: Page) => {
        const r = await fromPage(page, 'GET', '/approvals');
        return (r.json.approvals as { runId: string; approvedBy: string[] }[] | undefined)?.find((a) => a.runId === id);
      };
      await waitFor(() => pending(oscar), 20_000, 'the approval in the inbox');

      // A viewer: no control in the page, and the API refuses what the page hides.
      const vera = await as('vera');
      await vera.goto(`${people.url}/#/approvals`);
      const card = vera.locator(`.approval[data-run="${id}"]`);
      await card.getByText('Deciding needs the approver role.').waitFor();
      expect(await card.locator('button').count()).toBe(0);
      await vera.goto(`${people.url}/#/runs/${id}`);
      await vera.locator('.run-status').waitFor();
      expect(await vera.locator('button[data-action=cancel]').isVisible()).toBe(false);
      expect(await vera.getByRole('button', { name: /^(Approve|Cancel)/ }).count()).toBe(0);
      const viewerApprove = await fromPage(vera, 'POST', `/runs/${id}/steps/ask/approve`);
      expect(viewerApprove.status).toBe(403);
      expect(viewerApprove.json.error).toMatch(/needs the approver role/);
      const viewerCancel = await fromPage(vera, 'POST', `/runs/${id}/cancel`);
      expect(viewerCancel.status).toBe(403);
      expect(viewerCancel.json.error).toMatch(/needs the operator role/);

      // An approver, but not of finance.
      const outsider = await fromPage(oscar, 'POST', `/runs/${id}/steps/ask/approve`);
      expect(outsider.status).toBe(403);
      expect(outsider.json.error).toBe('this approval is for members of group:finance; oscar (Oscar Ops) may not decide it');

      // Two finance people, each in a browser of their own, with the page's Approve button.
      const approveInPage = async (page: Page) => {
        await page.goto(`${people.url}/#/approvals`);
        const theirs = page.locator(`.approval[data-run="${id}"]`);
        await theirs.locator('button[data-action=approve]').click();
        await theirs.locator('.flash', { hasText: 'Approved.' }).waitFor();
      };
      const fiona = await as('fiona');
      await approveInPage(fiona);
      await waitFor(async () => ((await pending(fiona))?.approvedBy.length === 1 ? true : undefined), 20_000, "Fiona's approval in the inbox");
      // The inbox shows people by the name their provider gives; the journal keeps the identity (below).
      expect((await pending(fiona))?.approvedBy).toEqual(['Fiona Finance']);
      const felix = await as('felix');
      await felix.goto(`${people.url}/#/approvals`);
      await felix.locator(`.approval[data-run="${id}"] .approvals-progress`, { hasText: '1 of 2 approvals · approved by Fiona Finance' }).waitFor();
      await approveInPage(felix);
      const done = await waitFor(async () => {
        const r = await fromPage(felix, 'GET', `/runs/${id}`);
        return r.json.status === 'completed' ? r.json : undefined;
      }, 20_000, 'the run to complete');
      expect(done.output).toEqual({ approvers: ['fiona', 'felix'] });

      // The journal: who started it and who decided, as the provider authenticated them.
      const timeline = (await people.starter.timeline(id)) ?? [];
      expect(timeline[0]).toMatchObject({ type: 'plan_created', started_by: { subject: 'oscar', issuer, name: 'Oscar Ops', method: 'oidc' } });
      expect(timeline.filter((e) => e.type === 'approval_decided').map((e) => [e.by, e.approved, e.needed])).toEqual([
        [{ subject: 'fiona', issuer, name: 'Fiona Finance', method: 'oidc' }, 1, 2],
        [{ subject: 'felix', issuer, name: 'Felix Finance', method: 'oidc' }, 2, 2],
      ]);

      // orch audit on the same database: every state change, accepted or refused, with its subject.
      const audit = await runCli(['audit', '--format', 'json', '--db', people.db], people.dir);
      expect(audit.code, audit.stderr).toBe(0);
      const entries = (JSON.parse(audit.stdout) as { entries: { subject: string | null; issuer: string | null; authMethod: string | null; httpMethod: string; path: string; status: number }[] }).entries;
      const ofRun = entries.filter((e) => e.path.startsWith(`/runs/${id}`) || e.path === '/runs');
      expect(ofRun.map((e) => [e.subject, e.issuer, e.authMethod, e.httpMethod, e.path, e.status])).toEqual([
        ['oscar', issuer, 'oidc', 'POST', '/runs', 202],
        ['vera', issuer, 'oidc', 'POST', `/runs/${id}/steps/ask/approve`, 403],
        ['vera', issuer, 'oidc', 'POST', `/runs/${id}/cancel`, 403],
        ['oscar', issuer, 'oidc', 'POST', `/runs/${id}/steps/ask/approve`, 403],
        ['fiona', issuer, 'oidc', 'POST', `/runs/${id}/steps/ask/approve`, 202],
        ['felix', issuer, 'oidc', 'POST', `/runs/${id}/steps/ask/approve`, 202],
      ]);
    } finally {
      await Promise.all(opened.map((c) => c.close()));
    }
  }, 120_000);
});

describe('the sealed sign-in cookie', () => {
  const key = loginCookieKey('s3cret');
  const login = { state: 'st', nonce: 'no', verifier: 'ver', redirectUri: 'https://orch.example.com/auth/oidc/callback', expires: 1_000 };

  it('opens with the same key before it expires; not after, not altered, not with another key', () => {
    const sealed = sealLogin(key, login);
    expect(sealed).not.toContain('ver');
    expect(openLogin(key, sealed, 999)).toEqual(login);
    expect(openLogin(loginCookieKey('s3cret'), sealed, 999)).toEqual(login); // another instance, same secret
    expect(openLogin(key, sealed, 1_001)).toBeNull();
    expect(openLogin(loginCookieKey('other'), sealed, 999)).toBeNull();
    expect(openLogin(loginCookieKey(null), sealed, 999)).toBeNull();
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(openLogin(key, raw.toString('base64url'), 999)).toBeNull();
    expect(openLogin(key, undefined, 999)).toBeNull();
    expect(openLogin(key, 'short', 999)).toBeNull();
  });
});
