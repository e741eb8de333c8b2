/** LANGUAGE.md §9.4: the context store on the scheduler's virtual clock — staleness at its deadline, derived signals, hold. */
import { describe, expect, it } from 'vitest';
import type { ContextSignalIR, ExprIR } from '../../compiler/index.js';
import { ContextStore, UNKNOWN_AGE, type ContextChange } from '../context/store.js';
import { VirtualClock } from '../scheduler/clock.js';
import { SOURCE_PAYLOAD_LIMIT, SourceIngest } from '../context/sources/ingest.js';
import { evaluateOrUnknown, UNKNOWN, unknownReason } from '../evaluate.js';

const sig = (name: string): ExprIR => ({ op: 'get', object: { op: 'var', name: 'context' }, key: name });
const plain = (max: number | null): ContextSignalIR => ({ max_age_ms: max, derived: null, hold_ms: null });
const SIGNALS: { [name: string]: ContextSignalIR } = {
  motion: plain(120_000),
  phone_home: plain(600_000),
  temperature: plain(null),
  occupied: { max_age_ms: null, derived: { op: 'or', left: sig('motion'), right: sig('phone_home') }, hold_ms: 600_000 },
};

function storeAt(start = 1_000_000): { store: ContextStore; clock: VirtualClock; events: ContextChange[] } {
  const clock = new VirtualClock(start);
  const store = new ContextStore({ signals: SIGNALS, clock });
  const events: ContextChange[] = [];
  store.subscribe((e) => events.push(e));
  return { store, clock, events };
}

