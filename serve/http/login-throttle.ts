/**
 * Slows password guessing down (LANGUAGE.md §8.8: repeated failures slow further attempts, 429):
 * per user name and per client address, the first few failures are free, then each further
 * attempt must wait twice as long as the one before (up to a cap). An attempt is counted as a
 * failure when it is let through, before its password is checked, so parallel guesses cannot all
 * pass while none has failed yet; a success takes that back: it clears the user's count, and
 * takes only its own failure off the address's (one's own account must not reset a guesser's
 * address). A key's failures are forgotten an hour after its last one.
 *
 * The counts live in the people store (`login_failures` in the journal's database), which every
 * `orch serve` of a database shares: N servers behind one address slow a guesser down together,
 * and a restart forgets nothing. `waitFor` is the pure rule; `LoginThrottle` applies it to the
 * counts inside the store's transaction (`takeLoginAttempt`). When the store cannot be reached its calls reject: the session route
 * then answers 503 (see `session-routes.ts`).
 */
import type { LoginFailures, PeopleStore } from '../../runtime/index.js';

/** How long failures make the next attempt wait. */
export interface WaitRule {
  /** Failures allowed before any wait. */
  readonly free: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface ThrottleRule extends WaitRule {
  /** What a successful sign-in does to the key's count: start it over, or take back its own failure. */
  readonly onSuccess: 'clear' | 'forgive';
}

export const USER_RULE: ThrottleRule = { free: 5, baseDelayMs: 1000, maxDelayMs: 15 * 60_000, onSuccess: 'clear' };
/** Looser per address: several people may sit behind one NAT. */
export const ADDRESS_RULE: ThrottleRule = { free: 20, baseDelayMs: 1000, maxDelayMs: 15 * 60_000, onSuccess: 'forgive' };
/** A key's failures are forgotten this long after its last one. */
export const FORGET_MS = 60 * 60_000;

export type ThrottleKey = readonly [key: string, rule: ThrottleRule];

/** Milliseconds before another attempt may be tried after `count` failures under `rule` (0: now). */
export function waitFor(count: LoginFailures | undefined, rule: WaitRule, now: number): number {
  if (!count || now - count.last > FORGET_MS || count.failures < rule.free) return 0;
  const delay = Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** Math.min(30, count.failures - rule.free));
  return Math.max(0, count.last + delay - now);
}

/** The store calls the throttle needs. */
export type LoginFailureStore = Pick<PeopleStore, 'takeLoginAttempt' | 'forgiveLoginFailure' | 'clearLoginFailures'>;

export class LoginThrottle {
  constructor(
    private readonly store: LoginFailureStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Lets one attempt for these keys through (0), counting it as a failure of each until
   * `succeeded`; or how many milliseconds it must wait, counting nothing.
   */
  async take(keys: readonly ThrottleKey[]): Promise<number> {
    const now = this.now();
    return this.store.takeLoginAttempt(
      keys.map(([key]) => key),
      now,
      now - FORGET_MS,
      (counts) => Math.max(0, ...keys.map(([key, rule]) => waitFor(counts.get(key), rule, now))),
    );
  }

  /** The attempt `take` let through succeeded: each key's rule says what that does to its count. */
  async succeeded(keys: readonly ThrottleKey[]): Promise<void> {
    for (const [key, rule] of keys) await (rule.onSuccess === 'clear' ? this.store.clearLoginFailures(key) : this.store.forgiveLoginFailure(key));
  }
}
