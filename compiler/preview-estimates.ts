/**
 * `orch preview --input`: the estimates for that input. The compile multiplies a step inside
 * `for each` by its items only when every list around it is written out; over a list the input
 * gives (`for each x in input.items`) its estimate is per item. With the input known, such a step
 * costs its items × the per-item cost and lasts its waves (`parallel N` at a time) × the per-item
 * duration, and the plan's totals and critical path follow, as the compile's `estimates` stage
 * computes them (block-estimates.ts's timeline: races, loops, rate limits).
 */
import type { BlockIR, PlanIR } from './ir/types.js';
import { rateLimitOf, timeline, type TimelineBlock, type TimelineStep } from './block-estimates.js';
import { round6 } from './money.js';
import { UNKNOWN, staticEval, type StaticValue } from './static-eval.js';

type ForEach = BlockIR & { type: 'for_each' };
type Estimate = { readonly cost: number; readonly duration_ms: number };

export interface InputEstimates {
  readonly steps: ReadonlyMap<string, Estimate>;
  readonly cost: number;
  readonly duration_ms: number;
  readonly cost_max: number;
  readonly duration_ms_max: number;
  readonly critical_path: readonly string[];
}

/** The `for each` blocks around `b` and `b` itself, outermost first. */
function forEachChain(b: BlockIR | undefined, blocks: readonly BlockIR[]): ForEach[] {
  const chain: ForEach[] = [];
  for (let at = b; at; at = at.parent === null ? undefined : blocks.find((x) => x.id === at!.parent)) if (at.type === 'for_each') chain.unshift(at);
  return chain;
}

/**
 * How many items a `for each` block runs for this input over every item of the blocks around it,
 * and in how many waves one after the other (each block runs `parallel N` of its items at a time;
 * a wave of outer items lasts as long as its item with the most inner waves); null when a list
 * depends on more than the input.
 */
export function fanOut(b: ForEach, blocks: readonly BlockIR[], vars: Record<string, StaticValue>): { items: number; waves: number } | null {
  const chain = forEachChain(b, blocks);
  const count = (level: number, scope: Record<string, StaticValue>): { items: number; waves: number } | null => {
    const block = chain[level]!;
    const list = staticEval(block.list, scope);
    if (list === UNKNOWN || !Array.isArray(list)) return null;
    const size = block.parallel ?? Math.max(1, list.length);
    if (level === chain.length - 1) return { items: list.length, waves: Math.ceil(list.length / size) };
    let items = 0;
    let waves = 0;
    for (let from = 0; from < list.length; from += size) {
      let longest = 0;
      for (const item of list.slice(from, from + size)) {
        const inner = count(level + 1, { ...scope, [`$${block.item}`]: item });
        if (inner === null) return null;
        items += inner.items;
        longest = Math.max(longest, inner.waves);
      }
      waves += longest;
    }
    return { items, waves };
  };
  return count(0, vars);
}

/** Whether the compile knew the block's size: every list around it written out. */
function writtenOut(chain: readonly ForEach[]): boolean {
  return chain.every((b) => b.list.op === 'list' || (b.list.op === 'lit' && Array.isArray(b.list.value)));
}

/** The estimates for this input, or null when it sizes no `for each` the compile did not (the IR's stand). */
export function estimatesForInput(plan: PlanIR, blocks: readonly BlockIR[], vars: Record<string, StaticValue>): InputEstimates | null {
  const steps = new Map<string, Estimate>();
  let changed = false;
  for (const s of plan.steps) {
    const ids = s.blocks ?? (s.for_each ? [s.for_each.group] : []);
    const inner = [...ids].reverse().map((id) => blocks.find((b) => b.id === id)).find((b): b is ForEach => b?.type === 'for_each');
    const fan = inner && !writtenOut(forEachChain(inner, blocks)) ? fanOut(inner, blocks, vars) : null;
    if (fan === null) {
      steps.set(s.id, s.estimates);
      continue;
    }
    changed = true;
    steps.set(s.id, { cost: round6(s.estimates.cost * fan.items), duration_ms: s.estimates.duration_ms * fan.waves });
  }
  if (!changed) return null;
  const rateLimits = plan.policy?.rate_limits ?? [];
  const tsteps = new Map<string, TimelineStep>();
  for (const s of plan.steps) {
    const e = steps.get(s.id)!;
    const rate = s.action.type === 'call' && s.capability ? rateLimitOf(rateLimits, s.capability) : undefined;
    tsteps.set(s.id, { id: s.id, deps: s.deps, duration: e.duration_ms, cost: e.cost, ...(rate ? { rate } : {}) });
  }
  const innermost = (id: string) => {
    const s = plan.steps.find((x) => x.id === id);
    return (s?.blocks ?? []).at(-1);
  };
  const inside = (b: BlockIR) => plan.steps.filter((s) => (s.blocks ?? []).includes(b.id)).map((s) => s.id);
  const tblocks: TimelineBlock[] = blocks
    .filter((b) => b.type !== 'for_each')
    .map((b) => ({ kind: b.type, id: b.id, steps: b.type === 'race' ? inside(b).filter((id) => innermost(id) === b.id) : inside(b), ...(b.type === 'repeat' ? { max: b.max } : {}) }));
  const order = plan.stages.flat();
  const best = timeline(order, tsteps, tblocks, false);
  const worst = timeline(order, tsteps, tblocks, true);
  return { steps, cost: round6(best.cost), duration_ms: best.duration, cost_max: round6(worst.cost), duration_ms_max: worst.duration, critical_path: best.criticalPath };
}
