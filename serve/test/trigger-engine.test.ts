import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ExprIR } from '../../compiler/index.js';
import type { TriggerIR, TriggerSourceIR } from '../../compiler/index.js';
import { memoryBackend, evaluate } from '../../runtime/index.js';
import { createInputValidator } from '../input-validator.js';
import { missedTicks } from '../schedule.js';
import { TriggerEngine } from '../trigger-engine.js';
import { FakeStarter, fakePlan } from './fake-starter.js';

const get = (root: 'event' | 'context', key: string): ExprIR => ({ op: 'get', object: { op: 'var', name: root }, key });
const lit = (value: number | string): ExprIR => ({ op: 'lit', value });

function trigger(name: string, source: TriggerSourceIR, extra: Partial<TriggerIR> = {}): TriggerIR {
  return { name, source, plan: 'respond', with: null, debounce_ms: null, consent: [], file: 't.orch', line: 1, ...extra };
}

async function setup(triggers: TriggerIR[], now: () => number = Date.now) {
  const starter = new FakeStarter();
  const state = await memoryBackend().triggerState();
  const engine = new TriggerEngine({
    triggers,
    plans: [fakePlan('respond'), fakePlan('strict', { type: 'object', required: ['sensor'], properties: { sensor: { type: 'string' } } })],
    starter,
    evaluate: (e, s) => evaluate(e, { vars: { event: s.event ?? null, context: s.context } }),
    checkInput: createInputValidator(),
    state,
    now,
  });
  return { starter, state, engine };
}

describe('trigger engine (in-memory runtime)', () => {
  it('an event trigger evaluates where over event.* and builds the input with `with`', async () => {
    const { engine, starter } = await setup([
      trigger('on_leak', { kind: 'event', type: 'sensor.leak', where: { op: '>=', left: get('event', 'severity'), right: lit(3) } }, {
        plan: 'strict',
        with: { op: 'record', fields: [{ key: 'sensor', value: get('event', 'device_id') }] },
      }),
    ]);
    const low = await engine.ingestEvent({ type: 'sensor.leak', severity: 1, device_id: 'd1' });
    const high = await engine.ingestEvent({ type: 'sensor.leak', severity: 4, device_id: 'd2' });
    const other = await engine.ingestEvent({ type: 'sensor.smoke', severity: 9 });
    expect(low.results).toEqual([{ trigger: 'on_leak', outcome: 'filtered' }]);
    expect(high.results[0]!.outcome).toBe('started');
    expect(other.results).toEqual([]);
    expect(starter.runs.map((r) => r.input)).toEqual([{ sensor: 'd2' }]);
    expect(engine.stats().events).toEqual({ accepted: 3, unmatched: 1 });
  });

  it('input that does not match the plan input type is reported, not started', async () => {
    const { engine, starter } = await setup([trigger('bad', { kind: 'event', type: 'x', where: null }, { plan: 'strict' })]);
    const r = await engine.ingestEvent({ type: 'x', other: 1 });
    expect(r.results[0]!.outcome).toBe('invalid');
    expect(r.results[0]!.error).toMatch(/sensor/);
    expect(starter.runs).toHaveLength(0);
  });

  it('debounce is leading-edge: at most one run per window, every event accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 40 }), async (gaps) => {
        let clock = 1_000_000;
        const { engine, starter } = await setup([trigger('d', { kind: 'event', type: 'e', where: null }, { debounce_ms: 1000 })], () => clock);
        let expected = 0;
        let lastStart: number | null = null;
        for (const gap of gaps) {
          clock += gap;
          if (lastStart === null || clock - lastStart >= 1000) {
            expected += 1;
            lastStart = clock;
          }
          await engine.ingestEvent({ type: 'e' });
        }
        const counts = engine.stats().triggers[0]!.counts;
        expect(counts.started).toBe(expected);
        expect(starter.runs).toHaveLength(expected);
        expect(counts.started + counts.debounced).toBe(gaps.length);
      }),
      { numRuns: 50 },
    );
  });

  it('two servers on one database share a debounce window: one run per window, whichever server each event reaches (§7.5)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.boolean()), { maxLength: 40 }), async (events) => {
        let clock = 1_000_000;
        const backend = memoryBackend();
        const starter = new FakeStarter();
        const server = async () =>
          new TriggerEngine({
            triggers: [trigger('d', { kind: 'event', type: 'e', where: null }, { debounce_ms: 1000 })],
            plans: [fakePlan('respond')],
            starter,
            evaluate: (e, s) => evaluate(e, { vars: { event: s.event ?? null, context: s.context } }),
            checkInput: createInputValidator(),
            state: await backend.triggerState(),
            now: () => clock,
          });
        const servers = [await server(), await server()] as const;
        let expected = 0;
        let lastStart: number | null = null;
        for (const [gap, second] of events) {
          clock += gap;
          if (lastStart === null || clock - lastStart >= 1000) {
            expected += 1;
            lastStart = clock;
          }
          const r = await servers[second ? 1 : 0].ingestEvent({ type: 'e' });
          // A refused event says when the cluster's window closes, not this server's.
          if (r.results[0]!.outcome === 'debounced') expect(r.results[0]!.retryAfterMs).toBe(lastStart! + 1000 - clock);
        }
        expect(starter.runs).toHaveLength(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('a condition fires on each rising edge only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 20, max: 35 }), { maxLength: 30 }), async (temps) => {
        const { engine, starter } = await setup([
          trigger('too_hot', { kind: 'when', condition: { op: '>', left: get('context', 'temperature'), right: lit(28) } }),
        ]);
        await engine.activate({ catchUp: false });
        let rises = 0;
        let before = false;
        for (const t of temps) {
          const now = t > 28;
          if (now && !before) rises += 1;
          before = now;
          await engine.signal({ temperature: t });
        }
        engine.deactivate();
        expect(starter.runs).toHaveLength(rises);
        expect(starter.signals).toHaveLength(temps.length);
      }),
      { numRuns: 50 },
    );
  });

  it('a chain fires once per matching completion, never twice for the same run', async () => {
    const { engine, starter } = await setup([
      trigger('next', { kind: 'after', plan: 'respond', outcome: 'completed' }),
      trigger('on_fail', { kind: 'after', plan: 'respond', outcome: 'failed' }, { plan: 'strict', with: { op: 'record', fields: [{ key: 'sensor', value: get('event', 'status') }] } }),
    ]);
    const { runId } = await starter.start(fakePlan('respond'), {}, { trigger: null, context: {} });
    starter.finish(runId, 'completed');
    starter.finish(runId, 'completed'); // a duplicate notification
    await new Promise((r) => setTimeout(r, 10));
    expect(starter.byTrigger('next')).toHaveLength(1);
    expect(starter.byTrigger('on_fail')).toHaveLength(0);
    const second = await starter.start(fakePlan('respond'), {}, { trigger: null, context: {} });
    starter.finish(second.runId, 'timeout');
    await new Promise((r) => setTimeout(r, 10));
    expect(starter.byTrigger('on_fail').map((r) => r.input)).toEqual([{ sensor: 'timeout' }]);
    void engine;
  });

  it('--catch-up starts one run for missed ticks; without it missed ticks are dropped', async () => {
    const nightly = trigger('nightly', { kind: 'schedule', cron: '0 2 * * *', timezone: 'Europe/Paris' });
    // A server that last ticked three days ago, on a database of its own (a tick never goes back).
    const build = async () => {
      const state = await memoryBackend().triggerState();
      await state.setLastTick('nightly', Date.now() - 3 * 86_400_000);
      const starter = new FakeStarter();
      const engine = new TriggerEngine({
        triggers: [nightly],
        plans: [fakePlan('respond')],
        starter,
        evaluate: (e, s) => evaluate(e, { vars: { event: s.event ?? null, context: s.context } }),
        checkInput: createInputValidator(),
        state,
      });
      return { starter, engine };
    };
    const off = await build();
    await off.engine.activate({ catchUp: false });
    off.engine.deactivate();
    expect(off.starter.runs).toHaveLength(0);
    const on = await build();
    await on.engine.activate({ catchUp: true });
    on.engine.deactivate();
    expect(on.starter.runs).toHaveLength(1);
    expect(on.starter.runs[0]!.trigger).toBe('nightly');
  });
});

