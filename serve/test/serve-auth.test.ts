/**
 * People on `orch serve` (LANGUAGE.md §8.8), in process (Fastify inject, a SQLite journal file):
 * local users sign in with argon2/bcrypt passwords, wrong ones are refused and repeated failures
 * answer 429 (counted in the database: two servers on one file count together, a restart forgets
 * nothing, an unreachable count answers 503); API tokens act as their user until they expire or are revoked; roles are enforced
 * with 401/403; sessions live in the database (two servers on one file share them, a restart
 * signs nobody out, sign-out everywhere ends them all); every state change is audited with who.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openBackend, openSqlite, type PeopleStore } from '../../runtime/index.js';
import { apiToken, asBrowser, authBlock, bearer, dbOf, PASSWORDS, signIn, testServer, TOKEN, type TestServer } from './people-helpers.js';
import { tempDir } from './serve-process.js';

const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
async function server(o: Parameters<typeof testServer>[0] = {}): Promise<TestServer> {
  const s = await testServer(o);
  open.push(s);
  return s;
}

/** The throttle's clock is the people's: drive it by hand. */
function setThrottleClock(s: TestServer, now: () => number): void {
  (s.people.throttle as unknown as { now: () => number }).now = now;
}

describe('local users', () => {
  it('a right password (argon2id, bcrypt, or a secret holding the hash) opens a session that knows the roles; a wrong one is refused', async () => {
    const s = await server();
    const wrong = await s.app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('wrong user name or password');
    expect(wrong.cookies).toHaveLength(0);
    const unknown = await s.app.inject({ method: 'POST', url: '/session', payload: { user: 'mallory', password: 'x' } });
    expect(unknown.statusCode).toBe(401);
    // A user with no password signs in with API tokens only.
    expect((await s.app.inject({ method: 'POST', url: '/session', payload: { user: 'vic', password: '' } })).statusCode).toBe(401);

    for (const user of ['alice', 'bob', 'dave'] as const) {
      const b = await signIn(s.app, user, PASSWORDS[user]);
      const me = await s.app.inject({ method: 'GET', url: '/session', headers: { cookie: b.cookie } });
      expect(me.statusCode).toBe(200);
      expect(me.json().identity).toMatchObject({ subject: user, issuer: 'local', method: 'password' });
    }
    const alice = await signIn(s.app, 'alice', PASSWORDS.alice);
    // alice's own role, and approver through her group "finance" (auth.groups).
    expect((await s.app.inject({ method: 'GET', url: '/session', headers: { cookie: alice.cookie } })).json().identity).toMatchObject({ roles: ['operator', 'approver'], groups: ['finance'] });
  });

  it('repeated failures slow further attempts down: 429 with Retry-After, per user and per client address', async () => {
    let now = 1_000_000;
    const s = await server();
    setThrottleClock(s, () => now);
    const attempt = (user: string, password: string, remoteAddress = '10.0.0.1') =>
      s.app.inject({ method: 'POST', url: '/session', payload: { user, password }, remoteAddress });
    for (let i = 0; i < 5; i++) expect((await attempt('alice', `guess${i}`)).statusCode).toBe(401);
    const slowed = await attempt('alice', PASSWORDS.alice);
    expect(slowed.statusCode).toBe(429);
    expect(Number(slowed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The right password from elsewhere is slowed too: the user's count, not only the address's.
    expect((await attempt('alice', PASSWORDS.alice, '10.0.0.2')).statusCode).toBe(429);
    // Other users are not.
    expect((await attempt('bob', PASSWORDS.bob, '10.0.0.2')).statusCode).toBe(201);
    // Once the wait is over, the right password works; each further failure doubles the wait.
    now += 1000;
    expect((await attempt('alice', PASSWORDS.alice)).statusCode).toBe(201);

    // One address guessing many names is slowed down too.
    for (let i = 0; i < 20; i++) expect((await attempt(`u${i}`, 'x', '10.0.0.9')).statusCode).toBe(401);
    const addr = await attempt('carol', PASSWORDS.carol, '10.0.0.9');
    expect(addr.statusCode).toBe(429);
    expect((await attempt('carol', PASSWORDS.carol, '10.0.0.10')).statusCode).toBe(201);
  });

  it('a burst of parallel guesses is slowed down as guesses in turn would be: only the free ones are checked', async () => {
    const now = 1_000_000;
    const s = await server();
    setThrottleClock(s, () => now);
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => s.app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: `guess${i}` }, remoteAddress: '10.0.0.1' })),
    );
    // Counted before the (slow) password check, so the sixth and later find five failures already.
    expect(guesses.filter((r) => r.statusCode === 401)).toHaveLength(5);
    expect(guesses.filter((r) => r.statusCode === 429)).toHaveLength(25);
    // The address's count holds those five and no more: the refused ones were never tried.
    expect((await s.people.store.loginFailures(['addr:10.0.0.1', 'user:alice'], 0)).get('addr:10.0.0.1')?.failures).toBe(5);
    // A success takes only its own attempt off the address.
    expect((await s.app.inject({ method: 'POST', url: '/session', payload: { user: 'bob', password: PASSWORDS.bob }, remoteAddress: '10.0.0.1' })).statusCode).toBe(201);
    expect((await s.people.store.loginFailures(['addr:10.0.0.1'], 0)).get('addr:10.0.0.1')?.failures).toBe(5);
  });

  it('two servers on one database count failures together, and a restart forgets none', async () => {
    const now = 1_000_000;
    const dir = tempDir('orch-auth-');
    const s1 = await server({ dir });
    const s2 = await server({ dir });
    for (const s of [s1, s2]) setThrottleClock(s, () => now);
    const attempt = (s: TestServer, password: string) => s.app.inject({ method: 'POST', url: '/session', payload: { user: 'bob', password }, remoteAddress: '10.0.0.1' });
    // Five free failures in all, whichever server saw them.
    for (let i = 0; i < 5; i++) expect((await attempt(i % 2 ? s1 : s2, `guess${i}`)).statusCode).toBe(401);
    expect((await attempt(s1, PASSWORDS.bob)).statusCode).toBe(429);
    expect((await attempt(s2, PASSWORDS.bob)).statusCode).toBe(429);
    await s1.close();
    open.splice(open.indexOf(s1), 1);
    const restarted = await server({ dir });
    setThrottleClock(restarted, () => now);
    expect((await attempt(restarted, PASSWORDS.bob)).statusCode).toBe(429);
  });

  it('when the failure counts cannot be reached, signing in answers 503 with Retry-After (right password or wrong) and logs why', async () => {
    const lines: string[] = [];
    const s = await server({ log: (line) => lines.push(line) });
    const store = s.people.store as { -readonly [K in keyof PeopleStore]: PeopleStore[K] };
    const down = async (): Promise<never> => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    };
    const attempt = (password: string) => s.app.inject({ method: 'POST', url: '/session', payload: { user: 'bob', password } });
    const { takeLoginAttempt, clearLoginFailures } = store;
    store.takeLoginAttempt = down;
    // The attempt cannot be counted before its password is checked: right or wrong, 503.
    for (const password of [PASSWORDS.bob, 'wrong']) {
      const unread = await attempt(password);
      expect(unread.statusCode).toBe(503);
      expect(unread.headers['retry-after']).toBe('5');
      expect(unread.json().error).toMatch(/unavailable.*database/);
      expect(unread.cookies).toHaveLength(0);
    }
    store.takeLoginAttempt = takeLoginAttempt;
    // A right password whose counted failure cannot be taken back opens no session either.
    store.clearLoginFailures = down;
    expect((await attempt(PASSWORDS.bob)).statusCode).toBe(503);
    store.clearLoginFailures = clearLoginFailures;
    expect((await attempt(PASSWORDS.bob)).statusCode).toBe(201);
    expect(lines.filter((l) => /sign-in refused \(503\).*ECONNREFUSED/.test(l))).toHaveLength(3);
    expect(lines.join('\n')).not.toContain(PASSWORDS.bob);
  });

  it('the bootstrap token is refused once people are configured, unless auth.bootstrap_token is true; without auth it is the admin', async () => {
    const people = await server();
    const refused = await people.app.inject({ method: 'GET', url: '/runs', headers: bearer(TOKEN) });
    expect(refused.statusCode).toBe(401);
    // Refused exactly as a wrong guess is (issue #47 item 7): the answer says nothing of having been right.
    const guess = await people.app.inject({ method: 'GET', url: '/runs', headers: bearer(`${TOKEN}x`) });
    const shape = (r: typeof guess) => ({ status: r.statusCode, body: r.body, headers: { ...r.headers, date: undefined } });
    expect(shape(refused)).toEqual(shape(guess));
    expect((await people.app.inject({ method: 'POST', url: '/session', payload: { token: TOKEN } })).statusCode).toBe(401);

    const allowed = await server({ auth: await authBlock({ bootstrap_token: true }) });
    expect((await allowed.app.inject({ method: 'POST', url: '/runs', headers: bearer(TOKEN), payload: { plan: 'p' } })).statusCode).toBe(202);

    const single = await server({ auth: null });
    const login = await single.app.inject({ method: 'POST', url: '/session', payload: { token: TOKEN, name: 'typed by someone' } });
    expect(login.statusCode).toBe(201);
    // The typed name is not who the server records: the bootstrap identity is.
    expect(login.json().identity).toMatchObject({ subject: 'bootstrap', method: 'bootstrap', roles: ['admin'] });
    expect((await single.app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: 'x' } })).statusCode).toBe(400);
  });
});

