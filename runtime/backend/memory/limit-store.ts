/**
 * Resource slots, rate windows and budget ledgers in this process's memory, under the contract of
 * `SharedLimitStore` (runtime/scheduler/core/limits.ts) that the databases' stores keep: leases
 * that expire unless renewed, rate hits that count for their whole window, budget leases settled
 * to what an attempt cost and kept while a run is open on their ledger. Every store of one memory
 * backend shares one `LimitData`, as stores on one database share its tables, and a release is
 * pushed to the others (`onRelease`). The calls of one turn are carried out together, releases
 * first, as the SQLite store batches them: a claim in the same turn can take a slot given back.
 */
import type { SharedClaim, SharedGrant, SharedLimitStore } from '../../scheduler/core/limits.js';
import { budgetRowIds, BUDGET_LEASE, callIds, EPSILON, heldLeaseIds, KEPT, RATE_CALLS, rateCalls } from '../budget-ledger.js';

interface Lease {
  readonly resource: string;
  readonly holder: string;
  expiresAt: number;
}

interface BudgetLease {
  readonly key: string;
  readonly owner: string;
  readonly holder: string;
  /** Null for a run's marker on its ledger (`openRun`). */
  readonly stepKey: string | null;
  amount: number;
  settled: boolean;
  closed: boolean;
  expiresAt: number;
}

/** A rate hit: pending (at the latest instant its step may start) until `started` says when it did. */
interface RateHit {
  readonly key: string;
  at: number;
  started: boolean;
}

export interface LimitData {
  readonly leases: Map<number, Lease>;
  /** Shared with the journal, whose `rateHitsSince` reads them. */
  readonly rateHits: { readonly key: string; readonly at: number }[];
  readonly budgets: Map<number, BudgetLease>;
  /** The pending rate hits (also in `rateHits`), by the id their grant's `calls` names. */
  readonly pendingHits: Map<number, RateHit>;
  nextId: number;
  /** Every store's `onRelease` listeners: a release in one reaches the others. */
  readonly listeners: Set<() => void>;
}

export function emptyLimits(rateHits: { readonly key: string; readonly at: number }[] = []): LimitData {
  return { leases: new Map(), rateHits, budgets: new Map(), pendingHits: new Map(), nextId: 1, listeners: new Set() };
}

interface Op {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class MemoryLimitStore implements SharedLimitStore {
  readonly leaseMs: number;
  private batch: Op[] = [];
  private scheduled = false;
  private closed = false;
  private readonly mine = new Set<() => void>();

  constructor(
    private readonly data: LimitData,
    opts: { readonly leaseMs?: number } = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 3000;
  }

  acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    return this.enqueue(false, () => this.acquireNow(claim, now));
  }

  release(leaseId: string): Promise<void> {
    if (RATE_CALLS.test(leaseId))
      return this.enqueue(true, () => {
        for (const id of callIds(leaseId).map(Number)) {
          const hit = this.data.pendingHits.get(id);
          if (!hit) continue;
          this.data.pendingHits.delete(id);
          this.data.rateHits.splice(this.data.rateHits.indexOf(hit), 1);
        }
      });
    return this.enqueue(true, () => {
      const ids = BUDGET_LEASE.test(leaseId) ? budgetRowIds(leaseId).map(Number) : /^\d+$/.test(leaseId) ? [Number(leaseId)] : [];
      let freed = false;
      for (const id of ids) freed = this.data.leases.delete(id) || this.data.budgets.delete(id) || freed;
      if (freed) for (const l of this.data.listeners) if (!this.mine.has(l)) l();
    });
  }

  started(calls: string, at: number): Promise<void> {
    if (!RATE_CALLS.test(calls)) return Promise.resolve();
    return this.enqueue(true, () => {
      for (const id of callIds(calls).map(Number)) {
        const hit = this.data.pendingHits.get(id);
        if (!hit) continue;
        this.data.pendingHits.delete(id);
        Object.assign(hit, { at, started: true });
      }
    });
  }

  settle(leaseId: string, actual: number): Promise<void> {
    if (!BUDGET_LEASE.test(leaseId)) return Promise.resolve();
    const amount = Number.isFinite(actual) && actual > 0 ? actual : 0;
    return this.enqueue(true, () => {
      for (const id of budgetRowIds(leaseId).map(Number)) {
        const b = this.data.budgets.get(id);
        if (b) Object.assign(b, { amount, settled: true });
      }
    });
  }

  openRun(owner: string, key: string, holder: string, now: number): Promise<void> {
    return this.enqueue(false, () => {
      this.dropIfIdle(key, now);
      this.data.budgets.set(this.data.nextId++, { key, owner, holder, stepKey: null, amount: 0, settled: true, closed: false, expiresAt: now + this.leaseMs });
    });
  }

  closeRun(owner: string, now: number): Promise<void> {
    return this.enqueue(false, () => {
      const keys = new Set<string>();
      for (const [id, b] of this.data.budgets) {
        if (b.owner !== owner) continue;
        keys.add(b.key);
        if (b.stepKey === null) this.data.budgets.delete(id);
        else Object.assign(b, { closed: true, settled: true, expiresAt: KEPT });
      }
      for (const key of keys) this.dropIfIdle(key, now);
    });
  }

