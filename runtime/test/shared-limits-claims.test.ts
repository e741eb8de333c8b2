/**
 * How many store round trips shared limits cost a run whose steps wait together (issue #54): the
 * core tells the limits service how many queued steps wait behind the one it answered `held`
 * (`LimitsService.waiting`), and the process's client claims a slot for each in the same turn —
 * one round trip and one pump for a layer of steps, not one of each per step. What the limits
 * promise across processes is unchanged: the claims stay within the limit and what is free, and
 * what a run claimed and did not use goes back to the store.
 *
 * In-process: the scheduler core with a simulated executor on real timers, and clients of one
 * memory store standing for processes.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { SharedLimits } from '../limits/shared-limits.js';
import { emptyLimits, MemoryLimitStore, type LimitData } from '../backend/memory/limit-store.js';
import { InRunLimits, Run, VirtualClock, realClock, type LimitsProvider, type LimitsService, type RunEvent, type SharedClaim, type SharedGrant, type SlotRequest } from '../scheduler/index.js';
import { capability, plan, resource, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';
import { waitUntil } from '../../test/support/wait.js';

/** A memory store that counts its claims, and the turns they came in (one round trip each). */
class CountingStore extends MemoryLimitStore {
  claims = 0;
  turns = 0;
  private inTurn = false;
  override acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    this.claims++;
    if (!this.inTurn) {
      this.inTurn = true;
      this.turns++;
      setImmediate(() => (this.inTurn = false));
    }
    return super.acquire(claim, now);
  }
}

function poolPlan(n: number, slots: number, name = 'wide'): PlanIR {
  return plan({
    name,
    capabilities: [capability('work')],
    resources: [resource('pool', { concurrency: slots })],
    steps: Array.from({ length: n }, (_, i) => step({ id: `s${i}`, capability: 'work', resource: 'pool' })),
  });
}

/** Steps of the run in progress now, and the most at once. */
function inFlight() {
  let now = 0;
  let max = 0;
  return {
    observe(e: RunEvent) {
      if (e.type === 'step_started') max = Math.max(max, ++now);
      else if (e.type === 'step_completed' || e.type === 'step_failed') now--;
    },
    get now() {
      return now;
    },
    get max() {
      return max;
    },
  };
}

function liveLeases(data: LimitData, resourceName: string): number {
  return [...data.leases.values()].filter((l) => l.resource === resourceName && l.expiresAt > Date.now()).length;
}

