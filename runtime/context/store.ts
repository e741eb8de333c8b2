/**
 * The always-fresh context (LANGUAGE.md §9.4): each signal's value, when it was set and by which
 * source. A signal never set, or set longer ago than its `max_age`, is unknown; it goes stale at
 * the moment its age passes `max_age` (one timer per signal on the injected clock, no polling).
 * Derived signals are recomputed whenever a signal they read changes or goes stale, and `hold`
 * keeps a derived `true` for a while after its expression turns false.
 *
 * The one interface every source uses (`POST /signals`, `orch signal --context`, MQTT and webhook
 * sources): `set` → accepted or rejected, `read`/`readAll` with state, `subscribe` to changes,
 * staleness and rejections. Durable keeping and the journal are the subscribers' (serve).
 */
import { isDeepStrictEqual } from 'node:util';
import { contextReads, type ContextSignalIR } from '../../compiler/index.js';
import { evaluateOrUnknown, UNKNOWN, type EvalEnv, type SignalRead } from '../evaluate.js';
import type { Clock, TimerId } from '../scheduler/types.js';
import { nextTimeChange, readsClock } from '../time-change.js';

/**
 * A sample time meaning "of unknown age" (a retained MQTT message): the earliest instant a Date
 * holds, older than any real sample (a virtual clock may well start at 0), so stale once the
 * signal has a `max_age`; read with no time and no age (`age()` is unknown).
 */
export const UNKNOWN_AGE = -8_640_000_000_000_000;

export interface SignalRecord {
  readonly value: unknown;
  /** When it was set (epoch ms): the sample's time when the source gives one, else arrival. */
  readonly set_at: number;
  /** `api`, a source's name, or `derived`. */
  readonly source: string;
}

export interface SignalState extends SignalRead {
  readonly set_at: number | null;
  readonly source: string | null;
}

export type SetResult = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

/** What subscribers see: the three context events of the journal (`context_*`). */
export type ContextChange =
  | { readonly type: 'context_updated'; readonly signal: string; readonly value: unknown; readonly source: string; readonly at: number }
  | { readonly type: 'context_stale'; readonly signal: string; readonly age: number }
  | { readonly type: 'context_rejected'; readonly signal: string; readonly source: string; readonly reason: string };

/** What a restart needs of a `hold` (LANGUAGE.md §9.4): whether the expression was true, and until when a true is held. */
export interface HoldState {
  readonly true: boolean;
  readonly until: number | null;
}

export interface ContextStoreOptions {
  /** The declared signals (the IR's `context_signals`); others are accepted and never go stale. */
  readonly signals?: { readonly [name: string]: ContextSignalIR };
  readonly clock: Clock;
  /** Values kept from before (a restart, another server): their ages count from their own `set_at`. */
  readonly restored?: { readonly [name: string]: SignalRecord };
}

interface Derived {
  readonly name: string;
  readonly def: ContextSignalIR;
  /** The signals its expression reads. */
  readonly reads: readonly string[];
  /** Until when a `true` is held after the expression was last true. */
  heldUntil: number | null;
  /** Whether the expression was true when last computed known or, kept from before a restart, last known. */
  wasTrue: boolean;
  timer: TimerId | null;
  /** Whether its expression reads the clock (`age()`, `now()`): its value changes with time alone. */
  readonly clocked: boolean;
  /** The timer for the next instant it can (`nextTimeChange`). */
  clockTimer: TimerId | null;
}

export class ContextStore {
  private readonly records = new Map<string, SignalRecord>();
  private readonly timers = new Map<string, TimerId>();
  /** Signal → the derived signals that read it (directly). */
  private readonly readers = new Map<string, string[]>();
  private readonly derived = new Map<string, Derived>();
  private readonly listeners = new Set<(c: ContextChange) => void>();
  private readonly defs: { readonly [name: string]: ContextSignalIR };
  private closed = false;

  constructor(private readonly opts: ContextStoreOptions) {
    this.defs = opts.signals ?? {};
    for (const [name, def] of Object.entries(this.defs)) {
      if (!def.derived) continue;
      const reads = contextReads(def.derived);
      this.derived.set(name, { name, def, reads, heldUntil: null, wasTrue: false, timer: null, clocked: readsClock(def.derived), clockTimer: null });
      for (const r of reads) this.readers.set(r, [...(this.readers.get(r) ?? []), name]);
    }
    this.restore(opts.restored ?? {});
    // One that is known without any signal set — a constant, `context.x ?? false`, `true or …` —
    // has its value from the start: nothing it reads may ever change to recompute it.
    for (const name of this.derived.keys()) if (!this.records.has(name)) this.recompute(name, new Set());
  }