describe('the context store', () => {
  it('a derived signal over the clock changes the moment its age passes, with no message; no timer once closed', () => {
    const clock = new VirtualClock(1_000_000);
    const age: ExprIR = { op: 'call', fn: 'age', args: [sig('door')] };
    const store = new ContextStore({ signals: { door: plain(null), quiet: { max_age_ms: null, derived: { op: '>', left: age, right: { op: 'lit', value: 120_000 } }, hold_ms: null } }, clock });
    const events: ContextChange[] = [];
    store.subscribe((e) => events.push(e));
    store.set('door', true, { source: 'api' });
    expect(store.read('quiet').value).toBe(false);
    expect(clock.step()).toBe(true);
    expect(clock.now()).toBe(1_120_001);
    expect(store.read('quiet').value).toBe(true);
    expect(events.filter((e) => e.signal === 'quiet').map((e) => e.type === 'context_updated' && e.value)).toEqual([false, true]);
    store.set('door', false, { source: 'api' });
    expect(store.read('quiet').value).toBe(false);
    store.close();
    expect(clock.pending()).toBe(0);
  });

  it('keeps value, time and source; a signal never set is never_set, one without max_age never goes stale', () => {
    const { store, clock } = storeAt();
    expect(store.read('motion').state).toBe('never_set');
    expect(store.set('temperature', 21, { source: 'api' })).toEqual({ accepted: true });
    clock.runAll();
    expect(store.read('temperature')).toMatchObject({ value: 21, state: 'fresh', source: 'api', set_at: 1_000_000 });
  });

  it('goes stale the moment its age passes max_age, with no message, and says so once', () => {
    const { store, clock, events } = storeAt();
    store.set('motion', true, { source: 'api' });
    expect(clock.pending()).toBeGreaterThan(0);
    clock.step(); // the staleness timer: the clock moves to its deadline, nothing else
    expect(clock.now()).toBe(1_000_000 + 120_001);
    expect(store.read('motion')).toMatchObject({ state: 'stale', value: true, age_ms: 120_001 });
    expect(events.filter((e) => e.type === 'context_stale' && e.signal === 'motion')).toEqual([{ type: 'context_stale', signal: 'motion', age: 120_001 }]);
    expect(store.values()).not.toHaveProperty('motion');
  });

  it('every accepted message sets the time, also when the value is the same', () => {
    const { store, clock, events } = storeAt();
    store.set('motion', true, { source: 'api' });
    clock.setTimer(100_000, () => store.set('motion', true, { source: 'api' }));
    clock.step();
    clock.step(); // the first staleness timer was replaced: the next one is 120 s after the second message
    expect(clock.now()).toBe(1_000_000 + 100_000 + 120_001);
    expect(events.filter((e) => e.type === 'context_updated' && e.signal === 'motion')).toHaveLength(2);
  });

  it('a retained message repeating the value the signal has keeps its time (a reconnect re-sends it); another value is of unknown age', () => {
    const { store, clock } = storeAt();
    const ingest = new SourceIngest('home', { topics: [{ topic: 'home/motion', signal: 'motion', from: { op: 'var', name: 'payload' }, at: null }] }, store, { properties: { motion: { type: 'boolean' } } });
    ingest.accept({ topic: 'home/motion', payload: new TextEncoder().encode('true') });
    clock.setTimer(30_000, () => ingest.accept({ topic: 'home/motion', payload: new TextEncoder().encode('true'), retained: true }));
    clock.step();
    expect(store.read('motion')).toMatchObject({ state: 'fresh', value: true, set_at: 1_000_000 });
    ingest.accept({ topic: 'home/motion', payload: new TextEncoder().encode('false'), retained: true });
    // Of unknown age: no time, no age.
    expect(store.read('motion')).toMatchObject({ state: 'stale', value: false, set_at: null, age_ms: null });
    const env = { vars: {}, signal: (n: string) => store.read(n), now: () => clock.now() };
    const age: ExprIR = { op: 'call', fn: 'age', args: [{ op: 'get', object: { op: 'var', name: 'context' }, key: 'motion' }] };
    expect(evaluateOrUnknown(age, env)).toBe(UNKNOWN);
    expect(evaluateOrUnknown({ op: '>', left: age, right: { op: 'lit', value: 60_000 } }, env)).toBe(UNKNOWN);
    expect(unknownReason({ op: 'get', object: { op: 'var', name: 'context' }, key: 'motion' }, env)).toBe('context.motion is stale: its age is unknown (a retained message)');
    // Kept durably as it came, so a restart still finds it of unknown age.
    expect(store.record('motion')).toMatchObject({ value: false, set_at: UNKNOWN_AGE, source: 'home' });
  });

  it('a derived signal over a value of unknown age is of unknown age too: its own max_age finds it stale, with no age', () => {
    const clock = new VirtualClock(1_000_000);
    const store = new ContextStore({
      clock,
      signals: { mode: plain(null), away: { max_age_ms: 300_000, derived: { op: '==', left: sig('mode'), right: { op: 'lit', value: 'away' } }, hold_ms: null } },
    });
    store.set('mode', 'away', { source: 'home', at: UNKNOWN_AGE });
    // No max_age: never stale, but of unknown age all the same.
    expect(store.read('mode')).toMatchObject({ value: 'away', state: 'fresh', set_at: null, age_ms: null });
    expect(store.read('away')).toMatchObject({ value: true, state: 'stale', set_at: null, age_ms: null, source: 'derived' });
    store.set('mode', 'away', { source: 'home' });
    expect(store.read('away')).toMatchObject({ value: true, state: 'fresh', set_at: 1_000_000, age_ms: 0 });
    store.close();
  });

  it('a sample dated before the kept one, of another value, is refused as out of order and journaled; a duplicate is taken again', () => {
    const { store, events } = storeAt();
    const at: ExprIR = { op: 'get', object: { op: 'var', name: 'payload' }, key: 'ts' };
    const from: ExprIR = { op: 'get', object: { op: 'var', name: 'payload' }, key: 'v' };
    const ingest = new SourceIngest('home', { topics: [{ topic: 'home/motion', signal: 'motion', from, at }] }, store, { properties: { motion: { type: 'boolean' } } });
    const send = (v: boolean, ts: number) => ingest.accept({ topic: 'home/motion', payload: new TextEncoder().encode(JSON.stringify({ v, ts })) });
    expect(send(true, 990_000)).toBe(1);
    expect(send(true, 990_000)).toBe(1); // the same message twice (QoS 1 may redeliver): same value, same time
    send(false, 980_000);
    expect(store.read('motion')).toMatchObject({ value: true, set_at: 990_000, state: 'fresh' });
    expect(events.at(-1)).toMatchObject({ type: 'context_rejected', signal: 'motion', source: 'home' });
    expect((events.at(-1) as { reason: string }).reason).toMatch(/older than/);
    expect(events.filter((e) => e.type === 'context_updated' && e.signal === 'motion')).toHaveLength(2);
    // In order but older than max_age: stored, stale.
    const late = storeAt(10_000_000);
    new SourceIngest('home', { topics: [{ topic: 'm', signal: 'motion', from, at }] }, late.store, { properties: { motion: { type: 'boolean' } } }).accept({ topic: 'm', payload: { v: false, ts: 10_000_000 - 3_600_000 } });
    expect(late.store.read('motion')).toMatchObject({ value: false, state: 'stale', set_at: 10_000_000 - 3_600_000 });
  });

  it('refuses a payload larger than the body limit or nested past 1000 levels, journaled, and a topic name with a wildcard sets nothing', () => {
    const { store, events } = storeAt();
    const ingest = new SourceIngest('home', { topics: [{ topic: 'home/+/motion', signal: 'motion', from: { op: 'var', name: 'payload' }, at: null }] }, store, { properties: { motion: { type: 'boolean' } } });
    expect(ingest.accept({ topic: 'home/hall/motion', payload: new Uint8Array(SOURCE_PAYLOAD_LIMIT + 1).fill(32) })).toBe(0);
    expect(events).toEqual([expect.objectContaining({ type: 'context_rejected', signal: 'motion', reason: expect.stringMatching(/^topic "home\/hall\/motion": the payload is larger than/) })]);
    // Nested past what the journal can write (a signal of an open type would take it): refused, journaled.
    const any = new SourceIngest('home', { topics: [{ topic: 'raw', signal: 'raw', from: { op: 'var', name: 'payload' }, at: null }] }, store, { properties: { raw: {} } });
    expect(any.accept({ topic: 'raw', payload: new TextEncoder().encode('['.repeat(200_000) + ']'.repeat(200_000)) })).toBe(0);
    expect(any.accept({ topic: 'raw', payload: JSON.parse('['.repeat(1001) + ']'.repeat(1001)) as unknown })).toBe(0);
    expect(events.slice(1).map((e) => e.type === 'context_rejected' && e.reason)).toEqual(['topic "raw": the payload nests more than 1000 levels deep', 'topic "raw": the payload nests more than 1000 levels deep']);
    expect(any.accept({ topic: 'raw', payload: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) as unknown })).toBe(1);
    // A key the payload does not have is null, also one every object inherits: no function or prototype reaches the store.
    for (const key of ['constructor', '__proto__', 'toString']) {
      new SourceIngest('home', { topics: [{ topic: 'obj', signal: 'raw', from: { op: 'get', object: { op: 'var', name: 'payload' }, key }, at: null }] }, store, { properties: { raw: {} } }).accept({ topic: 'obj', payload: { a: 1 } });
      expect(store.read('raw').value).toBeNull();
    }
    expect(ingest.accept({ topic: 'home/+/motion', payload: true })).toBe(0);
    expect(ingest.accept({ topic: 'home/#', payload: true })).toBe(0);
    expect(store.read('motion').state).toBe('never_set');
  });

  it('refuses to set a derived signal, and says why', () => {
    const { store, events } = storeAt();
    expect(store.set('occupied', true, { source: 'api' })).toMatchObject({ accepted: false });
    expect(events.at(-1)).toMatchObject({ type: 'context_rejected', signal: 'occupied', source: 'api' });
  });

  it('derives with Kleene logic, dates a derived value by its oldest read, and holds a true for its hold', () => {
    const { store, clock } = storeAt();
    expect(store.read('occupied').state).toBe('never_set');
    store.set('motion', true, { source: 'api' });
    // true or unknown is true: known although phone_home was never set
    expect(store.read('occupied')).toMatchObject({ value: true, state: 'fresh', source: 'derived' });
    clock.setTimer(10_000, () => store.set('phone_home', false, { source: 'api' }));
    clock.step();
    expect(store.read('occupied')).toMatchObject({ value: true, set_at: 1_000_000 });
    clock.setTimer(1_000, () => store.set('motion', false, { source: 'api' }));
    clock.step();
    // the expression is false now, but the true is held for 10 minutes
    expect(store.read('occupied').value).toBe(true);
    const turnedFalse = clock.now();
    // the sensors keep reporting false every minute: only the hold keeps occupied true
    const report = (): void => {
      store.set('motion', false, { source: 'api' });
      store.set('phone_home', false, { source: 'api' });
      if (clock.now() < turnedFalse + 700_000) clock.setTimer(60_000, report);
    };
    clock.setTimer(60_000, report);
    const seen: { at: number; value: unknown }[] = [];
    store.subscribe((e) => void (e.type === 'context_updated' && e.signal === 'occupied' && seen.push({ at: clock.now(), value: e.value })));
    clock.runAll();
    // no update while held; false exactly when the hold ends, then false as the sensors report
    expect(seen[0]).toEqual({ at: turnedFalse + 600_000, value: false });
    expect(seen.every((e) => e.value === false)).toBe(true);
  });

  it('a derived signal known with nothing set (a constant, a ?? default) has its value from the start', () => {
    const clock = new VirtualClock(5_000);
    const store = new ContextStore({
      clock,
      signals: {
        motion: plain(120_000),
        level: { max_age_ms: null, derived: { op: 'lit', value: 0 }, hold_ms: null },
        away: { max_age_ms: null, derived: { op: '??', left: sig('motion'), right: { op: 'lit', value: false } }, hold_ms: null },
        occupied: { max_age_ms: null, derived: sig('motion'), hold_ms: null },
      },
    });
    expect(store.read('level')).toMatchObject({ value: 0, state: 'fresh', source: 'derived', set_at: 5_000 });
    expect(store.read('away')).toMatchObject({ value: false, state: 'fresh', source: 'derived' });
    expect(store.read('occupied').state).toBe('never_set');
    store.set('motion', true, { source: 'api' });
    expect(store.read('away').value).toBe(true);
  });

  it('unknown is not false: a held derived signal goes stale with what it reads, and a false within D after the last true is still held', () => {
    // true → unknown: motion goes stale, phone_home was never set — occupied is stale at that moment.
    const a = storeAt();
    a.store.set('motion', true, { source: 'api' });
    a.clock.step(); // motion stale at 2m
    const staleAt = a.clock.now();
    expect(staleAt).toBe(1_000_000 + 120_001);
    expect(a.store.read('occupied')).toMatchObject({ state: 'stale', value: null });
    expect(a.store.values()).not.toHaveProperty('occupied');
    expect(a.events.filter((e) => e.signal === 'occupied').map((e) => e.type)).toEqual(['context_updated', 'context_stale']);
    // a false within D of the last true is held true; after D, false
    a.store.set('motion', false, { source: 'api' });
    expect(a.store.read('occupied').state).toBe('stale'); // false or never-set phone_home: still unknown
    a.store.set('phone_home', false, { source: 'api' });
    expect(a.store.read('occupied')).toMatchObject({ value: true, state: 'fresh' });
    a.clock.runAll();
    expect(a.clock.now()).toBeGreaterThanOrEqual(staleAt + 600_000);
    expect(a.store.read('occupied').value).not.toBe(true);
    // true → false (held) → unknown within the hold: stale at once, not held through the unknown.
    const b = storeAt();
    b.store.set('phone_home', false, { source: 'api' });
    b.store.set('motion', true, { source: 'api' });
    b.clock.setTimer(60_000, () => b.store.set('motion', false, { source: 'api' }));
    b.clock.step();
    const turnedFalse = b.clock.now();
    expect(b.store.read('occupied')).toMatchObject({ value: true, state: 'fresh' });
    b.clock.step(); // motion stale 2m later: false or unknown is unknown
    expect(b.clock.now()).toBe(turnedFalse + 120_001);
    expect(b.store.read('occupied').state).toBe('stale');
    // motion reports false again within the hold: held true until D after it turned false
    const report = (): void => {
      b.store.set('motion', false, { source: 'api' });
      b.store.set('phone_home', false, { source: 'api' });
      if (b.clock.now() < turnedFalse + 700_000) b.clock.setTimer(60_000, report);
    };
    report();
    expect(b.store.read('occupied')).toMatchObject({ value: true, state: 'fresh' });
    const seen: { at: number; value: unknown }[] = [];
    b.store.subscribe((e) => void (e.type === 'context_updated' && e.signal === 'occupied' && seen.push({ at: b.clock.now(), value: e.value })));
    b.clock.runAll();
    expect(seen[0]).toEqual({ at: turnedFalse + 600_000, value: false });
    a.store.close();
    b.store.close();
  });

  it('a derived signal reading a stale one becomes unknown when it goes stale', () => {
    const { store, clock, events } = storeAt();
    store.set('motion', false, { source: 'api' });
    store.set('phone_home', false, { source: 'api' });
    expect(store.read('occupied').value).toBe(false);
    clock.step(); // motion goes stale: false or unknown is unknown
    expect(store.read('occupied').state).toBe('stale');
    expect(events.some((e) => e.type === 'context_stale' && e.signal === 'occupied')).toBe(true);
  });

  it("a derived signal's own max_age counts from the oldest signal it read: stale then with no message, said once, and what reads it sees unknown", () => {
    const clock = new VirtualClock(1_000_000);
    const store = new ContextStore({
      clock,
      signals: {
        heater_on: plain(null),
        warm: { max_age_ms: 60_000, derived: sig('heater_on'), hold_ms: null },
        comfy: { max_age_ms: null, derived: { op: 'and', left: sig('warm'), right: { op: 'lit', value: true } }, hold_ms: null },
      },
    });
    const events: ContextChange[] = [];
    store.subscribe((e) => events.push(e));
    store.set('heater_on', true, { source: 'api' });
    expect(store.read('warm')).toMatchObject({ value: true, state: 'fresh' });
    clock.step(); // warm's deadline: heater_on itself never goes stale
    expect(clock.now()).toBe(1_000_000 + 60_001);
    expect(store.read('warm')).toMatchObject({ value: true, state: 'stale', age_ms: 60_001 });
    expect(store.read('comfy').state).toBe('stale');
    expect(store.values()).not.toHaveProperty('warm');
    expect(unknownReason(sig('warm'), { vars: {}, signal: (n) => store.read(n) })).toBe('context.warm is stale: 1m1ms > 1m');
    expect(events.filter((e) => e.type === 'context_stale')).toEqual([
      { type: 'context_stale', signal: 'warm', age: 60_001 },
      { type: 'context_stale', signal: 'comfy', age: 60_001 },
    ]);
    store.set('heater_on', true, { source: 'api' }); // a new sample makes it fresh again
    expect(store.read('warm')).toMatchObject({ value: true, state: 'fresh', age_ms: 0 });
    expect(store.read('comfy')).toMatchObject({ value: true, state: 'fresh' });
  });
});
