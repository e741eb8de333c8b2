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
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import { SharedLimits } from '../limits/shared-limits.js';
import type { SharedClaim, SharedGrant } from '../scheduler/index.js';
import { plan, policy, step } from './ir-builder.js';
import { fx, tempDir } from './helpers.js';

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
