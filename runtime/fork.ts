/**
 * `orch fork RUN --at STEP` (LANGUAGE.md §9.2), decided from the IR and the forked run's journal
 * alone: the downstream closure of STEP (what must run again), and the step instances the new run
 * adopts — every completed one outside the closure, with its output, and STEP's when `--output`
 * gives one. Pure; `Runtime.fork` starts the run.
 */
import type { ExprIR, PlanIR, StepIR } from '../compiler/index.js';
import { describeValueErrors, someNode, validateValue } from '../compiler/index.js';
import type { Adoption } from './scheduler/core/run-state.js';
import { baseId } from './scheduler/core/state.js';
import { isApproval } from './scheduler/core/resolve.js';
import type { RestoredRun } from './scheduler/replay.js';
import { RuntimeUsageError } from './usage-error.js';

/** The steps and blocks an expression reads. */
function reads(e: ExprIR | null | undefined, steps: Set<string>, blocks: Set<string>): void {
  if (!e) return;
  someNode(e, (o) => {
    if (o.op === 'step' && typeof o.id === 'string') steps.add(o.id);
    if (o.op === 'block' && typeof o.id === 'string') blocks.add(o.id);
  });
}

/** What one step waits for, by any path: its deps, what its arguments, `when`, `for each` list and enclosing loops' `until` read, the blocks it waits on. */
function upstreamOf(plan: PlanIR, step: StepIR): { steps: Set<string>; blocks: Set<string> } {
  const steps = new Set(step.deps);
  const blocks = new Set(step.waits_for ?? []);
  for (const a of Object.values(step.args)) reads(a, steps, blocks);
  reads(step.when, steps, blocks);
  reads(step.for_each?.list, steps, blocks);
  for (const id of step.blocks ?? []) {
    const b = plan.blocks?.find((x) => x.id === id);
    if (b?.type === 'for_each') reads(b.list, steps, blocks);
    // A loop's `until` decides how many times its steps run: what it reads is upstream of them.
    if (b?.type === 'repeat') reads(b.until, steps, blocks);
  }
  return { steps, blocks };
}

/**
 * STEP and every step downstream of it in the IR, blocks included: a step that reads or waits for
 * one in the closure; every step of a block it waits for as a whole; the rest of a `repeat` loop
 * (its iterations start over) and of a `race` (the winner is decided again) that holds one.
 */
export function downstreamClosure(plan: PlanIR, at: string): Set<string> {
  const closure = new Set([at]);
  const stepsOfBlock = (id: string) => plan.steps.filter((s) => s.blocks?.includes(id)).map((s) => s.id);
  const ups = new Map(plan.steps.map((s) => [s.id, upstreamOf(plan, s)]));
  for (let grew = true; grew; ) {
    grew = false;
    const add = (id: string) => {
      if (!closure.has(id)) {
        closure.add(id);
        grew = true;
      }
    };
    for (const s of plan.steps) {
      if (closure.has(s.id)) {
        for (const b of s.blocks ?? []) {
          const block = plan.blocks?.find((x) => x.id === b);
          if (block && block.type !== 'for_each') for (const id of stepsOfBlock(b)) add(id);
        }
        continue;
      }
      const up = ups.get(s.id)!;
      if ([...up.steps].some((d) => closure.has(d)) || [...up.blocks].some((b) => stepsOfBlock(b).some((id) => closure.has(id)))) add(s.id);
    }
  }
  return closure;
}

/** Why `--output` cannot stand for STEP's output, or null (an approval is never forged). */
function outputProblem(plan: PlanIR, step: StepIR, output: unknown): string | null {
  const cap = step.capability !== null ? plan.capabilities[step.capability] : undefined;
  if (cap && (cap.kind === 'human' || isApproval(cap)))
    return `step ${step.id} is an approval (kind human): its output is a person's decision, so --output cannot give it — fork at a step after it, or decide it in the new run`;
  if (step.action.type !== 'call' || !cap) return `step ${step.id} is not a capability call: --output gives a call's output only`;
  if (step.for_each !== null || (step.blocks ?? []).length > 0) return `step ${step.id} is inside a block: --output gives the output of a step that runs once`;
  const check = validateValue(cap.output, output);
  return check.ok ? null : `--output does not match the output type of ${cap.name}: ${describeValueErrors(check.errors.slice(0, 3))}`;
}

/**
 * What a fork of the run whose journal folds to `source` adopts: every completed instance of a
 * step outside `at`'s closure whose compensation did not run (`undone`: the instances compensated
 * in that run), and `at` itself when `output` is given. A usage error when `at` is
 * no step of the plan or the output cannot stand for it.
 */
export function forkAdoption(
  plan: PlanIR,
  source: { readonly runId: string; readonly restored: RestoredRun; readonly undone?: ReadonlySet<string> },
  at: string,
  output?: { readonly value: unknown },
): Adoption {
  const step = plan.steps.find((s) => s.id === at);
  if (!step) throw new RuntimeUsageError(`plan ${plan.plan} has no step ${at} (its steps: ${plan.steps.map((s) => s.id).join(', ')})`);
  if (output) {
    const problem = outputProblem(plan, step, output.value);
    if (problem) throw new RuntimeUsageError(problem);
  }
  const closure = downstreamClosure(plan, at);
  const known = new Set(plan.steps.map((s) => s.id));
  const steps: Adoption['steps'][number][] = [];
  for (const [key, rec] of source.restored.steps) {
    const id = baseId(key);
    // Only a step's own instances (a sub-plan's inner records are its run's) that completed.
    if (key.includes('/') || !known.has(id) || closure.has(id) || rec.status !== 'completed') continue;
    // Its compensation ran in RUN: what it did was undone, so adopting it would build on nothing (and compensate it twice).
    if (source.undone?.has(key)) continue;
    steps.push({ key, output: rec.output, attempts: rec.attempts, resource: rec.resource });
  }
  if (output) steps.push({ key: at, output: output.value, given: true });
  return { from: source.runId, steps };
}
