/**
 * The process-level client of a `SharedLimitStore`: builds each run's `LimitsService` (sub-plans
 * included), renews this process's leases while any run is open, and retries claims that were
 * held (poll, a local release, or the store's push) or rate limited (at the window's end).
 *
 * The core stays synchronous: a step whose resource or rate window lives in the store is answered
 * `held` (it stays `queued`) while the claim is in flight; once the store grants it, the slot is
 * reserved for this run and the run is woken, and the next pump hands it to the first step that
 * asks for the same resource and windows. The core says how many of the run's queued steps wait
 * for the same resource after each pass (`waiting`): a slot is claimed for each in that turn, so a
 * layer of steps costs one round trip and one pump, not one of each per step.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { PlanIR } from '../../compiler/index.js';
import { InRunLimits, budgetLedger, rateRules, rateWindow, type Grant, type RateRule, type ItemSlot, type Lease, type LimitsProvider, type LimitsService, type SharedClaim, type SharedLimitStore, type SlotRequest } from '../scheduler/index.js';
import { capabilityMatches } from '../scheduler/guardrails.js';

export interface SharedLimitsOptions {
  /** How often a held claim is asked again (ms). */
  readonly pollMs?: number;
  /** A reserved slot no step took within this long is given back (its step was cancelled …). */
  readonly unclaimedMs?: number;
  /**
   * For how long after the store granted a slot a step of the same run that waits for the same
   * resource may take it over when it is released, without a round trip to the store (ms). Past
   * that the slot goes back to the store, where every process competes for it again.
   */
  readonly handOffMs?: number;
  readonly now?: () => number;
}

