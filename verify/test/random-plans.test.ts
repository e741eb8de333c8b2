/**
 * The verifier checked against itself and the scheduler: for random well-formed plans (random
 * DAGs of calls, waits and approvals, retries, rebinding alternatives, fallbacks, timeouts, `for
 * each` blocks, plan and resource limits, `on_failure` modes) no built-in invariant is ever violated. A violation here
 * is a scheduler bug or a false alarm of the monitor — either way a bug.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlanIR, StepIR } from '../../compiler/index.js';
import { verify } from '../verify.js';
import { approvalCapability, simulatedCapability, get, inputVar, lit, plan, resource, retry, step } from '../../runtime/test/ir-builder.js';

const randomPlan: fc.Arbitrary<PlanIR> = fc
  .record({
    size: fc.integer({ min: 1, max: 7 }),
    deps: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 7, maxLength: 7 }),
    retries: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 7, maxLength: 7 }),
    onGpu: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
    timeouts: fc.array(fc.option(fc.integer({ min: 500, max: 3000 })), { minLength: 7, maxLength: 7 }),
    continueOnFailure: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
    withFallback: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
    block: fc.option(fc.record({ from: fc.nat(), len: fc.integer({ min: 1, max: 3 }), parallel: fc.option(fc.integer({ min: 1, max: 3 })) })),
    planConcurrency: fc.option(fc.integer({ min: 1, max: 4 })),
    gpuConcurrency: fc.option(fc.integer({ min: 1, max: 3 })),
    rebind: fc.boolean(),
    onFailure: fc.constantFrom('abort' as const, 'continue' as const, 'rollback' as const),
    kinds: fc.array(fc.constantFrom('call', 'call', 'call', 'wait', 'approval'), { minLength: 7, maxLength: 7 }),
  })
  .map((r) => {
    const caps = [simulatedCapability('work', { timeout_ms: null }), simulatedCapability('backup'), approvalCapability];
    const ids = Array.from({ length: r.size }, (_, i) => `s${i}`);
    const block = r.block ? { from: r.block.from % r.size, len: r.block.len, parallel: r.block.parallel } : null;
    const inBlock = (i: number) => block !== null && i >= block.from && i < block.from + block.len;
    const steps: StepIR[] = ids.map((id, i) => {
      // Only earlier steps, so the graph is acyclic; a block step outside the block may not be
      // depended on item-wise from inside except by its own group.
      const deps = [...new Set(r.deps[i]!.filter(() => i > 0).map((d) => ids[d % i]!))].sort();
      const res = r.onGpu[i] ? 'gpu' : 'cpu';
      // Waits and approvals stay outside `for each` blocks and resources: how they count toward
      // `parallel N` and resource limits has its own scheduler tests (scheduler-limits).
      const kind = inBlock(i) ? 'call' : r.kinds[i]!;
      if (kind !== 'call') {
        return step(id, kind === 'wait' ? (null as unknown as string) : 'std.capabilities.approval', {
          ...(kind === 'wait' ? { capability: null, kind: null, action: { type: 'wait' as const, duration_ms: lit(700) } } : { kind: 'human' as const }),
          deps,
          after: deps,
          stage: i,
          timeout_ms: kind === 'approval' ? (r.timeouts[i] ?? null) : null,
          on_failure: r.continueOnFailure[i] ? 'continue' : 'abort',
        });
      }
      return step(id, 'work', {
        deps,
        after: deps,
        stage: i,
        retry: retry(r.retries[i]!, 200),
        timeout_ms: r.timeouts[i] ?? null,
        on_failure: r.continueOnFailure[i] ? 'continue' : 'abort',
        resource: res,
        binding: { resource: res, tier: 'cloud', rationale: 'random', fallbacks: r.rebind ? [res === 'gpu' ? 'cpu' : 'gpu'] : [] },
        fallback: r.withFallback[i] ? { capability: 'backup', args: {} } : null,
        compensate: r.onFailure === 'rollback' ? { capability: 'backup', args: {} } : null,
        for_each: inBlock(i) ? { group: 'g0', item: 'x', list: get(inputVar, 'items'), parallel: block!.parallel } : null,
      });
    });
    return plan({
      plan: 'random',
      input: { type: 'object', properties: { items: { type: 'array', items: { type: 'integer' } } }, required: ['items'] },
      concurrency: r.planConcurrency,
      on_failure: r.onFailure,
      capabilities: caps,
      resources: [resource('gpu', { concurrency: r.gpuConcurrency }), resource('cpu', { concurrency: null })],
      steps,
      stages: steps.map((s) => [s.id]),
    });
  });

describe('random plans', () => {
  it('never violate a built-in invariant on the runtime scheduler', async () => {
    await fc.assert(
      fc.asyncProperty(randomPlan, fc.integer({ min: 0, max: 1000 }), async (p, seed) => {
        const result = await verify(p, { seed, runs: 25, defaultFailRate: 0.3, maxListSize: 4 });
        const broken = result.violations.filter((v) => v.builtin);
        expect(broken, JSON.stringify(broken[0] ? { message: broken[0].message, plan: p.steps.map((s) => [s.id, s.deps, s.for_each?.parallel, s.resource]) } : null)).toEqual([]);
      }),
      { numRuns: 60, seed: 20261122 },
    );
  });
});
