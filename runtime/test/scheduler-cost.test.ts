/**
 * An executor may report what an attempt actually cost (`AttemptOutcome.cost`, used by the
 * verifier's `simulate … cost A..B`): it replaces the capability's cost for that attempt, the
 * resource's cost stays, and the journal keeps it so a resumed run has the same cost.
 */
import { describe, expect, it } from 'vitest';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { capability, plan, resource, step } from './ir-builder.js';
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
