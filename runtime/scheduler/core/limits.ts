/**
 * Concurrency slots and rate windows behind one small interface, so that limits shared across
 * runs (through the journal database) can replace the in-run bookkeeping without touching the
 * decisions. The core asks before starting a step and tells when it stopped or its item ended.
 */
import type { PlanIR, ResourceIR } from '../../../compiler/index.js';
import { capabilityMatches } from '../guardrails.js';

/** A `for each` item (`group`: the block's key in its frame). */
export interface ItemSlot {
  readonly group: string;
  readonly index: number;
  readonly parallel: number | null;
}

/** What a step start needs. `occupies`: counts toward the plan's `concurrency` and rate limits. */
export interface SlotRequest {
  /** The step instance asking (`id` or `id[i]`). */
  readonly key?: string;
  readonly occupies: boolean;
  /** The resource whose `concurrency` the step counts toward while in progress. */
  readonly resource: ResourceIR | null;
  /** A `for each … parallel N` item: items, not step instances, are limited. */
  readonly item: ItemSlot | null;
  /** The items of the `for each` blocks around the innermost one (nested blocks), outermost first. */
  readonly enclosing?: readonly ItemSlot[];
  readonly capability: string | null;
  /**
   * The shared cost ledgers (§8.2 under §7.2) the attempt reserves against, with its reservation.
   * Only a provider backed by a shared store reads them; the core checks its own run's spend itself.
   */
  readonly budgets?: readonly BudgetClaim[];
}

/**
 * One reservation against a policy's `budget cost` ledger, shared by every run of a journal:
 * `key` names the ledger (policy and budget), `owner` the run whose budget it is (a sub-plan
 * spends against its parent's), `amount` the attempt's worst case.
 */
export interface BudgetClaim {
  readonly key: string;
  readonly limit: number;
  readonly owner: string;
  readonly amount: number;
}

/** What a granted start holds until `release`. */
export interface Lease {
  readonly occupies: boolean;
  readonly resource: string | null;
  readonly rates: readonly string[];
}

export type Grant =
  | { readonly kind: 'granted'; readonly lease: Lease }
  /** The plan's `concurrency` is used up: nothing else that occupies a slot can start. */
  | { readonly kind: 'full' }
  /** Held back by its resource or its item's `parallel`: only a finishing step frees those. */
  | { readonly kind: 'held' }
  /** A rate window is full until `retryAt` (epoch ms); `window` names it. */
  | { readonly kind: 'rate_limited'; readonly window: string; readonly retryAt: number }
  /**
   * A shared budget ledger cannot fit the reservation even once every attempt in flight settles:
   * `spent` is what the runs sharing it have actually spent. The run fails `budget exceeded`.
   */
  | { readonly kind: 'over_budget'; readonly key: string; readonly spent: number };

/**
 * The core's view of the limits: synchronous, because the core is a pure `handle(event) → commands`
 * function. A service backed by shared (async) storage answers `held` while it fetches a slot in
 * the background and calls its run's `wake` once one is reserved: the driver then pumps the core,
 * which asks again and is granted the reserved slot (see `SharedLimitStore` below).
 */
