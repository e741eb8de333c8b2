/** Clocks for the scheduler: the real one (`orch run`) and a virtual one (`orch verify`, tests). */
import type { Clock, TimerId } from './types.js';

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, cb) => setTimeout(cb, Math.max(0, ms)),
  cancelTimer: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
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
