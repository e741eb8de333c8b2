/**
 * One people-store contract (sessions, API tokens, the audit trail of LANGUAGE.md §8.8), run
 * against every backend — SQLite (the journal file), Postgres (a throwaway database, migrated) and
 * memory: two stores on one database stand for two `orch serve`; the audit trail refuses edits
 * and deletions in the database; sign-in failures are counted by both together, concurrent
 * increments included, and a burst of attempts across both is decided one at a time.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPool } from '../backend/pg/pool.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import type { Identity } from '../people/identity.js';
import { openSqlitePeopleStore } from '../backend/sqlite/people-store.js';
import { newApiToken, sha256Hex, type AuditEntry, type PeopleStore } from '../people/people-store.js';
import { BACKENDS, type TestBackend } from './backends.js';
import { tempDir } from './helpers.js';

/**
 * The database's own refusal of edits to the audit trail (triggers), by raw SQL; memory has no
 * SQL, and no call that could edit an entry.
 */
function rawSql(backend: TestBackend, db: string | null): ((sql: string) => Promise<unknown>) | null {
  if (db === null) return null;
  if (backend.name === 'SQLite')
    return async (sql) => {
      const c = openSqlite(db);
      try {
        return c.prepare(sql).run();
      } finally {
        c.close();
      }
    };
  return async (sql) => {
    const pool = openPool(db, { max: 1 });
    try {
      return await pool.query(sql.replace(/\baudit_log\b/, 'orch.audit_log'));
    } finally {
      await pool.end();
    }
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const alice: Identity = { subject: 'alice', issuer: 'local', name: 'alice', method: 'password', roles: ['operator', 'approver'], groups: ['finance'] };
const oidcAlice: Identity = { ...alice, issuer: 'https://id.example.com', method: 'oidc' };

function entry(over: Partial<AuditEntry> = {}): AuditEntry {
  return { at: 1000, subject: 'alice', issuer: 'local', authMethod: 'token', name: 'alice', httpMethod: 'POST', route: '/runs', path: '/runs', runId: null, stepId: null, status: 202, client: '10.0.0.1', ...over };
}

describe.each(BACKENDS)('people store on $name', (backend) => {
  async function two(): Promise<{ a: PeopleStore; b: PeopleStore; raw: ((sql: string) => Promise<unknown>) | null }> {
    const place = await backend.place();
    cleanups.push(place.teardown);
    const a = await (await place.open()).people();
    cleanups.push(() => a.close());
    const b = await (await place.open()).people();
    cleanups.push(() => b.close());
    return { a, b, raw: rawSql(backend, place.db) };
  }

  it('sessions: shared by two stores, expired ones unseen, one ended, or all of a person (same subject at another issuer kept)', async () => {
    const { a, b } = await two();
    await a.createSession('h1', { identity: alice, csrfHash: sha256Hex('c1'), createdAt: 1000, expiresAt: 5000 });
    await a.createSession('h2', { identity: alice, csrfHash: sha256Hex('c2'), createdAt: 1000, expiresAt: 9000 });
    await b.createSession('h3', { identity: oidcAlice, csrfHash: sha256Hex('c3'), createdAt: 1000, expiresAt: 9000 });
    expect(await b.session('h1', 2000)).toEqual({ identity: alice, csrfHash: sha256Hex('c1'), createdAt: 1000, expiresAt: 5000 });
    expect(await b.session('h1', 5001)).toBeUndefined();
    expect(await a.session('nope', 2000)).toBeUndefined();
    await b.deleteSession('h2');
    expect(await a.session('h2', 2000)).toBeUndefined();
    await a.createSession('h4', { identity: alice, csrfHash: sha256Hex('c4'), createdAt: 2000, expiresAt: 9000 });
    expect(await b.deleteSessionsOf('alice', 'local')).toBe(2);
    expect(await a.session('h4', 3000)).toBeUndefined();
    expect((await a.session('h3', 3000))?.identity).toEqual(oidcAlice);
  });

  it('API tokens: found by the hash only, revoked once (the first time stays), listed per user', async () => {
    const { a, b } = await two();
    const t1 = newApiToken();
    const t2 = newApiToken();
    await a.createToken({ id: t1.id, user: 'alice', hash: t1.hash, createdAt: 1000, expiresAt: 5000, revokedAt: null });
    await a.createToken({ id: t2.id, user: 'bob', hash: t2.hash, createdAt: 2000, expiresAt: null, revokedAt: null });
    expect(t1.token).toMatch(new RegExp(`^orch_${t1.id}_`));
    expect(await b.tokenByHash(t1.hash)).toEqual({ id: t1.id, user: 'alice', createdAt: 1000, expiresAt: 5000, revokedAt: null });
    expect(await b.tokenByHash(sha256Hex('orch_x_y'))).toBeUndefined();
    expect(await b.revokeToken(t1.id, 3000)).toBe(true);
    expect(await a.revokeToken(t1.id, 4000)).toBe(true);
    expect((await a.tokenByHash(t1.hash))?.revokedAt).toBe(3000);
    expect(await a.revokeToken('unknown', 3000)).toBe(false);
    expect((await b.tokens()).map((t) => t.user)).toEqual(['alice', 'bob']);
    expect((await b.tokens('bob')).map((t) => t.id)).toEqual([t2.id]);
  });

  it('audit: appended by either store, newest first a page at a time or oldest first, filtered; the database refuses UPDATE and any DELETE but a prune\'s', async () => {
    const { a, b, raw } = await two();
    await a.appendAudit(entry({ at: 1000, runId: null, started: [{ runId: 'r1', plan: 'pay' }] }));
    await b.appendAudit(entry({ at: 2000, subject: 'carol', route: '/session', path: '/session', status: 201 }));
    await a.appendAudit(entry({ at: 3000, subject: 'bob', route: '/runs/:id/cancel', path: '/runs/r1/cancel', runId: 'r1', status: 403 }));
    const all = await b.audit();
    expect(all.map((e) => [e.subject, e.status, e.runId])).toEqual([['bob', 403, 'r1'], ['carol', 201, null], ['alice', 202, null]]);
    expect(all[0]).toMatchObject({ at: 3000, issuer: 'local', authMethod: 'token', httpMethod: 'POST', route: '/runs/:id/cancel', client: '10.0.0.1' });
    expect(all[2]!.started).toEqual([{ runId: 'r1', plan: 'pay' }]);
    expect((await a.audit({ order: 'oldest' })).map((e) => e.at)).toEqual([1000, 2000, 3000]);
    // A page, and the next one from its last id.
    const page = await a.audit({ limit: 2 });
    expect(page.map((e) => e.at)).toEqual([3000, 2000]);
    expect((await a.audit({ limit: 2, before: page[1]!.id })).map((e) => e.at)).toEqual([1000]);
    expect((await a.audit({ since: 2000, until: 3000 })).map((e) => e.at)).toEqual([2000]);
    expect((await a.audit({ subject: 'bob', issuer: 'local' })).map((e) => e.at)).toEqual([3000]);
    expect((await a.audit({ status: 201 })).map((e) => e.subject)).toEqual(['carol']);
    expect((await a.audit({ route: '/session' })).map((e) => e.subject)).toEqual(['carol']);
    // A run: the entries that named it and the one that started it.
    expect((await a.audit({ runId: 'r1' })).map((e) => e.at)).toEqual([3000, 1000]);
    expect(await a.audit({ runId: 'r' })).toEqual([]);

    if (raw) {
      await expect(raw("UPDATE audit_log SET subject = 'mallory'")).rejects.toThrow(/append-only/);
      await expect(raw('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(raw('DELETE FROM audit_log WHERE at < 1500')).rejects.toThrow(/append-only/);
    }
    expect((await a.audit()).map((e) => e.subject)).toEqual(['bob', 'carol', 'alice']);
    // Retention: a prune deletes what is older than its cutoff, and only that.
    expect(await b.pruneAudit(2500)).toBe(2);
    expect((await a.audit()).map((e) => e.at)).toEqual([3000]);
    if (raw) await expect(raw('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });

  it('refused requests without an identity are counted per hour, route, answer, named user and client, not stored one by one', async () => {
    const { a, b } = await two();
    const wrong = { httpMethod: 'POST', route: '/session', status: 401, subject: 'alice', client: '10.0.0.9' };
    const hour = 3_600_000;
    for (let i = 0; i < 5; i++) await (i % 2 ? a : b).countRefused(wrong, 10 * hour + i * 1000);
    await a.countRefused({ ...wrong, status: 429 }, 10 * hour + 9000);
    await a.countRefused({ ...wrong, subject: null, route: '/runs', status: 401 }, 11 * hour);
    expect(await a.audit()).toEqual([]);
    const counted = await b.refused();
    expect(counted.map((r) => [r.hour / hour, r.route, r.status, r.subject, r.count])).toEqual([
      [11, '/runs', 401, null, 1],
      [10, '/session', 429, 'alice', 1],
      [10, '/session', 401, 'alice', 5],
    ]);
    expect(counted[2]).toMatchObject({ client: '10.0.0.9', firstAt: 10 * hour, lastAt: 10 * hour + 4000 });
    expect((await b.refused({ since: 11 * hour })).map((r) => r.route)).toEqual(['/runs']);
    expect((await b.refused({ subject: 'alice', status: 401 })).map((r) => r.count)).toEqual([5]);
    await a.pruneAudit(11 * hour);
    expect((await b.refused()).map((r) => r.route)).toEqual(['/runs']);
  });

  it('sign-in failures: two stores count together, concurrent increments are not lost, a key is cleared alone, quiet rows are forgotten and dropped', async () => {
    const { a, b } = await two();
    /** An attempt let through whatever the counts: counted as one more failure of each key. */
    const fail = (s: PeopleStore, keys: string[], at: number, forgetBefore = 0) => s.takeLoginAttempt(keys, at, forgetBefore, () => 0);
    const alice = ['user:alice', 'addr:10.0.0.1'];
    await fail(a, alice, 1000);
    await fail(b, alice, 2000);
    expect(await a.loginFailures([...alice, 'user:bob'], 0)).toEqual(
      new Map([
        ['user:alice', { failures: 2, last: 2000 }],
        ['addr:10.0.0.1', { failures: 2, last: 2000 }],
      ]),
    );
    // Two servers failing at once: every increment counts, and the latest time wins whatever the order.
    await Promise.all(Array.from({ length: 40 }, (_, i) => fail(i % 2 ? a : b, ['user:carol', 'addr:10.0.0.1'], 3000 + i)));
    expect(await b.loginFailures(['user:carol', 'addr:10.0.0.1'], 0)).toEqual(
      new Map([
        ['user:carol', { failures: 40, last: 3039 }],
        ['addr:10.0.0.1', { failures: 42, last: 3039 }],
      ]),
    );
    await fail(a, ['user:carol'], 2500);
    expect((await a.loginFailures(['user:carol'], 0)).get('user:carol')).toEqual({ failures: 41, last: 3039 });
    // Only keys whose latest failure is at `since` or later.
    expect([...(await a.loginFailures([...alice, 'user:carol'], 2500)).keys()].sort()).toEqual(['addr:10.0.0.1', 'user:carol']);
    // A success clears the user's count, not the address's.
    await b.clearLoginFailures('user:alice');
    expect([...(await a.loginFailures(alice, 0)).keys()]).toEqual(['addr:10.0.0.1']);
    // Past the forget time a key starts over, and every quiet row is dropped.
    await fail(a, ['user:carol'], 10_000, 5000);
    expect(await b.loginFailures(['user:carol', 'addr:10.0.0.1', 'user:alice'], 0)).toEqual(new Map([['user:carol', { failures: 1, last: 10_000 }]]));
  });

  it('sign-in attempts: decided and counted at once, so of a burst on two stores only the free ones pass; a refused one counts nothing; a success is forgiven', async () => {
    const { a, b } = await two();
    const keys = ['user:dave', 'addr:10.0.0.7'];
    const seen: number[] = [];
    // The rule under test is the serve layer's; here: five attempts free, then wait.
    const fiveFree = (f: ReadonlyMap<string, { failures: number }>) => {
      const n = f.get('user:dave')?.failures ?? 0;
      seen.push(n);
      return n >= 5 ? 1000 : 0;
    };
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).takeLoginAttempt(keys, 5000 + i, 0, fiveFree)));
    expect(answers.filter((w) => w === 0)).toHaveLength(5);
    expect(answers.filter((w) => w === 1000)).toHaveLength(25);
    // Each decision saw every attempt let through before it: 0, 1, 2, 3, 4, then 5 for the rest.
    expect([...seen].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, ...Array<number>(25).fill(5)]);
    expect((await a.loginFailures(keys, 0)).get('user:dave')?.failures).toBe(5);
    expect((await a.loginFailures(keys, 0)).get('addr:10.0.0.7')?.failures).toBe(5);
    // `wait` sees a key whose latest failure is before the forget time as having none.
    let fresh: ReadonlyMap<string, unknown> | undefined;
    expect(await b.takeLoginAttempt(keys, 9000, 8000, (f) => ((fresh = f), 0))).toBe(0);
    expect(fresh?.size).toBe(0);
    expect(await a.loginFailures(keys, 0)).toEqual(
      new Map([
        ['user:dave', { failures: 1, last: 9000 }],
        ['addr:10.0.0.7', { failures: 1, last: 9000 }],
      ]),
    );
    // Forgiven: one failure taken back (its time stays); at none the row goes.
    await a.takeLoginAttempt(keys, 9100, 0, () => 0);
    await b.forgiveLoginFailure('addr:10.0.0.7');
    expect((await a.loginFailures(keys, 0)).get('addr:10.0.0.7')).toEqual({ failures: 1, last: 9100 });
    await a.forgiveLoginFailure('addr:10.0.0.7');
    await a.forgiveLoginFailure('addr:10.0.0.9');
    expect([...(await b.loginFailures(keys, 0)).keys()]).toEqual(['user:dave']);
  });
});

describe('people store on a SQLite file from before sign-in failures were stored', () => {
  it('opens, keeps its rows and gains the login_failures and audit_refused tables and the started column', async () => {
    const db = join(tempDir('orch-people-old-'), 'runs.db');
    const first = openSqlitePeopleStore(db);
    await first.createSession('h1', { identity: alice, csrfHash: sha256Hex('c1'), createdAt: 1000, expiresAt: 9000 });
    await first.close();
    const c = openSqlite(db);
    c.exec('DROP TABLE login_failures');
    c.exec('DROP TABLE audit_refused');
    // audit_log as v0.3 made it, an entry in it, and its old trigger.
    c.exec('DROP TRIGGER audit_log_no_delete_unpruned');
    c.exec('DROP TABLE audit_log');
    c.exec(`CREATE TABLE audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, subject TEXT, issuer TEXT, auth_method TEXT,
      name TEXT, http_method TEXT NOT NULL, route TEXT NOT NULL, path TEXT NOT NULL, run_id TEXT, step_id TEXT,
      status INTEGER NOT NULL, client TEXT)`);
    c.exec(`INSERT INTO audit_log (at, http_method, route, path, status) VALUES (500, 'POST', '/runs', '/runs', 202)`);
    c.exec(`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`);
    c.close();
    const store = openSqlitePeopleStore(db);
    cleanups.push(() => store.close());
    expect((await store.session('h1', 2000))?.identity).toEqual(alice);
    await store.takeLoginAttempt(['user:alice'], 3000, 0, () => 0);
    expect(await store.loginFailures(['user:alice'], 0)).toEqual(new Map([['user:alice', { failures: 1, last: 3000 }]]));
    await store.appendAudit(entry({ at: 4000, started: [{ runId: 'r9', plan: 'pay' }] }));
    expect((await store.audit()).map((e) => [e.at, e.started ?? null])).toEqual([[4000, [{ runId: 'r9', plan: 'pay' }]], [500, null]]);
    await store.countRefused({ httpMethod: 'POST', route: '/session', status: 401, subject: null, client: null }, 5000);
    expect((await store.refused()).map((r) => r.count)).toEqual([1]);
    expect(await store.pruneAudit(1000)).toBe(1);
  });
});
