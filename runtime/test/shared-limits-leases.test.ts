/**
 * A process renews only the shared leases its runs still hold (issue #49's stalled nemesis): a
 * worker that had taken a run over lost it to another during a partition, and the slots its steps
 * were using stayed in `orch.limit_leases` under its holder — renewed with every lease of that
 * holder for as long as the process lived, unused — until the run's `concurrency 4` resource had
 * one slot left (4.7 steps/s) or none (a stall). A slot let go of any way — its run closed with
 * it in use, a release that never reached the store, a grant whose answer was lost — must lapse
 * within the store's lease.
 *
 * In-process: two clients of one memory store stand for two processes; the store is told the
 * time (the contract's clock), so expiry is exact, and the process heartbeat's renewal is made by
 * hand with what it sends (`heldLeases`).
 */
import { describe, expect, it } from 'vitest';
import { SharedLimits } from '../limits/shared-limits.js';
import { emptyLimits, MemoryLimitStore, type LimitData } from '../backend/memory/limit-store.js';
import type { Lease, LimitsService, SharedClaim, SharedGrant, SlotRequest } from '../scheduler/index.js';
import { capability, plan, resource, step } from './ir-builder.js';
import { waitUntil } from '../../test/support/wait.js';

const LEASE_MS = 3000;
const pool = resource('pool', { concurrency: 1 });
const onePool = plan({ capabilities: [capability('work')], resources: [pool], steps: [step({ id: 's', capability: 'work', resource: 'pool' })] });
const request: SlotRequest = { key: 's', occupies: true, resource: pool, item: null, capability: 'work' };

/** A memory store whose next `acquire` is written but answered with an error, or whose releases fail (a broken connection). */
class FlakyStore extends MemoryLimitStore {
  loseNextGrant = false;
  failReleases = false;
  lost: string[] = [];
  acquires = 0;
  /** Runs once between the store's grant and its answer reaching the client (a slow link). */
  beforeNextAnswer: (() => Promise<void>) | null = null;
  override async acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    this.acquires++;
    const g = await super.acquire(claim, now);
    const slow = this.beforeNextAnswer;
    this.beforeNextAnswer = null;
    await slow?.();
    if (!this.loseNextGrant) return g;
    this.loseNextGrant = false;
    if (g.kind === 'granted' && g.leaseId !== null) this.lost.push(g.leaseId);
    throw new Error('Connection terminated unexpectedly');
  }
  override release(leaseId: string): Promise<void> {
    return this.failReleases ? Promise.reject(new Error('Connection terminated unexpectedly')) : super.release(leaseId);
  }
}

function world() {
  const data: LimitData = emptyLimits();
  let t = 1_000_000;
  const store = new FlakyStore(data, { leaseMs: LEASE_MS });
  const client = new SharedLimits(store, { now: () => t, pollMs: 1, handOffMs: 0 });
  const other = new MemoryLimitStore(data, { leaseMs: LEASE_MS });
  return {
    store,
    client,
    /** The time passes by `ms` with no renewal (the process's answer is still on its way). */
    silent(ms: number) {
      t += ms;
    },
    /** The time passes by `ms`, the process renewing what it holds every second meanwhile (its heartbeat). */
    async pass(ms: number) {
      for (let left = ms; left > 0; left -= 1000) {
        t += Math.min(1000, left);
        await store.renew(client.holder, t, client.heldLeases());
      }
    },
    /** Whether another process can take the resource's only slot now. */
    async otherGets(): Promise<boolean> {
      const g = await other.acquire({ holder: 'other', runId: 'r2', stepKey: 's', resource: { name: 'pool', limit: 1 }, rates: [] }, t);
      return g.kind === 'granted';
    },
  };
}

/** The run's step asks until the client has reserved it a slot and grants it. */
async function granted(limits: LimitsService): Promise<Lease> {
  let lease: Lease | null = null;
  await waitUntil(
    () => {
      const g = limits.tryAcquire(request, 0);
      if (g.kind === 'granted') lease = g.lease;
      return lease !== null;
    },
    'the slot to be granted',
    10_000,
    1,
  );
  return lease!;
}

describe('a process renews only the shared leases its runs hold', () => {
  it('a run let go of with its step in flight (taken over elsewhere) leaves its slot to lapse', async () => {
    const w = world();
    const run = w.client.forRun(onePool, 'r1', () => undefined);
    await granted(run);
    await w.pass(10_000);
    expect(await w.otherGets()).toBe(false);
    // The run's lease moved to another process: the core halts and closes its limits, its step's
    // slot never released here (the attempt runs on, the new owner claims a slot of its own).
    run.close?.();
    expect(w.client.heldLeases()).toEqual([]);
    await w.pass(LEASE_MS);
    expect(await w.otherGets()).toBe(true);
  });

  it('a slot whose release failed lapses while the process goes on renewing', async () => {
    const w = world();
    const run = w.client.forRun(onePool, 'r1', () => undefined);
    const lease = await granted(run);
    // The step ended; the slot goes straight back to the store (handOffMs 0) — and the release fails.
    w.store.failReleases = true;
    run.release(lease);
    expect(w.client.heldLeases()).toEqual([]);
    await w.pass(LEASE_MS);
    expect(await w.otherGets()).toBe(true);
  });

  it('a grant answered after its lease lapsed is not used: another process may have taken that slot', async () => {
    const w = world();
    let otherHolds = false;
    w.store.beforeNextAnswer = async () => {
      w.silent(LEASE_MS);
      otherHolds = await w.otherGets();
    };
    const run = w.client.forRun(onePool, 'r1', () => undefined);
    expect(run.tryAcquire(request, 0).kind).toBe('held');
    await waitUntil(() => w.store.acquires >= 3, 'the late grant given back and the slot asked for again', 10_000, 1);
    expect(otherHolds).toBe(true);
    // The other process holds the only slot: this run's step waits, it does not run beside it.
    expect(run.tryAcquire(request, 0).kind).toBe('held');
    expect(w.client.heldLeases()).toEqual([]);
  });

  it('a grant whose answer was lost does not hold the only slot: the run gets it once that lease lapses', async () => {
    const w = world();
    w.store.loseNextGrant = true;
    let woken = 0;
    const run = w.client.forRun(onePool, 'r1', () => woken++);
    expect(run.tryAcquire(request, 0).kind).toBe('held');
    // The lost grant is in the store under this process's holder; the retries are held by it.
    await waitUntil(() => w.store.lost.length === 1 && !w.client.heldLeases().includes(w.store.lost[0]!), 'the lost grant', 10_000, 1);
    await w.pass(LEASE_MS);
    await granted(run);
    expect(woken).toBeGreaterThan(0);
    expect(w.client.heldLeases()).not.toContain(w.store.lost[0]);
  });
});
