/**
 * OpenID Connect ID tokens are verified (LANGUAGE.md §8.8, §9.1; issue #47 item 3), against a real
 * provider (`oidc-provider`) in this process and orch's server (in-process, Fastify `inject` for
 * orch's side, real HTTP between orch and the provider). The sign-in is driven without a browser:
 * the provider's own login form is posted, and its token endpoint's answer is tampered with on the
 * way to orch: a token signed by a key the provider never published, one edited after signing, and
 * one correctly signed but issued an hour in the future are all refused. And an OpenID account
 * whose `sub` is a local user's name is someone else: identities are (issuer, subject).
 */
import { createSign, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { evaluate, openBackend, parseAuthConfig } from '../../runtime/index.js';
import { LOGIN_COOKIE } from '../http/oidc-login-cookie.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { waitFor } from './http-helpers.js';
import { startTestProvider, type TestProvider } from './oidc-provider.js';
import { tempDir } from './serve-process.js';

const SECRET = 'oidc-tokens-client-secret';
const CALLBACK = 'http://127.0.0.1:9/auth/oidc/callback';
const KID = 'orch-test-signing-key';
const ACCOUNTS = {
  // Her `sub` is the name of a local user of orch's config: another person all the same.
  alice: { name: 'Alice of the provider', groups: ['finance'] },
  fiona: { name: 'Fiona Finance', groups: ['finance'] },
};
const PLAN = `plan pay {
  step ask = approval(approver: "alice", summary: "pay?")
  output { by: ask.output.approver }
}
`;

const b64 = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
/** An RS256 JWS of `claims` by `key` under key id `kid` (what a provider's signature looks like). */
function sign(claims: object, key: KeyObject, kid = KID): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

const providerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

let provider: TestProvider;
let server: BuiltServer;
let app: FastifyInstance;
let starter: RunStarter;

beforeAll(async () => {
  const jwk: JsonWebKey = { ...providerKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };
  provider = await startTestProvider(ACCOUNTS, { jwks: [jwk] });
  provider.register({ clientId: 'orch', clientSecret: SECRET, redirectUris: [CALLBACK] });
  const dir = tempDir('orch-oidc-tokens-');
  writeFileSync(join(dir, 'pay.orch'), PLAN);
  const out = compile({ entry: join(dir, 'pay.orch') });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const auth = parseAuthConfig({
    users: { alice: { password: bcrypt.hashSync('alice-local-pw', 4), roles: ['operator', 'approver'] } },
    oidc: { issuer: provider.issuer, client_id: 'orch', client_secret: 'secret:OIDC_SECRET', redirect_uri: CALLBACK, scopes: ['openid', 'profile', 'groups'], roles: { finance: ['approver'] } },
  })!;
  const db = join(dir, 'runs.db');
  starter = await openRuntimeStarter({ backend: await openBackend(db), plans: out.plans, log: () => {} });
  server = await buildServer({
    plans: out.plans,
    triggers: [],
    starter,
    evaluate: (expr, scope) => evaluate(expr, { vars: { event: scope.event ?? null, context: scope.context } }),
    state: await (await openBackend(db)).triggerState(),
    people: await (await openBackend(db)).people(),
    auth,
    token: 'oidc-tokens-bootstrap',
    oidc: { config: auth.oidc!, clientSecret: SECRET },
  });
  app = server.app;
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await starter?.close();
  await server?.people.store.close();
  await provider?.close();
});

/** Cookies the provider set, as one browser keeps them (by name; paths and expiry do not matter here). */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(r: Response): void {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Signs `sub` in through the provider, as a browser would: orch's login redirect, the provider's
 * login form, back to orch's callback — whose answer (the session, or the refusal) is returned.
 */
async function signInThroughProvider(sub: string): Promise<LightMyRequestResponse> {
  const login = await app.inject({ method: 'GET', url: '/auth/oidc/login' });
  expect(login.statusCode).toBe(303);
  const loginCookie = (login.cookies as { name: string; value: string }[]).find((c) => c.name === LOGIN_COOKIE)!;
  const jar = new Jar();
  let url = new URL(String(login.headers.location));
  for (let hop = 0; hop < 10; hop++) {
    if (url.href.startsWith(CALLBACK)) {
      return app.inject({ method: 'GET', url: `/auth/oidc/callback${url.search}`, headers: { cookie: `${LOGIN_COOKIE}=${loginCookie.value}` } });
    }
    let r = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(r);
    if (r.status === 200) {
      // The provider's dev login form: any password.
      const action = /action="([^"]+)"/.exec(await r.text())![1]!;
      const target = new URL(action, url);
      r = await fetch(target, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login: sub, password: 'any' }).toString(),
      });
      jar.take(r);
    }
    expect([302, 303], `hop ${hop} at ${url.href}`).toContain(r.status);
    url = new URL(r.headers.get('location')!, url);
  }
  throw new Error('the sign-in did not come back to orch');
}

const sessionOf = (r: LightMyRequestResponse) => (r.cookies as { name: string; value: string }[]).find((c) => c.name === 'orch_session');
const refused = (r: LightMyRequestResponse) => {
  expect(r.statusCode).toBe(400);
  expect(sessionOf(r)).toBeUndefined();
  return r.body;
};

