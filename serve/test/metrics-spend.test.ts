/**
 * `/metrics` shows actual spend (LANGUAGE.md §8.2): `orch_cost_total` by plan, capability and
 * model and `orch_tokens_total`, summed from the journal of each finished run (reservations
 * settled by each attempt's `cost_delta`, tokens from its usage).
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import type { JournalEntry, RunStarter } from '../run-starter.js';

const TIMELINE: JournalEntry[] = [
  { type: 'step_started', stepId: 'draft', capability: 'm.draft', cost: 0.02 },
  { type: 'step_retried', stepId: 'draft', cost_delta: -0.015, usage: { input_tokens: 100, output_tokens: 20, model: 'gpt-x', endpoint: 'cloud', cost: 0.005 } },
  { type: 'step_started', stepId: 'draft', capability: 'm.draft', cost: 0.02 },
  { type: 'step_completed', stepId: 'draft', cost_delta: -0.01, usage: { input_tokens: 120, output_tokens: 40, model: 'gpt-x', endpoint: 'cloud', cost: 0.01 } },
  { type: 'step_started', stepId: 'send', capability: 'm.send', cost: 0.001 },
  { type: 'step_completed', stepId: 'send' },
];

describe('spend metrics', () => {
  it("counts the actual cost and tokens of every attempt of the journal's finished runs, those this server never executed too", async () => {
    // `orch ui` over another process's journal: no run finishes while it watches, the journal lists them.
    const runs = [
      { runId: 'r1', planId: 'launch', status: 'completed' },
      { runId: 'r2', planId: 'launch', status: 'running' },
    ];
    const starter = {
      list: async () => runs,
      get: async () => null,
      timeline: async (id: string) => (id === 'r1' || id === 'r2' ? TIMELINE : null),
      onFinished: () => undefined,
    } as unknown as RunStarter;
    const metrics = createMetrics(starter, () => ({ queueDepth: () => 0 }) as never, () => []);
    const check = (text: string) => {
      expect(Number(/orch_cost_total\{plan="launch",capability="m.draft",model="gpt-x"\} (\S+)/.exec(text)?.[1])).toBeCloseTo(0.015, 9);
      expect(text).toMatch(/orch_cost_total\{plan="launch",capability="m.send",model=""\} 0.001\b/);
      expect(text).toMatch(/orch_tokens_total\{plan="launch",capability="m.draft",model="gpt-x",direction="input"\} 220\b/);
      expect(text).toMatch(/orch_tokens_total\{plan="launch",capability="m.draft",model="gpt-x",direction="output"\} 60\b/);
    };
    check(await metrics.render());
    // A second scrape counts no run twice; the run still going counts once it finished.
    check(await metrics.render());
    runs[1] = { runId: 'r2', planId: 'launch', status: 'failed' };
    const text = await metrics.render();
    expect(Number(/orch_cost_total\{plan="launch",capability="m.draft",model="gpt-x"\} (\S+)/.exec(text)?.[1])).toBeCloseTo(0.03, 9);
    expect(text).toMatch(/orch_tokens_total\{plan="launch",capability="m.draft",model="gpt-x",direction="input"\} 440\b/);
  });

  it('shows money to 6 decimals, as orch runs --stats does: a settled reservation leaves no float noise', async () => {
    // 0.002 reserved, settled by −0.001955 (100 + 50 tokens of gpt-4o-mini): 0.000045, not 0.0000449999999999999.
    const timeline: JournalEntry[] = [
      { type: 'step_started', stepId: 's', capability: 'm.sum', cost: 0.002 },
      { type: 'step_retried', stepId: 's', cost_delta: -0.001955, usage: { input_tokens: 100, output_tokens: 50, model: 'gpt-4o-mini', cost: 0.000045 } },
      { type: 'step_started', stepId: 's', capability: 'm.sum', cost: 0.002 },
      { type: 'step_completed', stepId: 's', cost_delta: -0.001955, usage: { input_tokens: 100, output_tokens: 50, model: 'gpt-4o-mini', cost: 0.000045 } },
    ];
    const starter = {
      list: async () => [{ runId: 'r1', planId: 'p', status: 'completed' }],
      get: async () => null,
      timeline: async () => timeline,
      onFinished: () => undefined,
    } as unknown as RunStarter;
    const metrics = createMetrics(starter, () => ({ queueDepth: () => 0 }) as never, () => []);
    expect(await metrics.render()).toMatch(/orch_cost_total\{plan="p",capability="m.sum",model="gpt-4o-mini"\} 0.00009\n/);
  });
});

describe("a sub-plan's spend", () => {
  it('is counted by the capability that spent it, not as a capability "" of its parent’s run step (§8.2)', async () => {
    const timelines: Record<string, JournalEntry[]> = {
      r1: [
        { type: 'plan_created', stepId: null, plan: 'parent' },
        { type: 'step_started', stepId: 'k', capability: null, cost: 0 },
        { type: 'step_completed', stepId: 'k', cost_delta: 0.3 },
        { type: 'step_started', stepId: 't', capability: 'm.pay', cost: 0.1 },
        { type: 'step_completed', stepId: 't', cost_delta: 0.2, usage: { cost: 0.3 } },
      ],
      'r1/k': [
        { type: 'plan_created', stepId: null, plan: 'child' },
        { type: 'step_started', stepId: 's', capability: 'm.pay', cost: 0.1 },
        { type: 'step_completed', stepId: 's', cost_delta: 0.2, usage: { cost: 0.3 } },
      ],
    };
    const starter = {
      list: async () => [{ runId: 'r1', planId: 'parent', status: 'completed' }],
      get: async () => null,
      timeline: async (id: string) => timelines[id] ?? null,
      onFinished: () => undefined,
    } as unknown as RunStarter;
    const text = await createMetrics(starter, () => ({ queueDepth: () => 0 }) as never, () => []).render();
    const costs = [...text.matchAll(/^orch_cost_total\{(.*)\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(costs.sort()).toEqual(['plan="child",capability="m.pay",model="" 0.3', 'plan="parent",capability="m.pay",model="" 0.3']);
  });
});

describe('a run read back from the journal', () => {
  it('gives each step its actual cost and the tokens its attempts reported', async () => {
    const { journalView } = await import('../journal-view.js');
    const { capability, plan, step } = await import('../../runtime/test/ir-builder.js');
    const ir = plan({ name: 'launch', capabilities: [capability('m.draft')], steps: [step('draft', 'm.draft')] });
    const ev = (seq: number, type: string, stepId: string | null, data: Record<string, unknown>) => ({ runId: 'r', seq, ts: 1000 + seq, type, stepId, data }) as never;
    const view = journalView(
      { id: 'r', plan: 'launch', status: 'completed', started_at: 1000, completed_at: 2000, cost: 0.015, ir: JSON.stringify(ir) } as never,
      [
        ev(1, 'execution_started', null, {}),
        ev(2, 'step_started', 'draft', { attempt: 1, cost: 0.02 }),
        ev(3, 'step_retried', 'draft', { cost_delta: -0.015, error: 'model answer …', usage: { input_tokens: 100, output_tokens: 20, model: 'gpt-x', endpoint: 'cloud', cost: 0.005 } }),
        ev(4, 'step_started', 'draft', { attempt: 2, cost: 0.02 }),
        ev(5, 'step_completed', 'draft', { cost_delta: -0.01, output: { text: 'hi' }, usage: { input_tokens: 120, output_tokens: 40, model: 'gpt-x', endpoint: 'cloud', cost: 0.01 } }),
        ev(6, 'execution_completed', null, { output: {}, cost: 0.015 }),
      ],
    );
    const draft = view.steps.find((s) => s.stepId === 'draft') as unknown as { cost: number; usage: unknown };
    expect(draft.cost).toBeCloseTo(0.015, 9);
    expect(draft.usage).toEqual({ input_tokens: 220, output_tokens: 60, model: 'gpt-x', endpoint: 'cloud' });
  });
});
