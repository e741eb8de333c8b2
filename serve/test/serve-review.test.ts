/**
 * What a security review of `orch serve` found (issue #47 items 4, 6, 7), against one in-process
 * server (a FakeStarter, the people store on a SQLite file) that also listens, for the streams:
 * an open `/stream` ends with its credential; `auth.trust_proxy` believes X-Forwarded-* from the
 * listed proxies only (the sign-in brake, the audit trail, `Secure` cookies); wrong bearer tokens
 * are braked; a removed user's tokens stay revoked; bodies cannot poison prototypes or nest
 * without end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authBlock, bearer, apiToken, asBrowser, PASSWORDS, signIn, testServer, TOKEN, type TestServer } from './people-helpers.js';
import { tempDir } from './serve-process.js';

const PROXY = '10.0.0.1';
let s: TestServer;
let url: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir('orch-security-');
  s = await testServer({ dir, auth: await authBlock({ trust_proxy: [PROXY] }), streamRecheckMs: 100 });
  url = await s.app.listen({ port: 0, host: '127.0.0.1' });
}, 30_000);
afterAll(async () => {
  s.streams.closeAll();
  await s.close();
});

/** Opens `/stream` and resolves once the server has ended it (`ended`), after the first bytes arrived (`opened`). */
async function openStream(headers: Record<string, string>): Promise<{ ended: Promise<void> }> {
  const res = await fetch(`${url}/stream`, { headers });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  const ended = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  return { ended };
}

describe('an open /stream ends with what opened it (item 4)', () => {
  it('its API token revoked', async () => {
    const token = await apiToken(s.people.store, 'vic');
    const stream = await openStream(bearer(token));
    const [row] = await s.people.store.tokens('vic');
    await s.people.store.revokeToken(row!.id, Date.now());
    await stream.ended;
  });

  it('its session signed out (here, and everywhere)', async () => {
    const here = await signIn(s.app, 'bob', PASSWORDS.bob);
    const one = await openStream({ cookie: here.cookie });
    expect((await s.app.inject({ method: 'POST', url: '/session/logout', headers: asBrowser(here) })).statusCode).toBe(204);
    await one.ended;
    const a = await signIn(s.app, 'bob', PASSWORDS.bob);
    const b = await signIn(s.app, 'bob', PASSWORDS.bob);
    const other = await openStream({ cookie: b.cookie });
    expect((await s.app.inject({ method: 'DELETE', url: '/sessions', headers: asBrowser(a) })).statusCode).toBe(200);
    await other.ended;
  });
});

describe('auth.trust_proxy (item 6)', () => {
  const signInVia = (remoteAddress: string, forwarded: string, user: string, password: string, proto?: string) =>
    s.app.inject({
      method: 'POST',
      url: '/session',
      payload: { user, password },
      remoteAddress,
      headers: { 'x-forwarded-for': forwarded, ...(proto ? { 'x-forwarded-proto': proto } : {}) },
    });

  it("through a trusted proxy, the client's address is the brake's and the audit's, and https makes cookies Secure", async () => {
    // One client behind the proxy guesses many names: it is slowed down, another client behind the same proxy is not.
    for (let i = 0; i < 20; i++) expect((await signInVia(PROXY, '203.0.113.7', `guess${i}`, 'x')).statusCode).toBe(401);
    expect((await signInVia(PROXY, '203.0.113.7', 'carol', PASSWORDS.carol)).statusCode).toBe(429);
    const other = await signInVia(PROXY, '203.0.113.8', 'carol', PASSWORDS.carol, 'https');
    expect(other.statusCode).toBe(201);
    expect((other.cookies as { secure?: boolean }[]).every((c) => c.secure === true)).toBe(true);
    expect((await signInVia(PROXY, '203.0.113.9', 'carol', PASSWORDS.carol)).cookies.some((c: { secure?: boolean }) => c.secure)).toBe(false);
    const audited = await s.people.store.audit({ subject: 'carol', route: '/session' });
    expect(audited.map((e) => e.client)).toEqual(['203.0.113.9', '203.0.113.8']);
    expect((await s.people.store.refused({ route: '/session' })).find((r) => r.status === 429)?.client).toBe('203.0.113.7');
  });

  it('from an address that is not a listed proxy, X-Forwarded-* is not believed', async () => {
    const r = await signInVia('10.0.0.2', '198.51.100.1', 'carol', PASSWORDS.carol, 'https');
    expect(r.statusCode).toBe(201);
    expect(r.cookies.some((c: { secure?: boolean }) => c.secure)).toBe(false);
    expect((await s.people.store.audit({ subject: 'carol', limit: 1 }))[0]!.client).toBe('10.0.0.2');
  });
});

describe('bearer tokens (item 7)', () => {
  it('wrong ones are braked per client address: 429 with Retry-After, even for a right token, not for other addresses', async () => {
    const good = await apiToken(s.people.store, 'otto');
    const get = (token: string, remoteAddress: string) => s.app.inject({ method: 'GET', url: '/runs', headers: bearer(token), remoteAddress });
    for (let i = 0; i < 20; i++) expect((await get(`orch_wrong${i}`, '192.0.2.50')).statusCode).toBe(401);
    const braked = await get(good, '192.0.2.50');
    expect(braked.statusCode).toBe(429);
    expect(Number(braked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await get(good, '192.0.2.51')).statusCode).toBe(200);
    // The server token, refused because people are configured, counts as one more wrong guess.
    expect((await get(TOKEN, '192.0.2.52')).statusCode).toBe(401);
  });

  it("a user removed from the config loses their tokens for good: a server started without them revokes them, and the name added again does not revive them", async () => {
    const zed = await apiToken(s.people.store, 'zed');
    const without = await testServer({ dir });
    try {
      expect((await without.people.store.tokens('zed'))[0]!.revokedAt).not.toBeNull();
    } finally {
      await without.close();
    }
    const again = await testServer({ dir, auth: await authBlock({ users: { zed: { roles: ['viewer'] } } }) });
    try {
      const r = await again.app.inject({ method: 'GET', url: '/runs', headers: bearer(zed) });
      expect(r.statusCode).toBe(401);
      expect(r.json().error).toMatch(/was revoked/);
    } finally {
      await again.close();
    }
  });
});

describe('request bodies (item 7)', () => {
  const post = async (path: string, payload: string) => {
    const token = await apiToken(s.people.store, 'carol');
    return s.app.inject({ method: 'POST', url: path, headers: { ...bearer(token), 'content-type': 'application/json' }, payload });
  };

  it('refuse a __proto__ key or a constructor.prototype anywhere (400), and set nothing', async () => {
    for (const body of ['{"__proto__": {"x": true}}', '{"a": {"b": {"__proto__": {"x": 1}}}}', '{"constructor": {"prototype": {"x": 1}}}']) {
      const r = await post('/signals', body);
      expect(r.statusCode, body).toBe(400);
      expect(r.json().error).toMatch(/__proto__/);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // A "__proto__" inside a string is only text.
    expect((await post('/events', '{"type": "__proto__"}')).statusCode).toBe(202);
  });

  it('nested deeper than 128 levels is a 400, not a 500; 128 levels are read', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const r = await post('/signals', `{"go": ${deep(20_000)}}`);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/128 levels/);
    expect((await post('/events', `{"type": "x", "a": ${deep(127)}}`)).statusCode).toBe(202);
  });
});
