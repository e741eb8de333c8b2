/**
 * Live log lines (runtime/executor/live-logs.ts) over a real BroadcastChannel: whatever number of
 * lines arrived before an attempt's result, the lines given along the way and those its close
 * returns are every line, once, in order; lines that arrive after the close are dropped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveLogs, sendLine } from '../executor/live-logs.js';

/** Lets the channel deliver what was posted (messages arrive on the event loop). */
const delivered = () => new Promise((r) => setTimeout(r, 5));

describe('live logs', () => {
  it('lines given along the way and those the result adds are each line once, in order', async () => {
    const live = new LiveLogs();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.string(), { maxLength: 8 }), fc.nat(), async (all, cut) => {
          const before = all.slice(0, cut % (all.length + 1));
          const given: string[] = [];
          const key = live.open((lines) => given.push(...lines));
          for (const line of before) sendLine(key, line);
          await delivered();
          const rest = live.close(key, all);
          // Lines still on their way when the result came are not given again.
          for (const line of all.slice(before.length)) sendLine(key, line);
          await delivered();
          expect([...given, ...rest]).toEqual(all);
          expect(given).toEqual(before);
        }),
        { numRuns: 40 },
      );
    } finally {
      live.dispose();
    }
  });

  it('without a listener, keeps the lines for an attempt that ends without a result', async () => {
    const live = new LiveLogs();
    const other = new LiveLogs();
    try {
      const key = live.open();
      const elsewhere = other.open();
      sendLine(key, 'one');
      sendLine(key, 'two');
      sendLine(elsewhere, 'not mine');
      await delivered();
      expect(live.close(key)).toEqual(['one', 'two']);
      // Closed: nothing is kept for it any more.
      sendLine(key, 'three');
      await delivered();
      expect(live.close(key)).toEqual([]);
      expect(other.close(elsewhere)).toEqual(['not mine']);
    } finally {
      live.dispose();
      other.dispose();
    }
  });

  it('an attempt that ended without a result keeps the lines sent just before its end, still on their way', async () => {
    const live = new LiveLogs();
    try {
      const key = live.open();
      sendLine(key, 'about to exit');
      // The end is known at once (no turn of the event loop for the line to arrive).
      expect(await live.closeUnanswered(key)).toEqual(['about to exit']);
    } finally {
      live.dispose();
    }
  });
});