export class SharedLimits implements LimitsProvider {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly pollMs: number;
  readonly unclaimedMs: number;
  readonly handOffMs: number;
  readonly now: () => number;
  private readonly runs = new Set<SharedRunLimits>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly store: SharedLimitStore,
    opts: SharedLimitsOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 100;
    this.unclaimedMs = opts.unclaimedMs ?? 1000;
    this.handOffMs = opts.handOffMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Hears the store's releases from now on (`onRelease`), from the first claim that may have to
   * wait — not before: on Postgres it is a LISTEN, and every listening connection of a database
   * is woken, and reads the notification queue in a transaction of its own, for every NOTIFY of
   * that database on any channel (a cluster's every dispatch and result). A release before it
   * listens is found by the client's polling.
   */
  listen(): void {
    this.unsubscribe ??= this.store.onRelease?.(() => this.released()) ?? null;
  }

  forRun(plan: PlanIR, runId: string, wake: () => void, inheritedRates?: readonly RateRule[]): LimitsService {
    const run = new SharedRunLimits(this, plan, runId, wake, inheritedRates);
    this.runs.add(run);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        this.store.renew(this.holder, this.now(), this.heldLeases()).catch(() => undefined);
      }, Math.max(10, Math.floor(this.store.leaseMs / 3)));
      this.heartbeat.unref();
    }
    return run;
  }

  /**
   * The leases this process's runs hold, the only ones it renews. One it let go of is renewed no
   * more, whether or not the store heard the release: a release lost to a broken connection, a
   * grant whose answer never came, a slot of a run that ended or was taken over elsewhere — each
   * lapses within `leaseMs` instead of being kept alive, unused, for as long as this process lives.
   */
  heldLeases(): string[] {
    return [...this.runs].flatMap((r) => r.heldLeases());
  }

  /** A slot was given back somewhere: every held claim of this process asks again now. */
  released(): void {
    for (const r of this.runs) r.retryHeld();
  }

  closed(run: SharedRunLimits): void {
    this.runs.delete(run);
    if (this.runs.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  async close(): Promise<void> {
    for (const r of [...this.runs]) r.close();
    this.unsubscribe?.();
    await this.store.close();
  }
}

/**
 * One need (a resource, the rate windows a capability falls under) of one run: every step asking
 * for the same resource and windows shares its reserved slots and its claims. Worked out once per
 * resource and capability, not per ask: the core asks for each queued step on every pass.
 */
interface Need {
  readonly key: string;
  readonly resource: SharedClaim['resource'];
  readonly rates: SharedClaim['rates'];
  /** Slots the store granted this run that no step took yet, oldest first. */
  readonly reserved: Slot[];
  /** Claims in flight or waiting to be retried; at most the need's limit at a time. */
  readonly pending: Set<Pending>;
  /** Reusable slots in use by this run's steps. */
  inUse: number;
}

/**
 * A slot taken from the store: `since`, when the store granted it (hand-overs keep it). One
 * object from the grant to the give-back: reserved, then on the lease of the step that took it
 * (its ticket), then reserved again when handed over — a busy run allocates nothing per step for it.
 * Only a resource's slots are handed over: every call under a rate limit is a new hit.
 */
interface Slot {
  readonly leaseId: string | null;
  /**
   * The grant's rate hits, pending in the store until the step that takes the slot starts
   * (`started`), given back with the slot if none does.
   */
  readonly calls: string | null;
  readonly need: Need;
  readonly since: number;
  /** Given back if no step took it by then (`sweep`). */
  until: number;
}

/**
 * What this service grants: the core keeps it and hands it back to `release`, so the store lease
 * and the budget reservation behind it ride on it (no side table to look them up in per step).
 * Cleared on release: a second release gives nothing back twice.
 */
interface SharedLease extends Lease {
  /** The store slot behind the lease (one with a lease id). */
  ticket: Slot | null;
  budgetLease: string | null;
}

/**
 * How long a released slot waits for a step of its run before it goes back to the store: the
 * run's next turn (which follows the release within a millisecond or two) takes it if anything
 * waits for it.
 */
const HANDED_OVER_MS = 20;

const HELD: Grant = Object.freeze({ kind: 'held' });

interface Pending {
  readonly claim: SharedClaim;
  readonly need: Need;
  inFlight: boolean;
  /** Waiting for a resource slot (retried by poll and releases), not for a rate window. */
  held: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

/** A step's reservation in the shared budget ledgers, from its first ask to its start. */
interface BudgetWait {
  readonly claim: SharedClaim;
  state:
    | { readonly kind: 'asking' }
    | { readonly kind: 'waiting' }
    | { readonly kind: 'granted'; readonly leaseId: string }
    | { readonly kind: 'refused'; readonly key: string; readonly spent: number };
  timer: ReturnType<typeof setTimeout> | null;
  /** When the core last asked for it: one it stopped asking about (its step was cancelled …) is dropped. */
  asked: number;
}

/** One run's limits: the plan's own `concurrency`/`parallel` in memory, resources and rates in the store. */
class SharedRunLimits implements LimitsService {
  readonly sharesBudgets = true;
  private readonly inner: InRunLimits;
  private readonly rateLimits: readonly RateRule[];
  private readonly policy: string;
  /** Each need by its key (two capabilities under the same rate windows share one). */
  private readonly byKey = new Map<string, Need>();
  /** The need of a resource name (`''`: none) and a capability (`null`: not occupying), once worked out. */
  private readonly needs = new Map<string, Map<string | null, Need | null>>();
  /**
   * One timer for every reserved slot of the run, due at the earliest `until`: a busy run reserves
   * a slot on every release (a hand-over), and a timer armed and cleared per step cost more than
   * the hand-over saves.
   */
  private sweepTimer: ReturnType<typeof setTimeout> | null = null;
  private sweepAt = Infinity;
  /**
   * Shared budget ledgers (§8.2 under §7.2), per step instance: a reservation is the step's own
   * (its amount is its attempt's worst case), so it is claimed for that step and never handed over.
   */
  private readonly budgets = new Map<string, BudgetWait>();
  /**
   * Every store lease this run holds and has not let go of (slots reserved or in use, budget
   * reservations and their settled spend): what the process renews (`SharedLimits.heldLeases`).
   */
  private readonly leases = new Set<string>();
  /** The ledger this run opened (its policy's blocking budget), and when the store has it open. */
  private readonly ownLedger: string | null;
  private readonly opened: Promise<void>;
  private isClosed = false;

  constructor(
    private readonly client: SharedLimits,
    plan: PlanIR,
    private readonly runId: string,
    private readonly wake: () => void,
    inheritedRates?: readonly RateRule[],
  ) {
    this.inner = new InRunLimits(plan, { planOnly: true });
    this.rateLimits = rateRules(plan, inheritedRates);
    this.policy = plan.policy?.name ?? '';
    const b = plan.policy?.budgets;
    this.ownLedger = b !== undefined && b.cost !== null && b.cost_warn !== true ? budgetLedger(this.policy) : null;
    // Claims wait for it (a Postgres store may run two calls in any order); a failure opens nothing.
    this.opened =
      this.ownLedger !== null ? client.store.openRun(runId, this.ownLedger, client.holder, client.now()).catch(() => undefined) : Promise.resolve();
  }

  tryAcquire(r: SlotRequest, now: number): Grant {
    const need = this.need(r);
    if (!need && !r.budgets?.length) return this.inner.tryAcquire(r, now);
    // The budget first: a step that may not spend takes no slot another could use meanwhile.
    let budgetLease: string | null = null;
    if (r.budgets?.length) {
      const local = this.inner.wouldGrant(r);
      if (local !== 'ok') return local === 'held' ? HELD : { kind: local };
      const b = this.budget(r);
      if (b.kind !== 'granted') return b.kind === 'refused' ? b.grant : HELD;
      budgetLease = b.leaseId;
    }
    if (!need) return this.granted(r, this.inner.tryAcquire(r, now), null, budgetLease);
    let slot = need.reserved[0];
    // A grant whose calls are pending past the latest start the store counts them at is never used.
    while (slot !== undefined && slot.calls !== null && slot.until <= this.client.now()) {
      need.reserved.shift();
      this.giveBackSlot(slot);
      slot = need.reserved[0];
    }
    if (slot === undefined) {
      // Claimed only for a step the plan's own limits (its concurrency, `for each … parallel`) let start.
      const local = budgetLease === null ? this.inner.wouldGrant(r) : 'ok';
      if (local !== 'ok') return local === 'held' ? HELD : { kind: local };
      this.request(need, r.key ?? '');
      return HELD;
    }
    // The plan's own limits say no: the slot stays this run's for the next ask.
    const grant = this.inner.tryAcquire(r, now);
    if (grant.kind !== 'granted') return grant;
    need.reserved.shift();
    // The store counts the calls from now on, the instant the journal's `step_started` records.
    if (slot.calls !== null) this.client.store.started(slot.calls, now).catch(() => undefined);
    let ticket: Slot | null = null;
    if (slot.leaseId !== null) {
      ticket = slot;
      if (need.rates.length === 0) need.inUse++;
    }
    return this.granted(r, grant, ticket, budgetLease);
  }

  /**
   * The core's lease, with the store lease and the budget reservation behind it (settled on
   * `release`). A fresh object: the in-run one may be a shared constant.
   */
  private granted(r: SlotRequest, grant: Grant, ticket: Slot | null, budgetLease: string | null): Grant {
    if (grant.kind !== 'granted') return grant;
    if (budgetLease !== null) {
      const w = this.budgets.get(r.key ?? '');
      if (w?.timer) clearTimeout(w.timer);
      this.budgets.delete(r.key ?? '');
    }
    if (ticket === null && budgetLease === null) return grant;
    const { occupies, resource, rates } = grant.lease;
    const lease: SharedLease = { occupies, resource, rates, ticket, budgetLease };
    return { kind: 'granted', lease };
  }

  /** The step's reservation in the shared ledgers: claimed once, then held until its start. */
  private budget(r: SlotRequest): { kind: 'granted'; leaseId: string } | { kind: 'waiting' } | { kind: 'refused'; grant: Grant } {
    const key = r.key ?? '';
    const w = this.budgets.get(key);
    if (w) w.asked = this.client.now();
    if (w?.state.kind === 'granted') return { kind: 'granted', leaseId: w.state.leaseId };
    if (w?.state.kind === 'refused') {
      this.budgets.delete(key);
      return { kind: 'refused', grant: { kind: 'over_budget', key: w.state.key, spent: w.state.spent } };
    }
    if (!w && !this.isClosed) {
      this.client.listen();
      const wait: BudgetWait = {
        claim: { holder: this.client.holder, runId: this.runId, stepKey: key, resource: null, rates: [], budgets: r.budgets },
        state: { kind: 'asking' },
        timer: null,
        asked: this.client.now(),
      };
      this.budgets.set(key, wait);
      this.askBudget(key, wait);
    }
    return { kind: 'waiting' };
  }

  private askBudget(key: string, w: BudgetWait): void {
    w.state = { kind: 'asking' };
    let at = 0;
    this.opened.then(() => this.client.store.acquire(w.claim, (at = this.client.now()))).then(
      (g) => {
        if (this.isClosed || this.budgets.get(key) !== w) {
          if (g.kind === 'granted' && g.leaseId !== null) this.giveBack(g.leaseId);
          return;
        }
        if (g.kind === 'granted' && g.leaseId !== null && this.answeredLate(at)) {
          this.giveBack(g.leaseId);
          return this.askBudget(key, w);
        }
        if (g.kind === 'granted' && g.leaseId !== null) {
          this.leases.add(g.leaseId);
          w.state = { kind: 'granted', leaseId: g.leaseId };
          w.timer = setTimeout(() => this.untaken(key, w), this.client.unclaimedMs);
          this.wake();
        } else if (g.kind === 'over_budget') {
          w.state = { kind: 'refused', key: g.key, spent: g.spent };
          this.wake();
        } else this.budgetLater(key, w);
      },
      () => {
        if (!this.isClosed && this.budgets.get(key) === w) this.budgetLater(key, w);
      },
    );
  }

  /** Held by reservations in flight: asked again at the next poll, or sooner when one settles. */
  private budgetLater(key: string, w: BudgetWait): void {
    w.state = { kind: 'waiting' };
    w.timer = setTimeout(() => {
      w.timer = null;
      if (this.isClosed || this.budgets.get(key) !== w || w.state.kind !== 'waiting') return;
      if (this.client.now() - w.asked > this.client.unclaimedMs) return this.untaken(key, w);
      this.askBudget(key, w);
    }, this.client.pollMs);
  }

  /**
   * A reservation (or a wait for one) the core has not asked about for `unclaimedMs`: its step may
   * be gone (cancelled, a race's loser). It is given back, and the run woken: a step still queued
   * asks again.
   */
  private untaken(key: string, w: BudgetWait): void {
    if (this.isClosed || this.budgets.get(key) !== w) return;
    if (w.state.kind === 'granted' && this.client.now() - w.asked <= this.client.unclaimedMs) {
      w.timer = setTimeout(() => this.untaken(key, w), this.client.unclaimedMs);
      return;
    }
    if (w.timer) clearTimeout(w.timer);
    this.budgets.delete(key);
    if (w.state.kind === 'granted') this.giveBack(w.state.leaseId);
    this.wake();
  }

  release(lease: Lease, spent = 0): void {
    const held = lease as Partial<SharedLease>;
    const budgetLease = held.budgetLease ?? null;
    if (budgetLease !== null) {
      held.budgetLease = null;
      this.client.store.settle(budgetLease, spent).then(
        () => this.client.released(),
        () => undefined, // it expires with this holder's leases
      );
    }
    this.inner.release(lease);
    const ticket = held.ticket ?? null;
    if (ticket === null) return;
    held.ticket = null;
    if (ticket.need.rates.length === 0) ticket.need.inUse--;
    if (!this.handOver(ticket)) this.giveBack(ticket.leaseId!);
  }

  /**
   * A released slot stays this run's while it is young: the store sees no change (the lease stays
   * this holder's), and a step of the run that waits for the same resource takes it on the turn
   * that follows, so a busy run on a limited resource costs the store one claim per slot and
   * `handOffMs`, not a claim and a release per step. A slot no step takes goes back at once.
   */
  private handOver(t: Slot): boolean {
    if (t.need.rates.length > 0 || this.isClosed) return false;
    const now = this.client.now();
    if (now - t.since >= this.client.handOffMs) return false;
    // Demand this slot answers needs no claim of its own any more.
    for (const p of t.need.pending)
      if (!p.inFlight) {
        t.need.pending.delete(p);
        if (p.timer) clearTimeout(p.timer);
        break;
      }
    // No wake: the core releases inside its own pump and dispatches after it, in the same turn.
    // Still among `leases` (since its grant): only the time it may wait changes.
    this.keep(t, now + HANDED_OVER_MS);
    return true;
  }

  /**
   * A slot the store granted: reserved for the run's next step that asks. One with rate calls is
   * taken before half a lease from its claim: the store counts them pending until a whole lease
   * from it, and a step started later than that (its `started` lost) would count from too early.
   */
  private reserve(need: Need, leaseId: string | null, calls: string | null, since: number): void {
    if (leaseId !== null) this.leases.add(leaseId);
    const until = this.client.now() + this.client.unclaimedMs;
    this.keep({ leaseId, calls, need, since, until: 0 }, calls === null ? until : Math.min(until, since + this.client.store.leaseMs / 2));
  }

  private keep(slot: Slot, until: number): void {
    slot.until = until;
    slot.need.reserved.push(slot);
    if (until < this.sweepAt) this.armSweep(until);
  }

  private armSweep(until: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = until;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(1, until - this.client.now()));
  }

  /** Reserved slots no step took in time go back to the store (their steps were cancelled …). */
  private sweep(): void {
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    if (this.isClosed) return;
    const now = this.client.now();
    let next = Infinity;
    for (const need of this.byKey.values()) {
      const list = need.reserved;
      let kept = 0;
      for (const slot of list) {
        if (slot.until > now) {
          list[kept++] = slot;
          next = Math.min(next, slot.until);
        } else this.giveBackSlot(slot);
      }
      list.length = kept;
    }
    if (next < Infinity) this.armSweep(next);
  }

  heldByItem(r: SlotRequest): string | null {
    return this.inner.heldByItem(r);
  }

  itemFinished(group: string, index: number): void {
    this.inner.itemFinished(group, index);
  }

  itemsResumed(items: readonly ItemSlot[]): void {
    this.inner.itemsResumed(items);
  }

  heldBack(r: SlotRequest): boolean {
    if (this.inner.heldBack(r)) return true;
    const b = r.key !== undefined ? this.budgets.get(r.key) : undefined;
    if (b && b.state.kind !== 'granted' && b.state.kind !== 'refused') return true;
    const need = this.need(r);
    if (need === null || need.reserved.length > 0) return false;
    for (const p of need.pending) if (p.held) return true;
    return false;
  }

  close(): Promise<void> | undefined {
    if (this.isClosed) return undefined;
    this.isClosed = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    for (const need of this.byKey.values()) {
      for (const p of need.pending) if (p.timer) clearTimeout(p.timer);
      need.pending.clear();
      for (const s of need.reserved) this.giveBackSlot(s);
      need.reserved.length = 0;
    }
    for (const w of this.budgets.values()) {
      if (w.timer) clearTimeout(w.timer);
      if (w.state.kind === 'granted') this.giveBack(w.state.leaseId);
    }
    this.budgets.clear();
    // Slots still in use (steps in flight when the run was let go) lapse within leaseMs: a run
    // taken over by another process claims its own for them.
    this.leases.clear();
    let ledgerLeft: Promise<void> | undefined;
    if (this.ownLedger !== null) {
      const close = () => this.client.store.closeRun(this.runId, this.client.now());
      ledgerLeft = this.opened.then(close).then(() => this.client.released(), () => undefined);
    }
    this.client.closed(this);
    return ledgerLeft;
  }

  heldLeases(): readonly string[] {
    return [...this.leases];
  }

  /** Asks a held claim again right away (a slot was released). */
  retryHeld(): void {
    for (const [key, w] of this.budgets)
      if (w.state.kind === 'waiting') {
        if (w.timer) clearTimeout(w.timer);
        w.timer = null;
        this.askBudget(key, w);
      }
    for (const need of this.byKey.values())
      for (const p of need.pending)
        if (p.held && !p.inFlight) {
          if (p.timer) clearTimeout(p.timer);
          p.timer = null;
          this.attempt(p);
        }
  }

  private need(r: SlotRequest): Need | null {
    const res = r.resource && r.resource.concurrency !== null ? r.resource : null;
    const capability = r.occupies ? r.capability : null;
    let byCapability = this.needs.get(res?.name ?? '');
    if (!byCapability) this.needs.set(res?.name ?? '', (byCapability = new Map()));
    const known = byCapability.get(capability);
    // A resource is one per name in a plan; a request naming it with another limit is not cached.
    if (known !== undefined && (known === null ? res === null : known.resource?.limit === (res?.concurrency ?? undefined))) return known;
    const need = this.workOutNeed(res, capability);
    if (known === undefined) byCapability.set(capability, need);
    return need;
  }

  private workOutNeed(res: SlotRequest['resource'], capability: string | null): Need | null {
    const resource = res && res.concurrency !== null ? { name: res.name, limit: res.concurrency } : null;
    const rates: { key: string; count: number; perMs: number }[] = [];
    if (capability !== null)
      for (const rl of this.rateLimits)
        if (capabilityMatches(rl.capability, capability)) rates.push({ key: rateWindow(rl.policy, rl.capability), count: rl.count, perMs: rl.per_ms });
    if (!resource && rates.length === 0) return null;
    const key = `${resource?.name ?? ''}\u0000${rates.map((x) => x.key).join('\u0000')}`;
    let need = this.byKey.get(key);
    if (!need) this.byKey.set(key, (need = { key, resource, rates, reserved: [], pending: new Set(), inUse: 0 }));
    return need;
  }

  /**
   * `count` steps wait for `r`'s need after a pass of the core (which asked only the first of
   * them): claim a slot for each that no claim in flight covers yet, in the same turn — the store
   * answers them in one round trip (on SQLite, inside the turn's journal commit), and one pump
   * then starts them all, instead of one claim, one commit and one pump per step. Rate windows are
   * claimed one at a time as before: a granted call holds its place in the window until its step
   * starts or it is given back.
   */
  waiting(r: SlotRequest, count: number): void {
    const need = this.need(r);
    if (need === null || need.rates.length > 0 || this.isClosed) return;
    // Held for its budget reservation, not a slot: it takes no slot another could use meanwhile.
    if (r.budgets?.length && this.budgets.get(r.key ?? '')?.state.kind !== 'granted') return;
    const wanted = Math.min(count - need.pending.size - need.reserved.length, this.room(need));
    for (let i = 0; i < wanted; i++) this.claim(need, r.key ?? '');
  }

  /**
   * Claims the need may still make: its limit, less the slots this run holds or asks for already.
   * Slots this run holds on a resource come back to it when released (`handOver`): they count as
   * claims already made, so a run using all of a resource's slots asks the store for none.
   */
  private room(need: Need): number {
    const cap = need.resource?.limit ?? Math.min(...need.rates.map((x) => x.count));
    const held = need.rates.length === 0 ? need.inUse : 0;
    return Math.max(1, cap) - (need.pending.size + need.reserved.length + held);
  }

  /**
   * A step found no reserved slot. A resource's claims follow the steps the core says wait
   * (`waiting`), so one is made here only when none is in flight (a core that does not say);
   * a rate window's, one more per ask, up to its count.
   */
  private request(need: Need, stepKey: string): void {
    if (this.isClosed || this.room(need) <= 0) return;
    if (need.rates.length === 0 && need.pending.size > 0) return;
    this.claim(need, stepKey);
  }

  private claim(need: Need, stepKey: string): void {
    this.client.listen();
    const p: Pending = {
      claim: { holder: this.client.holder, runId: this.runId, stepKey, resource: need.resource, rates: need.rates },
      need,
      inFlight: false,
      held: false,
      timer: null,
    };
    need.pending.add(p);
    this.attempt(p);
  }

  private attempt(p: Pending): void {
    p.inFlight = true;
    const at = this.client.now();
    this.client.store.acquire(p.claim, at).then(
      (g) => {
        p.inFlight = false;
        if (this.isClosed || !p.need.pending.has(p)) {
          if (g.kind === 'granted') this.giveBackGrant(g);
          return;
        }
        if (g.kind === 'granted' && this.answeredLate(at)) {
          // Its lease lapsed (or is about to) before this process could renew it, and another
          // process may count that slot free already: given back and asked for again.
          this.giveBackGrant(g);
          this.attempt(p);
        } else if (g.kind === 'granted') {
          p.need.pending.delete(p);
          this.reserve(p.need, g.leaseId, g.calls ?? null, at);
          this.wake();
        } else if (g.kind === 'held') {
          p.held = true;
          p.timer = setTimeout(() => this.attempt(p), this.client.pollMs);
        } else if (g.kind === 'rate_limited') {
          p.held = false;
          p.timer = setTimeout(() => this.attempt(p), Math.max(1, g.retryAt - this.client.now()));
        } else {
          // Only a budget claim is answered over_budget, and those are not made here.
          p.held = true;
          p.timer = setTimeout(() => this.attempt(p), this.client.pollMs);
        }
      },
      () => {
        // The store was unavailable: not granted this time, ask again at the next poll.
        p.inFlight = false;
        if (!this.isClosed && p.need.pending.has(p)) p.timer = setTimeout(() => this.attempt(p), this.client.pollMs);
      },
    );
  }

  /**
   * A grant whose answer took so long that its lease (counted by the store from `at`) would lapse
   * before this process's next renewal reaches the store: half the lease is the margin the renewal
   * every third of it leaves.
   */
  private answeredLate(at: number): boolean {
    return this.client.now() - at >= this.client.store.leaseMs / 2;
  }

  /** A granted claim no step will take: its lease and its pending calls go back. */
  private giveBackGrant(g: { readonly leaseId: string | null; readonly calls?: string }): void {
    if (g.leaseId !== null) this.giveBack(g.leaseId);
    if (g.calls !== undefined) this.giveBack(g.calls);
  }

  private giveBackSlot(slot: Slot): void {
    this.giveBackGrant({ leaseId: slot.leaseId, ...(slot.calls !== null ? { calls: slot.calls } : {}) });
  }

  private giveBack(leaseId: string): void {
    this.leases.delete(leaseId);
    this.client.store.release(leaseId).then(
      () => this.client.released(),
      () => undefined, // not renewed any more: it lapses within leaseMs
    );
  }
}
