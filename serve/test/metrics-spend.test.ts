/**
 * `/metrics` shows actual spend (LANGUAGE.md §8.2): `orch_cost_total` by plan, capability and
 * model and `orch_tokens_total`, summed from the journal of each finished run (reservations
 * settled by each attempt's `cost_delta`, tokens from its usage).
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import type { FinishedRun, JournalEntry, RunStarter } from '../run-starter.js';

const TIMELINE: JournalEntry[] = [
  { type: 'step_started', stepId: 'draft', capability: 'm.draft', cost: 0.02 },
  { type: 'step_retried', stepId: 'draft', cost_delta: -0.015, usage: { input_tokens: 100, output_tokens: 20, model: 'gpt-x', endpoint: 'cloud', cost: 0.005 } },
  { type: 'step_started', stepId: 'draft', capability: 'm.draft', cost: 0.02 },
  { type: 'step_completed', stepId: 'draft', cost_delta: -0.01, usage: { input_tokens: 120, output_tokens: 40, model: 'gpt-x', endpoint: 'cloud', cost: 0.01 } },
  { type: 'step_started', stepId: 'send', capability: 'm.send', cost: 0.001 },
  { type: 'step_completed', stepId: 'send' },
];

describe('spend metrics', () => {
  it('counts the actual cost and tokens of every attempt of a finished run', async () => {
    let finished: ((r: FinishedRun) => void) | undefined;
    const starter = {
      list: async () => [],
      get: async () => null,
      timeline: async () => TIMELINE,
      onFinished: (f: (r: FinishedRun) => void) => void (finished = f),
    } as unknown as RunStarter;
    const metrics = createMetrics(starter, () => ({ queueDepth: () => 0 }) as never, () => []);
    finished!({ runId: 'r1', planId: 'launch', status: 'completed', output: null });
    const text = await (async () => {
      for (let i = 0; i < 100; i++) {
        const t = await metrics.render();
        if (t.includes('orch_cost_total{')) return t;
        await new Promise((r) => setImmediate(r));
      }
      return metrics.render();
    })();
    expect(Number(/orch_cost_total\{plan="launch",capability="m.draft",model="gpt-x"\} (\S+)/.exec(text)?.[1])).toBeCloseTo(0.015, 9);
    expect(text).toMatch(/orch_cost_total\{plan="launch",capability="m.send",model=""\} 0.001\b/);
    expect(text).toMatch(/orch_tokens_total\{plan="launch",capability="m.draft",model="gpt-x",direction="input"\} 220\b/);
    expect(text).toMatch(/orch_tokens_total\{plan="launch",capability="m.draft",model="gpt-x",direction="output"\} 60\b/);
  });
});
