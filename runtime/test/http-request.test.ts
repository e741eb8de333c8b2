/**
 * Issue 34 item 4: std `http_request` in a plan with no resources runs on the local host, and
 * `fail_on_status` decides which answers fail the attempt (default: 5xx fails and is retried,
 * 4xx completes with its status) — against a local HTTP server started here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import type { RunEvent } from '../scheduler/types.js';
import { tempDir } from './helpers.js';

let server: Server;
let base: string;
let rt: Runtime;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/flaky' && n === 1) return void res.writeHead(503).end('busy');
    if (path === '/down') return void res.writeHead(500).end('down');
    if (path === '/limited' && n === 1) return void res.writeHead(429).end('slow down');
    if (path === '/missing') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"nope"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, n }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rt = await Runtime.open({ db: join(tempDir(), 'runs.db'), workers: 2 });
});
afterAll(async () => {
  await rt.close();
  await new Promise((r) => server.close(r));
});

/** A plan of one http_request step and no resources, compiled from source. */
function planOf(args: string, retry = 'retry 2 backoff fixed 10ms') {
  const options = retry ? ` {\n    ${retry}\n  }` : '';
  const dir = tempDir('orch-http-');
  writeFileSync(join(dir, 'package.json'), '{}');
  const file = join(dir, 'p.orch');
  writeFileSync(file, `plan p {\n  step call = http_request(${args})${options}\n  output { status: call.output.status, body: call.output.body }\n}\n`);
  const out = compile({ entry: file });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

describe('std http_request', () => {
  it('compiles with no resources declared and runs on the local host', async () => {
    const p = planOf(`url: "${base}/ok"`);
    expect(p.steps[0]!.binding.resource).toBeNull();
    expect(p.steps[0]!.binding.rationale).toMatch(/local host/);
    const r = await (await rt.start(p, {})).result;
    expect(r.status).toBe('completed');
    expect(r.output).toEqual({ status: 200, body: { path: '/ok', n: 1 } });
  });

  it('a 5xx fails the attempt and is retried', async () => {
    const r = await (await rt.start(planOf(`url: "${base}/flaky"`), {})).result;
    expect(r.status).toBe('completed');
    expect(r.steps[0]!.attempts).toBe(2);
    expect(r.output).toEqual({ status: 200, body: { path: '/flaky', n: 2 } });
    const down = await (await rt.start(planOf(`url: "${base}/down?token=s3cret"`), {})).result;
    expect(down.status).toBe('failed');
    expect(down.steps[0]!.attempts).toBe(3);
    expect(down.steps[0]!.error).toMatch(/HTTP 500 .*GET http:\/\/127\.0\.0\.1:\d+\/down \(fail_on_status 500\)/);
    expect(down.steps[0]!.error).not.toContain('s3cret');
  });

  it('a 4xx completes with its status, unless fail_on_status says otherwise', async () => {
    const r = await (await rt.start(planOf(`url: "${base}/missing"`), {})).result;
    expect(r.status).toBe('completed');
    expect(r.output).toEqual({ status: 404, body: { error: 'nope' } });
    const strict = await (await rt.start(planOf(`url: "${base}/missing", fail_on_status: 400`, 'retry 0'), {})).result;
    expect(strict.status).toBe('failed');
    expect(strict.steps[0]!.error).toMatch(/HTTP 404/);
  });

  it('a 4xx that fails (fail_on_status) is permanent: not retried; a 429 is retried (§9.1)', async () => {
    const before = hits.get('/missing') ?? 0;
    const events: RunEvent[] = [];
    const refused = await (await rt.start(planOf(`url: "${base}/missing", fail_on_status: 400`), { onEvent: (e) => events.push(e) })).result;
    expect(refused.status).toBe('failed');
    expect(events.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true });
    expect(refused.steps[0]!.attempts).toBe(1);
    expect(hits.get('/missing')! - before).toBe(1);
    const limited = await (await rt.start(planOf(`url: "${base}/limited", fail_on_status: 400`), {})).result;
    expect(limited.status).toBe('completed');
    expect(limited.steps[0]!.attempts).toBe(2);
  });

  it('with machines declared but none providing http, the error says what to add', () => {
    const dir = tempDir('orch-http-');
    const file = join(dir, 'p.orch');
    writeFileSync(file, `resource box {\n  kind local_device\n  provides compute\n}\nplan p {\n  step call = http_request(url: "${base}/ok")\n}\n`);
    const [d] = compile({ entry: file }).diagnostics.filter((x) => x.code === 'E0501');
    expect(d!.message).toMatch(/add "http" to the provides of a resource \(e\.g\. resource box \{ … provides compute, http \}\)/);
  });
});
