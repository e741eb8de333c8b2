/**
 * LANGUAGE.md §9.4 at the trigger engine: a stale signal never fires a `when` trigger, staleness
 * is seen at its deadline on the clock with no message, unknown→true rises, and a restart does not
 * fire again a condition that was already true; a batch of a source's messages decides as the
 * messages one by one would (the sides folded), and keeps the last value. Driven by a virtual
 * clock: no sleeps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContextSignalIR, ExprIR, TriggerIR } from '../../compiler/index.js';
import { ContextStore, evaluateOrUnknown, memoryBackend, VirtualClock, type TriggerStateStore } from '../../runtime/index.js';
import { createInputValidator } from '../input-validator.js';
import { foldSides, type Side } from '../condition-edges.js';
import { decodeRecords } from '../context-records.js';
import { signalBatcher } from '../signal-batch.js';
import { TriggerEngine, type SignalSet } from '../trigger-engine.js';
import { FakeStarter, fakePlan } from './fake-starter.js';
import { waitFor } from './http-helpers.js';

const sig = (key: string): ExprIR => ({ op: 'get', object: { op: 'var', name: 'context' }, key });
const SIGNALS: { [name: string]: ContextSignalIR } = { temperature: { max_age_ms: 60_000, derived: null, hold_ms: null } };
// too_hot fires when temperature > 28; cold_or_unknown when not (temperature > 28) ?? … — here: `temperature ?? 0 > 28` is never unknown
const HOT: TriggerIR = {
  name: 'too_hot', source: { kind: 'when', condition: { op: '>', left: sig('temperature'), right: { op: 'lit', value: 28 } } },
  plan: 'cool', with: null, debounce_ms: null, consent: [], file: 't.orch', line: 1,
};

async function engineOn(state: TriggerStateStore, clock: VirtualClock, triggers: readonly TriggerIR[] = [HOT], signals = SIGNALS) {
  const starter = new FakeStarter();
  const store = new ContextStore({ signals, clock });
  const engine = new TriggerEngine({
    triggers,
    plans: [fakePlan('cool')],
    starter,
    context: store,
    evaluate: (e, s) => evaluateOrUnknown(e, { vars: { event: s.event ?? null, context: s.context }, ...(s.signal ? { signal: s.signal } : {}) }),
    checkInput: createInputValidator(),
    state,
    now: () => clock.now(),
  });
  await engine.activate({ catchUp: false });
  return { engine, starter, store };
}

describe('when triggers over an always-fresh context', () => {
  it('a stale signal never fires; going stale is seen at the deadline; unknown → true rises', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const { engine, starter, store } = await engineOn(state, clock);
    expect((await engine.signal({ temperature: 30 })).map((r) => r.outcome)).toEqual(['started']);
    expect(starter.runs).toHaveLength(1);
    const stale = new Promise<void>((done) => store.subscribe((c) => c.type === 'context_stale' && done()));
    clock.step(); // the signal's age passes max_age: no message needed
    await stale;
    expect(engine.store.read('temperature').state).toBe('stale');
    expect(engine.currentContext()).toEqual({});
    // a value set long ago (a sample's time from a source) is stale on arrival: no run
    store.set('temperature', 35, { source: 'api', at: clock.now() - 120_000 });
    expect((await engine.signal({})).length).toBe(0);
    expect(starter.runs).toHaveLength(1);
    // fresh again and true: unknown → true is a rising edge
    expect((await engine.signal({ temperature: 31 })).map((r) => r.outcome)).toEqual(['started']);
    expect(starter.runs).toHaveLength(2);
    store.close();
  });

  it('a restart does not fire again for a condition already true, also when the kept value is seen stale before the next message', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const first = await engineOn(state, clock);
    await first.engine.signal({ temperature: 30 });
    expect(first.starter.runs).toHaveLength(1);
    first.store.close();
    clock.setTimer(600_000, () => {});
    clock.runAll();
    const second = await engineOn(state, clock);
    // The kept temperature is stale: its timer is due at once (a real clock fires it before any message).
    const stale = new Promise<void>((done) => second.store.subscribe((c) => c.type === 'context_stale' && done()));
    clock.step();
    await stale;
    await second.engine.signal({ temperature: 31 });
    expect(second.starter.runs).toHaveLength(0);
    // Seen known in this process, true → unknown → true is an edge again.
    const again = new Promise<void>((done) => second.store.subscribe((c) => c.type === 'context_stale' && done()));
    clock.step();
    await again;
    await second.engine.signal({ temperature: 32 });
    expect(second.starter.runs).toHaveLength(1);
    second.store.close();
  });

  it('a restart, where the signal starts unknown, does not fire again for a condition already true', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const first = await engineOn(state, clock);
    await first.engine.signal({ temperature: 30 });
    expect(first.starter.runs).toHaveLength(1);
    first.store.close();
    clock.runAll();
    // a new server on the same state, long after: the kept value is stale, the kept side true
    clock.setTimer(600_000, () => {});
    clock.runAll();
    const second = await engineOn(state, clock);
    expect(second.engine.store.read('temperature').state).toBe('stale');
    await second.engine.signal({ temperature: 31 });
    expect(second.starter.runs).toHaveLength(0);
    // it falls and rises again: that is a new edge
    await second.engine.signal({ temperature: 20 });
    await second.engine.signal({ temperature: 32 });
    expect(second.starter.runs).toHaveLength(1);
    second.store.close();
  });
});

/** A dead man's switch: `when age(context.heartbeat) > 5m`, true with time alone. */
const HEARTBEAT: { [name: string]: ContextSignalIR } = { heartbeat: { max_age_ms: null, derived: null, hold_ms: null } };
const SILENT: TriggerIR = {
  ...HOT,
  name: 'silent',
  source: { kind: 'when', condition: { op: '>', left: { op: 'call', fn: 'age', args: [sig('heartbeat')] }, right: { op: 'lit', value: 300_000 } } },
};

