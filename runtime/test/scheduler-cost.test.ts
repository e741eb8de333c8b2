/**
 * An executor may report what an attempt actually cost (`AttemptOutcome.cost`, used by the
 * verifier's `simulate … cost A..B`): it replaces the capability's cost for that attempt, the
 * resource's cost stays, and the journal keeps it so a resumed run has the same cost.
 */
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import type { PlanIR } from '../../compiler/index.js';
import { capability, plan, policy, resource, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

const p = plan({
  capabilities: [capability('charge', { cost: 0.1 })],
  resources: [resource('pos', { cost: 0.01 })],
  steps: [step({ id: 'a', capability: 'charge', resource: 'pos' }), step({ id: 'b', capability: 'charge', resource: 'pos', deps: ['a'] })],
});

function runWith(reported: number | undefined) {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock, () => ({ latency: 10, outcome: { ok: true, output: {}, ...(reported !== undefined ? { cost: reported } : {}) } }));
  const events: RunEvent[] = [];
  const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: () => [] };
  const run = new Run(p, { clock, executor: exec, journal }, { runId: 'r' });
  const done = run.start();
  clock.runAll();
  return { done, events, run };
}

describe('reported attempt cost', () => {
  it('without a report each attempt costs the capability cost plus the resource cost', async () => {
    const { done } = runWith(undefined);
    expect((await done).metadata.totalCost).toBeCloseTo(2 * (0.1 + 0.01), 6);
  });

  it('a reported cost replaces the capability cost of that attempt (the resource cost stays)', async () => {
    const { done, run } = runWith(0.25);
    const result = await done;
    expect(result.metadata.totalCost).toBeCloseTo(2 * (0.25 + 0.01), 6);
    expect(run.stepView('a')!.cost).toBeCloseTo(0.26, 9);
  });

  it('the journal keeps the reported cost: replay gives every step the same cost', async () => {
    const { events } = runWith(0.04);
    const restored = replay(events);
    expect(restored.steps.get('a')!.cost).toBeCloseTo(0.05, 9);
    expect(restored.steps.get('b')!.cost).toBeCloseTo(0.05, 9);
  });
});

describe("a rollback's compensations spend for their steps (LANGUAGE.md §7.2, §8.2)", () => {
  const undo = capability('undo', { cost: 0.3 });
  const rolled = (budget: number | null, warn = false) =>
    plan({
      capabilities: [capability('work', { cost: 0.1 }), undo, capability('boom')],
      steps: [
        step({ id: 'a', capability: 'work', compensate: { capability: 'undo', args: {} } }),
        step({ id: 'b', capability: 'work', deps: ['a'], compensate: { capability: 'undo', args: {} } }),
        step({ id: 'c', capability: 'boom', deps: ['b'] }),
      ],
      over: { on_failure: 'rollback', policy: policy({ name: 'lean', budgets: { cost: budget, duration_ms: null, ...(warn ? { cost_warn: true } : {}) } }) },
    });

  async function rollBack(p: PlanIR, reported?: number) {
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, (req) =>
      req.capability.name === 'boom'
        ? { latency: 10, outcome: { ok: false, error: 'boom', permanent: true } }
        : { latency: 10, outcome: { ok: true, output: {}, ...(req.capability.name === 'undo' && reported !== undefined ? { cost: reported } : {}) } },
    );
    const events: RunEvent[] = [];
    const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: () => [] };
    const done = new Run(p, { clock, executor: exec, journal }, { runId: 'r' }).start();
    clock.runAll();
    return { result: await done, events, undos: exec.starts.filter((s) => s.capability.name === 'undo').length };
  }

  it('are charged to the run (what they report replaces the estimate), and the journal keeps it', async () => {
    const { result, events } = await rollBack(rolled(null));
    expect(result.metadata.totalCost).toBeCloseTo(0.2 + 2 * 0.3, 6);
    expect(replay(events).steps.get('a')!.cost).toBeCloseTo(0.4, 6);
    const reported = await rollBack(rolled(null), 0.05);
    expect(reported.result.metadata.totalCost).toBeCloseTo(0.2 + 2 * 0.05, 6);
    expect([...replay(reported.events).steps.values()].reduce((n, s) => n + s.cost, 0)).toBeCloseTo(0.3, 6);
  });

  it('one that would take the run past a blocking budget does not start; the rollback goes on', async () => {
    // 0.2 spent: the first undo (0.3) fits 0.6, the second would make 0.8.
    const { result, events, undos } = await rollBack(rolled(0.6));
    expect(undos).toBe(1);
    expect(result.metadata.totalCost).toBeCloseTo(0.5, 6);
    const ends = events.filter((e) => e.type === 'step_compensated');
    expect(ends.map((e) => [e.stepId, e.data.ok])).toEqual([['b', true], ['a', false]]);
    expect(ends[1]!.data.error).toBe('not run: budget exceeded: budget cost <= 0.60 of policy lean (spent 0.50, its compensation would add 0.30)');
    expect(events.find((e) => e.type === 'budget_exceeded')).toMatchObject({ stepId: 'a', data: { limit: 0.6, estimate: 0.3, warn: false } });
  });

  it('a warn budget records it once and lets every compensation run', async () => {
    const { undos, events } = await rollBack(rolled(0.3, true));
    expect(undos).toBe(2);
    expect(events.filter((e) => e.type === 'budget_exceeded')).toHaveLength(1);
  });
});
