/**
 * The `SharedLimitStore` contract (runtime/scheduler/core/limits.ts), one suite run against every
 * backend's store: SQLite in a temp journal file, Postgres in a throwaway cluster, and memory. Two store objects on
 * one database stand for two processes. Times are the caller's clock (the contract: stores never
 * read their own), so expiry and windows are tested at exact instants, without sleeping.
 *
 * Then real processes on Postgres: three children hammering one `concurrency 3` resource never
 * hold more than three slots at once (and do reach three), and a child killed with SIGKILL while
 * holding a slot gives it back within 5 s (its lease is not renewed any more).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { maxOverlap, type Span } from './spans.js';
import { migrate } from '../backend/pg/migrations.js';
import { PgLimitStore } from '../backend/pg/limit-store.js';
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import { SqliteJournal } from '../backend/sqlite/journal.js';
import { memoryBackend } from '../backend/index.js';
import type { SharedClaim, SharedLimitStore } from '../scheduler/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { waitUntil } from '../../test/support/wait.js';
import { REPO, tempDir } from './helpers.js';

/** The killed holder's lease in the SIGKILL test. */
const LEASE_MS = 1500;

interface Place {
  /** Another client of the same database (another process, as far as the store can tell). */
  open(leaseMs?: number): Promise<SharedLimitStore>;
  teardown(): Promise<void>;
}

interface Backend {
  readonly name: string;
  /** Whether the store pushes releases from other clients (`onRelease`). */
  readonly pushes: boolean;
  /** Whether the calls of one turn are carried out together, releases first (else each on its own connection, in any order). */
  readonly batches: boolean;
  place(): Promise<Place>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SqliteLimitStore',
    pushes: false,
    batches: true,
    async place() {
      const file = join(tempDir('orch-limits-'), 'runs.db');
      return { open: async (leaseMs = 3000) => new SqliteLimitStore(file, { leaseMs }), teardown: async () => undefined };
    },
  },
  {
    // Each client on a journal's connection, with no journal commit to ride: the store's own
    // transaction, 1 ms later (riding a commit: sqlite-limits-in-commit.test.ts).
    name: "SqliteLimitStore on a journal's connection",
    pushes: false,
    batches: true,
    async place() {
      const file = join(tempDir('orch-limits-'), 'runs.db');
      const journals: SqliteJournal[] = [];
      return {
        open: async (leaseMs = 3000) => {
          const journal = new SqliteJournal(file);
          journals.push(journal);
          return new SqliteLimitStore(file, { leaseMs, journal });
        },
        teardown: async () => journals.forEach((j) => j.close()),
      };
    },
  },
  {
    name: 'PgLimitStore',
    pushes: true,
    batches: false,
    async place() {
      const db = await startPostgres();
      await migrate(db.url);
      return { open: (leaseMs = 3000) => PgLimitStore.open(db.url, { leaseMs }), teardown: () => db.stop() };
    },
  },
  {
    // The stores of one memory backend share its data, as stores on one database share its tables.
    name: 'MemoryLimitStore',
    pushes: true,
    batches: true,
    async place() {
      const backend = memoryBackend();
      return {
        // The contract's tests use the stores' default lease (3 s).
        open: async () => (await backend.limits())!,
        teardown: () => backend.close(),
      };
    },
  },
];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const leaseOf = (g: unknown) => (g as { leaseId: string }).leaseId;
const callsOf = (g: unknown) => (g as { calls: string }).calls;

function claim(holder: string, over: Partial<SharedClaim> = {}): SharedClaim {
  return { holder, runId: `run-${holder}`, stepKey: 's', resource: { name: 'gpu', limit: 2 }, rates: [], ...over };
}

