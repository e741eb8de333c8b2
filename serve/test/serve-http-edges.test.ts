/**
 * The HTTP API at its edges (docs/language.md "HTTP API"), in process (Fastify's inject on the
 * real app, routes and authentication, a FakeStarter): the content types a JSON body may come
 * with, the methods a known path answers, and the brake on a webhook source's wrong tokens.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryBackend, type SourceIngest } from '../../runtime/index.js';
import { createApp, DEFAULT_LIMITS, finishRoutes } from '../http/app.js';
import { People } from '../http/auth.js';
import { registerSourceRoutes } from '../http/source-routes.js';
import { apiToken, bearer, testServer, type TestServer } from './people-helpers.js';

let s: TestServer;
let token: string;

beforeAll(async () => {
  s = await testServer();
  token = await apiToken(s.people.store, 'carol');
}, 30_000);
afterAll(async () => {
  await s.close();
});

const post = (path: string, payload: string, contentType: string) =>
  s.app.inject({ method: 'POST', url: path, headers: { ...bearer(token), 'content-type': contentType }, payload });

describe('request bodies', () => {
  it('JSON is read whatever parameters its content type has, in UTF-8 only; any other type is a 415', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON', 'application/vnd.api+json; charset="utf-8"']) {
      const r = await post('/events', '{"type": "caf\\u00e9 ☕"}', type);
      expect(r.statusCode, type).toBe(202);
      expect(r.json().type, type).toBe('café ☕');
    }
    for (const type of ['application/json; charset=latin1', 'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/jsonx', 'application/json-seq']) {
      const r = await post('/events', '{"type": "x"}', type);
      expect(r.statusCode, type).toBe(415);
      expect(r.json().error, type).toMatch(/JSON body/);
    }
    // An empty body of any type is no body: a bare POST as `fetch` or a form sends it.
    for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) expect((await post('/runs/run-1/cancel', '', type)).statusCode, type).toBe(404);
    expect((await post('/runs/run-1/cancel', 'x', 'application/octet-stream')).statusCode).toBe(415);
  });
});

describe('methods', () => {
  const call = (method: 'OPTIONS' | 'HEAD' | 'PUT', url: string, headers: Record<string, string> = bearer(token)) => s.app.inject({ method, url, headers });

  it('OPTIONS on a known path answers 204 with the methods it takes; on an unknown one 404; without an identity 401', async () => {
    const runs = await call('OPTIONS', '/runs');
    expect(runs.statusCode).toBe(204);
    expect(runs.headers.allow).toBe('GET, POST, OPTIONS');
    expect(runs.headers['access-control-allow-origin']).toBeUndefined();
    expect((await call('OPTIONS', '/runs/r-1/steps/ask/approve')).headers.allow).toBe('POST, OPTIONS');
    expect((await call('OPTIONS', '/nowhere')).statusCode).toBe(404);
    expect((await call('OPTIONS', '/runs', {})).statusCode).toBe(401);
    // HEAD is GET without a body, and other methods stay 405s.
    const head = await call('HEAD', '/runs');
    expect([head.statusCode, head.body]).toEqual([200, '']);
    const put = await call('PUT', '/runs');
    expect([put.statusCode, put.headers.allow]).toEqual([405, 'GET, POST']);
  });

  it('HEAD /stream answers its headers and ends, and the connection serves the next request', async () => {
    const url = new URL(await s.app.listen({ port: 0, host: '127.0.0.1' }));
    const socket = connect(Number(url.port), '127.0.0.1');
    try {
      let got = '';
      const both = new Promise<void>((resolve) =>
        socket.on('data', (d) => {
          got += d.toString();
          if (got.includes('{"status":"ok"}')) resolve();
        }),
      );
      // Pipelined on one keep-alive connection: the second answer comes only once the first has ended.
      socket.write(`HEAD /stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
      await both;
      expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/event-stream[\s\S]*\r\n\r\nHTTP\/1\.1 200 OK/);
      expect(got).not.toContain('orch live events');
    } finally {
      socket.destroy();
    }
  });
});

describe('a webhook source (§9.4)', () => {
  it('counts wrong tokens on the bearer brake: past the free ones its address waits (429), even with the right token; another address does not', async () => {
    const people = new People({ token: 'server-token', store: await memoryBackend().people() });
    const app = await createApp({ people, limits: DEFAULT_LIMITS });
    const accepted: unknown[] = [];
    const ingest = { accept: (m: unknown) => (accepted.push(m), 1) } as unknown as SourceIngest;
    registerSourceRoutes(app, { webhooks: new Map([['hook', { ingest, authorized: (t) => t === 'right-token' }]]), start: async () => {}, close: async () => {} }, people.bearerBrake);
    finishRoutes(app);
    try {
      const send = (token: string, remoteAddress = '10.9.8.7') =>
        app.inject({ method: 'POST', url: '/sources/hook', remoteAddress, headers: { authorization: `Bearer ${token}` }, payload: { topic: 't', payload: 1 } });
      for (let i = 0; i < 20; i++) expect((await send(`guess-${i}`)).statusCode).toBe(401);
      const braked = await send('right-token');
      expect(braked.statusCode).toBe(429);
      expect(Number(braked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(accepted).toEqual([]);
      expect((await send('right-token', '10.9.8.6')).statusCode).toBe(202);
      expect(accepted).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