  /**
   * Values kept durably (a restart) or set by another server of a cluster: a signal set since is
   * newer and stays; the ages count from each `set_at`. The names it took.
   */
  restore(records: { readonly [name: string]: SignalRecord }): string[] {
    const taken: string[] = [];
    for (const [name, rec] of Object.entries(records)) {
      if (this.derived.has(name) || (this.records.get(name)?.set_at ?? -Infinity) >= rec.set_at) continue;
      this.put(name, rec);
      this.arm(name);
      this.changed(name);
      taken.push(name);
    }
    return taken;
  }

  /** One message: accepted (the value and its time are kept, also when the value is the same) or rejected. */
  /** Why `set` would refuse `value` for `name` (a derived signal, no value), or null when it takes it. */
  refusal(name: string, value: unknown): string | null {
    return this.derived.has(name) ? `"${name}" is a derived signal: it is computed, not set` : value === undefined ? 'no value' : null;
  }

  set(name: string, value: unknown, meta: { readonly source: string; readonly at?: number }): SetResult {
    const reason = this.refusal(name, value);
    if (reason) {
      this.emit({ type: 'context_rejected', signal: name, source: meta.source, reason });
      return { accepted: false, reason };
    }
    const kept = this.records.get(name);
    const sampled = Math.min(meta.at ?? this.now(), this.now());
    // A sample the source dates before the kept one came out of order (a late redelivery, a slow
    // path): it would put an older value over a newer one. One of unknown age (a retained message,
    // `UNKNOWN_AGE`) may: the broker keeps the topic's last value, maybe one missed while away.
    if (kept && meta.at !== undefined && meta.at !== UNKNOWN_AGE && sampled < kept.set_at && !isDeepStrictEqual(kept.value, value))
      return this.reject(name, meta, `out of order: sampled at ${new Date(sampled).toISOString()}, older than the value it has (set at ${new Date(kept.set_at).toISOString()})`);
    // An older sample of the value the signal has (a retained message a reconnect re-sends, of
    // unknown age) does not make it older: the kept, newer time still says when it held.
    const at = kept && sampled < kept.set_at && isDeepStrictEqual(kept.value, value) ? kept.set_at : sampled;
    const rec: SignalRecord = { value, set_at: at, source: meta.source };
    this.put(name, rec);
    this.emit({ type: 'context_updated', signal: name, value, source: meta.source, at });
    this.arm(name);
    this.changed(name);
    return { accepted: true };
  }

  /** A message a source could not use (wrong type, unreadable): journaled as `context_rejected`, nothing stored. */
  reject(name: string, meta: { readonly source: string }, reason: string): SetResult {
    this.emit({ type: 'context_rejected', signal: name, source: meta.source, reason });
    return { accepted: false, reason };
  }

  read(name: string): SignalState {
    const rec = this.records.get(name);
    const max = this.defs[name]?.max_age_ms ?? null;
    if (!rec) return { value: null, state: 'never_set', age_ms: null, max_age_ms: max, set_at: null, source: null };
    const age = Math.max(0, this.now() - rec.set_at);
    // A derived signal's own `max_age` counts from its time (the oldest signal it read), as any signal's.
    const known = rec.value !== UNKNOWN_VALUE && (max === null || age <= max);
    // A value of unknown age (§9.4: a retained message) has no time to show and no age to compare:
    // `age()` of it is unknown, not the millennia since the instant it is kept as of.
    // A derived signal over one is of unknown age too (its time is the oldest it read).
    const dated = rec.set_at !== UNKNOWN_AGE;
    // A stale signal keeps showing its last value (the dashboard); only `fresh` makes it known.
    return {
      value: rec.value === UNKNOWN_VALUE ? null : rec.value,
      state: known ? 'fresh' : 'stale',
      age_ms: dated ? age : null,
      max_age_ms: max,
      set_at: dated ? rec.set_at : null,
      source: rec.source,
    };
  }

  /** What is kept of a signal as it was set (its time as kept, also of unknown age), for keeping durably. */
  record(name: string): SignalRecord | undefined {
    return this.derived.has(name) ? undefined : this.records.get(name);
  }

  /** Every signal declared or ever set, by name. */
  readAll(): { [name: string]: SignalState } {
    const out: { [name: string]: SignalState } = {};
    for (const name of new Set([...Object.keys(this.defs), ...this.records.keys()])) out[name] = this.read(name);
    return out;
  }

