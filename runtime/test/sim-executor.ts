/**
 * A simulated executor for scheduler tests on a virtual clock: each capability's behaviour is a
 * function of the request returning latency and outcome. Records every start.
 */
import type { Clock } from '../scheduler/types.js';
import type { AttemptOutcome, AttemptRequest, Executor } from '../scheduler/types.js';

export type Behaviour = (req: AttemptRequest) => { latency: number; outcome: AttemptOutcome };

export class SimExecutor implements Executor {
  readonly starts: AttemptRequest[] = [];
  readonly aborted: string[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly behaviour: Behaviour = () => ({ latency: 10, outcome: { ok: true, output: {} } }),
  ) {}

  start(req: AttemptRequest, done: (o: AttemptOutcome) => void) {
    this.starts.push(req);
    const { latency, outcome } = this.behaviour(req);
    const t = this.clock.setTimer(latency, () => done(outcome));
    return {
      abort: (reason: string) => {
        this.aborted.push(`${req.stepId}:${reason}`);
        this.clock.cancelTimer(t);
      },
    };
  }
}
