/**
 * fast-check generators of v0.2 plans for the scheduler's property tests: nested `for each`
 * (lists of lists from the input), a `race` of two branches, a `repeat` loop whose `until` reads
 * a step's output, a `join first` step and a final step that waits for the race and the loop
 * (reading the branches softly) — with random limits, retries, failure modes and, per step
 * instance and attempt, a deterministic latency and failure.
 */
import fc from 'fast-check';
import type { BlockIR, ExprIR, PlanIR, StepIR } from '../../compiler/index.js';
import type { RunEvent, VirtualClock } from '../scheduler/index.js';
import { capability, lit, plan, resource, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

export interface BlockGen {
  readonly plan: PlanIR;
  readonly input: { readonly outer: readonly (readonly number[])[] };
  /** Deterministic per (instance key, attempt): latency and whether it fails. */
  readonly outcome: (key: string, attempt: number) => { latency: number; fail: boolean; ok: boolean };
}

const get = (object: ExprIR, key: string): ExprIR => ({ op: 'get', object, key });
const stepRef = (id: string): ExprIR => ({ op: 'step', id });

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const genBlockPlan = (timingFree: boolean): fc.Arbitrary<BlockGen> =>
  fc
    .record({
      outer: fc.array(fc.array(fc.nat(9), { maxLength: 3 }), { maxLength: 3 }),
      outerParallel: fc.option(fc.integer({ min: 1, max: 2 }), { nil: null }),
      innerParallel: fc.option(fc.integer({ min: 1, max: 2 }), { nil: null }),
      planLimit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      loopMax: fc.integer({ min: 1, max: 4 }),
      retries: fc.integer({ min: 0, max: 1 }),
      raceDeps: fc.boolean(),
      continueAll: fc.boolean(),
      onFailure: fc.constantFrom('abort' as const, 'continue' as const),
      seed: fc.nat(),
      failRate: fc.integer({ min: 0, max: 4 }),
      raceLatency: fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 31, max: 60 })),
    })
    .map((g) => {
      const continueAll = timingFree || g.continueAll;
      const base = (over: Partial<StepIR> & { id: string }) =>
        step({
          capability: 'c',
          retry: { max: g.retries, backoff: 'fixed', delay_ms: 5, max_delay_ms: null, jitter: false },
          binding: { resource: 'r0', tier: 'local', rationale: '', fallbacks: [] },
          on_failure: continueAll ? 'continue' : 'abort',
          ...over,
        });
      const blocks: BlockIR[] = [
        { type: 'for_each', id: 'fo', parent: null, item: 'o', list: get({ op: 'var', name: 'input' }, 'outer'), parallel: g.outerParallel },
        { type: 'for_each', id: 'fi', parent: 'fo', item: 'x', list: { op: 'item', name: 'o' }, parallel: g.innerParallel },
        { type: 'race', id: 'r', parent: null, branches: ['b1', 'b2'] },
        { type: 'repeat', id: 'L', parent: null, max: g.loopMax, until: get(get(stepRef('l2'), 'output'), 'ok'), on_failure: continueAll ? 'continue' : 'abort', steps: ['l1', 'l2'] },
      ];
      const fe = (id: string, item: string, parallel: number | null) => ({ group: id, item, list: lit(null), parallel });
      const steps: StepIR[] = [
        base({ id: 'a' }),
        base({ id: 'n', deps: ['a'], blocks: ['fo', 'fi'], for_each: fe('fi', 'x', g.innerParallel), args: { v: { op: 'item', name: 'x' } } }),
        base({ id: 'm', deps: ['n'], blocks: ['fo'], for_each: fe('fo', 'o', g.outerParallel), skip_if_skipped: [] }),
        // Timing-free: both branches start together and do not retry, so the faster one that does
        // not fail wins whether or not the run was interrupted (an undecided race is contested
        // again on resume, with the branches' attempts restarted).
        base({ id: 'b1', deps: g.raceDeps && !timingFree ? ['a'] : [], blocks: ['r'], ...(timingFree ? { retry: { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false } } : {}) }),
        base({ id: 'b2', blocks: ['r'], ...(timingFree ? { retry: { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false } } : {}) }),
        base({ id: 'l1', blocks: ['L'] }),
        base({ id: 'l2', deps: ['l1'], blocks: ['L'] }),
        base({ id: 'f', deps: ['a', 'm'], join: 'first', soft_reads: ['a', 'm'] }),
        base({ id: 'z', deps: ['b1', 'b2', 'l1', 'l2', 'm'], waits_for: ['r', 'L'], soft_reads: ['b1', 'b2'], join: 'none_failed' }),
      ];
      const p: PlanIR = {
        ...plan({
          capabilities: [capability('c')],
          resources: [resource('r0')],
          steps,
          over: { concurrency: g.planLimit, on_failure: timingFree ? 'continue' : g.onFailure },
        }),
        version: 'orch.plan/v2',
        blocks,
      };
      const outcome = (key: string, attempt: number) => {
        const h = hash(`${g.seed}:${key}:${attempt}`);
        const id = key.replace(/[[#].*$/, '');
        if (id === 'b1' || id === 'b2') return { latency: id === 'b1' ? g.raceLatency[0] : g.raceLatency[1], fail: h % 5 < g.failRate, ok: true };
        return { latency: 1 + (h % 40), fail: (h >>> 3) % 5 < g.failRate, ok: (h >>> 7) % 3 === 0 };
      };
      return { plan: p, input: { outer: g.outer }, outcome };
    });

/**
 * The simulated executor of a generated plan: each attempt takes the latency `gen.outcome` gives
 * its instance key and phase attempt, and fails when it says (a compensation never fails).
 * `observe` must see every event of the run: it learns each start's phase attempt.
 */
export function blockExecutor(gen: BlockGen, clock: VirtualClock): { readonly exec: SimExecutor; observe(e: RunEvent): void } {
  const phaseAttempt = new Map<string, number>();
  const exec = new SimExecutor(clock, (req) => {
    const o = gen.outcome(req.stepId, phaseAttempt.get(req.stepId) ?? 1);
    return { latency: o.latency, outcome: o.fail && req.purpose !== 'compensate' ? { ok: false, error: 'simulated failure' } : { ok: true, output: { ok: o.ok, by: req.stepId } } };
  });
  return {
    exec,
    observe(e) {
      if (e.type === 'step_started') phaseAttempt.set(e.stepId!, Number(e.data.phaseAttempt));
    },
  };
}