describe('API tokens', () => {
  it('act as their user; expired and revoked ones are refused with 401', async () => {
    const s = await server();
    const good = await apiToken(s.people.store, 'otto');
    const expired = await apiToken(s.people.store, 'otto', { expiresAt: Date.now() - 1 });
    const revoked = await apiToken(s.people.store, 'otto', { revoked: true });
    const start = (token: string) => s.app.inject({ method: 'POST', url: '/runs', headers: bearer(token), payload: { plan: 'p' } });
    expect((await start(good)).statusCode).toBe(202);
    const e = await start(expired);
    expect(e.statusCode).toBe(401);
    expect(e.json().error).toMatch(/has expired/);
    const r = await start(revoked);
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toMatch(/was revoked/);
    expect((await start(`${good}x`)).statusCode).toBe(401);
    // The token's user is read from the config now: a user removed from it is refused.
    const ghost = await apiToken(s.people.store, 'removed-user');
    expect((await start(ghost)).json().error).toMatch(/no longer a configured user/);
    // Refused once, revoked for good (issue #47 item 7).
    expect((await s.people.store.tokens('removed-user'))[0]!.revokedAt).not.toBeNull();
  });
});

describe('roles', () => {
  it('a viewer reads but cannot start, cancel or approve (403 naming the role); an approver decides as themself', async () => {
    const s = await server();
    const viewer = await apiToken(s.people.store, 'vic');
    const op = await apiToken(s.people.store, 'otto');
    const appr = await apiToken(s.people.store, 'appr');
    expect((await s.app.inject({ method: 'GET', url: '/runs', headers: bearer(viewer) })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'GET', url: '/metrics', headers: bearer(viewer) })).statusCode).toBe(200);
    const start = await s.app.inject({ method: 'POST', url: '/runs', headers: bearer(viewer), payload: { plan: 'p' } });
    expect(start.statusCode).toBe(403);
    expect(start.json().error).toBe('POST /runs needs the operator role; vic (vic) has viewer');

    const runId = (await s.app.inject({ method: 'POST', url: '/runs', headers: bearer(op), payload: { plan: 'p' } })).json().runId as string;
    expect((await s.app.inject({ method: 'POST', url: `/runs/${runId}/cancel`, headers: bearer(viewer) })).statusCode).toBe(403);
    const approve = await s.app.inject({ method: 'POST', url: `/runs/${runId}/steps/ask/approve`, headers: bearer(viewer) });
    expect(approve.statusCode).toBe(403);
    expect(approve.json().error).toMatch(/needs the approver role/);
    // An operator is not an approver either; an approver is not an operator.
    expect((await s.app.inject({ method: 'POST', url: `/runs/${runId}/steps/ask/approve`, headers: bearer(op) })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'POST', url: `/runs/${runId}/cancel`, headers: bearer(appr) })).statusCode).toBe(403);
    expect(s.decisions).toEqual([]);
    expect((await s.app.inject({ method: 'POST', url: `/runs/${runId}/steps/ask/approve`, headers: bearer(appr) })).statusCode).toBe(202);
    expect(s.decisions).toEqual([{ runId, step: 'ask', verb: 'approve', by: 'appr' }]);

    // The stream and the audit trail: viewers stream, only admins read the audit.
    expect((await s.app.inject({ method: 'GET', url: '/audit', headers: bearer(viewer) })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'GET', url: '/audit', headers: bearer(await apiToken(s.people.store, 'carol')) })).statusCode).toBe(200);
    const nobody = await apiToken(s.people.store, 'nobody');
    const stream = await s.app.inject({ method: 'GET', url: '/stream', headers: bearer(nobody) });
    expect(stream.statusCode).toBe(403);
    expect((await s.app.inject({ method: 'GET', url: '/stream' })).statusCode).toBe(401);
  });
});

