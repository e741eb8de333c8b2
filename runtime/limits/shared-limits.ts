/**
 * The process-level client of a `SharedLimitStore`: builds each run's `LimitsService` (sub-plans
 * included), renews this process's leases while any run is open, and retries claims that were
 * held (poll, a local release, or the store's push) or rate limited (at the window's end).
 *
 * The core stays synchronous: a step whose resource or rate window lives in the store is answered
 * `held` (it stays `queued`) while the claim is in flight; once the store grants it, the slot is
 * reserved for this run and the run is woken, and the next pump hands it to the first step that
 * asks for the same resource and windows.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { PlanIR, PolicyIR } from '../../compiler/index.js';
import { InRunLimits, rateWindow, type Grant, type Lease, type LimitsProvider, type LimitsService, type SharedClaim, type SharedLimitStore, type SlotRequest } from '../scheduler/index.js';
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
    this.unsubscribe = store.onRelease?.(() => this.released()) ?? null;
  }

  forRun(plan: PlanIR, runId: string, wake: () => void): LimitsService {
    const run = new SharedRunLimits(this, plan, runId, wake);
    this.runs.add(run);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        this.store.renew(this.holder, this.now()).catch(() => undefined);
      }, Math.max(10, Math.floor(this.store.leaseMs / 3)));
      this.heartbeat.unref();
    }
    return run;
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

interface Need {
  readonly key: string;
  readonly resource: SharedClaim['resource'];
  readonly rates: SharedClaim['rates'];
}

/** A slot taken from the store: `since`, when the store granted it (hand-overs keep it). */
interface Slot {
  readonly leaseId: string | null;
  readonly since: number;
  /** When it was reserved for this run (for the rate-window lag). */
  readonly at: number;
  timer: ReturnType<typeof setTimeout> | null;
}

/** The store lease behind a granted `Lease`, and whether a waiting step may take it over. */
interface Ticket {
  readonly leaseId: string;
  readonly key: string;
  readonly since: number;
  /** Only resource slots are handed over: every call under a rate limit is a new hit. */
  readonly reusable: boolean;
}

/**
 * How long a released slot waits for a step of its run before it goes back to the store: the
 * run's next turn (which follows the release within a millisecond or two) takes it if anything
 * waits for it.
 */
const HANDED_OVER_MS = 20;

interface Pending {
  readonly claim: SharedClaim;
  inFlight: boolean;
  /** Waiting for a resource slot (retried by poll and releases), not for a rate window. */
  held: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

/** One run's limits: the plan's own `concurrency`/`parallel` in memory, resources and rates in the store. */
class SharedRunLimits implements LimitsService {
  private readonly inner: InRunLimits;
  private readonly rateLimits: PolicyIR['rate_limits'];
  private readonly policy: string;
  private readonly reserved = new Map<string, Slot[]>();
  /**
   * The longest a granted slot waited to be taken by its step: a rate window counts from the
   * grant, the journal's `step_started` from the take, so a rate-limited claim waits that much
   * longer than the window for the starts, too, to stay a window apart.
   */
  private claimLagMs = 0;
  /** Claims in flight or waiting to be retried, by need; at most the need's limit at a time. */
  private readonly pending = new Map<string, Set<Pending>>();
  private readonly tickets = new WeakMap<Lease, Ticket>();
  /** Reusable slots in use by this run's steps, by need. */
  private readonly inUse = new Map<string, number>();
  private isClosed = false;

  constructor(
    private readonly client: SharedLimits,
    plan: PlanIR,
    private readonly runId: string,
    private readonly wake: () => void,
  ) {
    this.inner = new InRunLimits(plan, { planOnly: true });
    this.rateLimits = plan.policy?.rate_limits ?? [];
    this.policy = plan.policy?.name ?? '';
  }

  tryAcquire(r: SlotRequest, now: number): Grant {
    const need = this.need(r);
    if (!need) return this.inner.tryAcquire(r, now);
    const local = this.inner.wouldGrant(r);
    if (local !== 'ok') return { kind: local };
    const slot = this.reserved.get(need.key)?.shift();
    if (!slot) {
      this.request(need, r.key ?? '');
      return { kind: 'held' };
    }
    if (slot.timer) clearTimeout(slot.timer);
    if (need.rates.length > 0) this.claimLagMs = Math.max(this.claimLagMs, Math.min(1000, now - slot.at));
    const grant = this.inner.tryAcquire(r, now);
    if (grant.kind === 'granted' && slot.leaseId !== null) {
      const reusable = need.rates.length === 0;
      this.tickets.set(grant.lease, { leaseId: slot.leaseId, key: need.key, since: slot.since, reusable });
      if (reusable) this.inUse.set(need.key, (this.inUse.get(need.key) ?? 0) + 1);
    }
    return grant;
  }

  release(lease: Lease): void {
    this.inner.release(lease);
    const ticket = this.tickets.get(lease);
    if (ticket === undefined) return;
    this.tickets.delete(lease);
    if (ticket.reusable) this.inUse.set(ticket.key, (this.inUse.get(ticket.key) ?? 1) - 1);
    if (!this.handOver(ticket)) this.giveBack(ticket.leaseId);
  }

