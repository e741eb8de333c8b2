/**
 * Executes one scenario with the runtime's own scheduler (`runtime/scheduler`, the code `orch
 * run` uses) on a virtual clock: no worker threads, no sleeping. Handlers are simulated by the
 * scenario, approvals are answered through `signal` like a human would, context changes arrive
 * through `updateContext`. The monitor watches every transition through the observer hook.
 */
import type { PlanIR } from '../ir/types.js';
import { REDACTED } from '../../runtime/evaluate.js';
import { Run, VirtualClock, type RunEvent, type RunReader } from '../../runtime/scheduler/index.js';
import { CaseMonitor, type MonitorOptions } from './monitor.js';
import { isApprovalStep, outcomeOf, type Scenario } from './scenario.js';
import { SimulatedExecutor } from './simulated-executor.js';
import { parseInstance, type CaseResult } from './trace.js';

/** Timer firings after which a run counts as not terminating (a retry or re-arm loop). */
const MAX_TIMER_FIRINGS = 200_000;
const ROOT_RUN = 'verify';

export async function runCase(plan: PlanIR, scenario: Scenario, options: MonitorOptions): Promise<CaseResult> {
  const clock = new VirtualClock(0);
  const monitor = new CaseMonitor(plan, options);
  const approvalSteps = new Set(plan.steps.filter((s) => isApprovalStep(s, plan)).map((s) => s.id));
  let run: Run | null = null;

  let observerError: unknown = null;
  const observe = (event: RunEvent, reader: RunReader): void => {
    // Sub-plan runs share the deps (and so this observer); only the plan under test is judged,
    // but their approvals still need an answer.
    if (event.runId !== ROOT_RUN) {
      if (event.type === 'step_started' && event.stepId !== null) approveInSubplan(event, reader);
      return;
    }
    try {
      monitor.observe(event, reader);
      if (event.type === 'step_started' && event.stepId !== null) answerApproval(event);
    } catch (err) {
      // Thrown inside the scheduler it would read as a failed run; report it as what it is.
      observerError ??= err;
    }
  };

  /** A human answers an approval after the scenario's latency (never, for a `hang`). */
  const answerApproval = (event: RunEvent): void => {
    const { step, item } = parseInstance(event.stepId!);
    if (!approvalSteps.has(step)) return;
    const attempt = typeof event.data['attempt'] === 'number' ? (event.data['attempt'] as number) : 1;
    const outcome = outcomeOf(scenario, step, item ?? 0, attempt - 1);
    if (outcome?.kind === 'hang') return;
    const approve = outcome === undefined || outcome.kind === 'ok';
    const key = event.stepId!;
    clock.setTimer(outcome ? outcome.latency_ms : 1, () => run?.signal(key, approve ? 'approve' : 'reject', 'simulated approver'));
  };

  /** Approvals inside sub-plans are granted (the scenario models the plan under test only). */
  const approveInSubplan = (event: RunEvent, reader: RunReader): void => {
    const step = reader.plan.steps.find((s) => s.id === parseInstance(event.stepId!).step);
    if (!step || !isApprovalStep(step, reader.plan)) return;
    // Signals reach a child through its parent: `verify/summary` + `approve` → `summary/approve`.
    const key = `${event.runId.slice(ROOT_RUN.length + 1)}/${event.stepId}`;
    clock.setTimer(1, () => run?.signal(key, 'approve', 'simulated approver'));
  };

  run = new Run(
    plan,
    {
      clock,
      executor: new SimulatedExecutor(clock, scenario, ROOT_RUN),
      observe,
      // Jitter at its midpoint keeps runs reproducible; secrets are never needed by simulated
      // handlers, so every one resolves to the redaction marker.
      random: () => 0.5,
      secret: () => REDACTED,
    },
    { runId: ROOT_RUN, input: scenario.input, context: { ...scenario.context } },
  );
  for (const change of scenario.contextChanges) {
    clock.setTimer(change.at_ms, () => run?.updateContext({ [change.signal]: change.value }));
  }
  run.begin();

  let fired = 0;
  let stuckReason: string | null = null;
  const subplans = Object.keys(plan.subplans).length > 0;
  for (;;) {
    if (subplans) {
      // A sub-plan run reports back through a promise: let it land before time moves on, or
      // the parent would see its deadline pass before a child that finished in time.
      while (fired < MAX_TIMER_FIRINGS && !isOver(run) && clock.step()) {
        fired++;
        for (let i = 0; i < 4; i++) await Promise.resolve();
      }
    } else {
      fired += clock.runAll(MAX_TIMER_FIRINGS - fired);
    }
    if (isOver(run)) break;
    if (fired >= MAX_TIMER_FIRINGS) {
      stuckReason = `still ${run.status()} after ${MAX_TIMER_FIRINGS} timer firings (an endless retry or wait loop)`;
      break;
    }
    // Sub-plan runs report back through promises: give them a turn before calling it stuck.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (clock.pending() > 0 || isOver(run)) continue;
    stuckReason = stuckMessage(run);
    break;
  }
  if (observerError) throw new Error(`verifier error while observing the run: ${(observerError as Error).message ?? String(observerError)}`);
  return monitor.finish(run, isOver(run), stuckReason);
}

function isOver(run: Run): boolean {
  const s = run.status();
  return s !== 'running' && s !== 'paused';
}

function stuckMessage(run: Run): string {
  const waiting = run.running();
  return waiting.length > 0
    ? `the run is stuck: nothing can happen any more while ${waiting.join(', ')} ${waiting.length === 1 ? 'waits' : 'wait'} (no timeout)`
    : 'the run is stuck: no step can start and nothing is running';
}
