/**
 * LANGUAGE.md §9.4 at the trigger engine: a stale signal never fires a `when` trigger, staleness
 * is seen at its deadline on the clock with no message, unknown→true rises, and a restart does not
 * fire again a condition that was already true. Driven by a virtual clock: no sleeps.
 */
import { describe, expect, it } from 'vitest';
import type { ContextSignalIR, ExprIR, TriggerIR } from '../../compiler/index.js';
import { ContextStore, evaluateOrUnknown, memoryBackend, VirtualClock, type TriggerStateStore } from '../../runtime/index.js';
import { createInputValidator } from '../input-validator.js';
import { TriggerEngine } from '../trigger-engine.js';
import { FakeStarter, fakePlan } from './fake-starter.js';

const sig = (key: string): ExprIR => ({ op: 'get', object: { op: 'var', name: 'context' }, key });
const SIGNALS: { [name: string]: ContextSignalIR } = { temperature: { max_age_ms: 60_000, derived: null, hold_ms: null } };
// too_hot fires when temperature > 28; cold_or_unknown when not (temperature > 28) ?? … — here: `temperature ?? 0 > 28` is never unknown
const HOT: TriggerIR = {
  name: 'too_hot', source: { kind: 'when', condition: { op: '>', left: sig('temperature'), right: { op: 'lit', value: 28 } } },
  plan: 'cool', with: null, debounce_ms: null, consent: [], file: 't.orch', line: 1,
};

async function engineOn(state: TriggerStateStore, clock: VirtualClock) {
  const starter = new FakeStarter();
  const store = new ContextStore({ signals: SIGNALS, clock });
  const engine = new TriggerEngine({
    triggers: [HOT],
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
