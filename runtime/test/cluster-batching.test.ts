/**
 * The batching decisions of the cluster path, as pure code and with fast-check:
 * - a worker's exchanges (runtime/cluster/batching.ts): one in flight at a time, never more
 *   attempts claimed than free slots, every finished result recorded by the next exchange, no
 *   claim once stopping, and a simulated worker driven by random finishes and wake-ups drains;
 * - group commit (runtime/scheduler/commit-queue.ts): turns that end while a commit is in flight
 *   are written as one commit, events in order with the latest summary and all their hooks, and
 *   their effects follow in order, after it;
 * - batched commit hooks (runtime/scheduler/commit-hooks.ts): one call per group, where its first
 *   member stands, the others in order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drained, ExchangePace, FAST_SHARED, mayHold, nextExchange, PREFETCH, PREFETCH_FAST, stillWanted, type ExchangeState } from '../cluster/batching.js';
import { FreshCache } from '../cluster/fresh-cache.js';
import { batchedHook, runCommitHooks } from '../scheduler/commit-hooks.js';
import { CommitQueue } from '../scheduler/commit-queue.js';
import type { CommitHook, JournalSink, RunEvent, RunSummary } from '../scheduler/types.js';

const state = fc.record({
  slots: fc.integer({ min: 1, max: 8 }),
  window: fc.integer({ min: 1, max: 16 }),
  running: fc.integer({ min: 0, max: 16 }),
  results: fc.integer({ min: 0, max: 16 }),
  inFlight: fc.boolean(),
  wanted: fc.boolean(),
  stopping: fc.boolean(),
  fast: fc.boolean(),
});

describe('a worker exchange', () => {
  it('is never started while one is in flight, never claims more than its free window, always carries pending results, and claims alone only with a slot idle (its share of the window when fast)', () => {
    fc.assert(
      fc.property(state, (s: ExchangeState) => {
        const x = nextExchange(s);
        if (s.inFlight) return x === null;
        const free = Math.max(0, s.window - s.running);
        if (x === null) return s.results === 0 && (s.stopping || !s.wanted || free === 0 || s.running >= s.slots);
        return (
          x.claim <= free &&
          x.report === s.results > 0 &&
          (!s.stopping || x.claim === 0) &&
          (s.wanted || x.claim === 0) &&
          // alone: an idle slot claims one attempt, or its share of the window when the worker is fast
          (x.report || x.claim <= (s.slots - s.running) * (s.fast ? Math.max(1, Math.floor(s.window / s.slots)) : 1))
        );
      }),
    );
  });

  it('holds results back only while a line covers every slot, a window is not full and the hold is young; never while stopping', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 20 }), (s: ExchangeState, waiting, ageMs) => {
        const cover = Math.max(1, s.slots >> 1);
        const holding = mayHold({ results: s.results, waiting, window: s.window, ageMs, holdMs: 5, cover });
        if (holding !== (s.results > 0 && s.results < s.window && waiting >= cover && ageMs < 5)) return false;
        const x = nextExchange({ ...s, holding });
        if (s.inFlight) return x === null;
        // Held: no report; a claim alone only with a slot idle (never, with a line waiting).
        if (holding && !s.stopping) return x === null || (!x.report && x.claim <= Math.max(0, s.slots - s.running) * (s.fast ? Math.max(1, Math.floor(s.window / s.slots)) : 1));
        // Stopping: what finished is recorded whatever the hold.
        if (s.stopping && s.results > 0) return x !== null && x.report && x.claim === 0;
        return true;
      }),
    );
  });

  it('holds a deep line only while its last attempts all shared messages: one that could not puts it back at once', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 80 }), (shares) => {
        const pace = new ExchangePace();
        shares.forEach((x) => pace.observe(x));
        const last = shares.slice(-FAST_SHARED);
        const fast = last.length === FAST_SHARED && last.every(Boolean);
        return pace.fast === fast && pace.prefetch === (fast ? PREFETCH_FAST : PREFETCH);
      }),
    );
  });

  it('gives a surplus back with the next exchange, whatever else it carries, and never while one is in flight', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: 8 }), (s: ExchangeState, surplus) => {
        const x = nextExchange({ ...s, surplus });
        if (s.inFlight) return x === null;
        return surplus > 0 ? x !== null && x.release : x === null || !x.release;
      }),
    );
  });

  it('claims again at once only after a full batch', () => {
    expect(stillWanted(4, 4, false)).toBe(true);
    expect(stillWanted(4, 3, true)).toBe(false);
    expect(stillWanted(0, 0, true)).toBe(true);
    expect(stillWanted(0, 0, false)).toBe(false);
    // What it gave back waits in the queue, whatever the claim found.
    expect(stillWanted(4, 1, false, 1)).toBe(true);
    expect(stillWanted(0, 0, false, 2)).toBe(true);
  });

  it('drives a simulated worker to run every attempt once and record every result, then drain', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.constantFrom('finish', 'answer', 'wake'), { minLength: 1, maxLength: 400 }),
        (slots, prefetch, queued, script) => {
          let queue = queued;
          let running = 0;
          let results = 0;
          let recorded = 0;
          let inFlight: { report: number; claim: number } | null = null;
          let wanted = true;
          let stopping = false;
          let exchanges = 0;
          const s = (): ExchangeState => ({ slots, window: slots * prefetch, running, results, inFlight: inFlight !== null, wanted, stopping });
          const pump = () => {
            const x = nextExchange(s());
            if (x === null) return;
            exchanges++;
            inFlight = { report: x.report ? results : 0, claim: x.claim };
            results = 0;
          };
          const answer = () => {
            if (inFlight === null) return;
            const got = Math.min(queue, inFlight.claim);
            queue -= got;
            running += got;
            recorded += inFlight.report;
            wanted = stillWanted(inFlight.claim, got, wanted);
            inFlight = null;
            expect(running).toBeLessThanOrEqual(slots * prefetch);
            pump();
          };
          pump();
          for (const step of script) {
            if (step === 'finish' && running > 0) {
              running--;
              results++;
              pump();
            } else if (step === 'answer') answer();
            else if (step === 'wake') {
              wanted = true;
              pump();
            }
          }
          // Then: every attempt finishes, answers come, the poll wakes it, and finally it stops.
          for (let guard = 0; guard < 10_000 && (queue > 0 || running > 0 || results > 0 || inFlight !== null); guard++) {
            if (running > 0) {
              running--;
              results++;
              pump();
            } else if (inFlight !== null) answer();
            else {
              wanted = true;
              pump();
            }
          }
          stopping = true;
          pump();
          expect(queue).toBe(0);
          expect(recorded).toBe(queued);
          expect(drained(s())).toBe(true);
          // Batches: never more exchanges than one per attempt plus one per empty wake.
          expect(exchanges).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe("a worker's look-ups on disk (FreshCache)", () => {
  it('answers from memory within its time to live, looks again after it, and keeps only what it is told to keep', () => {
    let now = 0;
    const cache = new FreshCache<string>(1000, 2, () => now);
    let looked = 0;
    const look = (v: string) => () => (looked++, v);
    expect(cache.get('a', look('1'))).toBe('1');
    expect(cache.get('a', look('2'))).toBe('1');
    now = 999;
    expect(cache.get('a', look('3'))).toBe('1');
    now = 1000;
    expect(cache.get('a', look('4'))).toBe('4');
    expect(looked).toBe(2);
    // Not kept: asked again every time.
    expect(cache.get('b', look('no'), () => false)).toBe('no');
    expect(cache.get('b', look('yes'))).toBe('yes');
    expect(looked).toBe(4);
    // At most two entries: the oldest goes.
    cache.get('c', look('c'));
    expect(cache.get('a', look('a2'))).toBe('a2');
  });
});

function summary(status: string, seq: number): RunSummary {
  return { runId: 'r', plan: 'p', parentRunId: null, status, startedAt: 0, completedAt: null, cost: seq, error: null } as RunSummary;
}
function event(seq: number): RunEvent {
  return { runId: 'r', seq, ts: seq, type: 'step_log', stepId: null, data: {} } as unknown as RunEvent;
}

describe('group commit', () => {
  it('writes the turns that end while a commit is in flight as one commit, and runs their effects in order after it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 30 }), async (sizes) => {
        const commits: { events: number[]; cost: number; hooks: number }[] = [];
        const releases: (() => void)[] = [];
        const journal: JournalSink = {
          commit: (s, events, hooks) => {
            commits.push({ events: events.map((e) => e.seq), cost: s.cost, hooks: hooks?.length ?? 0 });
            return new Promise<void>((r) => releases.push(r));
          },
        };
        const q = new CommitQueue(journal, (err) => {
          throw err;
        }, () => false);
        const effects: number[] = [];
        let seq = 0;
        sizes.forEach((n, turn) => {
          const events = Array.from({ length: n }, () => event(++seq));
          const hooks: CommitHook[] = events.map(() => async () => undefined);
          q.submit(n > 0 ? summary('running', seq) : null, events, () => effects.push(turn), hooks);
        });
        // Let every commit through, one at a time, as the database would.
        for (let i = 0; i < 100 && (releases.length > 0 || !q.idle); i++) {
          releases.shift()?.();
          await new Promise((r) => setImmediate(r));
        }
        expect(q.idle).toBe(true);
        // Every event once, in order; every effect once, in order.
        expect(commits.flatMap((c) => c.events)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
        expect(effects).toEqual(sizes.map((_, i) => i));
        // At most two commits: the first turn with events, then everything that queued behind it.
        expect(commits.length).toBeLessThanOrEqual(2);
        for (const c of commits) {
          expect(c.hooks).toBe(c.events.length);
          expect(c.cost).toBe(c.events.at(-1));
        }
      }),
    );
  });
});

describe('batched commit hooks', () => {
  it('run each group once, where its first member stands, with the items in order', async () => {
    const calls: string[] = [];
    const a = async (_tx: unknown, items: readonly number[]) => void calls.push(`a${items.join(',')}`);
    const b = async (_tx: unknown, items: readonly number[]) => void calls.push(`b${items.join(',')}`);
    const plain: CommitHook = async () => void calls.push('plain');
    await runCommitHooks('tx', [batchedHook(a, 1), plain, batchedHook(b, 7), batchedHook(a, 2), batchedHook(a, 3), batchedHook(b, 8)]);
    expect(calls).toEqual(['a1,2,3', 'plain', 'b7,8']);
    calls.length = 0;
    // Called alone, a batched hook is its group with its item.
    await batchedHook(a, 9)('tx');
    expect(calls).toEqual(['a9']);
  });
});
