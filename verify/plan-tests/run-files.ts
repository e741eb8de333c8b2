/**
 * `orch test`'s work (LANGUAGE.md §9.2): finds the `.orch` files with `test` blocks among the
 * files and folders given, compiles each with its tests, and runs them. A file with errors stops
 * everything before a test runs (the CLI's exit 2); the tests run on the available cores
 * (`parallel-tests.ts`), the handlers of capabilities no mock answers in worker threads started
 * only when one is called.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Diagnostic } from '../../language/index.js';
import { compile, givenFolderWalk, orchFilesUnder, type CompiledTest, type SourceHost } from '../../compiler/index.js';
import { loadConfig, projectRoot, type ModelPrice, type OrchConfig } from '../../runtime/index.js';
import type { TestResult } from './run-test.js';
import { runTests } from './parallel-tests.js';
import { coverageReport, type CoverageReport } from './coverage-report.js';
import { staleMessage, type PastPlans } from './stale.js';

export class TestUsageError extends Error {}

export type TestRun =
  | { readonly kind: 'errors'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'results'; readonly files: number; readonly results: readonly TestResult[]; readonly coverage: CoverageReport; readonly threads: number };

export interface TestFilesOptions {
  /** Only tests whose name contains this text. */
  readonly filter?: string;
  /** Threads to run the tests on (default: the available cores). */
  readonly workers?: number;
  /** Fewest tests worth a pool of threads (default: `MIN_PARALLEL_TESTS`). */
  readonly minParallel?: number;
  /** The plan a captured run executed (its journal's): a stale test lists every change since. */
  readonly pastPlan?: PastPlans;
  /**
   * Where the sources are read (default: the disk). The editor passes its open buffers, so that a
   * test runs as the user sees it, unsaved edits included; the paths are then the files to run.
   */
  readonly host?: SourceHost;
}

/**
 * A file worth compiling for its tests: a `test "…"` declaration at the start of a line, or one
 * that lost its name (`test {`), whose syntax error is then reported, not "no test found".
 */
const HAS_TEST = /^\s*test\s*["{]/m;

export async function runTestFiles(paths: readonly string[], opts: TestFilesOptions = {}): Promise<TestRun> {
  const files = opts.host ? paths.map((p) => resolve(p)) : testFiles(paths.length > 0 ? paths : ['.']);
  const tests: CompiledTest[] = [];
  const errors: Diagnostic[] = [];
  for (const file of files) {
    const out = compile({ entry: file, navigation: false, tests: true, ...(opts.host ? { host: opts.host } : {}) });
    const bad = out.diagnostics.filter((d) => d.severity === 'error');
    if (bad.length > 0) errors.push(...bad);
    else tests.push(...out.tests);
  }
  if (errors.length > 0) return { kind: 'errors', diagnostics: errors };
  const chosen = opts.filter === undefined ? tests : tests.filter((t) => t.name.includes(opts.filter!));
  const byRoot = new Map<string, { readonly [model: string]: ModelPrice }>();
  const prices = [];
  for (const t of chosen) {
    const root = projectRoot(t.plan.base_dir);
    if (!byRoot.has(root)) byRoot.set(root, (await projectConfig(root)).models?.prices ?? {});
    prices.push(byRoot.get(root)!);
  }
  const { results: ran, threads } = await runTests(chosen, prices, opts);
  const results = opts.pastPlan ? await Promise.all(ran.map((r, i) => withPastPlan(r, chosen[i]!, opts.pastPlan!))) : ran;
  const coverage = coverageReport(chosen.map((t, i) => ({ plan: t.plan, covered: results[i]?.covered ?? [], subplans: results[i]?.covered_subplans })));
  return { kind: 'results', files: files.length, results, coverage, threads };
}

/** The project's orch.config.*: one that does not load is the user's to fix (exit 2), as for orch run. */
async function projectConfig(root: string): Promise<OrchConfig> {
  try {
    return await loadConfig(root);
  } catch (err) {
    throw new TestUsageError((err as Error).message);
  }
}

/** A stale captured test's message, with the changes since the plan its run executed. */
async function withPastPlan(result: TestResult, test: CompiledTest, pastPlan: PastPlans): Promise<TestResult> {
  if (test.origin === null || !result.failures.some((f) => f.kind === 'stale')) return result;
  const past = await pastPlan(test.origin.run).catch(() => null);
  return { ...result, failures: result.failures.map((f) => (f.kind === 'stale' ? { ...f, message: staleMessage(test, past) } : f)) };
}

/** The `.orch` files given, and those under the folders given, that declare a test: each once, however often it is named. */
export function testFiles(paths: readonly string[]): string[] {
  const out = new Set<string>();
  const unreadable = (dir: string, err: NodeJS.ErrnoException): never => {
    throw new TestUsageError(`cannot read ${dir}: ${err.code ?? err.message}`);
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new TestUsageError(`cannot read ${p}: no such file or folder`);
    if (statSync(p).isDirectory()) {
      // A file found in a folder is compiled only when it declares a test.
      for (const f of orchFilesUnder(p, givenFolderWalk(unreadable))) if (HAS_TEST.test(readFileSync(f, 'utf8'))) out.add(resolve(f));
      continue;
    }
    if (!p.endsWith('.orch')) throw new TestUsageError(`${p} is not an .orch file`);
    // A file named on the command line is compiled whatever it holds: its errors are reported.
    out.add(resolve(p));
  }
  return [...out];
}
