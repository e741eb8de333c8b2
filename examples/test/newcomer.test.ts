/**
 * The first hour with Orch (issue 34), as a newcomer's script against the real CLI: `orch init`,
 * a deliberate handler typo caught by `orch check .`, a plan compiled here and run from a copy of
 * the project, Ctrl-C and `orch resume`, and an `http_request` plan with no resources against a
 * local HTTP server. Seven `orch` processes in all.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orch, orchAsync } from './cli.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/missing') return void res.writeHead(404).end('no such thing');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'newcomer' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("a newcomer's first hour", () => {
  it('init, a typo caught by check, compile here and run in a copy, Ctrl-C and resume, http_request with no resources', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'orch-newcomer-'));
    const proj = path.join(home, 'hello');

    // 1. orch init
    expect(orch(['init', proj]).code).toBe(0);
    const plan = path.join(proj, 'hello.orch');
    const source = readFileSync(plan, 'utf8');

    // 2. a deliberate typo in a handler export: `orch check .` catches it, with a did-you-mean.
    writeFileSync(plan, source.replace('./handlers/greet.mjs#greet"', './handlers/greet.mjs#gret"'));
    const checked = orch(['check', '.'], { cwd: proj });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/E0104/);
    expect(checked.stdout).toMatch(/has no export "gret".*did you mean "greet"\?/);
    writeFileSync(plan, source);

    // 3. compile here, copy the project elsewhere, run the compiled plan there.
    expect(orch(['compile', 'hello.orch', '-o', 'build/hello.json'], { cwd: proj }).code).toBe(0);
    const copy = path.join(home, 'elsewhere', 'hello');
    cpSync(proj, copy, { recursive: true });
    const ran = orch(['run', 'build/hello.json', '--input', '@input.json', '--json', '--workers', '1'], { cwd: copy });
    expect(ran.code, ran.stderr).toBe(0);
    expect((JSON.parse(ran.stdout) as { output: { message: string } }).output.message).toBe('Hello, Ada!');

    // 4. Ctrl-C while the first step runs, then resume to completion.
    const started = path.join(proj, 'started.txt');
    const release = path.join(proj, 'release.txt');
    writeFileSync(
      path.join(proj, 'handlers', 'greet.mjs'),
      readFileSync(path.join(proj, 'handlers', 'greet.mjs'), 'utf8').replace(
        'export async function greet(input) {',
        `import { existsSync, writeFileSync } from 'node:fs';
export async function greet(input) {
  writeFileSync(${JSON.stringify(started)}, 'x');
  while (!existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 25));`,
      ),
    );
    const child = spawn(process.execPath, [BIN, 'run', 'hello.orch', '--input', '@input.json', '--run-id', 'first', '--workers', '1'], {
      cwd: proj,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('the first step to start', () => existsSync(started));
    child.kill('SIGINT');
    await until('the interrupt notice', () => stderr.includes('no new step starts'));
    writeFileSync(release, 'go');
    expect(await exited).toBe(130);
    expect(stderr).toContain('orch resume first');
    const resumed = orch(['resume', 'first', '--json', '--workers', '1'], { cwd: proj });
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as { status: string; output: { banner: string } };
    expect(result.status).toBe('completed');
    expect(result.output.banner).toBe('*** HELLO, ADA! ***');

    // 5. std http_request in a plan that declares no resources: runs here; a 404 is an output.
    writeFileSync(
      path.join(proj, 'fetch.orch'),
      `plan fetch {\n  step get = http_request(url: "${base}/greeting")\n  step missing = http_request(url: "${base}/missing")\n  output { body: get.output.body, missing: missing.output.status }\n}\n`,
    );
    // Not spawnSync: the server answering it lives in this process.
    const fetched = await orchAsync(['run', 'fetch.orch', '--json', '--workers', '1'], { cwd: proj });
    expect(fetched.code, fetched.stderr).toBe(0);
    expect((JSON.parse(fetched.stdout) as { output: unknown }).output).toEqual({ body: { hello: 'newcomer' }, missing: 404 });
  });
});