  /**
   * The known signals' values (v0.3's `GET /context`): an unknown signal is absent. Remembered
   * until a record changes or the first fresh signal's age passes its `max_age` (a trigger asks
   * for them after every message).
   */
  values(): { [name: string]: unknown } {
    const now = this.now();
    if (this.known && this.known.validUntil >= now) return { ...this.known.values };
    const values: { [name: string]: unknown } = {};
    let validUntil = Infinity;
    for (const [name, s] of Object.entries(this.readAll())) {
      if (s.state !== 'fresh') continue;
      values[name] = s.value;
      if (s.max_age_ms !== null && s.set_at !== null) validUntil = Math.min(validUntil, s.set_at + s.max_age_ms);
    }
    this.known = { values, validUntil };
    return { ...values };
  }

  /** `values()` as last computed, while it holds. */
  private known: { readonly values: { readonly [name: string]: unknown }; readonly validUntil: number } | null = null;

  private put(name: string, rec: SignalRecord): void {
    this.records.set(name, rec);
    this.known = null;
  }

  /** What was set (not derived), for keeping durably. */
  records_(): { [name: string]: SignalRecord } {
    const out: { [name: string]: SignalRecord } = {};
    for (const [name, rec] of this.records) if (!this.derived.has(name)) out[name] = rec;
    return out;
  }

  subscribe(listener: (c: ContextChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const t of this.timers.values()) this.opts.clock.cancelTimer(t);
    this.timers.clear();
    for (const d of this.derived.values()) {
      if (d.timer !== null) this.opts.clock.cancelTimer(d.timer);
      if (d.clockTimer !== null) this.opts.clock.cancelTimer(d.clockTimer);
      d.clockTimer = null;
    }
    this.closed = true;
    this.listeners.clear();
  }

  /** The clock its ages count on: what else times a condition over them sets its timers on. */
  get clock(): Clock {
    return this.opts.clock;
  }

  private now(): number {
    return this.opts.clock.now();
  }

