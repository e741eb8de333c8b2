/**
 * The estimate stages. `step-estimates`: each step's cost and duration from its capability and
 * resource (a `wait` its literal duration, a `run` its sub-plan's estimates), times its `for each`
 * items. `estimates`: the plan's, best case and worst — with races (they end with their first
 * branch), loops (×1..max) and rate limits (calls wait for their slot) from the block-aware
 * timeline, else from the DAG — and its local ratio.
 */
import { rateLimitOf, timeline, type TimelineStep } from '../block-estimates.js';
import { stepsById } from '../check/checked-plan.js';
import { localRatio as localRatioOf } from '../placement-metrics.js';
import type { PlanFacts } from './plan-facts.js';
import { orderSteps } from './dag.js';

export function estimateSteps(f: PlanFacts): void {
  const { steps, n, bindings } = f;
  const resourceByName = f.cx.resourceByName;
  const costs = new Array<number>(n);
  const durations = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    const res = bindings[i]?.resource;
    const r = res ? resourceByName.get(res) : undefined;
    let cost = 0;
    let duration = 0;
    if (s.action.type === 'call') {
      cost = (s.capability?.ir.cost ?? 0) + (r?.cost ?? 0);
      duration = (s.capability?.ir.latency_ms ?? 0) + (r?.latency_ms ?? 0);
    } else if (s.action.type === 'wait') duration = s.waitMs ?? 0;
    else if (s.action.type === 'run') {
      const sub = f.subEstimates.get(s.id);
      cost = sub?.cost ?? 0;
      duration = sub?.duration_ms ?? 0;
    }
    if (s.forEach && s.itemCount !== null) {
      cost *= s.itemCount;
      duration *= s.itemWaves!;
    }
    costs[i] = cost;
    durations[i] = duration;
  }
  f.costs = costs;
  f.durations = durations;
}

/**
 * The estimates again, after a later stage moved a step to another resource (a guardrail's proof,
 * §9.3's flows): the step's own, the DAG's critical path over them, and the plan's.
 */
export function estimateAgain(f: PlanFacts): void {
  estimateSteps(f);
  orderSteps(f);
  estimatePlan(f);
}

export function estimatePlan(f: PlanFacts): void {
  const { cp, steps, n, bindings, costs, durations, dag } = f;
  let cost = 0;
  for (let i = 0; i < n; i++) cost += costs[i]!;
  f.cost = cost;
  // `bindings` has holes where placement failed: index it rather than map over it.
  // (read by guardrails and the IR only: a plain `check` of a plan without guardrails skips it)
  f.localRatio = !f.cx.checkOnly || cp.guardrails.length ? localRatioOf(Array.from({ length: n }, (_, i) => ({ tier: bindings[i]?.tier ?? null, data: steps[i]!.data }))) : 0;

  f.duration = dag.duration;
  f.costMax = cost;
  f.durationMax = dag.duration;
  const flowBlocks = cp.blocks.filter((b) => b.kind !== 'for_each');
  const rates = rateLimits(f);
  f.rates = rates;
  if (flowBlocks.length || rates.some((r) => r !== undefined)) {
    const tsteps = new Map(steps.map((s, i) => [s.id, { id: s.id, deps: f.depsOf[i]!, duration: durations[i]!, cost: costs[i]!, ...(rates[i] ? { rate: rates[i] } : {}) }]));
    const byId = stepsById(cp);
    const tblocks = flowBlocks.map((b) => ({ kind: b.kind, id: b.id, steps: b.kind === 'race' ? b.steps.filter((x) => byId.get(x)?.blocks.at(-1) === b.id) : b.steps, max: b.max }));
    const best = timeline(dag.order, tsteps, tblocks, false);
    const worst = timeline(dag.order, tsteps, tblocks, true);
    f.duration = best.duration;
    f.criticalPath = best.criticalPath;
    f.costMax = worst.cost;
    f.durationMax = worst.duration;
  }
  f.maxIterations = flowBlocks.some((b) => b.kind === 'repeat');
}

/** A rate limit makes calls of its capability wait for their slot: each step's, when the policy has any. */
function rateLimits(f: PlanFacts): readonly TimelineStep['rate'][] {
  const { steps, n, policy } = f;
  if (!policy?.rate_limits.length) return f.rates; // (the record's shared empty list)
  const rateOf = (i: number): TimelineStep['rate'] => {
    const s = steps[i]!;
    const name = s.action.type === 'call' ? s.capability?.name : undefined;
    return name ? rateLimitOf(policy.rate_limits, name) : undefined;
  };
  return Array.from({ length: n }, (_, i) => rateOf(i));
}
