/**
 * LANGUAGE.md §9.4's sources against a real broker (Debian's mosquitto, one per file): a publish
 * reaches the context and fires a `when` trigger, through `+` and `#` filters; a retained message
 * is of unknown age; a payload of the wrong type is refused (`context_rejected`) and never stored;
 * a broker restart loses no subscription; a sample older than its signal's max_age is stored
 * stale and fires nothing; a wrong password is refused; `mqtts://` connects with the
 * config's CA and is refused with another; a webhook source needs its
 * own token. One `orch serve` (in process) for the file; waits are on events, never sleeps.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceIR } from '../../compiler/index.js';
import { ContextStore, evaluateOrUnknown, memoryBackend, parseSourcesConfig, realClock, SourceIngest, startMqttSource, type ContextChange } from '../../runtime/index.js';
import { startMosquitto, type TestBroker } from '../../test/support/mosquitto.js';
import { freePort } from '../../test/support/pg-cluster.js';
import { waitFor, waitUntil } from '../../test/support/wait.js';
import { loadServeProgram } from '../load.js';
import { startServer, type RunningServer } from '../server.js';
import { FakeStarter } from './fake-starter.js';
import { tempDir } from './serve-process.js';
import { contextSources } from '../context-sources.js';

const ORCH = `
context {
  temperature: number  max_age 15m
  motion: bool  max_age 2m
  door: string  max_age 1h
}
source home {
  topic "home/living/temperature" sets temperature from payload.value
  topic "home/+/motion" sets motion from payload.state == "ON"
  topic "home/door/#" sets door from payload.state
  topic "home/old/temperature" sets temperature from payload.value at payload.ts
}
source hook {
  topic "tariff" sets temperature from payload.value at payload.ts
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan warm { step a = heat(t: context.temperature ?? 20) }
trigger too_cold { when context.temperature < 15  run warm }
trigger moving { when context.motion  run warm }
`;

let broker: TestBroker;
let server: RunningServer;
let starter: FakeStarter;
const changes: ContextChange[] = [];
let publisher: mqtt.MqttClient;

beforeAll(async () => {
  broker = await startMosquitto({ tls: true });
  const dir = tempDir('orch-mqtt-');
  writeFileSync(join(dir, 'home.orch'), ORCH);
  const loaded = loadServeProgram([join(dir, 'home.orch')]);
  expect(loaded.errors).toEqual([]);
  const secrets: Record<string, string> = { MQTT_PASSWORD: broker.password, HOOK_TOKEN: 'hook-token-1' };
  const sources = parseSourcesConfig(
    { home: { mqtt: broker.securedUrl, username: broker.user, password: 'secret:MQTT_PASSWORD' }, hook: { webhook: { token: 'secret:HOOK_TOKEN' } } },
    (n) => secrets[n],
    dir,
  );
  starter = new FakeStarter();
  server = await startServer({
    plans: loaded.plans,
    triggers: loaded.triggers,
    starter,
    evaluate: (e, s) => evaluateOrUnknown(e, { vars: { event: s.event ?? null, context: s.context }, ...(s.signal ? { signal: s.signal } : {}) }),
    state: await memoryBackend().triggerState(),
    token: 't',
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
    sources,
  });
  server.engine.store.subscribe((c) => changes.push(c));
  publisher = await mqtt.connectAsync(broker.url);
}, 60_000);

afterAll(async () => {
  await publisher?.endAsync();
  await server?.close();
  await broker?.stop();
});

const publish = (topic: string, payload: unknown, retain = false) => publisher.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain });
const updated = (signal: string, n = 1) => waitUntil(() => changes.filter((c) => c.type === 'context_updated' && c.signal === signal).length >= n, `${n} update(s) of ${signal}`);

describe('MQTT sources (§9.4)', () => {
  it('a publish reaches the context and fires a when trigger; + and # filters match', async () => {
    await publish('home/living/temperature', { value: 12 });
    const cold = await waitFor(() => starter.byTrigger('too_cold')[0], 'the too_cold run');
    // §9.1: a message that fires a `when` starts the run as the trigger; no person caused it.
    expect(cold.startedBy).toMatchObject({ subject: 'system:trigger/too_cold', method: 'trigger' });
    expect(cold.causedBy).toBeUndefined();
    expect(server.engine.store.read('temperature')).toMatchObject({ value: 12, state: 'fresh', source: 'home' });
    await publish('home/kitchen/motion', { state: 'ON' });
    await waitFor(() => starter.byTrigger('moving')[0], 'the moving run');
    await publish('home/door/front/lock', { state: 'locked' });
    await updated('door');
    expect(server.engine.store.read('door').value).toBe('locked');
  });

  it('refuses a payload of the wrong type through the store, and keeps the last good value', async () => {
    await publish('home/living/temperature', { value: 'warm' });
    await waitUntil(() => changes.some((c) => c.type === 'context_rejected' && c.signal === 'temperature'), 'a rejection');
    const r = changes.find((c) => c.type === 'context_rejected')!;
    expect(r).toMatchObject({ source: 'home' });
    expect((r as { reason: string }).reason).toContain('home/living/temperature');
    expect(server.engine.store.read('temperature').value).toBe(12);
  });

  it('counts a retained message as of unknown age', async () => {
    await publish('home/hall/motion', { state: 'OFF' }, true);
    // A second subscriber sees it as retained: the source's own subscription saw it live.
    const store = new ContextStore({ signals: { motion: { max_age_ms: 120_000, derived: null, hold_ms: null } }, clock: realClock });
    const ir: SourceIR = { topics: [{ topic: 'home/+/motion', signal: 'motion', from: { op: 'var', name: 'payload' }, at: null }] };
    const ingest = new SourceIngest('late', ir, store, { type: 'object', properties: { motion: {} } });
    const client = startMqttSource({ name: 'late', connection: { kind: 'mqtt', url: broker.url, protocolVersion: 5 }, filters: ingest.filters(), onMessage: (m) => ingest.accept(m), log: () => {} });
    await client.ready;
    await waitUntil(() => store.read('motion').state !== 'never_set', 'the retained message');
    // The value, but no time and no age: §9.4's "unknown age".
    expect(store.read('motion')).toMatchObject({ value: { state: 'OFF' }, state: 'stale', set_at: null, age_ms: null, source: 'late' });
    await client.close();
    store.close();
  });

  it('loses no subscription over a broker restart', async () => {
    const before = changes.filter((c) => c.type === 'context_updated' && c.signal === 'temperature').length;
    await publisher.endAsync();
    await broker.restart();
    publisher = await mqtt.connectAsync(broker.url);
    // The source reconnects on its own; publish until it has (a QoS 1 publish to no subscriber is dropped).
    await waitUntil(async () => {
      await publish('home/living/temperature', { value: 13 });
      return changes.filter((c) => c.type === 'context_updated' && c.signal === 'temperature').length > before;
    }, 'the publish after the restart', 30_000, 200);
    expect(server.engine.store.read('temperature').value).toBe(13);
  });

  it('keeps a persistent session per server and source: what is published while the connection is down is delivered after it (MQTT 3.1.1 and 5)', async () => {
    for (const protocolVersion of [4, 5] as const) {
      const store = new ContextStore({ signals: { motion: { max_age_ms: 120_000, derived: null, hold_ms: null } }, clock: realClock });
      const ir: SourceIR = { topics: [{ topic: `away${protocolVersion}/+/motion`, signal: 'motion', from: { op: 'var', name: 'payload' }, at: null }] };
      const context = { type: 'object', properties: { motion: {} } } as const;
      const sources = () =>
        contextSources({
          declared: [{ context, sources: { away: ir } } as never],
          connections: new Map([['away', { kind: 'mqtt', url: broker.url, protocolVersion }]]),
          store,
          log: () => {},
          sessionIdentity: `/var/lib/orch/runs-${protocolVersion}.db`,
        });
      const first = sources();
      await first.start();
      await first.close(); // the server stops (or loses its connection)
      await publish(`away${protocolVersion}/hall/motion`, { state: 'ON' }); // QoS 1, no one connected
      const second = sources(); // the server is back, same journal: same session
      await second.start();
      await waitUntil(() => store.read('motion').state === 'fresh', `the message queued while down (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, 10_000);
      expect(store.read('motion')).toMatchObject({ value: { state: 'ON' }, source: 'away' });
      await second.close();
      store.close();
    }
  });

  it('refuses a wrong password and accepts the right one', async () => {
    const start = (password: string) =>
      startMqttSource({ name: 'x', connection: { kind: 'mqtt', url: broker.securedUrl, username: broker.user, password, protocolVersion: 4 }, filters: ['x'], onMessage: () => {}, log: () => {} });
    const wrong = start('nope');
    await expect(wrong.ready).rejects.toThrow(/authori[sz]ed|bad user/i);
    await wrong.close();
    const right = start(broker.password);
    await right.ready;
    await right.close();
  });

  it('connects with the credentials of a broker URL kept as a secret, and never logs them', async () => {
    const hostPort = broker.securedUrl.slice('mqtt://'.length);
    const secrets: Record<string, string> = { GOOD_URL: `mqtt://${broker.user}:${broker.password}@${hostPort}`, BAD_URL: `mqtt://${broker.user}:wrong-pw-7f3a@${hostPort}` };
    const connection = (name: string) => {
      const c = parseSourcesConfig({ s: { mqtt: `secret:${name}` } }, (n) => secrets[n], '/').get('s')!;
      if (c.kind !== 'mqtt') throw new Error('not an mqtt connection');
      return c;
    };
    const lines: string[] = [];
    const wrong = startMqttSource({ name: 'bad', connection: connection('BAD_URL'), filters: ['x'], onMessage: () => {}, log: (l) => lines.push(l) });
    await expect(wrong.ready).rejects.toThrow(/authori[sz]ed|bad user/i);
    await wrong.close();
    const got: string[] = [];
    const right = startMqttSource({ name: 'good', connection: connection('GOOD_URL'), filters: ['creds/#'], onMessage: (m) => got.push(m.topic), log: (l) => lines.push(l) });
    await right.ready;
    await publisher.publishAsync('creds/x', '1', { qos: 1 });
    await waitUntil(() => got.includes('creds/x'), 'the message through the secret URL');
    await right.close();
    expect(lines.join('\n')).toMatch(/source bad: mqtt:\/\/127\.0\.0\.1:\d+: .*authori[sz]ed/i);
    for (const l of lines) expect(l).not.toMatch(new RegExp(`wrong-pw-7f3a|${broker.password}`));
  });

  it('a broker nobody answers for is logged as refused at each try, never as a connection lost', async () => {
    const lines: string[] = [];
    const none = startMqttSource({ name: 'none', connection: { kind: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}`, protocolVersion: 4 }, filters: ['x'], onMessage: () => {}, log: (l) => lines.push(l) });
    await expect(none.ready).rejects.toThrow();
    await waitUntil(() => lines.filter((l) => /connection refused/.test(l)).length >= 2, 'a second try refused', 10_000);
    await none.close();
    expect(lines.filter((l) => /lost/.test(l))).toEqual([]);
  });

  it('connects over mqtts:// with the CA of the config, and refuses a server another CA did not sign', async () => {
    const tls = broker.tls!;
    const connection = (ca: string) => {
      const c = parseSourcesConfig({ s: { mqtt: tls.url, ca } }, () => undefined, '/')!.get('s')!;
      if (c.kind !== 'mqtt') throw new Error('not an mqtt connection');
      return c;
    };
    const start = (ca: string, onMessage: (m: { topic: string }) => void = () => {}) => startMqttSource({ name: 'tls', connection: connection(ca), filters: ['secure/#'], onMessage, log: () => {} });
    const wrong = start(tls.wrongCaFile);
    await expect(wrong.ready).rejects.toThrow(/certificate/i);
    await wrong.close();
    const got: string[] = [];
    const right = start(tls.caFile, (m) => got.push(m.topic));
    await right.ready;
    await publisher.publishAsync('secure/x', '1', { qos: 1 });
    await waitUntil(() => got.includes('secure/x'), 'the message over TLS');
    await right.close();
  });

  it('a webhook source needs its own token', async () => {
    const post = (auth: string | undefined) =>
      fetch(`${server.url}/sources/hook`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify({ topic: 'tariff', payload: { value: 9, ts: Date.now() } }) });
    expect((await post(undefined)).status).toBe(401);
    expect((await post('Bearer t')).status).toBe(401);
    const ok = await post('Bearer hook-token-1');
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ set: 1 });
    // A topic *name* with a wildcard names no device: refused, not matched against the filters.
    const wild = await fetch(`${server.url}/sources/hook`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer hook-token-1' }, body: JSON.stringify({ topic: '#', payload: { value: 9, ts: Date.now() } }) });
    expect(wild.status).toBe(400);
    await waitUntil(() => server.engine.store.read('temperature').source === 'hook', 'the webhook value');
    expect((await fetch(`${server.url}/sources/nope`, { method: 'POST' })).status).toBe(404);
  });
});

describe('a broker that refuses the reconnection for a while (§9.4)', () => {
  it('is tried again with backoff, and the source is back once it lets it in', async () => {
    const lines: string[] = [];
    const got: string[] = [];
    const c = startMqttSource({
      name: 'later',
      connection: { kind: 'mqtt', url: broker.securedUrl, username: broker.user, password: broker.password, protocolVersion: 4 },
      filters: ['later/#'],
      onMessage: (m) => got.push(String(m.payload)),
      log: (l) => lines.push(l),
    });
    await c.ready;
    try {
      // Back with a password file that refuses it (a broker restarted mid-change): one refused CONNACK …
      broker.setPassword('not-the-source-password');
      await publisher.endAsync();
      await broker.restart();
      await waitUntil(() => lines.some((l) => /not authori[sz]ed/i.test(l)), 'the refused reconnection', 10_000);
      // … then as it was: the source must be let in again on its own.
      broker.setPassword(broker.password);
      await broker.restart();
      publisher = await mqtt.connectAsync(broker.url);
      await waitUntil(
        async () => {
          await publisher.publishAsync('later/x', 'back', { qos: 1 });
          return got.includes('back');
        },
        'a message after the broker let the source in again',
        30_000,
        200,
      );
    } finally {
      broker.setPassword(broker.password);
      await c.close();
    }
  });
});

describe('a stale signal through the broker (§9.4)', () => {
  it('never fires a trigger: a sample older than the value it has is refused (out of order) and decides nothing; a fresh one rises', async () => {
    const store = server.engine.store;
    const runs = () => starter.byTrigger('too_cold').length;
    await publish('home/living/temperature', { value: 20 });
    await waitUntil(() => store.read('temperature').value === 20, 'the warm value');
    // Queued behind every decision before it: when it answers, those are taken.
    await server.engine.signal({});
    const before = runs();
    await publish('home/old/temperature', { value: 5, ts: Date.now() - 3_600_000 });
    await waitUntil(() => changes.some((c) => c.type === 'context_rejected' && c.signal === 'temperature' && /out of order/.test(c.reason)), 'the old sample refused');
    expect(store.read('temperature')).toMatchObject({ value: 20, state: 'fresh', source: 'home' });
    await server.engine.signal({});
    expect(runs()).toBe(before);
    await publish('home/living/temperature', { value: 5 });
    await waitUntil(() => runs() > before, 'the run of the fresh value');
    await server.engine.signal({});
    expect(runs()).toBe(before + 1);
  });
});

describe('a webhook source hit concurrently (§9.4)', () => {
  it('answers every request and leaves a record of each, all at one sample time', async () => {
    const from = changes.length;
    // The kept time itself: a tie is not out of order, so each is set (the last one wins).
    const base = server.engine.store.read('temperature').set_at!;
    const post = (i: number) =>
      fetch(`${server.url}/sources/hook`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer hook-token-1' }, body: JSON.stringify({ topic: 'tariff', payload: { value: 100 + i, ts: base } }) });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const mine = () => changes.slice(from).filter((c) => c.signal === 'temperature' && (c.type === 'context_updated' || c.type === 'context_rejected'));
    await waitUntil(() => mine().length >= 20, 'a record of each message');
    expect(mine()).toHaveLength(20);
    expect(server.engine.store.read('temperature')).toMatchObject({ source: 'hook', set_at: base });
  });
});

describe('typing every message (§9.4)', () => {
  it('stores no value of the wrong type, whatever the payload', () => {
    const store = new ContextStore({ signals: {}, clock: realClock });
    const ir: SourceIR = { topics: [{ topic: 't', signal: 'n', from: { op: 'get', object: { op: 'var', name: 'payload' }, key: 'v' }, at: null }] };
    const ingest = new SourceIngest('s', ir, store, { type: 'object', properties: { n: { type: 'number' } } });
    fc.assert(
      fc.property(fc.jsonValue(), (payload) => {
        ingest.accept({ topic: 't', payload: Buffer.from(JSON.stringify({ v: payload })) });
        const v = store.read('n').value;
        return v === null || typeof v === 'number';
      }),
    );
    store.close();
  });

  it('refuses a payload with a __proto__ key', () => {
    const store = new ContextStore({ signals: {}, clock: realClock });
    const seen: ContextChange[] = [];
    store.subscribe((c) => seen.push(c));
    const ir: SourceIR = { topics: [{ topic: 't', signal: 'n', from: { op: 'var', name: 'payload' }, at: null }] };
    new SourceIngest('s', ir, store, { type: 'object', properties: {} }).accept({ topic: 't', payload: Buffer.from('{"__proto__":{"x":1}}') });
    expect(seen.map((c) => c.type)).toEqual(['context_rejected']);
    store.close();
  });
});