describe('sessions in the journal database', () => {
  it('two servers on one database share sessions, a restart signs nobody out, sign-out everywhere ends every session', async () => {
    const dir = tempDir('orch-auth-');
    const a = await server({ dir });
    const b = await server({ dir });
    const first = await signIn(a.app, 'alice', PASSWORDS.alice);
    const second = await signIn(b.app, 'alice', PASSWORDS.alice);
    const other = await signIn(a.app, 'bob', PASSWORDS.bob);
    // Made on a, used on b (and the CSRF token checked there too).
    expect((await b.app.inject({ method: 'POST', url: '/runs', headers: asBrowser(first), payload: { plan: 'p' } })).statusCode).toBe(202);
    expect((await b.app.inject({ method: 'POST', url: '/runs', headers: { cookie: first.cookie, 'x-csrf-token': 'wrong' }, payload: { plan: 'p' } })).statusCode).toBe(403);

    // A restart: a closes, c opens on the same file; the session made on a still works.
    await a.close();
    open.splice(open.indexOf(a), 1);
    const c = await server({ dir });
    expect((await c.app.inject({ method: 'GET', url: '/runs', headers: { cookie: first.cookie } })).statusCode).toBe(200);

    // Signing out of one session ends that one only.
    expect((await c.app.inject({ method: 'POST', url: '/session/logout', headers: asBrowser(second) })).statusCode).toBe(204);
    expect((await b.app.inject({ method: 'GET', url: '/runs', headers: { cookie: second.cookie } })).statusCode).toBe(401);
    expect((await b.app.inject({ method: 'GET', url: '/runs', headers: { cookie: first.cookie } })).statusCode).toBe(200);

    const again = await signIn(c.app, 'alice', PASSWORDS.alice);
    const everywhere = await b.app.inject({ method: 'DELETE', url: '/sessions', headers: asBrowser(first) });
    expect(everywhere.statusCode).toBe(200);
    expect(everywhere.json()).toEqual({ ended: 2 });
    for (const srv of [b, c]) for (const sess of [first, again]) expect((await srv.app.inject({ method: 'GET', url: '/runs', headers: { cookie: sess.cookie } })).statusCode).toBe(401);
    // bob's session is his own.
    expect((await c.app.inject({ method: 'GET', url: '/runs', headers: { cookie: other.cookie } })).statusCode).toBe(200);

    // Only hashes are stored: the cookie value is nowhere in the database.
    const db = openSqlite(dbOf(dir));
    try {
      const rows = JSON.stringify(db.prepare('SELECT * FROM auth_sessions').all());
      expect(rows).toContain('"subject":"bob"');
      expect(rows).not.toContain(other.cookie.split(';')[0]!.split('=')[1]!);
      expect(rows).not.toContain(other.csrf);
    } finally {
      db.close();
    }
  });

  it('a session ends at its expiry', async () => {
    let now = Date.now();
    const s = await server();
    (s.people as unknown as { now: () => number }).now = () => now;
    const b = await signIn(s.app, 'bob', PASSWORDS.bob);
    expect((await s.app.inject({ method: 'GET', url: '/runs', headers: { cookie: b.cookie } })).statusCode).toBe(200);
    now += 12 * 3600_000 + 1;
    expect((await s.app.inject({ method: 'GET', url: '/runs', headers: { cookie: b.cookie } })).statusCode).toBe(401);
  });
});

