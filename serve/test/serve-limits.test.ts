/**
 * Connection hardening of the HTTP server (issue 15), with small configured deadlines: a client
 * that trickles its headers or its body is cut at the deadline (not ~30 s later), connections
 * beyond the limit are refused, and `/health` keeps answering meanwhile.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server.js';
import { openBackend } from '../../runtime/index.js';
import { FakeStarter } from './fake-starter.js';
import { http } from './http-helpers.js';
import { tempDir } from './serve-process.js';

const TOKEN = 'limits-token-0123456789';
const HEADERS_MS = 400;
const REQUEST_MS = 1000;
const MAX_CONNECTIONS = 8;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    plans: [],
    triggers: [],
    starter: new FakeStarter(),
    evaluate: () => null,
    state: await (await openBackend(join(tempDir(), 'state.db'))).triggerState(),
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
    limits: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, maxConnections: MAX_CONNECTIONS },
  });
});
afterAll(async () => {
  await server?.close();
});

interface Cut {
  readonly ms: number;
  readonly reply: string;
}

/** Opens a connection, sends `first`, then nothing more; resolves when the server closes it. */
function stall(first: string): { socket: Socket; cut: Promise<Cut> } {
  const t0 = Date.now();
  const socket = connect(server.port, '127.0.0.1');
  let reply = '';
  socket.on('data', (d) => (reply += d.toString('utf8')));
  socket.on('error', () => {});
  socket.on('connect', () => socket.write(first));
  const cut = new Promise<Cut>((resolve) => socket.on('close', () => resolve({ ms: Date.now() - t0, reply })));
  return { socket, cut };
}

const health = async () => (await http(server.url, 'GET', '/health')).status;

describe('HTTP limits', () => {
  it('a client that never finishes its headers is cut at the headers deadline, with 408', async () => {
    const { cut } = stall('GET /runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(await health()).toBe(200);
    const r = await cut;
    expect(r.ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    // Node's own check interval used to add up to 30 s; now the overshoot is a fraction of the deadline.
    expect(r.ms).toBeLessThan(HEADERS_MS + 1500);
    expect(r.reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that never finishes its body is cut at the request deadline, with 408', async () => {
    const { cut } = stall(
      `POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"type":`,
    );
    expect(await health()).toBe(200);
    const r = await cut;
    expect(r.ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(r.ms).toBeLessThan(REQUEST_MS + 1500);
    expect(r.reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('connections beyond the limit are refused; /health answers again once slow clients are cut', async () => {
    const hogs = Array.from({ length: MAX_CONNECTIONS }, () => stall('GET /health HTTP/1.1\r\nHost: x\r\n'));
    await new Promise((r) => setTimeout(r, 100));
    const refused = stall('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await refused.cut;
    expect(r.reply).toBe(''); // dropped at accept: no answer at all
    expect(r.ms).toBeLessThan(HEADERS_MS);
    await Promise.all(hogs.map((h) => h.cut));
    expect(await health()).toBe(200);
  });

  it('a slow client does not hold up others: many /health calls answer while one trickles', async () => {
    const { socket, cut } = stall('POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n');
    const statuses = await Promise.all(Array.from({ length: 5 }, health));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    socket.destroy();
    await cut;
  });
});
