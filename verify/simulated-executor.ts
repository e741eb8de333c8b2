/**
 * An `Executor` for the scheduler that runs no code: each attempt answers what the scenario
 * says, after the scenario's latency on the virtual clock. A `hang` never answers, so the
 * scheduler's own timeout has to catch it.
 */
import type { AttemptHandle, AttemptOutcome as SchedulerOutcome, AttemptRequest, Clock, Executor } from '../runtime/index.js';
import { outcomeOf, rowOfInstance, type Scenario } from './scenario.js';

export class SimulatedExecutor implements Executor {
  constructor(
    private readonly clock: Clock,
    private readonly scenario: Scenario,
    private readonly rootRunId: string,
    /** Instance key → attempts to subtract: an attempt in flight at an upgrade answers the next one. */
    private readonly attemptShift: ReadonlyMap<string, number> = new Map(),
  ) {}

  start(request: AttemptRequest, done: (outcome: SchedulerOutcome) => void): AttemptHandle {
    const item = rowOfInstance(request.plan, request.baseStepId, request.stepId, this.scenario.outcomes[request.baseStepId]?.length ?? 1);
    // `attempt` counts every start of the step (retries, rebindings, the fallback call), which is
    // how the scenario's table is laid out; compensations always succeed quickly.
    // Sub-plan steps are not in the scenario: they succeed.
    const outcome =
      request.purpose === 'compensate' || request.runId !== this.rootRunId ? undefined : outcomeOf(this.scenario, request.baseStepId, item, Math.max(0, request.attempt - 1 - (this.attemptShift.get(request.stepId) ?? 0)));
    let timer: ReturnType<Clock['setTimer']> | null = null;
    if (outcome?.kind === 'hang') return { abort: () => undefined };
    const latency = outcome ? outcome.latency_ms : 1;
    // A simulated cost replaces the capability's estimate for this attempt (answered or failed).
    const cost = outcome && outcome.cost !== null ? { cost: outcome.cost } : {};
    const answer: SchedulerOutcome =
      outcome === undefined
        ? { ok: true, output: {} }
        : outcome.kind === 'ok'
          ? { ok: true, output: outcome.output, ...cost }
          : { ok: false, error: `simulated failure (attempt ${request.attempt})`, ...cost };
    timer = this.clock.setTimer(latency, () => {
      timer = null;
      done(answer);
    });
    return {
      abort: () => {
        if (timer !== null) this.clock.cancelTimer(timer);
        timer = null;
      },
    };
  }
}
