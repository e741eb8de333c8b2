/**
 * fast-check generators of plans for the scheduler's property tests: random DAGs of calls with
 * retries, resources with limits, blocking guardrails, compensations and `on_failure` modes,
 * plus a script of per-attempt latencies and failures for a simulated executor.
 */
import fc from 'fast-check';
import type { GuardrailIR, PlanIR, StepIR } from '../../compiler/index.js';
import { bin, capability, lit, plan, resource, step } from './ir-builder.js';

export interface Gen {
  readonly plan: PlanIR;
  /** Per (step, attempt): latency and whether it fails. */
  readonly outcomes: readonly { latency: number; fail: boolean }[];
}

const FORBID_SECRET: GuardrailIR = {
  name: 'no_secret_data',
  severity: 'blocking',
  category: null,
  message: 'secret data may not be processed',
  rules: [{ type: 'forbid', condition: bin('==', { op: 'get', object: { op: 'var', name: 'step' }, key: 'data' }, lit('secret')) }],
  static_verdict: 'runtime',
};

export const genPlan: fc.Arbitrary<Gen> = fc
  .record({
    n: fc.integer({ min: 1, max: 18 }),
    edges: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 }),
    retries: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 18, maxLength: 18 }),
    resOf: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 18, maxLength: 18 }),
    secretAt: fc.array(fc.boolean(), { minLength: 18, maxLength: 18 }),
    continueAt: fc.array(fc.boolean(), { minLength: 18, maxLength: 18 }),
    planLimit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
    resLimits: fc.array(fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }), { minLength: 3, maxLength: 3 }),
    onFailure: fc.constantFrom('abort' as const, 'continue' as const, 'rollback' as const),
    guard: fc.boolean(),
    outcomes: fc.array(fc.record({ latency: fc.integer({ min: 0, max: 50 }), fail: fc.boolean() }), { minLength: 60, maxLength: 60 }),
  })
  .map((g) => {
    const deps: Set<number>[] = Array.from({ length: g.n }, () => new Set<number>());
    for (const [a, b] of g.edges) {
      const from = a % g.n;
      const to = b % g.n;
      if (from < to) deps[to]!.add(from);
    }
    const steps: StepIR[] = Array.from({ length: g.n }, (_, i) =>
      step({
        id: `s${i}`,
        capability: 'c',
        deps: [...deps[i]!].map((d) => `s${d}`),
        retry: { max: g.retries[i]!, backoff: 'fixed', delay_ms: 7, max_delay_ms: null, jitter: false },
        binding: { resource: `r${g.resOf[i]}`, tier: 'local', rationale: '', fallbacks: [] },
        data: g.guard && g.secretAt[i] ? 'secret' : 'public',
        on_failure: g.continueAt[i] ? 'continue' : 'abort',
        compensate: { capability: 'c', args: {} },
      }),
    );
    const p = plan({
      capabilities: [capability('c')],
      resources: [0, 1, 2].map((r) => resource(`r${r}`, { concurrency: g.resLimits[r]! })),
      guardrails: g.guard ? [FORBID_SECRET] : [],
      steps,
      over: { concurrency: g.planLimit, on_failure: g.onFailure },
    });
    return { plan: p, outcomes: g.outcomes };
  });

/**
 * Plans whose outcome does not depend on timing: every failure is `continue` (no abort, no
 * rollback) and no guardrail blocks, so a run interrupted and resumed must end exactly like an
 * uninterrupted one when each attempt's outcome depends only on the step and its attempt.
 */
export const genTimingFreePlan: fc.Arbitrary<Gen> = genPlan.map((g) => ({
  ...g,
  plan: {
    ...g.plan,
    on_failure: 'continue' as const,
    guardrails: [],
    steps: g.plan.steps.map((s) => ({ ...s, data: 'public' as const })),
  },
}));
