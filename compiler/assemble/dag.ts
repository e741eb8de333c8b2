/**
 * The `dag` stage: each step's dependencies (the steps it reads and its `after`s) and the DAG
 * over them — order, stages, critical path. A dependency cycle is E0301 and stops the plan's
 * stages: nothing after this one can be computed without an order.
 */
import { diagnostic, type Diagnostic, type Range } from '../../language/index.js';
import { someNode } from '../ir/nodes.js';
import type { ExprIR } from '../ir/types.js';
import { stepsById } from '../check/checked-plan.js';
import { buildDag, type DagInput } from '../dag.js';
import type { PlanFacts } from './plan-facts.js';

export function orderSteps(f: PlanFacts): boolean {
  const { steps, n, durations, file } = f;
  const depsOf = new Array<readonly string[]>(n);
  const dagInput = new Array<DagInput>(n);
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    const deps = s.after.length === 0 && s.refs.length <= 1 ? s.refs : [...new Set([...s.refs, ...s.after])].sort();
    depsOf[i] = deps;
    dagInput[i] = { id: s.id, deps, duration: durations[i]! };
  }
  f.depsOf = depsOf;
  const dag = buildDag(dagInput);
  if (dag.cycles.length) {
    reportCycles(f, dag.cycles, f.cx.diags, file);
    return false;
  }
  f.dag = dag;
  return true;
}

function reportCycles(f: PlanFacts, cycles: readonly (readonly string[])[], diags: Diagnostic[], file: string): void {
  const byId = stepsById(f.cp);
  for (const cycle of cycles) {
    const first = byId.get(cycle[0]!)!;
    diags.push(
      diagnostic('E0301', `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`, file, first.decl.name.range, {
        related: [
          ...cycle.slice(1).map((id) => ({ message: `step ${id} is part of the cycle`, file, range: byId.get(id)!.decl.name.range })),
          ...untilEdges(f, cycle).map(({ loop, read, range }) => ({ message: `loop ${loop}'s until reads step ${read}: every step of the loop waits for it`, file, range })),
        ],
      }),
    );
  }
}

/** The loops whose `until` makes an edge of the cycle (a step of the loop → a step it reads outside the loop): why the loop's steps wait. */
function untilEdges(f: PlanFacts, cycle: readonly string[]): { loop: string; read: string; range: Range }[] {
  const out: { loop: string; read: string; range: Range }[] = [];
  for (const b of f.cp.blocks) {
    if (b.kind !== 'repeat' || b.decl.kind !== 'RepeatDecl' || !b.until) continue;
    const reads = stepIdsOf(b.until);
    // Neighbours in the cycle, either way round: the loop's step on one side, the step its until reads on the other.
    for (let i = 0; i < cycle.length; i++) {
      const a = cycle[i]!;
      const b2 = cycle[(i + 1) % cycle.length]!;
      for (const [inside, read] of [[a, b2], [b2, a]] as const) {
        if (b.steps.includes(inside) && !b.steps.includes(read) && reads.has(read) && !out.some((e) => e.loop === b.id && e.read === read)) out.push({ loop: b.id, read, range: b.decl.until.range });
      }
    }
  }
  return out;
}

function stepIdsOf(e: ExprIR): Set<string> {
  const out = new Set<string>();
  someNode(e, (o) => {
    if (o.op === 'step' && typeof o.id === 'string') out.add(o.id);
  });
  return out;
}
