/**
 * Worker threads for the handlers of capabilities no mock answers in `orch test`, started at the
 * first such call (most tests mock every boundary and never start one), and a test run with its own.
 */
import type { CompiledTest } from '../../compiler/index.js';
import { WorkerExecutor, type AttemptHandle, type AttemptOutcome, type AttemptRequest, type Executor, type ModelPrice } from '../../runtime/index.js';
import { runPlanTest, type TestResult } from './run-test.js';

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

/**
 * One test, with threads of its own for the handlers it runs: a handler module's state (a counter,
 * a cache) starts afresh in each test, so no test's result depends on which tests ran before it
 * on its thread, nor on how many cores shared them out.
 */
export async function runAlone(t: CompiledTest, prices: { readonly [model: string]: ModelPrice }): Promise<TestResult> {
  const real = new LazyWorkers();
  const began = performance.now();
  try {
    return { ...(await runPlanTest(t, { real, prices })), duration_ms: performance.now() - began };
  } finally {
    await real.close();
  }
}
