/**
 * Slows password guessing down (LANGUAGE.md §8.8: repeated failures slow further attempts, 429):
 * per user name and per client address, the first few failures are free, then each further
 * attempt must wait twice as long as the one before (up to a cap). A success clears the user's
 * count (not the address's: one's own account must not reset a guesser's address). A key's
 * failures are forgotten an hour after its last one.
 *
 * The counts live in the people store (`login_failures` in the journal's database), which every
 * `orch serve` of a database shares: N servers behind one address slow a guesser down together,
 * and a restart forgets nothing. `waitFor` is the pure rule; `LoginThrottle` reads and writes the
 * counts through the store. When the store cannot be reached its calls reject: the session route
 * then answers 503 (see `session-routes.ts`).
 */
import type { LoginFailures, PeopleStore } from '../../runtime/index.js';

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
export const FORGET_MS = 60 * 60_000;

export type ThrottleKey = readonly [key: string, rule: ThrottleRule];

/** Milliseconds before another attempt may be tried after `count` failures under `rule` (0: now). */
export function waitFor(count: LoginFailures | undefined, rule: ThrottleRule, now: number): number {
  if (!count || now - count.last > FORGET_MS || count.failures < rule.free) return 0;
  const delay = Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** Math.min(30, count.failures - rule.free));
  return Math.max(0, count.last + delay - now);
}

/** The store calls the throttle needs. */
export type LoginFailureStore = Pick<PeopleStore, 'loginFailures' | 'recordLoginFailure' | 'clearLoginFailures'>;

export class LoginThrottle {
  constructor(
    private readonly store: LoginFailureStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds before another attempt for these keys may be tried (0: now). */
  async wait(keys: readonly ThrottleKey[]): Promise<number> {
    const now = this.now();
    const counts = await this.store.loginFailures(
      keys.map(([key]) => key),
      now - FORGET_MS,
    );
    return Math.max(0, ...keys.map(([key, rule]) => waitFor(counts.get(key), rule, now)));
  }

  async failed(keys: readonly ThrottleKey[]): Promise<void> {
    const now = this.now();
    await this.store.recordLoginFailure(
      keys.map(([key]) => key),
      now,
      now - FORGET_MS,
    );
  }

  async succeeded(key: string): Promise<void> {
    await this.store.clearLoginFailures(key);
  }
}