  /**
   * A released slot stays this run's while it is young: the store sees no change (the lease stays
   * this holder's), and a step of the run that waits for the same resource takes it on the turn
   * that follows, so a busy run on a limited resource costs the store one claim per slot and
   * `handOffMs`, not a claim and a release per step. A slot no step takes goes back at once.
   */
  private handOver(t: Ticket): boolean {
    if (!t.reusable || this.isClosed || this.client.now() - t.since >= this.client.handOffMs) return false;
    // Demand this slot answers needs no claim of its own any more.
    const set = this.pending.get(t.key);
    if (set)
      for (const p of set)
        if (!p.inFlight) {
          set.delete(p);
          if (p.timer) clearTimeout(p.timer);
          break;
        }
    // No wake: the core releases inside its own pump and dispatches after it, in the same turn.
    this.reserve(t.key, t.leaseId, t.since, this.client.now(), HANDED_OVER_MS);
    return true;
  }

  private reserve(key: string, leaseId: string | null, since: number, at: number, keepMs = this.client.unclaimedMs): void {
    const slot: Slot = { leaseId, since, at, timer: null };
    slot.timer = setTimeout(() => this.unclaimed(key, slot), keepMs);
    const list = this.reserved.get(key);
    if (list) list.push(slot);
    else this.reserved.set(key, [slot]);
  }

  heldByItem(r: SlotRequest): string | null {
    return this.inner.heldByItem(r);
  }

  itemFinished(group: string, index: number): void {
    this.inner.itemFinished(group, index);
  }

  heldBack(r: SlotRequest): boolean {
    if (this.inner.heldBack(r)) return true;
    const need = this.need(r);
    if (need === null || (this.reserved.get(need.key)?.length ?? 0) > 0) return false;
    for (const p of this.pending.get(need.key) ?? []) if (p.held) return true;
    return false;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const set of this.pending.values()) for (const p of set) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    for (const slots of this.reserved.values())
      for (const s of slots) {
        if (s.timer) clearTimeout(s.timer);
        if (s.leaseId !== null) this.giveBack(s.leaseId);
      }
    this.reserved.clear();
    this.client.closed(this);
  }

  /** Asks a held claim again right away (a slot was released). */
  retryHeld(): void {
    for (const set of this.pending.values())
      for (const p of set)
        if (p.held && !p.inFlight) {
        if (p.timer) clearTimeout(p.timer);
        p.timer = null;
        this.attempt(p);
      }
  }

  private need(r: SlotRequest): Need | null {
    const res = r.resource && r.resource.concurrency !== null ? { name: r.resource.name, limit: r.resource.concurrency } : null;
    const rates: { key: string; count: number; perMs: number }[] = [];
    if (r.occupies && r.capability !== null)
      for (const rl of this.rateLimits)
        if (capabilityMatches(rl.capability, r.capability)) rates.push({ key: rateWindow(this.policy, rl.capability), count: rl.count, perMs: rl.per_ms });
    if (!res && rates.length === 0) return null;
    return { key: `${res?.name ?? ''}\u0000${rates.map((x) => x.key).join('\u0000')}`, resource: res, rates };
  }

  private request(need: Need, stepKey: string): void {
    if (this.isClosed) return;
    let set = this.pending.get(need.key);
    if (!set) this.pending.set(need.key, (set = new Set()));
    // Several steps of this run may wait for the same need: claim for as many as could start.
    const cap = need.resource?.limit ?? Math.min(...need.rates.map((x) => x.count));
    // Slots this run holds on a resource come back to it when released (`handOver`): they count
    // as claims already made, so a run using all of a resource's slots asks the store for none.
    const held = need.rates.length === 0 ? (this.inUse.get(need.key) ?? 0) : 0;
    if (set.size + (this.reserved.get(need.key)?.length ?? 0) + held >= Math.max(1, cap)) return;
    const p: Pending = {
      claim: { holder: this.client.holder, runId: this.runId, stepKey, resource: need.resource, rates: need.rates },
      inFlight: false,
      held: false,
      timer: null,
    };
    set.add(p);
    this.attempt(p);
  }

  private attempt(p: Pending): void {
    p.inFlight = true;
    const key = this.keyOf(p.claim);
    const at = this.client.now();
    this.client.store.acquire(p.claim, at).then(
      (g) => {
        p.inFlight = false;
        const set = this.pending.get(key);
        if (this.isClosed || !set?.has(p)) {
          if (g.kind === 'granted' && g.leaseId !== null) this.giveBack(g.leaseId);
          return;
        }
        if (g.kind === 'granted') {
          set.delete(p);
          this.reserve(key, g.leaseId, at, at);
          this.wake();
        } else if (g.kind === 'held') {
          p.held = true;
          p.timer = setTimeout(() => this.attempt(p), this.client.pollMs);
        } else {
          p.held = false;
          p.timer = setTimeout(() => this.attempt(p), Math.max(1, g.retryAt + this.claimLagMs - this.client.now()));
        }
      },
      () => {
        // The store was unavailable: not granted this time, ask again at the next poll.
        p.inFlight = false;
        if (!this.isClosed && this.pending.get(key)?.has(p)) p.timer = setTimeout(() => this.attempt(p), this.client.pollMs);
      },
    );
  }

  private unclaimed(key: string, slot: Slot): void {
    const list = this.reserved.get(key);
    const i = list?.indexOf(slot) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (slot.leaseId !== null) this.giveBack(slot.leaseId);
  }

  private giveBack(leaseId: string): void {
    this.client.store.release(leaseId).then(
      () => this.client.released(),
      () => undefined, // it expires on its own within leaseMs
    );
  }

  private keyOf(c: SharedClaim): string {
    return `${c.resource?.name ?? ''}\u0000${c.rates.map((x) => x.key).join('\u0000')}`;
  }
}
