/**
 * The context's MQTT sources (LANGUAGE.md §9.4, issue #53's acceptance) against a real broker
 * (Debian's mosquitto, as the tests start it) and one `orch serve` in this process, with the real
 * runtime on a SQLite journal:
 * - publish → `when` trigger → run started (the run journaled), p50 and p99 over 1,000 publishes,
 *   each a rising edge (a falling publish, applied, goes before each measured one);
 * - signal updates ingested per second from the broker, every one recomputing a derived signal
 *   (its value flips with each message), and how many context-journal rows that rate wrote
 *   (coalesced: about one per signal and second);
 * - staleness: how late after its deadline (`set_at + max_age`) each signal's `context_stale` is
 *   seen, p95 over 100 signals going stale at spread deadlines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { evaluateOrUnknown, openBackend, parseSourcesConfig, type Backend, type ContextChange, type ContextStore } from '../runtime/index.js';
import { loadServeProgram, openRuntimeStarter, startServer, type RunStarter } from '../serve/index.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { smoke, type BenchFigure } from './figure.js';

const PUBLISHES = smoke(1000, 20);
const UPDATES = smoke(50_000, 500);
const STALE_SIGNALS = smoke(100, 5);
/** The stale signals' `max_age`, and how far apart their deadlines fall. */
const MAX_AGE_MS = 300;
const SPREAD_MS = 7;

const program = (): string => `
context {
  temperature: number  max_age 15m
  level: number  max_age 15m
  high: bool = context.level > 50
${Array.from({ length: STALE_SIGNALS }, (_, i) => `  s${i}: number  max_age ${MAX_AGE_MS}ms`).join('\n')}
}
source home {
  topic "home/temperature" sets temperature from payload.value
  topic "home/level" sets level from payload
${Array.from({ length: STALE_SIGNALS }, (_, i) => `  topic "stale/s${i}" sets s${i} from payload`).join('\n')}
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan warm { step a = heat(t: context.temperature ?? 20) }
trigger too_cold { when context.temperature < 15  run warm }
`;

