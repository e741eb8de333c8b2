/**
 * `orch test` (LANGUAGE.md §9.2, issue #52): 1,000 tests of a plan with a 30-day wait, three
 * approvals, five retries with exponential backoff and a rate-limited capability
 * (plan-tests/scenario.ts). Measured twice: as `orch test` runs them (compile + a pool of threads
 * on the available cores), and in this one thread with every real timer and socket counted — 0
 * of each is asserted (the bench fails otherwise). The same scenario under `@inngest/test`
 * (plan-tests/inngest-anchor.ts) runs in the same process as the anchor, reported as a ratio.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { runTestFiles } from '../verify/index.js';
import { smoke, type BenchFigure } from './figure.js';
import { guardRealWorld } from './plan-tests/guards.js';
import { inngestScenario } from './plan-tests/inngest-anchor.js';
import { writeScenario } from './plan-tests/scenario.js';

const TESTS = smoke(1000, 4);
/** The anchor takes ~0.1 s a scenario: a tenth of the scenarios, scaled per scenario. */
const ANCHOR_SCENARIOS = smoke(100, 1);
const TARGET_S = 10;
const TARGET_EACH_MS = 20;

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = writeScenario(TESTS);
  try {
    // Warm-up: the compiler and runtime JIT-compiled, as a second `orch test` in CI would not be;
    // the figures below still include compiling the 1,000 test blocks.
    await expectPassing(dir, 1);
    const pool = await timed(() => expectPassing(dir));
    const guard = guardRealWorld();
    let inThread: { seconds: number; value: number };
    try {
      inThread = await timed(() => expectPassing(dir, 1));
    } finally {
      guard.release();
    }
    if (guard.sleeps() > 0 || guard.connects() > 0) throw new Error(`orch test slept ${guard.sleeps()} real timer(s) and opened ${guard.connects()} socket(s); both must be 0`);
    for (let i = 0; i < smoke(10, 1); i++) await inngestScenario(i);
    const anchor = await timed(async () => {
      for (let i = 0; i < ANCHOR_SCENARIOS; i++) await inngestScenario(i);
      return ANCHOR_SCENARIOS;
    });
    const anchorEachMs = (anchor.seconds * 1000) / ANCHOR_SCENARIOS;
    const threadEachMs = (inThread.seconds * 1000) / TESTS;
    const threads = pool.value;
    const each = (pool.seconds * 1000) / TESTS;
    return [
      { name: `orch test, ${TESTS} tests (30-day wait, 3 approvals, 5 retries, rate limit), wall incl. compile, ${threads} thread(s)`, value: pool.seconds, unit: 's', target: `≤ ${TARGET_S} s`, met: pool.seconds <= TARGET_S },
      { name: 'orch test, wall per test (pool)', value: each, unit: 'ms', target: `≤ ${TARGET_EACH_MS} ms`, met: each <= TARGET_EACH_MS },
      { name: `orch test, the same ${TESTS} tests in one thread, wall`, value: inThread.seconds, unit: 's', target: `≤ ${TARGET_S} s`, met: inThread.seconds <= TARGET_S },
      { name: 'orch test, wall per test in one thread', value: threadEachMs, unit: 'ms', target: `≤ ${TARGET_EACH_MS} ms`, met: threadEachMs <= TARGET_EACH_MS },
      { name: 'orch test, real sleeps (timers ≥ 1 ms) and sockets opened in the one-thread run', value: guard.sleeps() + guard.connects(), unit: '', target: '= 0', met: true },
      { name: `@inngest/test, the same scenario (6 executions: it models no retries), wall per scenario over ${ANCHOR_SCENARIOS}`, value: anchorEachMs, unit: 'ms', target: '', met: true },
      { name: '@inngest/test per scenario ÷ orch test per test in one thread (> 1: orch is faster)', value: anchorEachMs / threadEachMs, unit: '×', target: '', met: true },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the folder's tests; the thread count that ran them. Throws unless all passed. */
async function expectPassing(dir: string, workers = availableParallelism()): Promise<number> {
  const run = await runTestFiles([dir], { workers, minParallel: 2 });
  if (run.kind === 'errors') throw new Error(`the bench's tests do not compile: ${run.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  const failed = run.results.filter((r) => !r.passed);
  if (run.results.length !== TESTS || failed.length > 0) throw new Error(`${failed.length} of ${run.results.length} bench tests failed: ${JSON.stringify(failed[0]?.failures)}`);
  return run.threads;
}

async function timed<T>(f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await f();
  return { seconds: (performance.now() - start) / 1000, value };
}