async function within(ms: number, ok: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe.each(BACKENDS)('SharedLimitStore contract: $name', (backend) => {
  async function stores(n: number, leaseMs?: number): Promise<SharedLimitStore[]> {
    const place = await backend.place();
    const list: SharedLimitStore[] = [];
    for (let i = 0; i < n; i++) list.push(await place.open(leaseMs));
    cleanups.push(place.teardown);
    for (const s of list) cleanups.push(() => s.close());
    return list;
  }

  it('grants up to the limit across clients, then answers held', async () => {
    const [a, b] = await stores(2);
    const t = 1_000_000;
    const first = await a!.acquire(claim('A'), t);
    const second = await b!.acquire(claim('B'), t);
    expect(first).toMatchObject({ kind: 'granted', leaseId: expect.any(String) });
    expect(second).toMatchObject({ kind: 'granted', leaseId: expect.any(String) });
    expect(first).not.toEqual(second);
    expect(await a!.acquire(claim('A'), t + 1)).toEqual({ kind: 'held', resource: 'gpu' });
    // Another resource has slots of its own; a claim with no resource or rate needs no lease.
    expect(await a!.acquire(claim('A', { resource: { name: 'cpu', limit: 1 } }), t + 1)).toMatchObject({ kind: 'granted' });
    expect(await a!.acquire(claim('A', { resource: null }), t + 1)).toEqual({ kind: 'granted', leaseId: null });
  });

  it('gives a released slot back (and pushes the release to other clients)', async () => {
    const [a, b] = await stores(2);
    const t = 2_000_000;
    const one = { name: 'gpu', limit: 1 };
    const got = await a!.acquire(claim('A', { resource: one }), t);
    expect(await b!.acquire(claim('B', { resource: one }), t)).toEqual({ kind: 'held', resource: 'gpu' });
    let pushed = 0;
    const unsubscribe = b!.onRelease?.(() => pushed++);
    expect(b!.onRelease !== undefined).toBe(backend.pushes);
    // Let the listening connection come up before the release it must hear: it has once it hears
    // the release of a slot of another resource (no sleep on a guess).
    if (backend.pushes) {
      await waitUntil(async () => {
        const probe = await a!.acquire(claim('A', { resource: { name: 'probe', limit: 1 } }), t);
        if (probe.kind === 'granted' && probe.leaseId !== null) await a!.release(probe.leaseId);
        return pushed > 0;
      }, "b's listening connection to hear a release", 10_000);
      pushed = 0;
    }
    await a!.release((got as { leaseId: string }).leaseId);
    if (backend.pushes) expect(await within(5000, () => pushed > 0)).toBe(true);
    unsubscribe?.();
    expect(await b!.acquire(claim('B', { resource: one }), t + 1)).toMatchObject({ kind: 'granted' });
    // Releasing twice, or a lease nobody knows, is not an error.
    await a!.release((got as { leaseId: string }).leaseId);
    await a!.release('no-such-lease');
  });

  it('frees the slot of a holder that stopped renewing once its lease expired', async () => {
    const [a, b] = await stores(2, 3000);
    const t = 3_000_000;
    const one = { name: 'gpu', limit: 1 };
    const got = leaseOf(await a!.acquire(claim('A', { resource: one }), t));
    // Renewed at t+2000: lives until t+5000.
    await a!.renew('A', t + 2000, [got]);
    expect(await b!.acquire(claim('B', { resource: one }), t + 4000)).toEqual({ kind: 'held', resource: 'gpu' });
    expect(await b!.acquire(claim('B', { resource: one }), t + 4999)).toEqual({ kind: 'held', resource: 'gpu' });
    // A stopped renewing; a renewal after expiry does not bring the lease back.
    await a!.renew('A', t + 5000, [got]);
    expect(await b!.acquire(claim('B', { resource: one }), t + 5000)).toMatchObject({ kind: 'granted' });
    expect(await a!.acquire(claim('A', { resource: one }), t + 5001)).toEqual({ kind: 'held', resource: 'gpu' });
  });

  it('renews only the leases its holder still names: one it lost track of lapses while the holder goes on renewing', async () => {
    const [a, b] = await stores(2, 3000);
    const t = 3_500_000;
    const two = { name: 'gpu', limit: 2 };
    const kept = leaseOf(await a!.acquire(claim('A', { resource: two }), t));
    // Let go of, but the release never reached the store (a broken connection): not named any more.
    await a!.acquire(claim('A', { resource: two }), t);
    for (let at = t + 1000; at <= t + 6000; at += 1000) await a!.renew('A', at, [kept]);
    // The forgotten slot lapsed at t+3000; the kept one lives on.
    expect(await b!.acquire(claim('B', { resource: two }), t + 6001)).toMatchObject({ kind: 'granted' });
    expect(await b!.acquire(claim('B', { resource: two }), t + 6002)).toEqual({ kind: 'held', resource: 'gpu' });
  });

  it('answers many claims of one turn up to the limit, counting a lapsed lease free and a release of that turn', async () => {
    const [a, b] = await stores(2, 3000);
    const t = 3_700_000;
    const three = { name: 'gpu', limit: 3 };
    // A's first lease lapses at t+3000 (never renewed); its second lives until t+5000.
    await a!.acquire(claim('A', { resource: three }), t);
    await a!.acquire(claim('A', { resource: three }), t + 2000);
    // Four claims in one turn (a run's waiting steps): the lapsed slot and the free one, no more.
    const burst = await Promise.all([0, 1, 2, 3].map((i) => b!.acquire(claim('B', { resource: three }), t + 3000 + i)));
    expect(burst.map((g) => g.kind).sort()).toEqual(['granted', 'granted', 'held', 'held']);
    // A release and two claims (in one turn where the store batches them, releases first): the
    // released slot is taken once.
    const released = b!.release(leaseOf(burst.find((g) => g.kind === 'granted')));
    if (!backend.batches) await released;
    const next = await Promise.all([b!.acquire(claim('B', { resource: three }), t + 3010), b!.acquire(claim('B', { resource: three }), t + 3011)]);
    await released;
    expect(next.map((g) => g.kind).sort()).toEqual(['granted', 'held']);
  });

  it('counts a rate window across holders, with the instant the oldest hit leaves it', async () => {
    const [a, b] = await stores(2);
    const t = 4_000_000;
    const rates = [{ key: 'llm.*', count: 2, perMs: 1000 }];
    const noResource = { resource: null, rates };
    const first = await a!.acquire(claim('A', noResource), t + 100);
    expect(first).toEqual({ kind: 'granted', leaseId: null, calls: expect.any(String) });
    await a!.started(callsOf(first), t + 100);
    await b!.started(callsOf(await b!.acquire(claim('B', noResource), t + 400)), t + 400);
    expect(await a!.acquire(claim('C', noResource), t + 500)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1100 });
    expect(await b!.acquire(claim('C', noResource), t + 1099)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1100 });
    // At retryAt the hit of t+100 has left the window: one place again, then full until t+1400.
    expect(await b!.acquire(claim('C', noResource), t + 1100)).toMatchObject({ kind: 'granted', leaseId: null });
    expect(await a!.acquire(claim('D', noResource), t + 1101)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1400 });
  });

  it("counts a call from its step's start: pending until then, given back if it never starts, lapsing a lease after its grant", async () => {
    const [a, b] = await stores(2, 3000);
    const t = 4_500_000;
    const noResource = { resource: null, rates: [{ key: 'llm.*', count: 2, perMs: 1000 }] };
    const late = await a!.acquire(claim('A', noResource), t);
    const unused = await b!.acquire(claim('B', noResource), t);
    // Neither has started: each may start any moment, so a window from now is the earliest room.
    expect(await a!.acquire(claim('C', noResource), t + 10)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1010 });
    // A's step starts 500 ms after its grant; B's never does and gives its call back.
    await a!.started(callsOf(late), t + 500);
    await b!.release(callsOf(unused));
    await b!.started(callsOf(await b!.acquire(claim('C', noResource), t + 600)), t + 600);
    // Counted from the grant, A's call would have left at t+1000: from its start it stays until t+1500.
    expect(await a!.acquire(claim('D', noResource), t + 1400)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1500 });
    expect(await a!.acquire(claim('D', noResource), t + 1500)).toMatchObject({ kind: 'granted' });
    // A started call is never given back; releasing it again, or starting it twice, changes nothing.
    await a!.release(callsOf(late));
    await a!.started(callsOf(late), t + 1500);
    expect(await b!.acquire(claim('E', noResource), t + 1501)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1600 });

    // A grant whose process died before its step's start reached the store: it counts as started
    // a lease after its grant (no later start is allowed), so for a window after that.
    const solo = { resource: null, rates: [{ key: 'solo', count: 1, perMs: 1000 }] };
    await a!.acquire(claim('A', solo), t);
    expect(await b!.acquire(claim('B', solo), t + 3999)).toEqual({ kind: 'rate_limited', key: 'solo', retryAt: t + 4000 });
    expect(await b!.acquire(claim('B', solo), t + 4000)).toMatchObject({ kind: 'granted' });
  });

  it('changes nothing when a claim is refused (all or nothing)', async () => {
    const [a, b] = await stores(2);
    const t = 5_000_000;
    const one = { name: 'gpu', limit: 1 };
    const rates = [{ key: 'llm.*', count: 1, perMs: 1000 }];
    expect(await a!.acquire(claim('A', { resource: one }), t)).toMatchObject({ kind: 'granted' });
    // Held by the resource: no rate hit recorded, so the window is still free for another claim.
    expect(await b!.acquire(claim('B', { resource: one, rates }), t + 1)).toEqual({ kind: 'held', resource: 'gpu' });
    const called = await b!.acquire(claim('B', { resource: null, rates }), t + 2);
    expect(called).toMatchObject({ kind: 'granted', leaseId: null });
    await b!.started(callsOf(called), t + 2);
    // Rate limited: no lease taken, so another resource's only slot stays free.
    const other = { name: 'tpu', limit: 1 };
    expect(await a!.acquire(claim('A', { resource: other, rates }), t + 3)).toEqual({ kind: 'rate_limited', key: 'llm.*', retryAt: t + 1002 });
    expect(await b!.acquire(claim('B', { resource: other }), t + 4)).toMatchObject({ kind: 'granted' });
  });

  // ── budget ledgers (§8.2 under §7.2) ──
  function budget(holder: string, amount: number, over: { key?: string; limit?: number; owner?: string } = {}): SharedClaim {
    const b = { key: over.key ?? 'lean/budget cost', limit: over.limit ?? 1, owner: over.owner ?? `run-${holder}`, amount };
    return { holder, runId: `run-${holder}`, stepKey: 's', resource: null, rates: [], budgets: [b] };
  }

  it('reserves against a budget ledger across clients: held while reservations in flight may settle lower, over_budget once spend alone cannot fit', async () => {
    const [a, b] = await stores(2);
    const t = 6_000_000;
    const first = await a!.acquire(budget('A', 0.4), t);
    const second = await b!.acquire(budget('B', 0.4), t);
    expect(first).toMatchObject({ kind: 'granted', leaseId: expect.any(String) });
    expect(second).toMatchObject({ kind: 'granted', leaseId: expect.any(String) });
    // 0.8 reserved, 0 spent: 0.3 more fits once a reservation settles lower, so it waits.
    expect(await a!.acquire(budget('A', 0.3), t + 1)).toEqual({ kind: 'held', resource: 'lean/budget cost' });
    // Another ledger (another policy) has its own room.
    expect(await a!.acquire(budget('A', 0.9, { key: 'other/budget cost' }), t + 1)).toMatchObject({ kind: 'granted' });
    // A settles below its reservation: 0.1 spent, 0.4 reserved, room for 0.5.
    await a!.settle(leaseOf(first), 0.1);
    expect(await a!.acquire(budget('A', 0.5), t + 2)).toMatchObject({ kind: 'granted' });
    // B overran: 0.1 + 0.95 spent > 1, so nothing more starts, not even a free attempt.
    await b!.settle(leaseOf(second), 0.95);
    expect(await b!.acquire(budget('B', 0), t + 3)).toEqual({ kind: 'over_budget', key: 'lean/budget cost', spent: expect.closeTo(1.05, 9) });
  });

  it('drops a reservation released unstarted; keeps an ended run’s spend while another run is open on the ledger', async () => {
    const [a, b] = await stores(2);
    const t = 7_000_000;
    const key = 'lean/budget cost';
    await a!.openRun('run-1', key, 'A', t);
    await b!.openRun('run-2', key, 'B', t);
    const g = await a!.acquire(budget('A', 0.6, { owner: 'run-1' }), t);
    expect(await b!.acquire(budget('B', 0.6, { owner: 'run-2' }), t)).toEqual({ kind: 'held', resource: key });
    await a!.release(leaseOf(g));
    const h = await b!.acquire(budget('B', 0.6, { owner: 'run-2' }), t + 1);
    expect(h).toMatchObject({ kind: 'granted' });
    await b!.settle(leaseOf(h), 0.6);
    // Settling twice, or an unknown lease, is not an error.
    await b!.settle(leaseOf(h), 0.6);
    await b!.settle('b999999', 1);
    expect(await a!.acquire(budget('A', 0.6, { owner: 'run-1' }), t + 2)).toEqual({ kind: 'over_budget', key, spent: expect.closeTo(0.6, 9) });
    // run-2 ended first: its spend stays while run-1 is open, even past its holder's lease.
    await b!.closeRun('run-2', t + 3);
    await a!.renew('A', t + 2000, []);
    expect(await a!.acquire(budget('A', 0.6, { owner: 'run-1' }), t + 3500)).toMatchObject({ kind: 'over_budget' });
    // The last open run ended: the ledger is empty for the next runs.
    await a!.closeRun('run-1', t + 4000);
    expect(await a!.acquire(budget('A', 0.6, { owner: 'run-3' }), t + 4001)).toMatchObject({ kind: 'granted' });
  });

  it('empties a ledger whose last open run’s process died, when the next run opens it', async () => {
    const [a, b] = await stores(2, 3000);
    const t = 8_000_000;
    const key = 'lean/budget cost';
    await a!.openRun('run-1', key, 'A', t);
    const g = await a!.acquire(budget('A', 0.5, { owner: 'run-1' }), t);
    await a!.settle(leaseOf(g), 0.9);
    await a!.renew('A', t + 2000, [leaseOf(g)]);
    // A is alive (renewing): a run opening meanwhile shares what run-1 spent.
    await b!.openRun('run-2', key, 'B', t + 4999);
    expect(await b!.acquire(budget('B', 0.5, { owner: 'run-2' }), t + 4999)).toMatchObject({ kind: 'over_budget' });
    await b!.closeRun('run-2', t + 4999);
    // A stopped renewing; its run never closed. The next run to open finds no open run and starts afresh.
    await b!.openRun('run-3', key, 'B', t + 5000);
    expect(await b!.acquire(budget('B', 0.5, { owner: 'run-3' }), t + 5000)).toMatchObject({ kind: 'granted' });
  });
});

