/**
 * The trigger-state contract (`TriggerStateStore`, `orch serve`'s schedules, conditions, claims and
 * context), run against every backend: two stores on one database stand for two servers — each
 * firing is claimed by exactly one of them, even when they race, and what one writes the other reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TriggerStateStore } from '../backend/index.js';
import { waitUntil } from '../../test/support/wait.js';
import { BACKENDS } from './backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('trigger state on $name', (backend) => {
  async function two(): Promise<[TriggerStateStore, TriggerStateStore]> {
    const place = await backend.place();
    cleanups.push(place.teardown);
    const a = await (await place.open()).triggerState();
    cleanups.push(() => a.close());
    const b = await (await place.open()).triggerState();
    cleanups.push(() => b.close());
    return [a, b];
  }

  it('keeps each trigger’s last tick and condition edge, read by the other server', async () => {
    const [a, b] = await two();
    expect(await a.lastTick('nightly')).toBeNull();
    expect(await a.lastCondition('too_hot')).toBeNull();
    await a.setLastTick('nightly', 1_000);
    await b.setLastTick('nightly', 2_000);
    await a.setLastCondition('too_hot', true);
    expect(await b.lastTick('nightly')).toBe(2_000);
    // Never backwards: a server that ticked late does not make the next one fire that tick again.
    await a.setLastTick('nightly', 1_500);
    expect(await b.lastTick('nightly')).toBe(2_000);
    expect(await b.lastCondition('too_hot')).toBe(true);
    await b.setLastCondition('too_hot', false);
    expect(await a.lastCondition('too_hot')).toBe(false);
    // A tick and a condition of one trigger are kept apart.
    await a.setLastTick('too_hot', 5);
    expect(await b.lastCondition('too_hot')).toBe(false);
    expect(await b.lastTick('too_hot')).toBe(5);
  });

  it('claims each firing once across servers, even when they race', async () => {
    const [a, b] = await two();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim('chain', 'run-1')));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await a.claim('chain', 'run-2')).toBe(true);
    // The same key of another trigger is a claim of its own.
    expect(await b.claim('other', 'run-1')).toBe(true);
    expect(await b.claim('chain', 'run-2')).toBe(false);
  });

  it('opens each trigger’s debounce window once across servers, even when they race', async () => {
    const [a, b] = await two();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).debounce('pinged', 10_000, 30_000)));
    expect(answers.filter((x) => x === null)).toHaveLength(1);
    expect(answers.filter((x) => x !== null)).toEqual(Array(19).fill(10_000));
    // Inside the window the other server is refused, with the time the window opened.
    expect(await a.debounce('pinged', 39_999, 30_000)).toBe(10_000);
    // Another trigger's window, and the same trigger's schedule tick, are kept apart.
    expect(await b.debounce('other', 20_000, 30_000)).toBeNull();
    expect(await b.lastTick('pinged')).toBeNull();
    // Once it has closed, the next event opens a new one.
    expect(await b.debounce('pinged', 40_000, 30_000)).toBeNull();
    expect(await a.debounce('pinged', 41_000, 30_000)).toBe(40_000);
  });

  it('merges context values, as JSON, seen by both', async () => {
    const [a, b] = await two();
    expect(await a.context()).toEqual({});
    const value = { level: 3, tags: ['x'] };
    expect(await a.mergeContext({ mode: 'away', value })).toEqual({ mode: 'away', value });
    value.level = 4; // the store keeps what was merged, not the caller's object
    expect(await b.mergeContext({ mode: 'home', nothing: undefined })).toEqual({ mode: 'home', value: { level: 3, tags: ['x'] }, nothing: null });
    expect(await a.context()).toEqual({ mode: 'home', value: { level: 3, tags: ['x'] }, nothing: null });
  });

  it('tells a follower what another server merged into the context (not on SQLite: one server per file)', async () => {
    const [a, b] = await two();
    const seen: Record<string, unknown>[] = [];
    const stop = await b.followContext((values) => seen.push(values));
    try {
      await a.mergeContext({ mode: 'away', level: 2 });
      if (backend.name === 'SQLite') return expect(seen).toEqual([]);
      await waitUntil(() => Object.assign({}, ...seen).level === 2, 'the follower to see the merge');
      expect(Object.assign({}, ...seen)).toEqual({ mode: 'away', level: 2 });
    } finally {
      await stop();
    }
  });
});