  renew(holder: string, now: number, held: readonly string[]): Promise<void> {
    const { slots, budgetRows } = heldLeaseIds(held);
    const ids = new Set([...slots, ...budgetRows].map(Number));
    // Only live leases: one that expired was given to nobody yet but may be any moment.
    return this.enqueue(true, () => {
      for (const [id, l] of this.data.leases) if (ids.has(id) && l.holder === holder && l.expiresAt > now) l.expiresAt = now + this.leaseMs;
      for (const [id, b] of this.data.budgets)
        if ((b.stepKey === null || ids.has(id)) && b.holder === holder && !b.closed && b.expiresAt > now) b.expiresAt = now + this.leaseMs;
    });
  }

  onRelease(listener: () => void): () => void {
    this.data.listeners.add(listener);
    this.mine.add(listener);
    return () => {
      this.data.listeners.delete(listener);
      this.mine.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.batch.length > 0) this.runBatch();
    for (const l of this.mine) this.data.listeners.delete(l);
    this.mine.clear();
    this.closed = true;
  }

  private enqueue<T>(givesBack: boolean, fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const op: Op = { fn, resolve: resolve as (v: unknown) => void, reject };
      if (givesBack) this.batch.unshift(op);
      else this.batch.push(op);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.runBatch());
      }
    });
  }

  private runBatch(): void {
    this.scheduled = false;
    const ops = this.batch;
    this.batch = [];
    for (const op of ops) {
      if (this.closed) {
        op.reject(new Error('the limits store is closed'));
        continue;
      }
      try {
        op.resolve(op.fn());
      } catch (err) {
        op.reject(err);
      }
    }
  }

  private acquireNow(claim: SharedClaim, now: number): SharedGrant {
    this.sweep(now);
    if (claim.budgets?.length) return this.reserveBudgets(claim, now);
    const res = claim.resource;
    if (res) {
      let live = 0;
      for (const l of this.data.leases.values()) if (l.resource === res.name && l.expiresAt > now) live++;
      if (live >= res.limit) return { kind: 'held', resource: res.name };
    }
    for (const rate of claim.rates) {
      const hits = this.data.rateHits.filter((h) => h.key === rate.key && h.at > now - rate.perMs);
      // A pending hit may start any moment, or by its pending instant: it leaves a window after the earlier.
      const leaves = (h: { at: number }) => ((h as Partial<RateHit>).started === false ? Math.min(h.at, now) : h.at);
      if (hits.length >= rate.count) return { kind: 'rate_limited', key: rate.key, retryAt: Math.min(...hits.map(leaves)) + rate.perMs };
    }
    // Pending, at the latest instant their step may start (`started` moves them to its start).
    const hits = claim.rates.map((rate) => {
      const id = this.data.nextId++;
      const hit: RateHit = { key: rate.key, at: now + this.leaseMs, started: false };
      this.data.rateHits.push(hit);
      this.data.pendingHits.set(id, hit);
      return id;
    });
    const calls = hits.length > 0 ? { calls: rateCalls(hits) } : {};
    if (!res) return { kind: 'granted', leaseId: null, ...calls };
    const id = this.data.nextId++;
    this.data.leases.set(id, { resource: res.name, holder: claim.holder, expiresAt: now + this.leaseMs });
    return { kind: 'granted', leaseId: String(id), ...calls };
  }

  private reserveBudgets(claim: SharedClaim, now: number): SharedGrant {
    let held: string | null = null;
    for (const b of claim.budgets!) {
      let spent = 0;
      let reserved = 0;
      for (const l of this.data.budgets.values())
        if (l.key === b.key && l.expiresAt > now) {
          if (l.settled) spent += l.amount;
          else reserved += l.amount;
        }
      if (spent + b.amount > b.limit + EPSILON) return { kind: 'over_budget', key: b.key, spent };
      if (spent + reserved + b.amount > b.limit + EPSILON) held ??= b.key;
    }
    if (held !== null) return { kind: 'held', resource: held };
    const ids = claim.budgets!.map((b) => {
      const id = this.data.nextId++;
      this.data.budgets.set(id, { key: b.key, owner: b.owner, holder: claim.holder, stepKey: claim.stepKey, amount: b.amount, settled: false, closed: false, expiresAt: now + this.leaseMs });
      return id;
    });
    return { kind: 'granted', leaseId: `b${ids.join(',')}` };
  }

  /** No run is open on the ledger any more: what the ended ones spent leaves it. */
  private dropIfIdle(key: string, now: number): void {
    for (const b of this.data.budgets.values()) if (b.key === key && !b.closed && b.expiresAt > now) return;
    for (const [id, b] of this.data.budgets) if (b.key === key) this.data.budgets.delete(id);
  }

  /** Expired leases go; rate hits older than a day too (no window is that long in practice). */
  private sweep(now: number): void {
    for (const [id, l] of this.data.leases) if (l.expiresAt <= now) this.data.leases.delete(id);
    for (const [id, b] of this.data.budgets) if (b.expiresAt <= now) this.data.budgets.delete(id);
    const old = now - 24 * 3600_000;
    if (this.data.rateHits.length > 0 && this.data.rateHits[0]!.at < old) {
      const kept = this.data.rateHits.filter((h) => h.at >= old);
      this.data.rateHits.splice(0, this.data.rateHits.length, ...kept);
      for (const [id, h] of this.data.pendingHits) if (h.at < old) this.data.pendingHits.delete(id);
    }
  }
}
