/**
 * LANGUAGE.md §9.4, resources that come and go, in a run (virtual clock, the context store as its
 * live signals, its changes passed to the run as `orch serve` passes them): a queued step whose
 * resource stops being available is rebound (`step_rebound { from, to, reason }`) before it
 * starts; with none available it waits, and goes on when one comes back, or times out; a stale
 * signal makes its resource unavailable; the journal replays to the rebound resource.
 */
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { ContextStore } from '../context/store.js';
import { Run, VirtualClock, replay, type RunEvent } from '../scheduler/index.js';
import { SimExecutor } from './sim-executor.js';

const SOURCE = (spare: string, timeout = '') => `
context {
  heater_online: bool  max_age 5m
  spare_online: bool
}
capability warm { kind tool  input { t: number }  output { ok: bool }  requires heat ${timeout} }
resource heater { kind local_device  provides heat  available when context.heater_online }
resource spare { kind edge_gateway  provides heat  cost 0.01usd ${spare} }
plan p {
  concurrency 1
  step a = warm(t: 1)
  step b = warm(t: 2)
}
`;

function planIR(src: string): PlanIR {
  const host = { readFile: (p: string) => (p === '/v/main.orch' ? src : undefined) };
  const out = compile({ entry: '/v/main.orch', host });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

type Setup = (s: { store: ContextStore; clock: VirtualClock; set: (name: string, v: unknown, at?: number) => void; later: (ms: number, f: () => void) => void }) => void;

/** Runs the plan with a step latency of 1 s; `setup` sets signals now, or later on the clock. */
async function runWith(ir: PlanIR, setup: Setup) {
  const clock = new VirtualClock(1_000_000);
  const store = new ContextStore({ signals: ir.context_signals ?? {}, clock });
  const events: RunEvent[] = [];
  const executor = new SimExecutor(clock, () => ({ latency: 1000, outcome: { ok: true, output: { ok: true } } }));
  const run = new Run(ir, { clock, executor, signal: (n) => store.read(n), journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'avail' });
  // What `orch serve` does: each change goes to the runs, a stale signal as null.
  store.subscribe((c) => {
    if (c.type !== 'context_rejected') run.updateContext({ [c.signal]: c.type === 'context_updated' ? c.value : null });
  });
  setup({
    store,
    clock,
    set: (name, v, at) => void store.set(name, v, { source: 'api', ...(at !== undefined ? { at } : {}) }),
    later: (ms, f) => void clock.setTimer(ms, f),
  });
  const done = run.start();
  clock.runAll();
  const result = await done;
  store.close();
  return { result, events, starts: executor.starts, t0: 1_000_000 };
}

const of = (events: readonly RunEvent[], type: string, step: string) => events.filter((e) => e.type === type && e.stepId === step);
const startedOn = (events: readonly RunEvent[], step: string) => of(events, 'step_started', step).map((e) => (e.data as { resource: string | null }).resource);

describe('resources that come and go (§9.4)', () => {
  const ir = planIR(SOURCE(''));

  it('ranks the resource with a condition first here, the other as its fallback', () => {
    const b = ir.steps.find((s) => s.id === 'b')!;
    expect(b.binding.resource).toBe('heater');
    expect(b.binding.fallbacks).toEqual(['spare']);
    expect(ir.resources.heater!.available).toMatchObject({ op: 'get', key: 'heater_online' });
  });

  it('a signal change rebinds a queued step before it starts', async () => {
    const { result, events, t0 } = await runWith(ir, ({ set, later }) => {
      set('heater_online', true);
      later(500, () => set('heater_online', false));
    });
    expect(result.status).toBe('completed');
    expect(startedOn(events, 'a')).toEqual(['heater']);
    const rebound = of(events, 'step_rebound', 'b');
    expect(rebound.map((e) => e.data)).toEqual([{ from: 'heater', to: 'spare', reason: 'heater is not available: its available when is false' }]);
    // Rebound when the signal changed, while `a` still held the run's one slot.
    expect(rebound[0]!.ts).toBe(t0 + 500);
    expect(startedOn(events, 'b')).toEqual(['spare']);
    expect(of(events, 'step_started', 'b')[0]!.data).toMatchObject({ resourceIndex: 1 });
  });

  it('evaluates at dispatch: a resource unavailable from the start is never chosen', async () => {
    const { events, starts } = await runWith(ir, ({ set }) => set('heater_online', false));
    expect(starts.map((s) => s.resource?.name)).toEqual(['spare', 'spare']);
    expect(of(events, 'step_rebound', 'a').map((e) => e.data)).toEqual([{ from: 'heater', to: 'spare', reason: 'heater is not available: its available when is false' }]);
  });

  it('a stale signal makes its resource unavailable, at the moment it goes stale', async () => {
    const { events, t0 } = await runWith(ir, ({ set, clock }) => set('heater_online', true, clock.now() - 299_500));
    expect(startedOn(events, 'a')).toEqual(['heater']);
    const [rebound] = of(events, 'step_rebound', 'b');
    expect(rebound!.ts - t0).toBeGreaterThanOrEqual(500);
    expect(rebound!.ts - t0).toBeLessThan(1000);
    expect((rebound!.data as { reason: string }).reason).toMatch(/^heater is not available: context\.heater_online is stale: 5m(\d+(ms|s))? > 5m$/);
    expect(startedOn(events, 'b')).toEqual(['spare']);
  });

  it('the unset signal of the other resource is unknown: nothing is available, so the step waits and goes on when one comes back', async () => {
    const both = planIR(SOURCE('available when context.spare_online'));
    const { result, events, t0 } = await runWith(both, ({ set, later }) => {
      set('heater_online', false);
      later(60_000, () => set('heater_online', true));
    });
    expect(result.status).toBe('completed');
    expect(of(events, 'step_rebound', 'a')).toEqual([]);
    const [started] = of(events, 'step_started', 'a');
    expect(started!.ts).toBe(t0 + 60_000);
    expect(startedOn(events, 'a')).toEqual(['heater']);
    expect(startedOn(events, 'b')).toEqual(['heater']);
  });

  it('the wait counts against the step timeout: never available, the step times out saying why', async () => {
    const both = planIR(SOURCE('available when context.spare_online', 'timeout 30s'));
    const { result, events, t0 } = await runWith(both, ({ set }) => set('heater_online', false));
    expect(result.status).toBe('failed');
    const [failed] = of(events, 'step_failed', 'a');
    expect(failed!.ts).toBe(t0 + 30_000);
    expect(failed!.data).toMatchObject({ status: 'timeout', error: 'no available resource within 30000ms: heater is not available: its available when is false' });
    expect(of(events, 'step_started', 'a')).toEqual([]);
  });

  it('a wait cut short by a resource coming back leaves the attempt the rest of the timeout', async () => {
    const both = planIR(SOURCE('available when context.spare_online', 'timeout 30s'));
    const { events, t0 } = await runWith(both, ({ set, later }) => {
      set('heater_online', false);
      later(29_500, () => set('heater_online', true));
    });
    // Started at 29.5 s with 0.5 s of its 30 s left: the 1 s attempt times out at 30 s.
    const [started] = of(events, 'step_started', 'a');
    expect(started!.ts).toBe(t0 + 29_500);
    const ended = events.find((e) => e.stepId === 'a' && (e.type === 'step_retried' || e.type === 'step_failed'))!;
    expect(ended.ts).toBe(t0 + 30_000);
    expect(JSON.stringify(ended.data)).toContain('timed out after 30000ms');
  });

  it('the journal replays to the rebound resource (a resumed run starts there)', async () => {
    const { events } = await runWith(ir, ({ set, later }) => {
      set('heater_online', true);
      later(500, () => set('heater_online', false));
    });
    const upToRebound = events.slice(0, events.findIndex((e) => e.type === 'step_rebound') + 1);
    const state = replay(upToRebound);
    expect(state.steps.get('b')).toMatchObject({ status: 'queued', reboundTo: 'spare' });
  });

  it('a resource whose available when changes with time alone is available the moment it does (a cooldown)', async () => {
    const cooled = planIR(`
context {
  heater_used: bool
}
capability warm { kind tool  input { t: number }  output { ok: bool }  requires heat  timeout 10m }
resource heater { kind local_device  provides heat  available when age(context.heater_used) > 1m }
plan p {
  step a = warm(t: 1)
}
`);
    const { result, events, t0 } = await runWith(cooled, ({ set }) => set('heater_used', true));
    expect(result.status).toBe('completed');
    // It waited, with no message to come, until the age passed 1m.
    expect(of(events, 'step_started', 'a')[0]!.ts).toBe(t0 + 60_001);
  });

  it('a queued step whose resource stops being available with time alone is rebound at that instant', async () => {
    const seen = planIR(`
context {
  heater_seen: bool
}
capability warm { kind tool  input { t: number }  output { ok: bool }  requires heat }
resource heater { kind local_device  provides heat  available when age(context.heater_seen) < 5m }
resource spare { kind edge_gateway  provides heat  cost 0.01usd }
plan p {
  concurrency 1
  step a = warm(t: 1)
  step b = warm(t: 2)
}
`);
    const { events, t0 } = await runWith(seen, ({ set, clock }) => set('heater_seen', true, clock.now() - 299_500));
    expect(startedOn(events, 'a')).toEqual(['heater']);
    const rebound = of(events, 'step_rebound', 'b');
    expect(rebound.map((e) => e.data)).toEqual([{ from: 'heater', to: 'spare', reason: 'heater is not available: its available when is false' }]);
    // At the instant its age reached 5m, while `a` still held the run's one slot.
    expect(rebound[0]!.ts).toBe(t0 + 500);
  });
});

describe("resources that come and go on a run's own context (orch run: no context store)", () => {
  it('a queued step is rebound the moment the signal its resource reads goes stale, with no message', async () => {
    const ir = planIR(SOURCE(''));
    const clock = new VirtualClock(1_000_000);
    const events: RunEvent[] = [];
    // a holds the one slot for 6 minutes; heater_online, set as the run starts, is stale after 5.
    const executor = new SimExecutor(clock, () => ({ latency: 360_000, outcome: { ok: true, output: { ok: true } } }));
    const run = new Run(ir, { clock, executor, contextAges: true, journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'own-avail', context: { heater_online: true } });
    const done = run.start();
    clock.runAll();
    await done;
    expect(startedOn(events, 'a')).toEqual(['heater']);
    const [rebound] = of(events, 'step_rebound', 'b');
    expect(rebound!.ts).toBe(1_000_000 + 300_001);
    expect((rebound!.data as { reason: string }).reason).toBe('heater is not available: context.heater_online is stale: 5m1ms > 5m');
  });
});