describe('OpenID Connect ID tokens are verified against the provider (issue #47 item 3)', () => {
  it('a sign-in with the token the provider signed goes through (the harness works)', async () => {
    const r = await signInThroughProvider('fiona');
    expect(r.statusCode, r.body).toBe(200);
    expect(sessionOf(r)).toBeDefined();
  });

  it('refuses a token signed by a key the provider never published (same key id)', async () => {
    provider.rewriteTokens((body) => {
      body.id_token = sign(claimsOf(String(body.id_token)), strangerKey);
    });
    try {
      expect(refused(await signInThroughProvider('fiona'))).toMatch(/signature/i);
    } finally {
      provider.rewriteTokens(null);
    }
  });

  it('refuses a token edited after it was signed (another person, another group)', async () => {
    provider.rewriteTokens((body) => {
      const [header, , signature] = String(body.id_token).split('.');
      const claims = { ...claimsOf(String(body.id_token)), sub: 'fiona', groups: ['finance', 'admins'] };
      body.id_token = `${header}.${b64(claims)}.${signature}`;
    });
    try {
      expect(refused(await signInThroughProvider('alice'))).toMatch(/signature/i);
    } finally {
      provider.rewriteTokens(null);
    }
  });

  it('refuses a token correctly signed by the provider but issued an hour in the future', async () => {
    provider.rewriteTokens((body) => {
      const claims = claimsOf(String(body.id_token));
      const hour = 3600;
      body.id_token = sign({ ...claims, iat: Number(claims.iat) + hour, exp: Number(claims.exp) + hour }, providerKey);
    });
    try {
      expect(refused(await signInThroughProvider('fiona'))).toMatch(/issued \d+ s from now/);
    } finally {
      provider.rewriteTokens(null);
    }
  });

  it('refuses a token correctly signed by the provider but expired, for another audience, or without a sub', async () => {
    const resigned = (edit: (claims: Record<string, unknown>) => Record<string, unknown>) =>
      provider.rewriteTokens((body) => {
        body.id_token = sign(edit(claimsOf(String(body.id_token))), providerKey);
      });
    const cases: [string, (c: Record<string, unknown>) => Record<string, unknown>, RegExp][] = [
      ['expired an hour ago', (c) => ({ ...c, iat: Number(c.iat) - 7200, exp: Number(c.iat) - 3600 }), /exp|expired/i],
      ['for another client', (c) => ({ ...c, aud: 'another-client', azp: 'another-client' }), /aud/i],
      ['without a sub', ({ sub: _sub, ...c }) => c, /sub/],
    ];
    for (const [what, edit, why] of cases) {
      resigned(edit);
      try {
        expect(refused(await signInThroughProvider('fiona')), what).toMatch(why);
      } finally {
        provider.rewriteTokens(null);
      }
    }
  });

  it("an OpenID account whose sub is a local user's name is another person: not that user's roles, not the approver the name names", async () => {
    const r = await signInThroughProvider('alice');
    expect(r.statusCode, r.body).toBe(200);
    const cookies = r.cookies as { name: string; value: string }[];
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = cookies.find((c) => c.name === 'orch_csrf')!.value;
    const me = (await app.inject({ method: 'GET', url: '/session', headers: { cookie } })).json() as { identity: Record<string, unknown> };
    expect(me.identity).toMatchObject({ subject: 'alice', issuer: provider.issuer, method: 'oidc', roles: ['approver'] });
    // The local user alice is an operator; this alice may not start runs.
    expect((await app.inject({ method: 'POST', url: '/runs', headers: { cookie, 'x-csrf-token': csrf }, payload: { plan: 'pay' } })).statusCode).toBe(403);

    const local = await app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: 'alice-local-pw' } });
    const localCookies = local.cookies as { name: string; value: string }[];
    const asLocal = { cookie: localCookies.map((c) => `${c.name}=${c.value}`).join('; '), 'x-csrf-token': localCookies.find((c) => c.name === 'orch_csrf')!.value };
    const runId = (await app.inject({ method: 'POST', url: '/runs', headers: asLocal, payload: { plan: 'pay' } })).json().runId as string;
    await waitFor(async () => ((await starter.get(runId))?.steps.find((s) => s.stepId === 'ask')?.status === 'running' ? true : undefined), 20_000, 'the approval to wait');
    const byOidcAlice = await app.inject({ method: 'POST', url: `/runs/${runId}/steps/ask/approve`, headers: { cookie, 'x-csrf-token': csrf }, payload: {} });
    expect(byOidcAlice.statusCode).toBe(403);
    expect(byOidcAlice.json().error).toContain('this approval is for alice');
    expect((await app.inject({ method: 'POST', url: `/runs/${runId}/steps/ask/approve`, headers: asLocal, payload: {} })).statusCode).toBe(202);
    const done = await waitFor(async () => {
      const v = await starter.get(runId);
      return v?.status === 'completed' ? v : undefined;
    }, 20_000, 'the run to complete');
    expect(done.output).toEqual({ by: 'alice' });
    const decided = ((await starter.timeline(runId)) ?? []).filter((e) => e.type === 'approval_decided');
    expect(decided.map((e) => e.by)).toEqual([{ subject: 'alice', issuer: 'local', name: 'alice', method: 'password' }]);
  });
});