// ───────────────────────────── real processes on Postgres ─────────────────────────────

const STORE_MODULE = pathToFileURL(join(REPO, 'dist', 'runtime', 'backend', 'pg', 'limit-store.js')).href;

/**
 * A child process: `workers` concurrent loops that each take a slot of `resource` (limit 3), hold
 * it 10–40 ms, record the span and give it back, for `ms`; renews its leases every second.
 */
const HAMMER = `
import { appendFileSync } from 'node:fs';
const [storeModule, url, resource, log, workers, ms] = process.argv.slice(2);
const { PgLimitStore } = await import(storeModule);
const store = await PgLimitStore.open(url, { leaseMs: 3000, poolSize: Number(workers) + 1 });
const holder = 'p' + process.pid;
const held = new Set();
const renew = setInterval(() => store.renew(holder, Date.now(), [...held]).catch(() => {}), 1000);
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const spans = [];
let refused = 0;
const end = Date.now() + Number(ms);
async function loop(w) {
  while (Date.now() < end) {
    const claim = { holder, runId: holder, stepKey: 'w' + w, resource: { name: resource, limit: 3 }, rates: [] };
    const g = await store.acquire(claim, Date.now()).catch(() => null);
    if (!g || g.kind !== 'granted') { refused++; await sleep(1 + Math.random() * 5); continue; }
    held.add(g.leaseId);
    const start = Date.now();
    await sleep(10 + Math.random() * 30);
    spans.push({ start, end: Date.now(), who: holder + '/' + w });
    held.delete(g.leaseId);
    await store.release(g.leaseId);
  }
}
await Promise.all(Array.from({ length: Number(workers) }, (_, w) => loop(w)));
clearInterval(renew);
appendFileSync(log, spans.map((s) => JSON.stringify(s)).join('\\n') + '\\n');
process.stdout.write(JSON.stringify({ spans: spans.length, refused }) + '\\n');
await store.close();
`;