describe('conditions that change with time alone', () => {
  const fired = (starter: FakeStarter, n: number) => starter.started(n);

  it('age(context.X) > 5m fires the moment the age passes 5m, with no message; a new heartbeat re-arms it', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const { engine, starter, store } = await engineOn(state, clock, [SILENT], HEARTBEAT);
    await engine.signal({ heartbeat: 1 });
    expect(starter.runs).toHaveLength(0);
    expect(clock.step()).toBe(true); // the instant the age passes 5m: no message, no polling
    expect(clock.now()).toBe(1_300_001);
    await fired(starter, 1);
    // A heartbeat makes it false; the next silence fires again, 5m after it.
    await engine.signal({ heartbeat: 2 });
    expect(clock.step()).toBe(true);
    expect(clock.now()).toBe(1_600_002);
    await fired(starter, 2);
    engine.deactivate();
    expect(clock.pending()).toBe(0); // no timer kept once the trigger is gone
    store.close();
  });

  it('a restart does not fire again a silence already fired; one that began while down fires at start', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const first = await engineOn(state, clock, [SILENT], HEARTBEAT);
    await first.engine.signal({ heartbeat: 1 });
    clock.step();
    await fired(first.starter, 1);
    first.engine.deactivate();
    first.store.close();
    const second = await engineOn(state, clock, [SILENT], HEARTBEAT);
    second.store.restore({ heartbeat: { value: 1, set_at: 1_000_000, source: 'api' } });
    await second.engine.signal({});
    expect(second.starter.runs).toHaveLength(0);
    second.engine.deactivate();
    second.store.close();
    // Down across the deadline: the kept side is false, the condition true by now.
    const state2 = await memoryBackend().triggerState();
    const third = await engineOn(state2, clock, [SILENT], HEARTBEAT);
    await third.engine.signal({ heartbeat: 3 });
    third.engine.deactivate();
    third.store.close();
    clock.setTimer(600_000, () => {});
    clock.runAll();
    const fourth = await engineOn(state2, clock, [SILENT], HEARTBEAT);
    fourth.store.restore({ heartbeat: { value: 3, set_at: 1_300_001, source: 'api' } });
    await fired(fourth.starter, 1);
    fourth.engine.deactivate();
    fourth.store.close();
  });
});

describe('§9.1 on a cluster: the person whose signal fired a `when`', () => {
  it('is its cause on the server that holds the context, when they signalled another one', async () => {
    const clock = new VirtualClock(1_000_000);
    const backend = memoryBackend();
    const other = await engineOn(await backend.triggerState(), clock);
    const holder = await engineOn(await backend.triggerState(), clock);
    other.engine.lead(false);
    const alice = { subject: 'alice', issuer: 'local', method: 'token' as const };
    await other.engine.signal({ temperature: 30 }, alice);
    await waitFor(async () => holder.starter.runs.length > 0 || undefined, 5_000, 'the holder fires too_hot');
    expect(other.starter.runs).toHaveLength(0);
    expect(holder.starter.runs[0]).toMatchObject({ trigger: 'too_hot', causedBy: alice });
    other.store.close();
    holder.store.close();
  });
});