export interface LimitsService {
  /**
   * Reads `SlotRequest.budgets` (a shared store's ledgers): only then does the core work out each
   * queued step's reservation when it asks (a model call's renders its prompt).
   */
  readonly sharesBudgets?: boolean;
  tryAcquire(request: SlotRequest, now: number): Grant;
  /** `spent`: what the attempt actually cost (0 if it never started), settled in shared ledgers. */
  release(lease: Lease, spent?: number): void;
  /** Every step instance of the item is terminal: it stops counting toward `parallel`. */
  itemFinished(group: string, index: number): void;
  /**
   * A resumed run's items that had begun before the interruption count toward `parallel` again,
   * before anything starts: an item counts from its first step's start until its steps all end,
   * and a fresh limits service knows nothing of the run's past.
   */
  itemsResumed(items: readonly ItemSlot[]): void;
  /** Would `request` be held back by a resource or an item slot (not by a timer)? */
  heldBack(request: SlotRequest): boolean;
  /**
   * The `for each` group whose `parallel` holds `request` back, if one does. Item slots are per
   * run and free only through `itemFinished`, so the core parks such a step until that group's
   * next `itemFinished` instead of asking again on every turn (which made wide nested fan-outs
   * quadratic). Optional: without it, held steps are asked again on every turn.
   */
  heldByItem?(request: SlotRequest): string | null;
  /**
   * `count` queued steps of this run (the one answered `held` for `request`, and those behind it
   * that the pass set aside without asking) wait for what `request` asks, after a dispatch pass.
   * Optional: a shared store's client claims that many slots in one round trip instead of one
   * per pass.
   */
  waiting?(request: SlotRequest, count: number): void;
  /**
   * The run ended (or was detached): give back whatever is reserved and not in use. A promise when
   * giving back reaches a shared store that other runs read (a budget ledger the run's spend
   * leaves): the run's result waits on it, so a run started once it is known sees the ledger
   * without that run's spend.
   */
  close?(): void | Promise<void>;
}

/**
 * Builds the `LimitsService` of each run (and each sub-plan run) of one process, so that they all
 * count against the same shared slots. `wake`: call it (any time, from any callback) when a step
 * that was answered `held` may now be granted; the driver pumps the core on the next turn.
 */
export interface LimitsProvider {
  /** `inheritedRates`: a sub-plan's, the rate limits of the runs above it (`rateRules`). */
  forRun(plan: PlanIR, runId: string, wake: () => void, inheritedRates?: readonly RateRule[]): LimitsService;
}

// ─────────────────────── limits shared across runs and processes ───────────────────────
//
// THE CONTRACT of a shared store (SQLite in the journal database: `runtime/backend/sqlite/limit-store.ts`; Postgres:
// the cluster backend). One store holds the resource slots and rate windows of every run of a
// journal, whichever process runs it.
//
// - `acquire` is ONE short transaction, all or nothing: it counts the live leases of the claim's
//   resource (expired ones do not count and may be deleted) and the hits of each rate key inside
//   its window; if every limit has room it inserts one lease (when the claim names a resource)
//   and one hit per rate key, and answers `granted` with the lease id (and `calls`, naming the
//   hits, when the claim has rates). Otherwise it changes nothing and answers `held` (resource
//   full) or `rate_limited` (with the epoch ms at which the oldest hit of that window may leave it).
// - A rate hit counts from the instant its step STARTS (the journal's `step_started`), not from
//   the grant: a grant may reach its step late, and two processes' windows counted from grants
//   overlapped (4 starts in 983 ms under `2 per 1s`). A hit is inserted PENDING, counting as if
//   it started at the latest instant it may (`now + leaseMs`); `started(calls, at)` moves it to
//   `at`, its step's start, and `release(calls)` drops it if it never started (a taken hit is
//   never dropped). A pending hit may leave a window after the earlier of `now` and its pending instant.
//   The client starts no step on a grant `leaseMs` or more after its claim, so a process that
//   died before its `started` reached the store left a pending hit that counts at least until
//   the window of the call's real start is over.
// - Leases expire: a lease is live while `expires_at > now`; `acquire` sets it to
//   `now + leaseMs`, `renew(holder, now, held)` pushes the holder's leases named in `held` (and
//   its runs' ledger markers, `openRun`) to `now + leaseMs`. The process-level client
//   (`SharedLimits`) renews every `leaseMs / 3` the leases it still holds, so a process killed
//   with `kill -9` frees its slots within `leaseMs` (default 3 s), and so does a lease the live
//   process lost track of — a release that never reached the store, a grant whose answer was
//   lost, a slot of a run taken over elsewhere: renewing every lease of the holder kept those
//   alive for as long as the process lived, and a resource's slots ran out one by one (issue #49's
//   stalled nemesis). Rate hits never expire early: a call that started counts for its whole
//   window, even if its process died.
// - `release(leaseId)` deletes the lease (or a grant's pending `calls`); releasing an unknown or
//   expired lease is not an error.
// - Wake-ups: the core never waits on the store. The client retries a `held` claim by POLLING
//   (every `pollMs`, default 100 ms), sooner when a lease of the same process is released, and a
//   `rate_limited` claim at `retryAt`. A store that can push (Postgres LISTEN/NOTIFY) may offer
//   `onRelease(listener)`: the client then also retries whenever another process releases.
// - Keys: a resource is identified by its name, a rate window by its capability pattern (as
//   written in `rate_limit`); each claim carries its own plan's numbers (`limit`, `count`, `perMs`).
// - Clocks: `now` is the caller's wall clock (epoch ms); stores must not mix in their own.
// - Errors: a rejected promise means "not granted this time"; the client retries at the next poll
//   and never fails a step because the store was briefly unavailable.
// - Budgets (§8.2 under §7.2): a claim with `budgets` (and no resource or rates: the client makes
//   it on its own, before the step's slots) is one budget lease per ledger, holding `amount`. Per
//   ledger key, over live leases: `spent` = settled amounts, `reserved` = unsettled ones. If
//   `spent + amount > limit` the claim is `over_budget` (nothing in flight can make room); else if
//   `spent + reserved + amount > limit` it is `held` (`resource`: the ledger key) and retried like
//   a resource claim, since a reservation in flight may settle lower; else every lease is inserted
//   and the claim `granted`. `settle(leaseId, actual)` replaces the amounts with the attempt's
//   actual cost and marks them settled (the lease is released, the spend stays); `release` of a
//   budget lease drops it (the attempt never started). Budget leases are renewed with the holder's
//   other leases. A run whose policy has the budget opens its ledger (`openRun`: a marker lease,
//   renewed like the others) and closes it when it ends (`closeRun`): its leases are kept, settled
//   and no longer expiring, until no run is open on the ledger any more — then the ledger is
//   emptied (by that `closeRun`, or by the next `openRun` when the last open run's process died
//   and its marker expired). So runs that overlap share one budget, even when one ends first, and
//   a run started once the others have all ended has the whole budget again.