/** A child that takes the only slot of `resource`, says so, and keeps renewing until killed. */
const HOLDER = `
const [storeModule, url, resource, leaseMs = '3000', renewMs = '1000'] = process.argv.slice(2);
const { PgLimitStore } = await import(storeModule);
const store = await PgLimitStore.open(url, { leaseMs: Number(leaseMs) });
const holder = 'p' + process.pid;
const claim = { holder, runId: holder, stepKey: 's', resource: { name: resource, limit: 1 }, rates: [] };
const g = await store.acquire(claim, Date.now());
setInterval(() => store.renew(holder, Date.now(), [g.leaseId]).catch(() => {}), Number(renewMs));
process.stdout.write(g.kind + '\\n');
`;

function child(script: string, args: readonly string[]): { proc: ChildProcess; out: Promise<string>; firstLine: Promise<string> } {
  const dir = tempDir('orch-limit-child-');
  const file = join(dir, 'child.mjs');
  writeFileSync(file, script);
  const proc = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let lineSeen: (line: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => (lineSeen = resolve));
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.includes('\n')) lineSeen(out.split('\n')[0]!);
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<string>((resolve, reject) =>
    proc.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code ?? signal}: ${err}`)))),
  );
  // Killed on purpose by a test: only a caller awaiting `out` hears of it.
  done.catch(() => undefined);
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await done.catch(() => undefined);
  });
  return { proc, out: done, firstLine };
}

describe('PgLimitStore across processes', () => {
  it('three processes on a concurrency-3 resource: at most three slots at once, and three are used', async () => {
    const db = await startPostgres();
    cleanups.push(() => db.stop());
    await migrate(db.url);
    const log = join(tempDir('orch-limit-spans-'), 'spans.jsonl');
    writeFileSync(log, '');
    const children = Array.from({ length: 3 }, () => child(HAMMER, [STORE_MODULE, db.url, 'gpu', log, '3', '2500']));
    const reports = (await Promise.all(children.map((c) => c.out))).map((o) => JSON.parse(o) as { spans: number; refused: number });
    const spans = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Span);
    // Every process got slots and was also refused some: they really competed.
    for (const r of reports) {
      expect(r.spans).toBeGreaterThan(0);
      expect(r.refused).toBeGreaterThan(0);
    }
    expect(spans.length).toBe(reports.reduce((n, r) => n + r.spans, 0));
    expect(maxOverlap(spans)).toBe(3);
    // Every lease was given back.
    const store = await PgLimitStore.open(db.url);
    cleanups.push(() => store.close());
    expect(await store.acquire(claim('check', { resource: { name: 'gpu', limit: 3 } }), Date.now())).toMatchObject({ kind: 'granted' });
    console.log(`limit-store-contract: ${spans.length} grants of a concurrency-3 resource to 3 processes × 3 loops in 2.5 s; peak overlap ${maxOverlap(spans)}`);
  });

  it('a process killed with SIGKILL while holding a slot gives it back within 5 s', async () => {
    const db = await startPostgres();
    cleanups.push(() => db.stop());
    await migrate(db.url);
    // A lease of 1.5 s renewed every 300 ms: the product's 3 s and 1 s, at test speed.
    const holder = child(HOLDER, [STORE_MODULE, db.url, 'solo', String(LEASE_MS), '300']);
    expect(await holder.firstLine).toBe('granted');
    const store = await PgLimitStore.open(db.url);
    cleanups.push(() => store.close());
    const mine = claim('survivor', { resource: { name: 'solo', limit: 1 } });
    // Still held while the holder lives and renews, past the lease it had when we looked: the
    // caller's clock is the stores' (the contract), so that is a condition on Date.now().
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    cleanups.push(() => sql.end());
    const expiresAt = Number((await sql.query<{ e: string }>(`SELECT expires_at AS e FROM orch.limit_leases WHERE resource = 'solo'`)).rows[0]!.e);
    await waitUntil(() => Date.now() > expiresAt + 100, 'the lease the holder had to lapse without its renewals', 10_000);
    expect(await store.acquire(mine, Date.now())).toEqual({ kind: 'held', resource: 'solo' });
    const killedAt = Date.now();
    holder.proc.kill('SIGKILL');
    let freedAt = 0;
    while (Date.now() - killedAt < 6000) {
      if ((await store.acquire(mine, Date.now())).kind === 'granted') {
        freedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(freedAt, 'the slot was never given back').toBeGreaterThan(0);
    expect(freedAt - killedAt).toBeLessThan(5000);
    console.log(`limit-store-contract: slot of a SIGKILLed holder free after ${freedAt - killedAt} ms (lease ${LEASE_MS} ms)`);
  });
});
