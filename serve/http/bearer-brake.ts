/**
 * A brake on wrong bearer tokens (issue #47 item 7): per client address, the first failures are
 * free, then each further bearer request waits twice as long as the one before (429 with
 * Retry-After) — the sign-in rule (`login-throttle.ts`'s `waitFor`), applied to `Authorization:
 * Bearer` guesses. Unlike sign-ins, a bearer request is not counted before it is checked (every
 * API call carries one: a database write for each would cost every script), so the counts are
 * this server's, in memory, and only failures write them; API tokens are 256-bit random, so the
 * brake is there to keep guessing and its noise down, not to make a guess unlikely.
 */
import type { LoginFailures } from '../../runtime/index.js';
import { FORGET_MS, waitFor, type WaitRule } from './login-throttle.js';

/** As loose as the sign-in rule per address: several scripts may sit behind one NAT. */
export const BEARER_RULE: WaitRule = { free: 20, baseDelayMs: 1000, maxDelayMs: 15 * 60_000 };
/** Addresses remembered at most; past it, those quiet longest are forgotten first. */
const MAX_ADDRESSES = 10_000;

export class BearerBrake {
  private readonly failures = new Map<string, LoginFailures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** How long `address` must wait before its next bearer token is looked at (0: now). */
  wait(address: string): number {
    return waitFor(this.failures.get(address), BEARER_RULE, this.now());
  }

  /** A bearer token from `address` was refused. */
  failed(address: string): void {
    const now = this.now();
    const f = this.failures.get(address);
    const failures = f && now - f.last <= FORGET_MS ? f.failures + 1 : 1;
    // Re-inserted, so the map's order is oldest failure first.
    this.failures.delete(address);
    this.failures.set(address, { failures, last: now });
    for (const [key] of this.failures) {
      if (this.failures.size <= MAX_ADDRESSES) break;
      this.failures.delete(key);
    }
  }
}