describe('§9.1: the person whose signal changed a derived signal that fired a `when`', () => {
  it('is its cause too', async () => {
    const clock = new VirtualClock(1_000_000);
    const signals: { [name: string]: ContextSignalIR } = {
      temperature: { max_age_ms: 60_000, derived: null, hold_ms: null },
      hot: { max_age_ms: null, derived: { op: '>', left: sig('temperature'), right: { op: 'lit', value: 28 } }, hold_ms: null },
    };
    const HOT_DERIVED: TriggerIR = { ...HOT, name: 'hot_derived', source: { kind: 'when', condition: { op: '==', left: sig('hot'), right: { op: 'lit', value: true } } } };
    const { engine, starter, store } = await engineOn(await memoryBackend().triggerState(), clock, [HOT_DERIVED], signals);
    const alice = { subject: 'alice', issuer: 'local', method: 'token' as const };
    expect((await engine.signal({ temperature: 20 }, alice)).length).toBe(0);
    expect((await engine.signal({ temperature: 30 }, alice)).map((r) => r.outcome)).toEqual(['started']);
    expect(starter.runs[0]).toMatchObject({ trigger: 'hot_derived', startedBy: { subject: 'system:trigger/hot_derived', method: 'trigger' }, causedBy: alice });
    store.close();
  });
});

describe('a batch of signal updates (one event-loop turn of a source)', () => {
  const sets = (temps: readonly number[]): SignalSet[] => temps.map((value) => ({ name: 'temperature', value, source: 'home' }));

  it('fires an edge-triggered when as the messages one by one do, and keeps the last value', async () => {
    // [20, 31, 20]: a rise inside the burst; [31, 20, 31]: a dip and a rise again; [20, 25]: no rise.
    for (const burst of [[20, 31, 20], [31, 20, 31], [20, 25], [29, 30, 20, 31, 20]]) {
      const clock = new VirtualClock(1_000_000);
      const batched = await engineOn(await memoryBackend().triggerState(), clock);
      const state = await memoryBackend().triggerState();
      const single = await engineOn(state, clock);
      await batched.engine.signal({ temperature: 20 });
      await single.engine.signal({ temperature: 20 });
      await batched.engine.ingest(sets(burst));
      for (const t of burst) await single.engine.signal({ temperature: t }, undefined, 'home');
      const fired = single.starter.runs.length > 0;
      expect(batched.starter.runs.length, `burst ${burst.join(', ')}`).toBe(fired ? 1 : 0);
      expect(batched.engine.store.read('temperature')).toMatchObject({ value: burst.at(-1), source: 'home', state: 'fresh' });
      batched.store.close();
      single.store.close();
    }
  });

  it('is one durable write of the last values, and the sources batch what arrives in one turn', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const merges: Record<string, unknown>[] = [];
    const merge = state.mergeContext.bind(state);
    state.mergeContext = (values) => (merges.push(values), merge(values));
    const { engine, starter, store } = await engineOn(state, clock);
    const batches: (readonly SignalSet[])[] = [];
    const batcher = signalBatcher((b) => (batches.push(b), engine.ingest(b)), () => {});
    for (const t of [20, 30, 20, 25]) batcher.push({ name: 'temperature', value: t, source: 'home' });
    await batcher.flush();
    expect(batches.map((b) => b.length)).toEqual([4]);
    expect(merges).toHaveLength(1);
    expect(decodeRecords(await state.context(), clock.now()).temperature).toMatchObject({ value: 25, source: 'home' });
    expect(starter.runs).toHaveLength(1); // 20 → 30 rose once
    store.close();
  });

  it('every flush waits for the batches in flight, also one another flush (a webhook answering) already waits for', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const batcher = signalBatcher(() => slow, () => {});
    batcher.push({ name: 'temperature', value: 20, source: 'hook' });
    let first = false;
    let second = false;
    void batcher.flush().then(() => (first = true));
    void batcher.flush().then(() => (second = true)); // the server closing
    await new Promise((r) => setImmediate(r));
    expect([first, second]).toEqual([false, false]);
    release();
    await batcher.flush();
    expect([first, second]).toEqual([true, true]);
  });

  it('folding a batch of sides decides as stepping through them one at a time', () => {
    const side = fc.constantFrom<Side>(true, false, 'unknown');
    // What the unbatched path did: one decision per message.
    const step = (before: Side, sides: readonly Side[]) => {
      let prev = before;
      let rises = 0;
      let kept: boolean | null = null;
      for (const s of sides) {
        if (s === true && prev !== true) rises++;
        if (s !== 'unknown' && s !== prev) kept = s;
        prev = s;
      }
      return { rises, last: prev, kept };
    };
    fc.assert(
      fc.property(side, fc.array(side, { maxLength: 12 }), fc.array(side, { maxLength: 12 }), (before, a, b) => {
        const one = step(before, [...a, ...b]);
        const folded = foldSides(before, [...a, ...b]);
        expect(folded).toEqual({ rose: one.rises > 0, last: one.last, persist: one.kept });
        // Split anywhere, the halves decide together what the whole decides.
        const first = foldSides(before, a);
        const second = foldSides(first.last, b);
        expect(first.rose || second.rose).toBe(folded.rose);
        expect(second.last).toBe(folded.last);
        expect(second.persist ?? first.persist).toBe(folded.persist);
      }),
    );
  });
});