describe('OpenID Connect sessions', () => {
  const ISSUER = 'https://id.example.test';
  const oidc = (roles: Record<string, string[]>) => ({ oidc: { issuer: ISSUER, client_id: 'orch', roles } });

  it("a restart with other auth.oidc.roles gives a signed-in person the roles their groups have now; none left, or the provider gone, signs them out", async () => {
    const dir = tempDir('orch-oidc-roles-');
    const first = await server({ dir, auth: await authBlock(oidc({ finance: ['approver', 'operator'] })) });
    // As the callback does once the provider vouched for her (serve/http/oidc.ts).
    const fiona = { subject: 'f-123', issuer: ISSUER, name: 'Fiona', method: 'oidc' as const, roles: ['operator' as const, 'approver' as const], groups: ['finance'] };
    const { id, csrf } = await first.people.openSession(fiona);
    const cookie = `orch_session=${id}`;
    const me = async (s: TestServer) => s.app.inject({ method: 'GET', url: '/session', headers: { cookie } });
    expect((await me(first)).json().identity.roles).toEqual(['operator', 'approver']);

    const narrower = await server({ dir, auth: await authBlock(oidc({ finance: ['viewer'] })) });
    expect((await me(narrower)).json().identity.roles).toEqual(['viewer']);
    const cancel = await narrower.app.inject({ method: 'POST', url: '/runs/r-1/cancel', headers: { cookie, 'x-csrf-token': csrf } });
    expect([cancel.statusCode, cancel.json().error]).toEqual([403, 'POST /runs/:id/cancel needs the operator role; Fiona (f-123) has viewer']);
    const none = await server({ dir, auth: await authBlock(oidc({ ops: ['admin'] })) });
    expect((await me(none)).statusCode).toBe(401);
    const gone = await server({ dir, auth: await authBlock() });
    expect((await me(gone)).statusCode).toBe(401);
  });
});

