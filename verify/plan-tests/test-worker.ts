/**
 * One thread of `orch test`'s pool (`parallel-tests.ts`): receives the compiled tests once (with
 * `workerData`: tests of one plan share its IR, which the structured clone keeps shared), then runs
 * the test whose index each message names and answers with its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CompiledTest } from '../../compiler/index.js';
import type { ModelPrice } from '../../runtime/index.js';
import { runAlone } from './lazy-workers.js';
import type { TestResult } from './run-test.js';

export interface TestWorkerData {
  readonly tests: readonly CompiledTest[];
  /** orch.config prices of each test's project, by index. */
  readonly prices: readonly { readonly [model: string]: ModelPrice }[];
}

export type TestWorkerRequest = { readonly run: number } | { readonly close: true };
export type TestWorkerReply = { readonly index: number; readonly result: TestResult } | { readonly index: number; readonly error: string } | { readonly closed: true };

const port = parentPort;
if (port) {
  const { tests, prices } = workerData as TestWorkerData;
  port.on('message', (m: TestWorkerRequest) => {
    if ('close' in m) {
      port.postMessage({ closed: true } satisfies TestWorkerReply);
      return;
    }
    const index = m.run;
    runAlone(tests[index]!, prices[index] ?? {}).then(
      (result) => port.postMessage({ index, result } satisfies TestWorkerReply),
      (err: unknown) => port.postMessage({ index, error: err instanceof Error ? err.message : String(err) } satisfies TestWorkerReply),
    );
  });
}
