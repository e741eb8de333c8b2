/**
 * The real clock's timers against the clock the journal reads: a step's journaled duration is
 * `now()` at its end minus `now()` at its start, so a timer must never fire before `now()` has
 * moved by its delay (Node's own timers may fire a millisecond early by `Date.now()`).
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { realClock } from '../scheduler/clock.js';

describe('realClock', () => {
  it('waits out a delay longer than Node takes (a max_age 30d) in slices, never a 1 ms timer re-armed over and over', () => {
    const set = vi.spyOn(globalThis, 'setTimeout');
    try {
      const id = realClock.setTimer(30 * 86_400_000, () => {});
      realClock.cancelTimer(id);
      expect(set.mock.calls.map((c) => c[1])).toEqual([2 ** 31 - 1]);
    } finally {
      set.mockRestore();
    }
  });

  it('fires a timer only once now() has moved by its delay, and a cancelled one never', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: 20 }), async (delays) => {
        const early: number[] = [];
        await Promise.all(
          delays.map(
            (ms) =>
              new Promise<void>((done) => {
                const set = realClock.now();
                realClock.setTimer(ms, () => {
                  if (realClock.now() - set < ms) early.push(ms);
                  done();
                });
              }),
          ),
        );
        expect(early).toEqual([]);
      }),
      { numRuns: 30 },
    );
    let fired = false;
    const t = realClock.setTimer(5, () => (fired = true));
    realClock.cancelTimer(t);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(false);
  });
});