/** What one step start needs from the shared store. */
export interface SharedClaim {
  /** The process-level owner of the lease (renewed together by `renew`). */
  readonly holder: string;
  readonly runId: string;
  /** The step instance key (`id` or `id[i]`), for diagnostics and `orch runs` views. */
  readonly stepKey: string;
  readonly resource: { readonly name: string; readonly limit: number } | null;
  readonly rates: readonly { readonly key: string; readonly count: number; readonly perMs: number }[];
  /** Budget ledgers to reserve against (a claim carries either these or a resource and rates). */
  readonly budgets?: readonly BudgetClaim[];
}

/** The shared ledger of a policy's `budget cost`. */
export function budgetLedger(policy: string): string {
  return `${policy}/budget cost`;
}

export type SharedGrant =
  /** `calls`: the grant's pending rate hits, when the claim has rates (`started`, `release`). */
  | { readonly kind: 'granted'; readonly leaseId: string | null; readonly calls?: string }
  | { readonly kind: 'held'; readonly resource: string }
  | { readonly kind: 'rate_limited'; readonly key: string; readonly retryAt: number }
  | { readonly kind: 'over_budget'; readonly key: string; readonly spent: number };

export interface SharedLimitStore {
  /** How long a lease lives without a renewal (ms). */
  readonly leaseMs: number;
  acquire(claim: SharedClaim, now: number): Promise<SharedGrant>;
  release(leaseId: string): Promise<void>;
  /** The grant's rate hits (`calls`) were made at `at`: their step started then (see the contract above). */
  started(calls: string, at: number): Promise<void>;
  /** `held`: the ids of the leases `holder` still holds (the others of its are left to lapse). */
  renew(holder: string, now: number, held: readonly string[]): Promise<void>;
  /** Budget leases: the attempt ended having spent `actual` (see the contract above). */
  settle(leaseId: string, actual: number): Promise<void>;
  /** The run `owner` starts under ledger `key` (see the contract above). */
  openRun(owner: string, key: string, holder: string, now: number): Promise<void>;
  /** The run `owner` ended: its spend stays in its ledgers until none has an open run. */
  closeRun(owner: string, now: number): Promise<void>;
  /** Optional push wake-up; returns an unsubscribe function. */
  onRelease?(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Resource loads and rate windows kept in memory. One per run by default; a process shares one
 * among all its runs (`InProcessLimits`) so that they count against the same slots.
 */
export class LimitCounters {
  readonly resourceLoad = new Map<string, number>();
  readonly windows = new Map<string, number[]>();
  /** Called when a resource slot is given back (runs held back by it may start now). */
  onRelease: (() => void) | null = null;
}

export interface InRunLimitsOptions {
  /** Shared with other runs; by default this run's own. */
  readonly counters?: LimitCounters;
  /** Resources and rate windows are kept elsewhere (a shared store): count only the plan's own. */
  readonly planOnly?: boolean;
  /** A sub-plan's: the rate limits of the runs above it (`rateRules`). */
  readonly inheritedRates?: readonly RateRule[];
}

/**
 * The window a `rate_limit` counts calls in: one per policy and capability pattern, so the calls
 * of every run under that policy count together (LANGUAGE.md §7.2), and another policy limiting
 * the same capability keeps its own count.
 */
export function rateWindow(policy: string, capability: string): string {
  return `${policy}/${capability}`;
}

/** A `rate_limit` with the policy whose window it counts in. */
export interface RateRule {
  readonly policy: string;
  readonly capability: string;
  readonly count: number;
  readonly per_ms: number;
}

/**
 * The rate limits a run's calls count against: its own policy's and, for a sub-plan, those of every
 * run above it. A sub-plan's calls are made for its parent, under the parent's policy, as its
 * budgets and guardrails are (§7.2): without this a parent's `rate_limit` would not count a call
 * made one `run` deeper. Each window once, so a sub-plan under its parent's own policy counts once.
 */
export function rateRules(plan: PlanIR, inherited: readonly RateRule[] = []): RateRule[] {
  const policy = plan.policy?.name ?? '';
  const rules = [...(plan.policy?.rate_limits ?? []).map((rl) => ({ policy, ...rl })), ...inherited];
  const seen = new Set<string>();
  return rules.filter((r) => {
    const key = rateWindow(r.policy, r.capability);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The limits of one run, kept in memory: the plan's `concurrency` and `parallel` always per run. */
export class InRunLimits implements LimitsService {
  private load = 0;
  private readonly itemsInFlight = new Map<string, Set<number>>();
  private readonly counters: LimitCounters;
  private readonly planOnly: boolean;
  private readonly planLimit: number;
  private readonly rateLimits: readonly RateRule[];

  constructor(plan: PlanIR, opts: InRunLimitsOptions = {}) {
    this.planLimit = plan.concurrency ?? Infinity;
    this.rateLimits = rateRules(plan, opts.inheritedRates);
    this.counters = opts.counters ?? new LimitCounters();
    this.planOnly = opts.planOnly ?? false;
  }

  heldBack(r: SlotRequest): boolean {
    const res = r.resource;
    if (!this.planOnly && res && res.concurrency !== null && (this.counters.resourceLoad.get(res.name) ?? 0) >= res.concurrency) return true;
    for (const item of itemSlots(r)) {
      if (item.parallel === null) continue;
      const items = this.itemsInFlight.get(item.group);
      if (items && !items.has(item.index) && items.size >= item.parallel) return true;
    }
    return false;
  }

  heldByItem(r: SlotRequest): string | null {
    for (const item of itemSlots(r)) {
      if (item.parallel === null) continue;
      const items = this.itemsInFlight.get(item.group);
      if (items && !items.has(item.index) && items.size >= item.parallel) return item.group;
    }
    return null;
  }

  /** Would `tryAcquire` grant, leaving everything unchanged? (`granted` here carries no lease use.) */
  wouldGrant(r: SlotRequest): 'full' | 'held' | 'ok' {
    if (r.occupies && this.load >= this.planLimit) return 'full';
    if (this.heldBack(r)) return 'held';
    return 'ok';
  }

  tryAcquire(r: SlotRequest, now: number): Grant {
    if (r.occupies && this.load >= this.planLimit) return { kind: 'full' };
    if (this.heldBack(r)) return { kind: 'held' };
    const rates: string[] = [];
    if (!this.planOnly && r.occupies && r.capability !== null)
      for (const rl of this.rateLimits) {
        if (!capabilityMatches(rl.capability, r.capability)) continue;
        const key = rateWindow(rl.policy, rl.capability);
        const win = this.window(key, rl.per_ms, now);
        if (win.length >= rl.count) return { kind: 'rate_limited', window: key, retryAt: win[0]! + rl.per_ms };
        rates.push(key);
      }
    const counted = !this.planOnly && r.resource ? r.resource.name : null;
    if (counted !== null) this.counters.resourceLoad.set(counted, (this.counters.resourceLoad.get(counted) ?? 0) + 1);
    this.itemsResumed(itemSlots(r));
    if (r.occupies) {
      this.load++;
      for (const name of rates) this.counters.windows.get(name)!.push(now);
    }
    return { kind: 'granted', lease: { occupies: r.occupies, resource: counted, rates } };
  }

  release(lease: Lease): void {
    if (lease.resource !== null) {
      this.counters.resourceLoad.set(lease.resource, (this.counters.resourceLoad.get(lease.resource) ?? 1) - 1);
      this.counters.onRelease?.();
    }
    if (lease.occupies) this.load--;
  }

  itemFinished(group: string, index: number): void {
    this.itemsInFlight.get(group)?.delete(index);
  }

  itemsResumed(slots: readonly ItemSlot[]): void {
    for (const item of slots) {
      const items = this.itemsInFlight.get(item.group);
      if (items) items.add(item.index);
      else this.itemsInFlight.set(item.group, new Set([item.index]));
    }
  }

  private window(name: string, perMs: number, now: number): number[] {
    const win = (this.counters.windows.get(name) ?? []).filter((t) => t > now - perMs);
    this.counters.windows.set(name, win);
    return win;
  }
}

/**
 * The runs of one process (and their sub-plans) sharing resource slots and rate windows in
 * memory: `orch verify --concurrent-runs`, and runtimes without a journal. Synchronous, so a
 * virtual-clock run stays deterministic. A run held back by another's slot is woken when it frees.
 */
export class InProcessLimits implements LimitsProvider {
  private readonly counters = new LimitCounters();
  private readonly waiting = new Set<() => void>();

  constructor() {
    this.counters.onRelease = () => {
      for (const wake of this.waiting) wake();
    };
  }

  forRun(plan: PlanIR, _runId: string, wake: () => void, inheritedRates?: readonly RateRule[]): LimitsService {
    const inner = new InRunLimits(plan, { counters: this.counters, ...(inheritedRates ? { inheritedRates } : {}) });
    const waiting = this.waiting;
    waiting.add(wake);
    return {
      tryAcquire: (r, now) => inner.tryAcquire(r, now),
      release: (l) => inner.release(l),
      itemFinished: (g, i) => inner.itemFinished(g, i),
      itemsResumed: (items) => inner.itemsResumed(items),
      heldBack: (r) => inner.heldBack(r),
      heldByItem: (r) => inner.heldByItem(r),
      close: () => void waiting.delete(wake),
    };
  }
}

/** Every item slot a request needs: the enclosing items and its own. */
export function itemSlots(r: SlotRequest): readonly ItemSlot[] {
  if (!r.enclosing?.length) return r.item ? [r.item] : [];
  return r.item ? [...r.enclosing, r.item] : r.enclosing;
}
