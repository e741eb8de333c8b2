/**
 * LANGUAGE.md §9.4: the context's events reach its journal coalesced — per signal, the first
 * update after a quiet spell at once, then at most one row per window with the last value and how
 * many messages it stands for; staleness never held back and after its signal's pending update;
 * retention applied; rows of a failed append kept for the next. Virtual clock, memory journal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { contextEventsJsonSchema } from '../backend/context-journal.js';
import { openSqliteContextJournal } from '../backend/sqlite/context-journal.js';
import { openSqlite } from '../backend/index.js';
import { ContextJournaling, ContextStore, memoryBackend, VirtualClock, type ContextJournal, type ContextEventRow } from '../index.js';

async function setup(opts: { retentionMs?: number; journal?: ContextJournal } = {}) {
  const clock = new VirtualClock(1_000_000);
  const journal = opts.journal ?? (await memoryBackend().contextJournal());
  const live: ContextEventRow[] = [];
  const store = new ContextStore({ signals: { motion: { max_age_ms: 5_000, derived: null, hold_ms: null } }, clock });
  const j = new ContextJournaling({ journal, clock, windowMs: 1000, retentionMs: opts.retentionMs ?? null, onRow: (r) => live.push(r) });
  store.subscribe((c) => j.change(c));
  return { clock, journal, store, j, live };
}

/** Moves the virtual clock `ms` on, firing every timer due by then. */
function advance(clock: VirtualClock, ms: number): void {
  const target = clock.now() + ms;
  clock.setTimer(ms, () => {});
  while (clock.now() < target && clock.step());
}

const oldestFirst = async (journal: ContextJournal): Promise<{ [key: string]: unknown }[]> => (await journal.list({ limit: 1000 })).reverse().map((e) => ({ type: e.type, ...e.data }));

