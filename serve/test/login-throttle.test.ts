/**
 * The sign-in throttle's rule (LANGUAGE.md §8.8), pure: from a key's failure count, the time of
 * its latest failure and a rule, how long the next attempt must wait. (The counts themselves live
 * in the people store: `runtime/test/people-store-contract.test.ts`; the 429s, `serve-auth.test.ts`.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADDRESS_RULE, FORGET_MS, USER_RULE, waitFor, type WaitRule } from '../http/login-throttle.js';

const NOW = 10_000_000;

describe('waitFor', () => {
  it('free failures cost nothing, then each one doubles the wait from the latest failure, up to the cap', () => {
    expect(waitFor(undefined, USER_RULE, NOW)).toBe(0);
    expect(waitFor({ failures: 4, last: NOW }, USER_RULE, NOW)).toBe(0);
    expect(waitFor({ failures: 5, last: NOW }, USER_RULE, NOW)).toBe(1000);
    expect(waitFor({ failures: 6, last: NOW }, USER_RULE, NOW)).toBe(2000);
    expect(waitFor({ failures: 7, last: NOW - 1500 }, USER_RULE, NOW)).toBe(2500);
    expect(waitFor({ failures: 7, last: NOW - 5000 }, USER_RULE, NOW)).toBe(0);
    expect(waitFor({ failures: 1000, last: NOW }, USER_RULE, NOW)).toBe(15 * 60_000);
    // The address rule lets more failures through (several people behind one NAT).
    expect(waitFor({ failures: 19, last: NOW }, ADDRESS_RULE, NOW)).toBe(0);
    expect(waitFor({ failures: 20, last: NOW }, ADDRESS_RULE, NOW)).toBe(1000);
  });

  it('forgets a key an hour after its latest failure (even under a rule whose wait would be longer)', () => {
    const long: WaitRule = { free: 0, baseDelayMs: 2 * FORGET_MS, maxDelayMs: 2 * FORGET_MS };
    expect(waitFor({ failures: 1, last: NOW - FORGET_MS }, long, NOW)).toBe(FORGET_MS);
    expect(waitFor({ failures: 1, last: NOW - FORGET_MS - 1 }, long, NOW)).toBe(0);
  });

  it('never negative, never past the cap, never shorter for more failures', () => {
    const rule = fc.record({ free: fc.integer({ min: 0, max: 50 }), baseDelayMs: fc.integer({ min: 1, max: 10_000 }), maxDelayMs: fc.integer({ min: 1, max: 3_600_000 }) });
    fc.assert(
      fc.property(rule, fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 2 * FORGET_MS }), (r: WaitRule, failures, ago) => {
        const w = waitFor({ failures, last: NOW - ago }, r, NOW);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(w).toBeLessThanOrEqual(r.maxDelayMs);
        expect(waitFor({ failures: failures + 1, last: NOW - ago }, r, NOW)).toBeGreaterThanOrEqual(w);
      }),
    );
  });
});
