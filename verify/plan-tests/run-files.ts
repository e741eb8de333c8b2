/**
 * `orch test`'s work (LANGUAGE.md §9.2): finds the `.orch` files with `test` blocks among the
 * files and folders given, compiles each with its tests, and runs them. A file with errors stops
 * everything before a test runs (the CLI's exit 2); the handlers of capabilities no mock answers
 * run in worker threads started only when one is called.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../../language/index.js';
import { compile, type CompiledTest } from '../../compiler/index.js';
import { loadConfig, projectRoot, WorkerExecutor, type AttemptHandle, type AttemptOutcome, type AttemptRequest, type Executor } from '../../runtime/index.js';
import { runPlanTest, type TestResult } from './run-test.js';

export class TestUsageError extends Error {}

export type TestRun =
  | { readonly kind: 'errors'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'results'; readonly files: number; readonly results: readonly TestResult[] };

export interface TestFilesOptions {
  /** Only tests whose name contains this text. */
  readonly filter?: string;
}

/** Folders never searched for tests. */
const SKIP_DIRS = new Set(['node_modules', '.orch', '.git', 'dist']);
/** A file worth compiling for its tests: a `test "…"` declaration at the start of a line. */
const HAS_TEST = /^\s*test\s+"/m;

export async function runTestFiles(paths: readonly string[], opts: TestFilesOptions = {}): Promise<TestRun> {
  const files = testFiles(paths.length > 0 ? paths : ['.']);
  const tests: CompiledTest[] = [];
  const errors: Diagnostic[] = [];
  for (const file of files) {
    const out = compile({ entry: file, navigation: false, tests: true });
    const bad = out.diagnostics.filter((d) => d.severity === 'error');
    if (bad.length > 0) errors.push(...bad);
    else tests.push(...out.tests);
  }
  if (errors.length > 0) return { kind: 'errors', diagnostics: errors };
  const chosen = opts.filter === undefined ? tests : tests.filter((t) => t.name.includes(opts.filter!));
  const real = new LazyWorkers();
  const results: TestResult[] = [];
  try {
    for (const t of chosen) {
      const config = await loadConfig(projectRoot(t.plan.base_dir));
      results.push(await runPlanTest(t, { real, prices: config.models?.prices ?? {} }));
    }
  } finally {
    await real.close();
  }
  return { kind: 'results', files: files.length, results };
}

/** The `.orch` files given, and those under the folders given, that declare a test. */
export function testFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (p: string, given: boolean): void => {
    if (!existsSync(p)) throw new TestUsageError(`cannot read ${p}: no such file or folder`);
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.isDirectory() ? !SKIP_DIRS.has(e.name) : e.name.endsWith('.orch')) visit(join(p, e.name), false);
      }
      return;
    }
    if (given && !p.endsWith('.orch')) throw new TestUsageError(`${p} is not an .orch file`);
    if (HAS_TEST.test(readFileSync(p, 'utf8'))) out.push(resolve(p));
  };
  for (const p of paths) visit(p, true);
  return out;
}

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