describe('the context journal', () => {
  it('coalesces a burst of updates into one row per window, last value wins, with a count', async () => {
    const { clock, journal, store, j, live } = await setup();
    for (let i = 1; i <= 500; i++) store.set('motion', i % 2 === 0, { source: 'home' });
    await new Promise((r) => setImmediate(r));
    // the first at once; the other 499 held as one pending row
    expect(await oldestFirst(journal)).toEqual([{ type: 'context_updated', value: false, source: 'home', at: 1_000_000 }]);
    advance(clock, 1000);
    await j.flush();
    expect((await oldestFirst(journal))[1]).toEqual({ type: 'context_updated', value: true, source: 'home', at: 1_000_000, count: 499 });
    // a quiet window closes; the next set is written at once again
    advance(clock, 1000);
    store.set('motion', false, { source: 'api' });
    await j.flush();
    expect((await oldestFirst(journal)).map((e) => e.count ?? 1)).toEqual([1, 499, 1]);
    expect(live).toHaveLength(3); // the live stream carries what is journaled
  });

  it('writes a pending update before its staleness, and rejections coalesce too', async () => {
    const { clock, journal, store, j } = await setup();
    store.set('motion', true, { source: 'home' });
    store.set('motion', false, { source: 'home' });
    store.set('occupied_x', 1, { source: 'home' });
    for (let i = 0; i < 3; i++) j.change({ type: 'context_rejected', signal: 'motion', source: 'home', reason: `bad ${i}` });
    advance(clock, 5_001); // motion passes max_age (the window ended first and wrote the pending update)
    await j.close();
    const rows = await oldestFirst(journal);
    expect(rows.filter((r) => r.type === 'context_updated' && r.value !== 1).map((r) => r.value)).toEqual([true, false]);
    expect(rows.at(-1)).toMatchObject({ type: 'context_stale', age: 5_001 });
    expect(rows.filter((r) => r.type === 'context_rejected')).toEqual([
      { type: 'context_rejected', source: 'home', reason: 'bad 0' },
      { type: 'context_rejected', source: 'home', reason: 'bad 2', count: 2 },
    ]);
  });

  it('writes rows that match the context events schema, and reads back only the types it knows (SQLite)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orch-context-rows-')), 'journal.db');
    const journal = openSqliteContextJournal(file);
    const { clock, store, j, live } = await setup({ journal });
    for (let i = 0; i < 3; i++) store.set('motion', i % 2 === 0, { source: 'home' });
    for (let i = 0; i < 3; i++) j.change({ type: 'context_rejected', signal: 'motion', source: 'home', reason: `bad ${i}` });
    advance(clock, 5_001);
    await j.flush();
    const validate = new Ajv2020({ allErrors: true }).compile(contextEventsJsonSchema());
    expect(live.map((r) => r.type).sort()).toEqual(['context_rejected', 'context_rejected', 'context_stale', 'context_updated', 'context_updated']);
    for (const row of live) expect([row, validate(row) ? [] : validate.errors]).toEqual([row, []]);
    // The schema holds each type to its own fields.
    expect(validate({ type: 'context_stale', signal: 'motion', time: 1, data: { value: 1, source: 'x', at: 1 } })).toBe(false);
    // A row of a type a newer Orch wrote on the same database is skipped, not handed on untyped.
    const db = openSqlite(file);
    db.prepare("INSERT INTO context_events (type, signal, time, data) VALUES ('context_forecast', 'motion', 1, '{}')").run();
    db.close();
    const read = await journal.list({ limit: 100 });
    expect(read.map((r) => r.type)).not.toContain('context_forecast');
    expect(read).toHaveLength(live.length);
    await j.close();
    await journal.close();
  });

  it('prunes by retention and keeps the rows of a failed append for the next', async () => {
    const inner = await memoryBackend().contextJournal();
    let failing = true;
    const journal: ContextJournal = { ...inner, append: async (rows) => (failing ? Promise.reject(new Error('db down')) : inner.append(rows)) };
    const { clock, store, j } = await setup({ journal, retentionMs: 7_200_000 });
    store.set('motion', true, { source: 'home' });
    await Promise.resolve();
    failing = false;
    advance(clock, 3_600_000);
    store.set('motion', false, { source: 'home' });
    await j.flush();
    const kept = await inner.list({ limit: 10 });
    expect(kept.filter((e) => e.type === 'context_updated').map((e) => e.data.value)).toEqual([false, true]);
    // past the retention of the first: it is pruned, by its journaling time
    advance(clock, 3_600_001);
    store.set('motion', true, { source: 'home' });
    await j.flush();
    expect((await inner.list({ limit: 10 })).filter((e) => e.type === 'context_updated').map((e) => e.data.value)).toEqual([true, false]);
  });

  it('journals a going-stale once across a restart, whose store finds the kept signal stale again; one that went stale while no server ran is journaled then', async () => {
    const { clock, journal, store, j } = await setup();
    store.set('motion', true, { source: 'home' });
    advance(clock, 5_001); // stale, journaled
    await j.close();
    const kept = store.records_();
    store.close();
    // A restart: the kept motion is restored, already stale; mode was set and went stale while no server ran.
    const signals = { motion: { max_age_ms: 5_000, derived: null, hold_ms: null }, mode: { max_age_ms: 5_000, derived: null, hold_ms: null } };
    await journal.append([{ type: 'context_updated', signal: 'mode', time: clock.now(), data: { value: 'eco', source: 'home', at: clock.now() } }]);
    advance(clock, 60_000);
    const again = new ContextStore({ signals, clock });
    const j2 = new ContextJournaling({ journal, clock, windowMs: 1000, retentionMs: null });
    again.subscribe((c) => j2.change(c));
    const seen: string[] = [];
    again.subscribe((c) => c.type === 'context_stale' && seen.push(c.signal));
    again.restore({ ...kept, mode: { value: 'eco', set_at: clock.now() - 60_000, source: 'home' } });
    advance(clock, 1);
    expect(seen.sort()).toEqual(['mode', 'motion']); // the store (and so the triggers) see both stale
    await j2.close();
    const stale = (await oldestFirst(journal)).filter((r) => r.type === 'context_stale');
    expect(stale).toHaveLength(2);
    expect((await journal.list({ limit: 10, signal: 'mode' }))[0]).toMatchObject({ type: 'context_stale' });
    again.close();
  });
});
