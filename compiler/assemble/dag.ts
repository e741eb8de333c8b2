/**
 * The `dag` stage: each step's dependencies (the steps it reads and its `after`s) and the DAG
 * over them — order, stages, critical path. A dependency cycle is E0301 and stops the plan's
 * stages: nothing after this one can be computed without an order.
 */
import { diagnostic, type Diagnostic } from '../../language/index.js';
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
        related: cycle.slice(1).map((id) => ({ message: `step ${id} is part of the cycle`, file, range: byId.get(id)!.decl.name.range })),
      }),
    );
  }
}
