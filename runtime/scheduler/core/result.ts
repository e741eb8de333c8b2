/** What a run shows: step views (as expressions and observers see them) and the execution result. */
import { addTokens, type StepRecord } from './fold.js';
import type { Starter } from './identity.js';
import type { RunState } from './run-state.js';
import { FAILED, type Inst, TERMINAL } from './state.js';
import { inLastIterations, type ViewState, viewAt } from './views.js';
import type { ExecutionResult, StepResult, StepUsage } from '../types.js';
import { round6 } from '../../../compiler/index.js';

export { instView } from './views.js';

export { round6 } from '../../../compiler/index.js';

/**
 * What the execution result is built from: the live core, or the same state rebuilt from a run's
 * journal (`../journal-result.ts`) — one builder, so `orch run --json` and a finished run read
 * back (`GET /runs/ID`) cannot differ in shape or counting.
 */
export type ResultState = ViewState &
  Pick<RunState, 'logical' | 'runId' | 'runStatus' | 'startedAt' | 'completedAt' | 'totalCost' | 'outputValue' | 'failure'> & {
    readonly plan: { readonly plan: string };
    approvalsWaiting(): readonly string[];
  };

/**
 * The failed instance whose error a step's result shows: the first in item order. The live run
 * makes instances in the order their items open and a run read back from its journal in the order
 * they were first journaled, which differ when a cancel overtakes an item; item order is the same
 * for both.
 */
function firstFailed(instances: readonly Inst[]): Inst | undefined {
  let first: Inst | undefined;
  for (const i of instances) {
    if (i.rec.error === null || !FAILED.has(i.rec.status)) continue;
    if (first === undefined || beforeInItemOrder(i.path, first.path)) first = i;
  }
  return first;
}

function beforeInItemOrder(a: readonly number[], b: readonly number[]): boolean {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k]! < b[k]!;
  return a.length < b.length;
}

/** The execution result (LANGUAGE.md §6) as of `now`; meaningful once the run ended. `startedBy`: §9.1, shown with it. */
export function buildResult(c: ResultState, now: number, startedBy: Starter | null = null): ExecutionResult {
  // Steps end within the same milliseconds by the dozen: each time is formatted once.
  const formatted = new Map<number, string>();
  const iso = (t: number | null): string | null => {
    if (t === null) return null;
    let text = formatted.get(t);
    if (text === undefined) formatted.set(t, (text = new Date(t).toISOString()));
    return text;
  };
  // The blocks that ended as a whole with an error, once: not a copy of every block per step.
  const wholeErrors = [...c.blockInsts.values()].filter((b) => b.whole?.error);
  const steps: StepResult[] = [];
  let completed = 0;
  let failed = 0;
  let skipped = 0;
  let cancelled = 0;
  // A step that never started in a run that failed, timed out or was cancelled is `cancelled`
  // (the run's end event stands for it), also when it was never ready and has no record.
  const ended = c.runStatus === 'failed' || c.runStatus === 'cancelled' || c.runStatus === 'timeout';
  for (const l of c.logical.values()) {
    const seen = viewAt(c, l, []);
    const v = ended && (seen.status === 'pending' || seen.status === 'queued') ? { ...seen, status: 'cancelled' as const } : seen;
    let start: number | null = null;
    let end: number | null = null;
    for (const i of l.instances) {
      const r = i.rec;
      if (r.startedAt !== null && (start === null || r.startedAt < start)) start = r.startedAt;
      if (r.completedAt !== null && (end === null || r.completedAt > end)) end = r.completedAt;
    }
    // Beyond a loop the step is its last iteration: an earlier iteration's error is not its error.
    const error =
      firstFailed(l.shape.dims.some((d) => d.type === 'repeat') ? l.instances.filter((i) => inLastIterations(c, i)) : l.instances)?.rec.error ??
      wholeErrors.find((b) => l.shape.dims.includes(b.block as never))?.whole?.error ??
      null;
    const usage = usageOf(l.instances.map((i) => i.rec.usage));
    // A step of a `for each` ran as its items: its duration is theirs together, the first start to
    // the last end its startedAt and completedAt show (the view's is the longest item's). Inside a
    // repeat the entry is the last iteration's, so it keeps the view's.
    const duration = end !== null && start !== null && TERMINAL.has(v.status) && l.instances.length > 1 && !l.shape.dims.some((d) => d.type === 'repeat') ? end - start : v.duration;
    if (v.status === 'completed') completed++;
    else if (v.status === 'cancelled') cancelled++;
    else if (FAILED.has(v.status)) failed++;
    else if (v.status === 'skipped') skipped++;
    const step: StepResult = {
      stepId: l.step.id,
      status: v.status,
      output: v.output,
      error,
      attempts: v.attempts,
      resource: v.resource,
      duration,
      startedAt: iso(start),
      completedAt: iso(TERMINAL.has(v.status) ? end : null),
      cost: round6(l.instances.reduce((a, i) => a + i.rec.cost, 0)),
    };
    // Last, as it always was; a spread into every step's result only for the steps that have it.
    steps.push(usage ? { ...step, usage } : step);
  }
  const end = c.completedAt ?? now;
  const status = c.runStatus === 'running' ? 'failed' : c.runStatus;
  return {
    planId: c.plan.plan,
    runId: c.runId,
    status,
    ...(startedBy ? { started_by: startedBy } : {}),
    steps,
    output: c.outputValue,
    error: c.failure,
    metadata: {
      totalDuration: end - c.startedAt,
      totalCost: round6(c.totalCost),
      totalSteps: c.logical.size,
      completedSteps: completed,
      failedSteps: failed,
      skippedSteps: skipped,
      cancelledSteps: cancelled,
    },
    startedAt: new Date(c.startedAt).toISOString(),
    completedAt: new Date(end).toISOString(),
    // The approvals it stopped at, by instance key (`ok[1]` inside for each, `sub/ok` in a sub-plan): what `orch signal` takes.
    ...(status === 'paused' ? { waiting: c.approvalsWaiting() } : {}),
  };
}

/** Tokens over every instance of a step (a `for each` step sums its items); undefined when none reported. */
function usageOf(all: readonly StepRecord['usage'][]): StepUsage | undefined {
  let out: StepUsage | undefined;
  for (const u of all)
    if (u)
      out = {
        input_tokens: addTokens(out?.input_tokens, u.input_tokens),
        output_tokens: addTokens(out?.output_tokens, u.output_tokens),
        model: u.model ?? out?.model ?? null,
        endpoint: u.endpoint ?? out?.endpoint ?? null,
      };
  return out;
}