describe('a run whose steps wait together for shared slots', () => {
  it('claims them in one round trip, not one per step, on a resource whose slots do not bind', async () => {
    const store = new CountingStore(emptyLimits());
    const limits = new SharedLimits(store);
    const exec = new SimExecutor(realClock, () => ({ latency: 5, outcome: { ok: true, output: {} } }));
    const watch = inFlight();
    try {
      const run = new Run(poolPlan(40, 1000), { clock: realClock, executor: exec, limits, observe: (e) => watch.observe(e), defer: setImmediate }, { runId: 'wide' });
      expect((await run.start()).status).toBe('completed');
      // All forty were queued at once: one claim each, made together, and all forty ran at once.
      expect(store.claims).toBe(40);
      expect(store.turns).toBe(1);
      expect(watch.max).toBe(40);
    } finally {
      await limits.close();
    }
  });

  it('claims no more than is free: another process keeps its slots, and the run gets them once they are given back', async () => {
    const data = emptyLimits();
    const other = new MemoryLimitStore(data);
    const store = new CountingStore(data);
    const limits = new SharedLimits(store, { pollMs: 5 });
    const pool = { name: 'pool', limit: 4 };
    const taken = await Promise.all([1, 2].map(() => other.acquire({ holder: 'other', runId: 'r2', stepKey: 's', resource: pool, rates: [] }, Date.now())));
    const exec = new SimExecutor(realClock, () => ({ latency: 20, outcome: { ok: true, output: {} } }));
    const watch = inFlight();
    try {
      const run = new Run(poolPlan(10, 4), { clock: realClock, executor: exec, limits, observe: (e) => watch.observe(e), defer: setImmediate }, { runId: 'narrow' });
      const done = run.start();
      await waitUntil(() => exec.starts.length >= 4, 'the run to go through its first two slots twice', 10_000, 1);
      // Ten waiting, four claimed (the limit), two granted: the other process's two stay its own.
      expect(watch.max).toBe(2);
      expect(liveLeases(data, 'pool')).toBeLessThanOrEqual(4);
      for (const g of taken) await other.release((g as { leaseId: string }).leaseId);
      expect((await done).status).toBe('completed');
      expect(watch.max).toBe(4);
      // The run's slots went back with it: the other process gets all four again.
      const again = await Promise.all([1, 2, 3, 4].map(() => other.acquire({ holder: 'other', runId: 'r3', stepKey: 's', resource: pool, rates: [] }, Date.now())));
      expect(again.map((g) => g.kind)).toEqual(['granted', 'granted', 'granted', 'granted']);
    } finally {
      await limits.close();
    }
  });

  it('gives back a slot it claimed for a step that no longer waits, within unclaimedMs', async () => {
    const data = emptyLimits();
    const store = new CountingStore(data);
    const limits = new SharedLimits(store, { unclaimedMs: 30 });
    const p = poolPlan(3, 10);
    const service = limits.forRun(p, 'gone', () => undefined);
    const request = (key: string): SlotRequest => ({ key, occupies: true, resource: p.resources['pool']!, item: null, capability: 'work' });
    try {
      // Three steps waited; the first was answered held, and the core said three wait.
      expect(service.tryAcquire(request('s0'), Date.now()).kind).toBe('held');
      service.waiting!(request('s0'), 3);
      expect(store.claims).toBe(3);
      await waitUntil(() => liveLeases(data, 'pool') === 3, 'the three claims to be granted', 10_000, 1);
      // Only one step still asks (the others were cancelled): the two slots left go back.
      expect(service.tryAcquire(request('s0'), Date.now()).kind).toBe('granted');
      await waitUntil(() => liveLeases(data, 'pool') === 1, 'the unused slots to go back', 10_000, 1);
      expect(store.claims).toBe(3);
    } finally {
      service.close?.();
      await limits.close();
    }
  });
});

describe('the core tells the limits service how many steps wait (LimitsService.waiting)', () => {
  it('once per pass, with the step it asked and those it set aside behind it', async () => {
    const p = poolPlan(5, 1);
    const inner = new InRunLimits(p);
    const told: { key: string | undefined; count: number }[] = [];
    let open = false;
    let wake: () => void = () => undefined;
    let asked = 0;
    const service: LimitsService = {
      tryAcquire: (r, now) => (asked++, open ? inner.tryAcquire(r, now) : { kind: 'held' }),
      release: (l) => inner.release(l),
      itemFinished: (g, i) => inner.itemFinished(g, i),
      itemsResumed: (items) => inner.itemsResumed(items),
      heldBack: (r) => !open || inner.heldBack(r),
      waiting: (r, count) => void told.push({ key: r.key, count }),
    };
    const provider: LimitsProvider = { forRun: (_p, _id, w) => ((wake = w), service) };
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 10, outcome: { ok: true, output: {} } }));
    const run = new Run(p, { clock, executor: exec, limits: provider }, { runId: 'told' });
    const done = run.start();
    clock.runAll();
    await waitUntil(() => told.length > 0, 'the first pass', 10_000, 1);
    // Each pass asked the first queued step and set the four behind it aside without asking.
    expect(told.length).toBe(asked);
    for (const t of told) expect(t).toEqual({ key: 's0', count: 5 });
    open = true;
    wake();
    clock.runAll();
    for (let i = 0; i < 50 && exec.starts.length < 5; i++) {
      await new Promise((r) => setImmediate(r));
      clock.runAll();
    }
    expect((await done).status).toBe('completed');
  });
});
