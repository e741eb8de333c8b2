/**
 * A real `orch serve` process enforces its bearer token, limits and validates bodies, and
 * answers every mistake with a JSON error and the right status.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from './http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

let serve: ServeProcess;
const call = (method: string, path: string, opts: Parameters<typeof http>[3] = {}) =>
  http(serve.url, method, path, { token: TOKEN, ...opts });

beforeAll(async () => {
  serve = await startServe(['triggers.orch'], { db: join(tempDir(), 'runs.db') });
});
afterAll(async () => {
  await serve?.stop();
});

describe('orch serve: security and validation', () => {
  it('binds to 127.0.0.1 by default', () => {
    expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('GET /health needs no token; every other route does', async () => {
    expect((await http(serve.url, 'GET', '/health')).json).toEqual({ status: 'ok' });
    for (const [method, path] of [
      ['GET', '/runs'],
      ['GET', '/metrics'],
      ['POST', '/events'],
      ['POST', '/signals'],
      ['POST', '/runs'],
      ['POST', '/campaigns'],
      ['GET', '/no/such/route'],
    ] as const) {
      const anonymous = await http(serve.url, method, path, { body: { type: 'x' } });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.json.error).toMatch(/token/);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      const wrong = await http(serve.url, method, path, { token: `${TOKEN}x`, body: { type: 'x' } });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
  });

  it('malformed JSON gets 400 with a message', async () => {
    const r = await call('POST', '/events', { raw: '{"type": "sensor.leak",' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/not valid JSON/);
  });

  it('an event without a string type gets 400', async () => {
    for (const body of [{}, { type: 3 }, { type: '' }, [1, 2], 'text', null]) {
      const r = await call('POST', '/events', { raw: JSON.stringify(body) });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(typeof r.json.error).toBe('string');
    }
  });

  it('a body over 1 MB gets 413', async () => {
    const big = JSON.stringify({ type: 'x', pad: 'a'.repeat(1024 * 1024 + 10) });
    const r = await call('POST', '/events', { raw: big });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/larger than/);
  });

  it('a non-JSON content type gets 415', async () => {
    const r = await call('POST', '/events', { raw: 'type=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(415);
  });

  it('POST /runs validates the plan name and the input against the plan input type', async () => {
    const unknown = await call('POST', '/runs', { body: { plan: 'nope', input: {} } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatch(/unknown plan "nope"/);
    const missing = await call('POST', '/runs', { body: { plan: 'respond', input: {} } });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatch(/sensor/);
    const wrongType = await call('POST', '/runs', { body: { plan: 'respond', input: { sensor: 42 } } });
    expect(wrongType.status).toBe(400);
    const noPlan = await call('POST', '/runs', { body: { input: {} } });
    expect(noPlan.status).toBe(400);
    expect(noPlan.json.error).toMatch(/respond/); // lists the plans it knows
  });

  it('signals are checked against the declared context', async () => {
    const unknown = await call('POST', '/signals', { body: { humidity: 3 } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatch(/humidity/);
    const wrongType = await call('POST', '/signals', { body: { temperature: 'hot' } });
    expect(wrongType.status).toBe(400);
    const empty = await call('POST', '/signals', { body: {} });
    expect(empty.status).toBe(400);
  });

  it('nothing a client sends is evaluated: expression-looking input stays data', async () => {
    const r = await call('POST', '/events', { body: { type: 'door.open', door: '${len("x")} process.exit(1)' } });
    expect(r.status).toBe(202);
    const runId = r.json.results[0].runId;
    let view;
    for (let i = 0; i < 200; i++) {
      view = (await call('GET', `/runs/${runId}`)).json;
      if (view.status === 'completed') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(view.output).toEqual({ sensor: '${len("x")} process.exit(1)' });
    expect((await http(serve.url, 'GET', '/health')).status).toBe(200);
  });

  it('arbitrary bodies on every write route get a JSON answer, never a crash', async () => {
    const routes = ['/events', '/signals', '/runs', '/campaigns', '/triggers/by_hand/fire'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string(),
          fc.record({ type: fc.string(), severity: fc.jsonValue(), device_id: fc.jsonValue() }).map((v) => JSON.stringify(v)),
          fc.record({ plan: fc.constantFrom('respond', 'campaign', 'x'), input: fc.jsonValue() }).map((v) => JSON.stringify(v)),
        ),
        async (route, raw) => {
          const r = await call('POST', route, { raw });
          expect([202, 400, 429]).toContain(r.status);
          expect(r.json).toBeTypeOf('object');
          if (r.status >= 400) expect(typeof r.json.error).toBe('string');
        },
      ),
      { numRuns: 150 },
    );
    expect((await http(serve.url, 'GET', '/health')).status).toBe(200);
  });

  it('unknown routes get 404 and wrong methods 405, both as JSON', async () => {
    const missing = await call('GET', '/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatch(/no route/);
    const wrongMethod = await call('DELETE', '/events');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    const unknownRun = await call('GET', '/runs/does-not-exist');
    expect(unknownRun.status).toBe(404);
    const unknownControl = await call('POST', '/runs/does-not-exist/pause');
    expect(unknownControl.status).toBe(404);
  });

  it('GET /metrics is Prometheus text with the documented families', async () => {
    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    for (const family of [
      'orch_runs',
      'orch_step_duration_seconds',
      'orch_local_execution_ratio',
      'orch_guardrail_violations_total',
      'orch_queue_depth',
      'orch_events_total',
      'orch_trigger_outcomes_total',
    ]) {
      expect(r.text).toContain(`# TYPE ${family} `);
    }
  });
});

describe('orch serve: token', () => {
  it('generates and prints a token when ORCH_TOKEN is not set, and enforces it', async () => {
    const own = await startServe(['triggers.orch'], { db: join(tempDir(), 'runs.db'), token: null });
    try {
      const m = /Bearer ([A-Za-z0-9_-]{20,})/.exec(own.stdout());
      expect(m).not.toBeNull();
      const generated = m![1]!;
      expect((await http(own.url, 'GET', '/runs', { token: generated })).status).toBe(200);
      expect((await http(own.url, 'GET', '/runs', { token: TOKEN })).status).toBe(401);
    } finally {
      await own.stop();
    }
  });
});
