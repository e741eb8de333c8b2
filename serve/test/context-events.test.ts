/**
 * `GET /context/events` and the live stream's `event: context` (LANGUAGE.md §9.4), on an
 * in-process server over a memory backend: a signal set through `POST /signals` is journaled with
 * its source and time, listed newest first in pages, and streamed as it is written.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { ContextStore, memoryBackend, parseAuthConfig, UNKNOWN_AGE, VirtualClock } from '../../runtime/index.js';
import { contextEventView } from '../http/context-events.js';
import { buildServer, startServer } from '../server.js';
import { FakeStarter } from './fake-starter.js';

const TOKEN = 'context-events-token-0123456789';

describe('the context journal over HTTP', () => {
  it('lists journaled context events newest first, paged, and streams them live', async () => {
    const backend = memoryBackend();
    const server = await startServer({
      plans: [],
      triggers: [],
      starter: new FakeStarter(),
      evaluate: () => null,
      state: await backend.triggerState(),
      contextJournal: await backend.contextJournal(),
      token: TOKEN,
      host: '127.0.0.1',
      port: 0,
      catchUp: false,
    });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const stream = await fetch(`${server.url}/stream`, { headers: auth });
      const reader = stream.body!.getReader();
      const streamed = (async () => {
        let text = '';
        while (!text.includes('event: context')) text += new TextDecoder().decode((await reader.read()).value);
        return text;
      })();
      const post = (body: unknown) => fetch(`${server.url}/signals`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post({ temperature: 20 })).status).toBeLessThan(300);
      expect(await streamed).toMatch(/event: context\ndata: .*"type":"context_updated".*"signal":"temperature".*"value":20.*"source":"api"/);
      await reader.cancel();
      expect((await post({ humidity: 40 })).status).toBeLessThan(300);
      const page = async (q: string) => (await (await fetch(`${server.url}/context/events${q}`, { headers: auth })).json()) as { events: { [k: string]: unknown }[]; next: number | null };
      let first = await page("?limit=1");
      for (let i = 0; i < 50 && first.events[0]?.signal !== 'humidity'; i++) first = await page('?limit=1'); // the append is asynchronous
      expect(first.events).toEqual([{ seq: expect.any(Number), type: 'context_updated', time: expect.any(String), signal: 'humidity', value: 40, source: 'api', at: expect.any(String) }]);
      const second = await page(`?limit=1&before=${first.next}`);
      expect(second.events.map((e) => [e.signal, e.value])).toEqual([['temperature', 20]]);
      expect((await page('?signal=temperature')).events).toHaveLength(1);
      expect((await fetch(`${server.url}/context/events`)).status).toBe(401);
    } finally {
      await server.close(0);
    }
  });
});

describe('the context over HTTP (§9.4)', () => {
  it('GET /context gives the known values only; GET /context/signals every signal with value, set_at, age_ms, source and state', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    const min = 60_000;
    const signals = {
      temperature: { max_age_ms: 15 * min, derived: null, hold_ms: null },
      motion: { max_age_ms: 2 * min, derived: null, hold_ms: null },
      phone_home: { max_age_ms: 10 * min, derived: null, hold_ms: null },
      mode: { max_age_ms: null, derived: null, hold_ms: null },
      door: { max_age_ms: 60 * min, derived: null, hold_ms: null },
    };
    const context = new ContextStore({ signals, clock });
    // A retained MQTT message: the value, of unknown age.
    context.set('door', 'open', { source: 'home', at: UNKNOWN_AGE });
    context.set('temperature', 21.5, { source: 'home' });
    context.set('motion', true, { source: 'home', at: clock.now() - 3 * min - 12_000 });
    context.set('mode', 'away', { source: 'api', at: clock.now() - 400 * 24 * 60 * min });
    const server = await startServer({ plans: [], triggers: [], starter: new FakeStarter(), evaluate: () => null, state: await memoryBackend().triggerState(), context, token: TOKEN, host: '127.0.0.1', port: 0, catchUp: false });
    try {
      const get = async (path: string) => (await (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<string, unknown>;
      expect(await get('/context')).toEqual({ context: { temperature: 21.5, mode: 'away' } });
      expect(await get('/context/signals')).toEqual({
        temperature: { value: 21.5, set_at: '2026-01-01T00:00:00.000Z', age_ms: 0, source: 'home', state: 'fresh' },
        motion: { value: true, set_at: '2025-12-31T23:56:48.000Z', age_ms: 192_000, source: 'home', state: 'stale' },
        phone_home: { value: null, set_at: null, age_ms: null, source: null, state: 'never_set' },
        // No max_age: it never goes stale.
        mode: { value: 'away', set_at: '2024-11-27T00:00:00.000Z', age_ms: 400 * 24 * 60 * min, source: 'api', state: 'fresh' },
        // Of unknown age: stale, with its value, and no time or age to show (not 1970 and 56 years).
        door: { value: 'open', set_at: null, age_ms: null, source: 'home', state: 'stale' },
      });
    } finally {
      await server.close(0);
      context.close();
    }
  });
});

describe('a context_updated of unknown age (§9.4: a retained message)', () => {
  it('shows its at as null, not the epoch it is kept as of', () => {
    const row = { type: 'context_updated' as const, signal: 'door', time: Date.UTC(2026, 0, 1), data: { value: 'open', source: 'home', at: UNKNOWN_AGE } };
    expect(contextEventView(row)).toEqual({ type: 'context_updated', time: '2026-01-01T00:00:00.000Z', signal: 'door', value: 'open', source: 'home', at: null });
    expect(contextEventView({ ...row, data: { ...row.data, at: Date.UTC(2026, 0, 1) } }).at).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('POST /signals is a source like any other (§9.4)', () => {
  it('a value of the wrong type is refused (400) and journaled as context_rejected from source api, never stored', async () => {
    const src = 'context {\n  temperature: number  max_age 15m\n  warm: bool = context.temperature > 20\n}\nplan p {\n  step w = wait until context.temperature > 20 timeout 1h\n}\n';
    const out = compile({ entry: '/v/p.orch', host: { readFile: (f) => (f === '/v/p.orch' ? src : undefined) } });
    const backend = memoryBackend();
    const server = await startServer({ plans: out.plans, triggers: [], starter: new FakeStarter(), evaluate: () => null, state: await backend.triggerState(), contextJournal: await backend.contextJournal(), token: TOKEN, host: '127.0.0.1', port: 0, catchUp: false });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const post = await fetch(`${server.url}/signals`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ temperature: 'warm' }) });
      expect(post.status).toBe(400);
      const events = async () => ((await (await fetch(`${server.url}/context/events`, { headers: auth })).json()) as { events: { [k: string]: unknown }[] }).events;
      let got = await events();
      for (let i = 0; i < 50 && got.length === 0; i++) got = await events(); // the append is asynchronous
      expect(got).toEqual([expect.objectContaining({ type: 'context_rejected', signal: 'temperature', source: 'api', reason: expect.stringContaining('number') })]);
      expect(server.engine.store.read('temperature').state).toBe('never_set');
      // A derived signal is computed, never set: refused the same way, where before the answer was 202.
      const derived = await fetch(`${server.url}/signals`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ warm: true }) });
      expect(derived.status).toBe(400);
      expect(((await derived.json()) as { error: string }).error).toContain('"warm" is a derived signal');
    } finally {
      await server.close(0);
    }
  });
});

describe('a webhook source (§9.4)', () => {
  it('a 202 means set: GET /context right after sees the value with its source; a wrong type is refused and journaled, never stored', async () => {
    const src = 'context {\n  temperature: number  max_age 15m\n}\nsource hook {\n  topic "home/+/temperature" sets temperature from payload.value\n}\nplan p {\n  step w = wait 1s\n}\n';
    const out = compile({ entry: '/v/p.orch', host: { readFile: (f) => (f === '/v/p.orch' ? src : undefined) } });
    expect(out.diagnostics).toEqual([]);
    const backend = memoryBackend();
    const contextJournal = await backend.contextJournal();
    const server = await buildServer({ plans: out.plans, triggers: [], starter: new FakeStarter(), evaluate: () => null, state: await backend.triggerState(), contextJournal, token: TOKEN, sources: new Map([['hook', { kind: 'webhook', token: 'hook-token' }]]) });
    try {
      const hook = (payload: unknown, token = 'hook-token') => server.app.inject({ method: 'POST', url: '/sources/hook', headers: { authorization: `Bearer ${token}` }, payload: payload as object });
      const get = async (url: string) => (await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } })).json() as Record<string, unknown>;
      expect((await hook({ topic: 'home/living/temperature', payload: { value: 21 } }, 'wrong')).statusCode).toBe(401);
      expect((await hook({ payload: { value: 21 } })).statusCode).toBe(400);
      const ok = await hook({ topic: 'home/living/temperature', payload: { value: 21 } });
      expect([ok.statusCode, ok.json()]).toEqual([202, { set: 1 }]);
      expect(await get('/context')).toEqual({ context: { temperature: 21 } });
      expect((await get('/context/signals')).temperature).toMatchObject({ value: 21, source: 'hook', state: 'fresh' });
      const bad = await hook({ topic: 'home/living/temperature', payload: { value: 'warm' } });
      expect([bad.statusCode, bad.json()]).toEqual([202, { set: 0 }]);
      expect(await get('/context')).toEqual({ context: { temperature: 21 } });
      await server.journaling!.flush();
      const rows = (await contextJournal.list({ limit: 10 })).reverse();
      expect(rows.map((r) => [r.type, 'source' in r.data ? r.data.source : null])).toEqual([
        ['context_updated', 'hook'],
        ['context_rejected', 'hook'],
      ]);
      expect(rows[0]!.data).toMatchObject({ at: expect.any(Number) });
    } finally {
      await server.app.close();
    }
  });
  it('every accepted message is in the audit trail as the source that sent it (§8.8: every state-changing request, who, what, when)', async () => {
    const src = 'context {\n  temperature: number  max_age 15m\n}\nsource hook {\n  topic "home/+/temperature" sets temperature from payload.value\n}\nplan p {\n  step w = wait 1s\n}\n';
    const out = compile({ entry: '/v/p.orch', host: { readFile: (f) => (f === '/v/p.orch' ? src : undefined) } });
    const backend = memoryBackend();
    const server = await buildServer({
      plans: out.plans, triggers: [], starter: new FakeStarter(), evaluate: () => null, state: await backend.triggerState(), contextJournal: await backend.contextJournal(),
      people: await backend.people(), auth: parseAuthConfig({ users: { vic: { roles: ['viewer'] } } })!, token: TOKEN,
      sources: new Map([['hook', { kind: 'webhook', token: 'hook-token' }]]),
    });
    try {
      const hook = (token: string) => server.app.inject({ method: 'POST', url: '/sources/hook', headers: { authorization: `Bearer ${token}` }, payload: { topic: 'home/living/temperature', payload: { value: 21 } } });
      expect((await hook('hook-token')).statusCode).toBe(202);
      expect((await hook('wrong')).statusCode).toBe(401);
      const bad = await server.app.inject({ method: 'POST', url: '/sources/hook', headers: { authorization: 'Bearer hook-token' }, payload: { payload: 1 } });
      expect(bad.statusCode).toBe(400);
      const entries = await server.people.store.audit({ order: 'oldest' });
      expect(entries).toEqual([expect.objectContaining({ subject: 'source:hook', issuer: 'orch', authMethod: 'token', httpMethod: 'POST', route: '/sources/:name', path: '/sources/hook', status: 202 }),
        // A source that proved its token is no stranger: its bad request is a row too; a wrong token is only counted.
        expect.objectContaining({ subject: 'source:hook', status: 400 }),
      ]);
      expect((await server.people.store.refused()).map((r) => [r.route, r.status, r.count])).toEqual([['/sources/:name', 401, 1]]);
      expect(entries[0]!.at).toEqual(expect.any(Number));
    } finally {
      await server.app.close();
    }
  });

  it('takes unfinished runs back only once the saved context is loaded (a when over a held signal must not read it unknown)', async () => {
    const order: string[] = [];
    const inner = await memoryBackend().triggerState();
    // The saved context arrives late, as from a slow database.
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    const state = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'context') return async () => { await late; order.push('context loaded'); return target.context(); };
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const starter = new (class extends FakeStarter {
      override async resumeUnfinished() {
        order.push('runs taken back');
        return super.resumeUnfinished();
      }
    })();
    const starting = startServer({ plans: [], triggers: [], starter, evaluate: () => null, state, token: TOKEN, host: '127.0.0.1', port: 0, catchUp: false });
    // Give the server every chance to take runs back early before the context comes.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    release();
    const server = await starting;
    try {
      expect(order).toEqual(['context loaded', 'runs taken back']);
    } finally {
      await server.close();
    }
  });
});