describe('audit', () => {
  it('journals every state-changing request with who, what, the answer and from where, newest first; start rows name their run and plan; refused anonymous requests are counted, not stored; nothing can edit it', async () => {
    const dir = tempDir('orch-auth-');
    const s = await server({ dir });
    const op = await apiToken(s.people.store, 'otto');
    const viewer = await apiToken(s.people.store, 'vic');
    const runId = (await s.app.inject({ method: 'POST', url: '/runs', headers: bearer(op), payload: { plan: 'p' }, remoteAddress: '10.1.2.3' })).json().runId as string;
    await s.app.inject({ method: 'POST', url: `/runs/${runId}/cancel`, headers: bearer(viewer), remoteAddress: '10.1.2.4' });
    // Anonymous refusals (issue #47 item 5): a wrong password, a wrong bearer token, each many times.
    for (let i = 0; i < 3; i++) await s.app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: `wrong${i}` }, remoteAddress: '10.1.2.5' });
    for (let i = 0; i < 4; i++) await s.app.inject({ method: 'POST', url: '/runs', headers: bearer(`orch_guess${i}`), payload: { plan: 'p' }, remoteAddress: '10.1.2.6' });
    await s.app.inject({ method: 'GET', url: '/runs', headers: bearer(viewer) });
    const entries = await s.people.store.audit();
    expect(entries.map((e) => [e.subject, e.authMethod, e.httpMethod, e.route, e.runId, e.status, e.client])).toEqual([
      ['vic', 'token', 'POST', '/runs/:id/cancel', runId, 403, '10.1.2.4'],
      ['otto', 'token', 'POST', '/runs', null, 202, '10.1.2.3'],
    ]);
    expect(entries[1]!.started).toEqual([{ runId, plan: 'p' }]);
    expect((await s.people.store.refused()).map((r) => [r.route, r.status, r.subject, r.client, r.count]).sort()).toEqual([
      ['/runs', 401, null, '10.1.2.6', 4],
      ['/session', 401, 'alice', '10.1.2.5', 3],
    ]);

    // GET /audit: newest first, a page at a time, filtered; the refused counts beside.
    const admin = await apiToken(s.people.store, 'carol');
    const audit = async (query: string) => (await s.app.inject({ method: 'GET', url: `/audit?${query}`, headers: bearer(admin) })).json();
    const listed = await audit('since=1h');
    expect(listed.entries.map((e: { subject: string; issuer: string; method: string; httpMethod: string }) => [e.subject, e.issuer, e.method, e.httpMethod])).toEqual([
      ['vic', 'local', 'token', 'POST'],
      ['otto', 'local', 'token', 'POST'],
    ]);
    expect(listed.refused.map((r: { count: number }) => r.count).sort()).toEqual([3, 4]);
    const page = await audit('limit=1');
    expect(page.entries.map((e: { subject: string }) => e.subject)).toEqual(['vic']);
    const older = await audit(`limit=1&before=${page.next}`);
    expect(older.entries.map((e: { subject: string; started: unknown }) => [e.subject, e.started])).toEqual([['otto', [{ runId, plan: 'p' }]]]);
    expect((await audit(`run=${runId}`)).entries.map((e: { route: string }) => e.route)).toEqual(['/runs/:id/cancel', '/runs']);
    expect((await audit('user=otto')).entries.map((e: { status: number }) => e.status)).toEqual([202]);
    expect((await audit('status=403')).entries.map((e: { subject: string }) => e.subject)).toEqual(['vic']);
    expect((await audit('order=oldest')).entries.map((e: { subject: string }) => e.subject)).toEqual(['otto', 'vic']);
    expect((await s.app.inject({ method: 'GET', url: '/audit?before=x', headers: bearer(admin) })).statusCode).toBe(400);

    const db = openSqlite(dbOf(dir));
    try {
      expect(() => db.prepare('UPDATE audit_log SET subject = ?').run('someone else')).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });

  it('auth.audit_retention: a server deletes the entries and counts older than it (at start, then hourly), nothing younger', async () => {
    const dir = tempDir('orch-auth-');
    const day = 86_400_000;
    const store = await (await openBackend(dbOf(dir))).people();
    const old = { subject: 'otto', issuer: 'local', authMethod: 'token', name: 'otto', httpMethod: 'POST', route: '/runs', path: '/runs', runId: null, stepId: null, status: 202, client: null } as const;
    await store.appendAudit({ ...old, at: Date.now() - 400 * day });
    await store.appendAudit({ ...old, at: Date.now() - 300 * day });
    await store.countRefused({ httpMethod: 'POST', route: '/session', status: 401, subject: null, client: null }, Date.now() - 400 * day);
    await store.close();
    const logged: string[] = [];
    const s = await server({ dir, auth: await authBlock({ audit_retention: '365d' }), log: (l) => logged.push(l) });
    expect((await s.people.store.audit()).map((e) => Math.round((Date.now() - e.at) / day))).toEqual([300]);
    expect(await s.people.store.refused()).toEqual([]);
    expect(logged.join('\n')).toMatch(/deleted 1 entry older than auth.audit_retention/);
  });
});