const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-mqtt-bench-'));
  const broker = await startMosquitto();
  const backend = await openBackend(join(dir, 'runs.db'));
  writeFileSync(join(dir, 'home.orch'), program());
  const loaded = loadServeProgram([join(dir, 'home.orch')]);
  if (loaded.errors.length) throw new Error(loaded.errors.join('\n'));
  const changes: ContextChange[] = [];
  let onStarted: (() => void) | null = null;
  const server = await (async () => {
    let store: ContextStore | null = null;
    const real = await openRuntimeStarter({ backend, plans: loaded.plans, log: () => {}, signal: (n) => store!.read(n) });
    // The moment the runtime has journaled the run: what "run started" means here.
    const starter: RunStarter = Object.create(real) as RunStarter;
    starter.start = async (...a) => {
      const r = await real.start(...a);
      onStarted?.();
      return r;
    };
    const s = await startServer({
      plans: loaded.plans,
      triggers: loaded.triggers,
      starter,
      evaluate: (e, sc) => evaluateOrUnknown(e, { vars: { event: sc.event ?? null, context: sc.context }, ...(sc.signal ? { signal: sc.signal } : {}) }),
      state: await backend.triggerState(),
      contextJournal: await backend.contextJournal(),
      contextLock: backend.lock('context'),
      token: 'bench',
      host: '127.0.0.1',
      port: 0,
      catchUp: false,
      sources: parseSourcesConfig({ home: { mqtt: broker.url } }, () => undefined, dir),
    });
    store = s.engine.store;
    return s;
  })();
  const store = server.engine.store;
  const waiters: { test: (c: ContextChange) => boolean; done: () => void }[] = [];
  store.subscribe((c) => {
    changes.push(c);
    for (let i = waiters.length - 1; i >= 0; i--)
      if (waiters[i]!.test(c)) {
        waiters[i]!.done();
        waiters.splice(i, 1);
      }
  });
  const change = (test: (c: ContextChange) => boolean) => new Promise<void>((done) => waiters.push({ test, done }));
  const pub = await mqtt.connectAsync(broker.url);
  try {
    // 1. publish → trigger → run started.
    const latencies: number[] = [];
    for (let i = 0; i < PUBLISHES; i++) {
      const fell = change((c) => c.type === 'context_updated' && c.signal === 'temperature' && c.value === 20);
      await pub.publishAsync('home/temperature', '{"value":20}', { qos: 1 });
      await fell;
      const started = new Promise<void>((done) => (onStarted = done));
      const t0 = performance.now();
      await pub.publishAsync('home/temperature', '{"value":10}', { qos: 1 });
      await started;
      latencies.push(performance.now() - t0);
    }
    onStarted = null;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);

    // 2. updates/s, each recomputing the derived `high`.
    const rowsBefore = (await contextRows(backend)).length;
    const before = changes.length;
    let seen = 0;
    const all = new Promise<void>((done) =>
      store.subscribe((c) => {
        if (c.type === 'context_updated' && c.signal === 'level' && ++seen === UPDATES) done();
      }),
    );
    const t1 = performance.now();
    for (let i = 0; i < UPDATES; i += 500) await Promise.all(Array.from({ length: Math.min(500, UPDATES - i) }, (_, k) => pub.publishAsync('home/level', String((i + k) % 2 ? 80 : 20), { qos: 1 })));
    await all;
    const rate = UPDATES / ((performance.now() - t1) / 1000);
    const derived = changes.slice(before).filter((c) => c.type === 'context_updated' && c.signal === 'high').length;
    if (derived < UPDATES / 2) throw new Error(`the derived signal changed ${derived} times for ${UPDATES} updates`);
    const rows = (await contextRows(backend)).length - rowsBefore;

    // 3. staleness seen at its deadline.
    const deadlines = new Map<string, number>();
    const lateness: number[] = [];
    const staleAll = new Promise<void>((done) =>
      store.subscribe((c) => {
        if (c.type !== 'context_stale' || !deadlines.has(c.signal)) return;
        lateness.push(Date.now() - deadlines.get(c.signal)!);
        deadlines.delete(c.signal);
        if (lateness.length === STALE_SIGNALS) done();
      }),
    );
    for (let i = 0; i < STALE_SIGNALS; i++) {
      const set = change((c) => c.type === 'context_updated' && c.signal === `s${i}`);
      await pub.publishAsync(`stale/s${i}`, String(i), { qos: 1 });
      await set;
      deadlines.set(`s${i}`, store.read(`s${i}`).set_at! + MAX_AGE_MS);
      await new Promise((r) => setTimeout(r, SPREAD_MS));
    }
    await staleAll;
    const p95 = percentile(lateness, 95);
    return [
      { name: 'MQTT publish → when trigger → run started, p50', value: p50, unit: 'ms', target: '≤ 20 ms', met: p50 <= 20 },
      { name: `MQTT publish → when trigger → run started, p99 (${PUBLISHES} publishes)`, value: p99, unit: 'ms', target: '≤ 100 ms', met: p99 <= 100 },
      { name: 'signal updates ingested from the broker, derived signal recomputed', value: rate, unit: 'updates/s', target: '≥ 10,000 updates/s', met: rate >= 10_000 },
      { name: `context-journal rows written for ${UPDATES} updates of one signal (coalesced)`, value: rows, unit: 'rows', target: '', met: true },
      { name: `staleness seen after its deadline, p95 (${STALE_SIGNALS} signals)`, value: p95, unit: 'ms', target: '≤ 50 ms', met: p95 <= 50 },
    ];
  } finally {
    await pub.endAsync();
    await server.close();
    await backend.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function contextRows(backend: Backend): Promise<readonly unknown[]> {
  const j = await backend.contextJournal();
  try {
    return await j.list({ limit: 100_000 });
  } finally {
    await j.close();
  }
}
