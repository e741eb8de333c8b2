/**
 * A rate limit shared across runtimes on one journal (LANGUAGE.md §4 `rate_limit`, §7.2) counts a
 * call from the instant its step starts — the journal's `step_started` — not from the store's
 * grant: a process whose grants reach its steps late (a slow round trip, a busy event loop) must
 * not let another process's calls into the same window. Two `Runtime`s on one SQLite file stand
 * for two `orch run` processes; one answers its grants 80 ms late.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../index.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { emptyLimits, MemoryLimitStore } from '../backend/memory/limit-store.js';
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import { SharedLimits } from '../limits/shared-limits.js';
import type { SharedClaim, SharedGrant, SlotRequest } from '../scheduler/index.js';
import { plan, policy, step } from './ir-builder.js';
import { waitUntil } from '../../test/support/wait.js';
import { FIXTURES, fx, tempDir } from './helpers.js';
import { compile, diskHost } from '../../compiler/index.js';

/** A store whose answers reach its process `lagMs` after the store granted (and stamped) them. */
class LateStore extends SqliteLimitStore {
  constructor(
    path: string,
    private readonly lagMs: number,
  ) {
    super(path);
  }
  override async acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    const g = await super.acquire(claim, now);
    await new Promise((r) => setTimeout(r, this.lagMs));
    return g;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WINDOW_MS = 300;

function pinger(name: string) {
  const steps = Array.from({ length: 3 }, (_, i) => step({ id: `p${i}`, capability: 'work' }));
  const rl = policy({ name: 'paced', rate_limits: [{ capability: 'work', count: 2, per_ms: WINDOW_MS }] });
  return plan({ name, capabilities: [fx('work', 'work')], steps, over: { policy: rl } });
}

async function runtime(db: string, lagMs: number): Promise<Runtime> {
  const limits = new SharedLimits(new LateStore(db, lagMs));
  const rt = await Runtime.open({ db, workers: 2, limits });
  cleanups.push(async () => {
    await rt.close();
    await limits.close();
  });
  return rt;
}

describe('a rate limit shared by runtimes on one journal', () => {
  it('holds over the starts the journal records, even when one runtime takes its grants late', async () => {
    const db = join(tempDir('orch-rate-'), 'runs.db');
    const late = await runtime(db, 80);
    const prompt = await runtime(db, 0);
    const runs = await Promise.all([late.start(pinger('late')), prompt.start(pinger('prompt'))]);
    for (const r of await Promise.all(runs.map((x) => x.result))) expect(r.status, JSON.stringify(r.steps)).toBe('completed');
    const d = openSqlite(db, { readonly: true });
    const starts = (d.prepare("SELECT ts FROM events WHERE type = 'step_started' ORDER BY ts").all() as { ts: number }[]).map((r) => r.ts);
    d.close();
    expect(starts).toHaveLength(6);
    // No window of 300 ms holds three starts: any three in a row span at least the window.
    const spans = starts.slice(2).map((t, i) => t - starts[i]!);
    expect(Math.min(...spans), `starts ${starts.map((t) => t - starts[0]!).join(', ')}`).toBeGreaterThanOrEqual(WINDOW_MS);
  }, 20_000);
});

describe("a rate call granted to a process's run", () => {
  const noResource = (holder: string): SharedClaim => ({ holder, runId: holder, stepKey: 's', resource: null, rates: [{ key: 'paced/work', count: 1, perMs: 60_000 }] });

  it('is given back when no step takes it, and counts from the start of the step that does', async () => {
    const data = emptyLimits();
    const other = new MemoryLimitStore(data);
    const limits = new SharedLimits(new MemoryLimitStore(data), { unclaimedMs: 30 });
    const p = pinger('gone');
    const request: SlotRequest = { key: 'p0', occupies: true, resource: null, item: null, capability: 'work' };
    let woken = 0;
    const service = limits.forRun(p, 'gone', () => woken++);
    try {
      expect(service.tryAcquire(request, Date.now()).kind).toBe('held');
      await waitUntil(() => woken > 0, 'the call to be granted', 10_000, 1);
      // Its step no longer asks (cancelled): the call goes back, and the window is free again.
      expect(await other.acquire(noResource('other'), Date.now())).toMatchObject({ kind: 'rate_limited' });
      await waitUntil(() => data.rateHits.length === 0, 'the unused call to go back', 10_000, 1);
      const taken = await other.acquire(noResource('other'), Date.now());
      expect(taken).toMatchObject({ kind: 'granted' });
      // A call another process took 40 ms after its grant counts from then, not from the grant.
      const grantedAt = Date.now();
      await other.started((taken as { calls: string }).calls, grantedAt + 40);
      expect(await other.acquire(noResource('again'), grantedAt + 50)).toEqual({ kind: 'rate_limited', key: 'paced/work', retryAt: grantedAt + 60_040 });
    } finally {
      service.close?.();
      await limits.close();
      await other.close();
    }
  });
});

describe('a journal of an earlier version', () => {
  it('keeps its rate hits, each counted as started at its grant', async () => {
    const db = join(tempDir('orch-rate-old-'), 'runs.db');
    const old = openSqlite(db);
    old.exec('CREATE TABLE rate_hits (key TEXT NOT NULL, at INTEGER NOT NULL, run_id TEXT)');
    old.prepare('INSERT INTO rate_hits (key, at, run_id) VALUES (?, ?, ?)').run('paced/work', 1_000, 'r0');
    old.close();
    const store = new SqliteLimitStore(db);
    cleanups.push(() => store.close());
    const claim = { holder: 'h', runId: 'r1', stepKey: 's', resource: null, rates: [{ key: 'paced/work', count: 1, perMs: 1000 }] };
    expect(await store.acquire(claim, 1_500)).toEqual({ kind: 'rate_limited', key: 'paced/work', retryAt: 2_000 });
    expect(await store.acquire(claim, 2_000)).toMatchObject({ kind: 'granted', calls: expect.any(String) });
  });
});

describe("calls besides a plan's own steps, under a journal's shared limits", () => {
  it("a sub-plan's count in its parent's policy window (LANGUAGE.md §7.2)", async () => {
    const entry = join(FIXTURES, 'rate-subplan.orch');
    const source = `
capability work { kind tool  input { n: int }  output { step: string }  handler "./handlers.js#work" }
policy paced { rate_limit work 1 per ${WINDOW_MS}ms }
plan inner { step i = work(n: 1) }
plan outer { policy paced
  step a = work(n: 0)
  step s = run inner() }
`;
    const out = compile({ entry, plan: 'outer', host: { readFile: (f) => (f === entry ? source : diskHost.readFile(f)) } });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const db = join(tempDir('orch-rate-'), 'runs.db');
    const rt = await runtime(db, 0);
    const result = await (await rt.start(out.plans[0]!)).result;
    expect(result.status, JSON.stringify(result.steps)).toBe('completed');
    const d = openSqlite(db, { readonly: true });
    const starts = (d.prepare("SELECT ts FROM events WHERE type = 'step_started' AND step_id IN ('a', 'i') ORDER BY ts").all() as { ts: number }[]).map((r) => r.ts);
    d.close();
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(WINDOW_MS);
  }, 20_000);

  it("and a rollback's compensations count in their capability's window too", async () => {
    const entry = join(FIXTURES, 'rate-compensate.orch');
    const source = `
capability work { kind tool  input { n: int }  output { step: string }  handler "./handlers.js#work" }
capability undo { kind tool  input { n: int }  output { step: string }  handler "./handlers.js#work" }
capability boom { kind tool  input {}  output { step: string }  handler "./handlers.js#throws" }
policy paced { rate_limit undo 1 per ${WINDOW_MS}ms }
plan outer { policy paced
  on_failure rollback
  step a = work(n: 1) { compensate undo(n: 1) }
  step b = work(n: 2) { compensate undo(n: 2) }
  step c = boom() { after a, b } }
`;
    const out = compile({ entry, host: { readFile: (f) => (f === entry ? source : diskHost.readFile(f)) } });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const db = join(tempDir('orch-rate-'), 'runs.db');
    const rt = await runtime(db, 0);
    const result = await (await rt.start(out.plans[0]!)).result;
    expect(result.status).toBe('failed');
    const d = openSqlite(db, { readonly: true });
    const rows = d.prepare("SELECT ts, type, data FROM events WHERE type IN ('compensation_started', 'step_compensated') ORDER BY seq").all() as { ts: number; type: string; data: string }[];
    d.close();
    const starts = rows.filter((r) => r.type === 'compensation_started').map((r) => r.ts);
    expect(rows.filter((r) => r.type === 'step_compensated').map((r) => JSON.parse(r.data))).toEqual([{ ok: true }, { ok: true }]);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(WINDOW_MS);
  }, 20_000);
});