describe('schedule catch-up arithmetic', () => {
  it('a schedule fires at its hour in its timezone (LANGUAGE.md §4: 0 2 * * * timezone Europe/Paris), summer time included', () => {
    const first = (since: Date) => missedTicks('0 2 * * *', 'Europe/Paris', since, new Date(since.getTime() + 86_400_000)).first?.toISOString();
    expect(first(new Date(Date.UTC(2026, 0, 10, 0, 0)))).toBe('2026-01-10T01:00:00.000Z');
    expect(first(new Date(Date.UTC(2026, 6, 10, 0, 30)))).toBe('2026-07-11T00:00:00.000Z');
    expect(missedTicks('0 2 * * *', 'UTC', new Date(Date.UTC(2026, 6, 10, 0, 30)), new Date(Date.UTC(2026, 6, 11))).first?.toISOString()).toBe('2026-07-10T02:00:00.000Z');
  });
  it('counts exactly the ticks strictly after the last one and not after now', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 3_599_999 }), fc.integer({ min: 0, max: 10_000 }), (k, rest, hour) => {
        const since = new Date(Date.UTC(2026, 0, 1) + hour * 3_600_000);
        const now = new Date(since.getTime() + k * 3_600_000 + rest);
        const m = missedTicks('0 * * * *', 'UTC', since, now);
        expect(m.count).toBe(k);
        expect(m.first?.getTime() ?? null).toBe(k > 0 ? since.getTime() + 3_600_000 : null);
      }),
      { numRuns: 100 },
    );
  });
});
