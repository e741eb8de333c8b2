/** `orch serve` as a command: usage errors, broken modules and busy ports end with one clear line. */
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http } from './http-helpers.js';
import { FIXTURES, REPO, startServe, tempDir } from './serve-process.js';

function orch(args: string[], cwd = FIXTURES, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/orch.js'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ORCH_TOKEN: 'cli-test-token-000000', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


describe('orch serve: command line', () => {
  it('--help describes the options', () => {
    const r = orch(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--port', '--host', '--db', '--catch-up', 'ORCH_TOKEN', 'GET /context/signals', 'GET /context/events', 'POST /sources/NAME']) expect(r.stdout).toContain(opt);
  });

  it('a module with an invalid trigger is refused with its diagnostics and exit 1', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.orch');
    writeFileSync(
      file,
      [
        'capability c { kind tool input { v: string } output { v: string } handler "./h.js#c" data public }',
        'resource r { kind local_device }',
        'plan p { step s = c(v: "x") }',
        'trigger t { schedule "not a cron" run p }',
        '',
      ].join('\n'),
    );
    const r = orch(['serve', file, '--port', '0', '--db', join(dir, 'runs.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E0701/);
    expect(r.stderr).toMatch(/^orch: cannot serve: \d+ error/m);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('a missing file, a bad port and a busy port are usage errors (exit 2)', async () => {
    const dir = tempDir();
    const missing = orch(['serve', join(dir, 'nope.orch'), '--db', join(dir, 'runs.db')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^orch: .*nope\.orch: no such file/);
    const badPort = orch(['serve', 'triggers.orch', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const busy = orch(['serve', 'triggers.orch', '--port', String(port), '--db', join(dir, 'runs.db')]);
      expect(busy.code).toBe(2);
      expect(busy.stderr).toMatch(/already in use/);
    } finally {
      blocker.close();
    }
  });

  it("reads the project's auth.oidc: an unset client secret stops it (exit 2, named, never a value); set, the login page offers the provider", async () => {
    const project = tempDir();
    cpSync(FIXTURES, project, { recursive: true });
    const oidc = { issuer: 'http://127.0.0.1:9/', client_id: 'orch', client_secret: 'secret:ORCH_TEST_OIDC_SECRET', name: 'Test ID' };
    writeFileSync(join(project, 'orch.config.json'), JSON.stringify({ auth: { oidc } }));
    const db = join(project, 'runs.db');
    const unset = orch(['serve', join(project, 'triggers.orch'), '--port', '0', '--db', db], project, { ORCH_TEST_OIDC_SECRET: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/secret "ORCH_TEST_OIDC_SECRET" is not set/);

    process.env.ORCH_TEST_OIDC_SECRET = 'oidc-secret-value-123';
    try {
      const serve = await startServe([join(project, 'triggers.orch')], { db });
      try {
        // The provider is asked only at the first sign-in: it is down here, and the server starts.
        const login = await http(serve.url, 'GET', '/login');
        expect(login.status).toBe(200);
        expect(login.text).toMatch(/data-login="[^"]*oidc/);
        expect(login.text).toContain('data-oidc="Test ID"');
        expect(serve.stdout() + serve.stderr()).not.toContain('oidc-secret-value-123');
      } finally {
        await serve.stop();
      }
    } finally {
      delete process.env.ORCH_TEST_OIDC_SECRET;
    }
  });
});
