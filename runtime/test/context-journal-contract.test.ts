/**
 * The context journal's contract (§9.4), run against every backend: two stores on one database
 * stand for two servers appending to one list, read newest first, paged, by signal, pruned by time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from './backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('the context journal on $name', (backend) => {
  it('appends from two servers, lists newest first in pages and by signal, prunes by time', async () => {
    const place = await backend.place();
    cleanups.push(place.teardown);
    const a = await (await place.open()).contextJournal();
    cleanups.push(() => a.close());
    const b = await (await place.open()).contextJournal();
    cleanups.push(() => b.close());
    await a.append([
      { type: 'context_updated', signal: 'motion', time: 1_000, data: { value: true, source: 'home', at: 990 } },
      { type: 'context_rejected', signal: 'temperature', time: 1_001, data: { source: 'home', reason: 'not a number' } },
    ]);
    await b.append([{ type: 'context_stale', signal: 'motion', time: 5_000, data: { age: 4_010 } }]);
    await b.append([]);
    const all = await b.list({ limit: 10 });
    expect(all.map((e) => [e.type, e.signal, e.time])).toEqual([
      ['context_stale', 'motion', 5_000],
      ['context_rejected', 'temperature', 1_001],
      ['context_updated', 'motion', 1_000],
    ]);
    expect(all[2]!.data).toEqual({ value: true, source: 'home', at: 990 });
    const first = await a.list({ limit: 2 });
    expect(await a.list({ limit: 2, before: first.at(-1)!.seq })).toEqual([all[2]]);
    expect((await a.list({ limit: 10, signal: 'motion' })).map((e) => e.type)).toEqual(['context_stale', 'context_updated']);
    expect(await a.prune(1_001)).toBe(1);
    expect((await b.list({ limit: 10 })).map((e) => e.time)).toEqual([5_000, 1_001]);
  });
});
