/**
 * The context on a Postgres cluster (LANGUAGE.md §9.4): two `orch serve` (in process) on one real
 * Postgres and one real broker. Exactly one of them holds the backend's `context` lock and
 * subscribes to the sources; when the holder's lock connection closes, the other takes over and
 * the next publish reaches it. One context across them: a value set on either (a source's, `POST
 * /signals`) is seen by the other, and only the holder fires the `when` triggers — one run per
 * signal, not one per server. Waits are on events, never sleeps.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateOrUnknown, openBackend, parseSourcesConfig, type Backend, type ContextChange } from '../../runtime/index.js';
import { startMosquitto, type TestBroker } from '../../test/support/mosquitto.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { waitUntil } from '../../test/support/wait.js';
import { loadServeProgram } from '../load.js';
import { startServer, type RunningServer } from '../server.js';
import { FakeStarter } from './fake-starter.js';
import { tempDir } from './serve-process.js';

const ORCH = `
context {
  temperature: number  max_age 15m
  mode: string
}
source home {
  topic "home/living/temperature" sets temperature from payload.value
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan warm { step a = heat(t: context.temperature ?? 20) }
trigger too_cold { when context.temperature < 15  run warm }
`;

interface Node {
  readonly server: RunningServer;
  readonly starter: FakeStarter;
  readonly changes: ContextChange[];
  readonly log: string[];
}

let broker: TestBroker;
let db: MigratedPostgres;
let backend: Backend;
let publisher: mqtt.MqttClient;
const nodes: Node[] = [];

async function startNode(): Promise<Node> {
  const dir = tempDir('orch-ctx-cluster-');
  writeFileSync(join(dir, 'home.orch'), ORCH);
  const loaded = loadServeProgram([join(dir, 'home.orch')]);
  expect(loaded.errors).toEqual([]);
  const starter = new FakeStarter();
  const log: string[] = [];
  const server = await startServer({
    plans: loaded.plans,
    triggers: loaded.triggers,
    starter,
    evaluate: (e, s) => evaluateOrUnknown(e, { vars: { event: s.event ?? null, context: s.context }, ...(s.signal ? { signal: s.signal } : {}) }),
    state: await backend.triggerState(),
    contextJournal: await backend.contextJournal(),
    contextLock: backend.lock('context'),
    token: 't',
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
    sources: parseSourcesConfig({ home: { mqtt: broker.url } }, () => undefined, dir),
    // One persistent session for the cluster: only the holder connects with it, the next holder takes it over.
    sourceSessions: backend.displayName,
    log: (line) => log.push(line),
  });
  const changes: ContextChange[] = [];
  server.engine.store.subscribe((c) => changes.push(c));
  const node = { server, starter, changes, log };
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  [broker, db] = await Promise.all([startMosquitto(), migratedPostgres()]);
  backend = await openBackend(db.url);
  publisher = await mqtt.connectAsync(broker.url);
}, 60_000);

afterAll(async () => {
  await publisher?.endAsync();
  for (const n of nodes) await n.server.close();
  await backend?.close();
  await db?.stop();
  await broker?.stop();
});

const publish = (value: number) => publisher.publishAsync('home/living/temperature', JSON.stringify({ value }), { qos: 1 });
/** The values a node's own subscription brought in (a value another server set is not one). */
const fromBroker = (n: Node) => n.changes.flatMap((c) => (c.type === 'context_updated' && c.source === 'home' ? [c.value] : []));

describe('the context on a Postgres cluster (§9.4)', () => {
  it('one server holds the subscriptions; the other takes over when the holder goes away', async () => {
    const a = await startNode();
    await waitUntil(() => a.server.holdsContext(), 'A to hold the context');
    const b = await startNode();
    await waitUntil(() => b.log.some((l) => l.includes('standing by')), 'B to stand by');
    expect(b.server.holdsContext()).toBe(false);

    for (const v of [30, 31, 32]) await publish(v);
    await waitUntil(() => fromBroker(a).length === 3, 'A to receive the three publishes');
    expect(fromBroker(b)).toEqual([]);

    // The holder's lock connection closes (as when its process dies): B is granted the lock.
    const holder = await db.client.query<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted");
    expect(holder.rows).toHaveLength(1);
    await db.client.query('SELECT pg_terminate_backend($1)', [holder.rows[0]!.pid]);
    await waitUntil(() => b.server.holdsContext() && !a.server.holdsContext(), 'B to take over from A');
    await waitUntil(() => a.log.filter((l) => l.includes('standing by')).length === 1, 'A to stand by in turn');

    await publish(12);
    await waitUntil(() => fromBroker(b).includes(12), 'B to receive the publish');
    await waitUntil(() => b.starter.byTrigger('too_cold').length === 1, 'B to fire the trigger');
    expect(fromBroker(a)).toEqual([30, 31, 32]);
  });

  it('one context across the servers: what one sets the other sees, and only the holder fires', async () => {
    const [a, b] = nodes as [Node, Node];
    // B's publish (the test above) reached A through the database, with its source and time.
    await waitUntil(() => a.server.engine.store.read('temperature').value === 12, 'A to see the value B received');
    expect(a.server.engine.store.read('temperature')).toMatchObject({ state: 'fresh', source: 'home' });
    expect(a.starter.runs).toEqual([]);

    await publish(20); // the condition falls
    await waitUntil(() => a.server.engine.store.read('temperature').value === 20, 'A to see 20');
    // A signal posted to the standby: stored there, seen by the holder, which fires once.
    const posted = await fetch(`${a.server.url}/signals`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: JSON.stringify({ temperature: 10, mode: 'away' }) });
    expect(posted.status).toBe(202);
    await waitUntil(() => b.starter.byTrigger('too_cold').length === 2, 'B to fire on the value posted to A');
    expect(b.server.engine.store.read('temperature')).toMatchObject({ value: 10, source: 'api', state: 'fresh' });
    expect(b.server.engine.currentContext()).toMatchObject({ temperature: 10, mode: 'away' });
    expect(a.starter.runs).toEqual([]);

    // Journaled once, by the server it was set on (the other takes it without journaling it again).
    const journal = await backend.contextJournal();
    try {
      await waitUntil(async () => (await journal.list({ limit: 100, signal: 'mode' })).length > 0, 'the mode update in the journal');
      await a.server.close();
      await b.server.close();
      const modes = await journal.list({ limit: 100, signal: 'mode' });
      expect(modes.map((e) => [e.type, 'source' in e.data ? e.data.source : null])).toEqual([['context_updated', 'api']]);
    } finally {
      await journal.close();
    }
  });
});
