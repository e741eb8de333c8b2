/** `orch serve` as a command: usage errors, broken modules and busy ports end with one clear line. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, REPO, tempDir } from './serve-process.js';

function orch(args: string[], cwd = FIXTURES) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/orch.js'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ORCH_TOKEN: 'cli-test-token-000000' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


describe('orch serve: command line', () => {
  it('--help describes the options', () => {
    const r = orch(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--port', '--host', '--db', '--catch-up', 'ORCH_TOKEN']) expect(r.stdout).toContain(opt);
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
    expect(missing.stderr).toMatch(/^orch: cannot read .*nope\.orch/);
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
});
