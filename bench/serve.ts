/**
 * `orch serve` throughput: events per second accepted by `POST /events` on loopback, measured
 * against a real `orch serve` process (real runtime and journal) with a filtered, debounced
 * event trigger, 32 concurrent keep-alive clients.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smoke, type BenchFigure } from './figure.js';

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/bench/serve.js; the repository root is two levels up from there.
const repo = resolve(here, here.includes(`${join('dist', 'bench')}`) ? '../..' : '..');
const fixtures = join(repo, 'serve/test/fixtures');
const TOKEN = 'bench-token-0123456789';
const EVENTS = smoke(20_000, 100);
const CLIENTS = smoke(32, 4);

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-serve-bench-'));
  const child = spawn(process.execPath, [join(repo, 'bin/orch.js'), 'serve', 'load.orch', '--port', '0', '--db', join(dir, 'runs.db')], {
    cwd: fixtures,
    env: { ...process.env, ORCH_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => fail(new Error(`orch serve did not start: ${err}`)), 30_000);
      child.stderr!.on('data', (c: Buffer) => (err += c));
      child.stdout!.on('data', (c: Buffer) => {
        out += c;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          ok(m[1]!);
        }
      });
      child.once('exit', (code) => fail(new Error(`orch serve exited with ${code}: ${err}`)));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const post = (i: number) =>
      new Promise<void>((ok, fail) => {
        const body = JSON.stringify({ type: 'reading', seq: i, level: i % 5, sensor: `s${i % 7}` });
        const req = request(
          `${url}/events`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 202 ? ok() : fail(new Error(`HTTP ${res.statusCode}`))));
          },
        );
        req.on('error', fail);
        req.end(body);
      });
    // Warm-up, then the measured batch.
    await Promise.all(Array.from({ length: smoke(200, 10) }, (_, i) => post(i)));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < EVENTS) await post(next++);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    const rate = EVENTS / seconds;
    return [{ name: `POST /events accepted, loopback, ${CLIENTS} clients`, value: rate, unit: 'events/s', target: '≥ 1,000 events/s', met: rate >= 1000 }];
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
