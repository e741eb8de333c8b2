/**
 * Runs `orch test`'s tests on the available cores (LANGUAGE.md §9.2): a pool of worker threads,
 * each given the compiled tests once, pulling the next test when it finished one. Results land at
 * their test's index, so the report's order never depends on which thread was faster. A handful
 * of tests, a single core, or no built worker script (a source checkout) run here, one by one.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packagePath, type CompiledTest } from '../../compiler/index.js';
import type { ModelPrice } from '../../runtime/index.js';
import { runAlone } from './lazy-workers.js';
import type { TestResult } from './run-test.js';
import type { TestWorkerData, TestWorkerReply, TestWorkerRequest } from './test-worker.js';

type Prices = { readonly [model: string]: ModelPrice };

/**
 * Fewer tests than this run in this thread: a test takes about 10 ms, a thread takes 0.3–1 s to
 * load the runtime, so below this a pool would only be slower.
 */
export const MIN_PARALLEL_TESTS = 64;

export interface PoolOptions {
  /** Threads to run tests on (default: the available cores); 1 runs them here. */
  readonly workers?: number;
  /** Fewest tests worth a pool (default `MIN_PARALLEL_TESTS`). */
  readonly minParallel?: number;
}

/** The results in the tests' order, and how many threads ran them (1: this one). */
export async function runTests(tests: readonly CompiledTest[], prices: readonly Prices[], opts: PoolOptions = {}): Promise<{ results: TestResult[]; threads: number }> {
  const workers = Math.min(Math.max(1, Math.floor(opts.workers ?? availableParallelism())), tests.length);
  const script = workers > 1 && tests.length >= (opts.minParallel ?? MIN_PARALLEL_TESTS) ? workerScript() : null;
  if (!script) return { results: await oneByOne(tests, prices), threads: 1 };
  return { results: await inThreads(script, tests, prices, workers), threads: workers };
}

async function oneByOne(tests: readonly CompiledTest[], prices: readonly Prices[]): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const [i, t] of tests.entries()) results.push(await runAlone(t, prices[i] ?? {}));
  return results;
}


/** The built worker module: beside this one in dist/, or dist/'s when this runs from source. */
function workerScript(): string | null {
  const beside = fileURLToPath(new URL('./test-worker.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = packagePath('dist', 'verify', 'plan-tests', 'test-worker.js');
  return existsSync(built) ? built : null;
}

function inThreads(script: string, tests: readonly CompiledTest[], prices: readonly Prices[], count: number): Promise<TestResult[]> {
  const data: TestWorkerData = { tests, prices };
  const results: (TestResult | undefined)[] = new Array<TestResult | undefined>(tests.length);
  let next = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const threads: Worker[] = [];
    const closed = new Set<Worker>();
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const t of threads) void t.terminate();
      reject(err);
    };
    const feed = (w: Worker): void => {
      if (next < tests.length) w.postMessage({ run: next++ } satisfies TestWorkerRequest);
      else w.postMessage({ close: true } satisfies TestWorkerRequest);
    };
    const finish = (): void => {
      if (++done === tests.length) resolve(results.map((r, i) => r ?? crashed(tests[i]!, 'no result')));
    };
    for (let i = 0; i < count; i++) {
      const w = new Worker(script, { workerData: data });
      threads.push(w);
      w.on('message', (m: TestWorkerReply) => {
        if ('closed' in m) {
          closed.add(w);
          void w.terminate();
          return;
        }
        results[m.index] = 'result' in m ? m.result : crashed(tests[m.index]!, m.error);
        finish();
        feed(w);
      });
      w.on('error', (err) => fail(err));
      w.on('exit', (code) => {
        if (!closed.has(w) && done < tests.length) fail(new Error(`a test thread exited with code ${code}`));
      });
      feed(w);
    }
  });
}

/** A test whose runner threw: failed, with the reason. */
function crashed(t: CompiledTest, message: string): TestResult {
  return { name: t.name, file: t.file, line: t.range.start.line, plan: t.planName, passed: false, run_status: 'not run', elapsed_ms: 0, failures: [{ kind: 'error', message }], timeline: [], covered: [] };
}