  private emit(c: ContextChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch {
        // A subscriber's failure is its own: the store and the other subscribers go on.
      }
    }
  }

  /** The staleness timer of a set signal: fires when its age passes `max_age`. */
  private arm(name: string): void {
    const old = this.timers.get(name);
    if (old !== undefined) this.opts.clock.cancelTimer(old);
    this.timers.delete(name);
    const max = this.defs[name]?.max_age_ms;
    const rec = this.records.get(name);
    if (max === null || max === undefined || !rec || rec.value === UNKNOWN_VALUE) return;
    const left = rec.set_at + max - this.now();
    const fire = (): void => {
      this.timers.delete(name);
      this.emit({ type: 'context_stale', signal: name, age: Math.max(0, this.now() - rec.set_at) });
      this.changed(name);
    };
    // "Passes" max_age: at exactly max_age the value is still fresh, one ms later it is not.
    this.timers.set(name, this.opts.clock.setTimer(left + 1, fire));
  }

  /** Recomputes the derived signals that read `name`, and theirs in turn. */
  private changed(name: string, seen = new Set<string>()): void {
    for (const d of this.readers.get(name) ?? []) this.recompute(d, seen);
  }

  private recompute(name: string, seen: Set<string>): void {
    if (seen.has(name)) return; // a cycle is E0905 at compile time; never loop here
    seen.add(name);
    const d = this.derived.get(name)!;
    const reads = d.reads;
    const env: EvalEnv = { vars: {}, signal: (n) => this.read(n), now: () => this.now() };
    let v: unknown;
    try {
      v = evaluateOrUnknown(d.def.derived!, env);
    } catch {
      v = UNKNOWN; // an expression that cannot be computed from these values is not known
    }
    if (d.clocked) this.armClock(d, env);
    const before = this.records.get(name);
    // As kept, not as read: a read of unknown age has no time to show, but is older than any.
    const oldest = Math.min(...reads.map((r) => this.records.get(r)?.set_at ?? Infinity));
    const at = Number.isFinite(oldest) ? oldest : this.now();
    const value = this.hold(d, v === UNKNOWN ? UNKNOWN_VALUE : v);
    // A held true keeps the time it was last computed true.
    const held = d.heldUntil !== null && value === true && before?.value === true;
    // Unchanged, held, or still never known: nothing to tell (a derived signal is never_set until first known).
    if (held || (!before && value === UNKNOWN_VALUE) || (before && before.value === value && (value === UNKNOWN_VALUE || before.set_at === at))) return this.changed(name, seen);
    // Gone stale by its own max_age already: turning unknown now is not a second going-stale.
    const wasFresh = before !== undefined && this.read(name).state === 'fresh';
    this.put(name, { value, set_at: at, source: 'derived' });
    this.arm(name);
    if (value === UNKNOWN_VALUE) {
      if (wasFresh) this.emit({ type: 'context_stale', signal: name, age: Math.max(0, this.now() - at) });
    } else this.emit({ type: 'context_updated', signal: name, value, source: 'derived', at });
    this.changed(name, seen);
  }

  /** A derived signal over the clock (`quiet: bool = age(context.door) > 2m`) is recomputed at the instant it can change with time alone. */
  private armClock(d: Derived, env: EvalEnv): void {
    if (d.clockTimer !== null) this.opts.clock.cancelTimer(d.clockTimer);
    d.clockTimer = null;
    if (this.closed) return;
    const now = this.now();
    const at = nextTimeChange(d.def.derived!, env, now);
    if (at === null) return;
    d.clockTimer = this.opts.clock.setTimer(at - now, () => {
      d.clockTimer = null;
      this.recompute(d.name, new Set());
    });
  }

  /**
   * `hold D`: the value is `true` for D after the expression was last `true` — the instant it
   * turned `false` or unknown (a timer recomputes when D has passed). Unknown is not false: while
   * the expression is unknown the value is unknown (it goes stale with what it reads), and the
   * hold keeps running, so a `false` that comes within D is still held `true`.
   */
  private hold(d: Derived, now: unknown): unknown {
    const hold = d.def.hold_ms;
    if (hold === null) return now;
    if (d.heldUntil !== null && this.now() >= d.heldUntil) this.setHold(d, d.wasTrue, null);
    if (now !== false && now !== UNKNOWN_VALUE) {
      if (d.heldUntil !== null || d.wasTrue !== (now === true)) this.setHold(d, now === true, null);
      return now;
    }
    if (d.wasTrue) this.setHold(d, false, this.now() + hold);
    if (now === UNKNOWN_VALUE) return now;
    return d.heldUntil !== null ? true : now;
  }

  /** Changes a hold's state, arms its end, and tells who keeps it (`subscribeHolds`). */
  private setHold(d: Derived, wasTrue: boolean, until: number | null): void {
    d.wasTrue = wasTrue;
    this.armHold(d, until);
    const state: HoldState = { true: wasTrue, until };
    for (const l of this.holdListeners) {
      try {
        l(d.name, state);
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }

  /**
   * Holds kept from before a restart (`holds()` as it was): a hold in progress goes on until its
   * end, and an expression that was true and is not now starts one — the restart does not end a
   * `true` early. Taken before the signals' records, so what they recompute sees them.
   */
  restoreHolds(states: { readonly [name: string]: HoldState }): void {
    for (const [name, st] of Object.entries(states)) {
      const d = this.derived.get(name);
      if (!d || d.def.hold_ms === null) continue;
      d.wasTrue = st.true || d.wasTrue;
      this.armHold(d, st.until !== null && st.until > this.now() ? Math.max(st.until, d.heldUntil ?? -Infinity) : d.heldUntil);
      this.recompute(name, new Set());
    }
  }

  /** Holds a true until `until` (null: not held), recomputing then. */
  private armHold(d: Derived, until: number | null): void {
    if (d.timer !== null) this.opts.clock.cancelTimer(d.timer);
    d.timer = null;
    d.heldUntil = until;
    if (until === null || this.closed) return;
    d.timer = this.opts.clock.setTimer(Math.max(0, until - this.now()), () => {
      d.timer = null;
      this.recompute(d.name, new Set());
    });
  }

  /** A derived signal's hold as it is now (for keeping durably: a restart keeps a hold in progress). */
  holds(): { [name: string]: HoldState } {
    const out: { [name: string]: HoldState } = {};
    for (const d of this.derived.values()) if (d.def.hold_ms !== null) out[d.name] = { true: d.wasTrue, until: d.heldUntil };
    return out;
  }

  /** Told each time a hold's state changes: its expression turned true, stopped being true, or its D passed. */
  subscribeHolds(listener: (name: string, state: HoldState) => void): () => void {
    this.holdListeners.add(listener);
    return () => this.holdListeners.delete(listener);
  }

  private readonly holdListeners = new Set<(name: string, state: HoldState) => void>();
}

/** How a derived signal's unknown value is kept (a record holds JSON-able values only otherwise). */
const UNKNOWN_VALUE = Symbol('unknown signal');

