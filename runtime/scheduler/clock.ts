/** Clocks for the scheduler: the real one (`orch run`) and a virtual one (`orch verify`, tests). */
import type { Clock, TimerId } from './types.js';

/** The longest delay Node's setTimeout takes: a longer one (a `max_age 30d`) is set to 1 ms, and re-arming it would spin. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/** How long to wait before looking again: all of it, at most Node's longest (the timer re-arms for the rest). */
function slice(ms: number): number {
  return Math.min(Math.max(0, ms), LONGEST_TIMEOUT_MS);
}

/** A real timer: re-armed until `Date.now()` has reached its due time. */
interface RealTimer {
  handle: ReturnType<typeof setTimeout>;
}

/**
 * Node's timers run on a monotonic clock, so one set for 40 ms may fire when `Date.now()` — the
 * clock the journal's times come from — has moved only 39: a `wait 40ms` would be journaled as
 * 39 ms long (a CI run met it). A timer fires only once `now()` has reached its due time.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, cb) => {
    const due = Date.now() + Math.max(0, ms);
    const timer: RealTimer = { handle: setTimeout(() => fire(), slice(ms)) };
    const fire = () => {
      const left = due - Date.now();
      if (left > 0) timer.handle = setTimeout(fire, slice(left));
      else cb();
    };
    return timer;
  },
  cancelTimer: (id) => clearTimeout((id as RealTimer).handle),
};

interface VirtualTimer {
  readonly id: number;
  readonly at: number;
  readonly cb: () => void;
}

/**
 * A clock whose time only moves when `advance`/`runAll` says so. Timers due at the same instant
 * fire in creation order, so a run driven by it is reproducible.
 */
export class VirtualClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: VirtualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, cb: () => void): TimerId {
    const t = { id: this.nextId++, at: this.time + Math.max(0, ms), cb };
    this.timers.push(t);
    return t.id;
  }

  cancelTimer(id: TimerId): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  pending(): number {
    return this.timers.length;
  }

  /** When the earliest timer is due (null: none). */
  nextAt(): number | null {
    let at: number | null = null;
    for (const t of this.timers) if (at === null || t.at < at) at = t.at;
    return at;
  }

  /** Fires every timer due by `to`, in order, then moves time to `to` (never back). */
  advanceTo(to: number): void {
    for (let at = this.nextAt(); at !== null && at <= to; at = this.nextAt()) this.step();
    this.time = Math.max(this.time, to);
  }

  /** Fires the earliest timer (moving time to it); false when none is left. */
  step(): boolean {
    if (this.timers.length === 0) return false;
    let best = 0;
    for (let i = 1; i < this.timers.length; i++) {
      const a = this.timers[i]!;
      const b = this.timers[best]!;
      if (a.at < b.at || (a.at === b.at && a.id < b.id)) best = i;
    }
    const [t] = this.timers.splice(best, 1);
    this.time = Math.max(this.time, t!.at);
    t!.cb();
    return true;
  }

  /** Fires timers until none is left or `limit` fired (guards against endless re-arming). */
  runAll(limit = 1_000_000): number {
    let n = 0;
    while (n < limit && this.step()) n++;
    return n;
  }
}