/** §9.4's occupancy: `occupied: bool = context.motion hold 10m`, motion stale after 2m. */
const OCCUPANCY: { [name: string]: ContextSignalIR } = {
  motion: { max_age_ms: 120_000, derived: null, hold_ms: null },
  occupied: { max_age_ms: null, derived: sig('motion'), hold_ms: 600_000 },
};
const whenTrigger = (name: string, condition: ExprIR): TriggerIR => ({ name, source: { kind: 'when', condition }, plan: 'cool', with: null, debounce_ms: null, consent: [], file: 't.orch', line: 1 });
const AWAY = whenTrigger('away', { op: 'not', arg: sig('occupied') });
const LOST = whenTrigger('lost', { op: 'not', arg: { op: 'call', fn: 'known', args: [sig('occupied')] } });

describe('when triggers over a derived signal with hold', () => {
  it('unknown is not false: occupied goes stale the moment motion does, its hold does not keep it true, and `not occupied` does not fire', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const { engine, starter, store } = await engineOn(state, clock, [AWAY, LOST], OCCUPANCY);
    await engine.signal({ motion: true });
    expect(engine.currentContext()).toMatchObject({ occupied: true });
    const stale = new Promise<void>((done) => store.subscribe((c) => c.type === 'context_stale' && c.signal === 'occupied' && done()));
    clock.step(); // motion passes its 2m: occupied is unknown at once, with no message
    await stale;
    expect(store.read('occupied')).toMatchObject({ state: 'stale', value: null });
    expect(engine.currentContext()).not.toHaveProperty('occupied');
    await starter.started(1);
    expect(starter.runs.map((r) => r.trigger)).toEqual(['lost']);
    store.close();
  });

  it('a hold in progress survives a restart: `when not context.occupied` fires when the hold ends, not when the server comes back', async () => {
    const clock = new VirtualClock(1_000_000);
    const state = await memoryBackend().triggerState();
    const first = await engineOn(state, clock, [AWAY], OCCUPANCY);
    await first.engine.signal({ motion: true });
    await first.engine.signal({ motion: false });
    const turnedFalse = clock.now();
    expect(first.store.read('occupied').value).toBe(true); // held
    first.store.close();
    await first.engine.unfollow();
    // Up again a minute later, motion still fresh and false: occupied is still held true.
    clock.setTimer(60_000, () => {});
    clock.step();
    const second = await engineOn(state, clock, [AWAY], OCCUPANCY);
    expect(second.store.read('occupied')).toMatchObject({ value: true, state: 'fresh' });
    expect(second.starter.runs).toHaveLength(0);
    // The sensor reports false each minute; `away` fires the moment the hold ends.
    while (second.starter.runs.length === 0 && clock.now() < turnedFalse + 700_000) {
      await second.engine.signal({ motion: false });
      const next = clock.now() + 60_000;
      clock.setTimer(60_000, () => {});
      while (clock.now() < next) clock.step();
      await Promise.resolve();
    }
    await second.starter.started(1);
    expect(second.starter.runs.map((r) => r.trigger)).toEqual(['away']);
    expect(clock.now()).toBeGreaterThanOrEqual(turnedFalse + 600_000);
    second.store.close();
  });
});
