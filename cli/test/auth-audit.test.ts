/**
 * `orch auth hash|token|tokens|revoke` and `orch audit` (LANGUAGE.md §8.8) on the real CLI, with
 * an in-process server on the same SQLite journal: the hash signs in, the printed token acts as
 * its user until revoked, and `orch audit` names the subjects who changed things.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend, loadConfig, verifyPassword } from '../../runtime/index.js';
import { buildServer, type BuiltServer } from '../../serve/index.js';
import { FakeStarter, fakePlan } from '../../serve/test/fake-starter.js';
import { tempDir } from '../../serve/test/serve-process.js';
import { orchAsync } from '../../examples/test/cli.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const project = tempDir('orch-auth-cli-');
const db = join(project, '.orch', 'runs.db');

function orchWithInput(args: string[], input: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: project, input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const cli = (args: string[]) => orchAsync(args, { cwd: project });

let server: BuiltServer;
let hash: string;

beforeAll(async () => {
  const hashed = orchWithInput(['auth', 'hash'], 'correct horse\n');
  expect(hashed.stderr).toBe('');
  expect(hashed.code).toBe(0);
  hash = hashed.stdout.trim();
  writeFileSync(
    join(project, 'orch.config.json'),
    JSON.stringify({ auth: { users: { alice: { password: hash, roles: ['operator'] }, vic: { roles: ['viewer'] } } } }),
  );
}, 60_000);
afterAll(async () => {
  await server?.app.close();
  await server?.people.store.close();
});

async function startServer(): Promise<BuiltServer> {
  const config = await loadConfig(project);
  const s = await buildServer({
    plans: [fakePlan('p')], triggers: [], starter: new FakeStarter(), evaluate: () => null,
    state: await (await openBackend(db)).triggerState(), people: await (await openBackend(db)).people(), token: 'unused-bootstrap', auth: config.auth!,
  });
  await s.app.ready();
  return s;
}

describe('orch auth and orch audit', () => {
  it('hash → sign in; token → acts as its user until revoked; audit names the subjects', async () => {
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(hash, 'correct horse')).toBe(true);
    expect(hash).not.toContain('correct horse');

    const unknown = await cli(['auth', 'token', 'mallory', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"mallory" is not a user of .*orch\.config\.json \(auth\.users: alice, vic\)/);

    // A token of a user the config no longer has (issue #47 item 7): the next token made revokes it for good.
    mkdirSync(dirname(db), { recursive: true });
    const before = await (await openBackend(db)).people();
    await before.createToken({ id: 'zed000000000', user: 'zed', hash: 'h', createdAt: Date.now(), expiresAt: null, revokedAt: null });
    await before.close();
    const made = await cli(['auth', 'token', 'alice', '--expires', '30d', '--db', db]);
    expect(made.code).toBe(0);
    const after = await (await openBackend(db)).people();
    expect((await after.tokens('zed'))[0]!.revokedAt).not.toBeNull();
    await after.close();
    const token = made.stdout.trim();
    expect(token).toMatch(/^orch_[0-9a-f]{12}_\S+$/);
    const id = /token ([0-9a-f]+) for alice, expires 20\d\d-/.exec(made.stderr)?.[1];
    expect(id).toBeDefined();
    const viewer = JSON.parse((await cli(['auth', 'token', 'vic', '--json', '--db', db])).stdout) as { id: string; token: string; expiresAt: null };
    expect(viewer.expiresAt).toBeNull();

    server = await startServer();
    const start = (t: string) => server.app.inject({ method: 'POST', url: '/runs', headers: { authorization: `Bearer ${t}` }, payload: { plan: 'p' } });
    expect((await start(token)).statusCode).toBe(202);
    expect((await start(viewer.token)).statusCode).toBe(403);
    expect((await server.app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: 'correct horse' } })).statusCode).toBe(201);

    const listed = JSON.parse((await cli(['auth', 'tokens', '--json', '--db', db])).stdout) as { tokens: { id: string; user: string }[] };
    expect(listed.tokens.map((t) => t.user)).toEqual(['zed', 'alice', 'vic']);
    expect(JSON.stringify(listed)).not.toContain(token);

    const revoked = await cli(['auth', 'revoke', id!, '--db', db]);
    expect(revoked.code).toBe(0);
    expect((await start(token)).statusCode).toBe(401);

    const audit = await cli(['audit', '--since', '1h', '--format', 'json', '--db', db]);
    expect(audit.code).toBe(0);
    const entries = (JSON.parse(audit.stdout) as { entries: { subject: string | null; issuer: string | null; method: string | null; status: number; route: string }[] }).entries;
    expect(entries.map((e) => [e.subject, e.route, e.status])).toEqual([
      ['alice', '/runs', 202],
      ['vic', '/runs', 403],
      ['alice', '/session', 201],
    ]);
    // §8.8: who is (subject, issuer, method) — `method` how they proved it, not the HTTP verb.
    expect(entries.map((e) => [e.subject, e.issuer, e.method])).toEqual([
      ['alice', 'local', 'token'],
      ['vic', 'local', 'token'],
      ['alice', 'local', 'password'],
    ]);
    const text = await cli(['audit', '--db', db]);
    expect(text.stdout).toMatch(/alice \[token\]\s+POST \/runs\s+202\s+from 127\.0\.0\.1/);
    expect(text.stdout).toMatch(/vic \[token\]\s+POST \/runs\s+403/);
  });

  it('lists the refused requests that proved no identity too (a wrong password, a revoked token), counted per hour as GET /audit does', async () => {
    server ??= await startServer();
    for (let i = 0; i < 2; i++) expect((await server.app.inject({ method: 'POST', url: '/session', payload: { user: 'alice', password: 'wrong' } })).statusCode).toBe(401);
    const audit = await cli(['audit', '--since', '1h', '--format', 'json', '--db', db]);
    expect(audit.code).toBe(0);
    const refused = (JSON.parse(audit.stdout) as { refused: { httpMethod: string; route: string; status: number; subject: string | null; count: number; hour: string }[] }).refused;
    expect(refused).toEqual(expect.arrayContaining([
      expect.objectContaining({ httpMethod: 'POST', route: '/session', status: 401, subject: 'alice', count: 2, hour: expect.stringMatching(/^20\d\d-\d\d-\d\dT\d\d:00:00\.000Z$/) }),
      expect.objectContaining({ httpMethod: 'POST', route: '/runs', status: 401, count: 1 }),
    ]));
    const text = await cli(['audit', '--db', db]);
    expect(text.stdout).toMatch(/refused without an identity/);
    expect(text.stdout).toMatch(/alice\s+POST \/session\s+401\s+×2\s+from 127\.0\.0\.1/);
  });
});
