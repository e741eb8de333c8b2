import type { PlanIR, StepIR } from '../ir/types.js';

const retry = { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false } as const;

export function step(id: string, deps: string[] = [], stage = 0): StepIR {
  return {
    id, capability: 'm.work', action: { type: 'call' }, args: { x: { op: 'lit', value: 1 } }, deps, after: [],
    resource: 'box', binding: { resource: 'box', tier: 'local', rationale: 'only one', fallbacks: [] },
    timeout_ms: null, retry, when: null, join: 'none_failed', skip_if_skipped: deps, on_failure: 'abort',
    priority: 2, for_each: null, fallback: null, compensate: null, data: 'public', kind: 'tool',
    estimates: { cost: 0, duration_ms: 10 }, stage,
  };
}

/** A small hand-built, valid IR: a → b. */
export function samplePlan(): PlanIR {
  return {
    version: 'orch.plan/v1', plan: 'p', module: 'm', goal: null, base_dir: '/tmp', source_file: '/tmp/m.orch',
    input: { type: 'object', properties: {}, additionalProperties: false }, context: { type: 'object' },
    policy: null, priority: 2, deadline_ms: null, concurrency: null, on_failure: 'abort',
    capabilities: {
      'm.work': {
        name: 'm.work', kind: 'tool', input: { type: 'object' }, output: { type: 'object' },
        handler: { module: './h.js', export: 'work' }, timeout_ms: null, retry, cost: 0, latency_ms: 10,
        data: 'public', consent: [], requires: [], idempotent: false,
      },
    },
    resources: {
      box: { name: 'box', kind: 'local_device', tier: 'local', provides: [], concurrency: null, cost: 0, latency_ms: 0, reliability: null, location: null },
    },
    steps: [step('a'), step('b', ['a'], 1)],
    stages: [['a'], ['b']],
    estimates: { cost: 0, duration_ms: 20, critical_path: ['a', 'b'], local_ratio: 1 },
    guardrails: [], success: [], output: null, invariants: [], simulations: {}, subplans: {},
  };
}
