/**
 * `orch verify` throughput: simulated runs per second on a 50-step plan (10 stages of 5 steps,
 * each depending on two steps of the stage before, 10% failures with retries, a shared resource
 * with a concurrency limit, a cost budget and two user invariants). Every run goes through the
 * real scheduler on a virtual clock with all invariants monitored.
 */
import { smoke, type BenchFigure } from './figure.js';
import type { CapabilityIR, ExprIR, PlanIR, StepIR } from '../compiler/index.js';
import { verify } from '../verify/index.js';

const STAGES = 10;
const WIDTH = 5;
const RUNS = smoke(2000, 20);
const TARGET = 1000;

export async function bench(): Promise<readonly BenchFigure[]> {
  const plan = fiftyStepPlan();
  // Warm-up so the figure measures steady state, not JIT compilation.
  await verify(plan, { seed: 1, runs: smoke(100, 5) });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const result = await verify(plan, { seed: 2, runs: RUNS });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const perSecond = result.runs / seconds;
  // The verifier is single-threaded; on a shared machine wall time also measures the neighbours,
  // so the CPU-time figure is reported next to it.
  const perCpuSecond = result.runs / cpuSeconds;
  const target = `≥ ${TARGET.toLocaleString('en')} runs/s`;
  return [
    {
      name: `orch verify, ${plan.steps.length}-step plan, simulated runs per second, wall clock (${result.runs} runs, ${result.paths} distinct paths)`,
      value: perSecond,
      unit: 'runs/s',
      target,
      met: perSecond >= TARGET,
    },
    {
      name: `orch verify, ${plan.steps.length}-step plan, simulated runs per CPU second (process CPU time)`,
      value: perCpuSecond,
      unit: 'runs/s',
      target,
      met: perCpuSecond >= TARGET,
    },
  ];
}

export function fiftyStepPlan(): PlanIR {
  const retry = { max: 2, backoff: 'exponential' as const, delay_ms: 500, max_delay_ms: 5000, jitter: false };
  const cap: CapabilityIR = {
    name: 'work',
    kind: 'service',
    input: { type: 'object', properties: {} },
    output: { type: 'object', properties: { score: { type: 'integer', minimum: 0, maximum: 100 }, label: { enum: ['a', 'b'] } }, required: ['score', 'label'] },
    handler: { module: './work.js', export: 'work' },
    timeout_ms: 10_000,
    retry,
    cost: 0.001,
    latency_ms: 1000,
    data: 'internal',
    consent: [],
    requires: ['cpu'],
    idempotent: true,
  };
  const steps: StepIR[] = [];
  for (let s = 0; s < STAGES; s++) {
    for (let w = 0; w < WIDTH; w++) {
      const deps = s === 0 ? [] : [`s${s - 1}_${w}`, `s${s - 1}_${(w + 1) % WIDTH}`].sort();
      steps.push({
        id: `s${s}_${w}`,
        capability: 'work',
        action: { type: 'call' },
        args: {},
        deps,
        after: [],
        resource: 'pool',
        binding: { resource: 'pool', tier: 'cloud', rationale: 'only feasible resource', fallbacks: [] },
        timeout_ms: 10_000,
        retry,
        when: null,
        join: 'none_failed',
        skip_if_skipped: [],
        on_failure: w === 0 ? 'abort' : 'continue',
        priority: 2,
        for_each: null,
        fallback: null,
        compensate: null,
        data: 'internal',
        kind: 'service',
        estimates: { cost: 0.001, duration_ms: 1000 },
        stage: s,
      });
    }
  }
  const ref = (id: string, key: string): ExprIR => ({ op: 'get', object: { op: 'step', id }, key });
  return {
    version: 'orch.plan/v1',
    plan: 'fifty',
    module: 'bench',
    goal: null,
    base_dir: '.',
    source_file: 'bench.orch',
    input: { type: 'object', properties: {} },
    context: { type: 'object', properties: {} },
    policy: {
      name: 'steady',
      strategy: 'cost',
      weights: {},
      budgets: { cost: 1, duration_ms: null },
      prefer: null,
      max_fallbacks: 0,
      require_consent: false,
      rate_limits: [],
    },
    priority: 2,
    deadline_ms: null,
    concurrency: 8,
    on_failure: 'abort',
    capabilities: { work: cap },
    resources: {
      pool: { name: 'pool', kind: 'pool', tier: 'cloud', provides: ['cpu'], concurrency: 4, cost: 0, latency_ms: 0, reliability: null, location: null },
    },
    steps,
    stages: Array.from({ length: STAGES }, (_, s) => steps.filter((x) => x.stage === s).map((x) => x.id)),
    estimates: { cost: 0.05, duration_ms: STAGES * 1000, critical_path: [], local_ratio: 0 },
    guardrails: [],
    success: [],
    output: null,
    invariants: [
      { name: 'last stage after first', modality: 'always', condition: { op: 'implies', left: ref(`s${STAGES - 1}_0`, 'started'), right: ref('s0_0', 'completed') } },
      { name: 'settles', modality: 'eventually', condition: { op: '!=', left: { op: 'get', object: { op: 'var', name: 'run' }, key: 'status' }, right: { op: 'lit', value: 'running' } } },
    ],
    simulations: {},
    subplans: {},
  };
}
