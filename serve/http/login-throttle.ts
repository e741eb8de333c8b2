/**
 * Slows password guessing down (LANGUAGE.md §8.8: repeated failures slow further attempts, 429):
 * per user name and per client address, the first few failures are free, then each further
 * attempt must wait twice as long as the one before (up to a cap). A success clears the user's
 * count (not the address's: one's own account must not reset a guesser's address). Kept in the
 * process's memory: each `orch serve` behind one address counts on its own.
 */
export interface ThrottleRule {
  /** Failures allowed before any wait. */
  readonly free: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const USER_RULE: ThrottleRule = { free: 5, baseDelayMs: 1000, maxDelayMs: 15 * 60_000 };
/** Looser per address: several people may sit behind one NAT. */
export const ADDRESS_RULE: ThrottleRule = { free: 20, baseDelayMs: 1000, maxDelayMs: 15 * 60_000 };
/** A key's failures are forgotten this long after its last one. */
const FORGET_MS = 60 * 60_000;
const MAX_KEYS = 100_000;

interface Count {
  failures: number;
  last: number;
}

export class LoginThrottle {
  private readonly counts = new Map<string, Count>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds before another attempt for these keys may be tried (0: now). */
  wait(keys: readonly (readonly [string, ThrottleRule])[]): number {
    const now = this.now();
    let wait = 0;
    for (const [key, rule] of keys) {
      const c = this.counts.get(key);
      if (!c || now - c.last > FORGET_MS || c.failures < rule.free) continue;
      const delay = Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** Math.min(30, c.failures - rule.free));
      wait = Math.max(wait, c.last + delay - now);
    }
    return Math.max(0, wait);
  }

  failed(keys: readonly (readonly [string, ThrottleRule])[]): void {
    const now = this.now();
    if (this.counts.size > MAX_KEYS) this.sweep(now);
    for (const [key] of keys) {
      const c = this.counts.get(key);
      if (!c || now - c.last > FORGET_MS) this.counts.set(key, { failures: 1, last: now });
      else {
        c.failures += 1;
        c.last = now;
      }
    }
  }

  succeeded(key: string): void {
    this.counts.delete(key);
  }

  private sweep(now: number): void {
    for (const [k, c] of this.counts) if (now - c.last > FORGET_MS) this.counts.delete(k);
  }
}
