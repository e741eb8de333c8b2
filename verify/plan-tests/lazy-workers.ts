/**
 * Worker threads for the handlers of capabilities no mock answers in `orch test`, started at the
 * first such call (most tests mock every boundary and never start one).
 */
import { WorkerExecutor, type AttemptHandle, type AttemptOutcome, type AttemptRequest, type Executor } from '../../runtime/index.js';

/** Worker threads for real handlers, started at the first call a mock does not answer. */
export class LazyWorkers implements Executor {
  private pool: WorkerExecutor | null = null;

  start(request: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    this.pool ??= new WorkerExecutor({ workers: 1 });
    return this.pool.start(request, done, logged);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
