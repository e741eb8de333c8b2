/**
 * A vitest reporter that records how long every test file took, so a slow file is a number in a
 * log rather than a guess. Wall time is measured here, in vitest's main process, from the moment
 * the file was handed to a worker to the moment its results came back (import, hooks and tests:
 * what the file costs the run); the summed test time is kept beside it.
 *
 * With ORCH_TEST_DURATIONS=<file> set (`.ci/run` sets it for every line) the list is written
 * there as JSON, slowest first; with ORCH_TEST_SLOWEST=<n> the n slowest are printed when the run
 * ends. `node test/slowest.mjs <file> [n]` prints them from the JSON later.
 *
 * With ORCH_TEST_SYSTEM_STARTED=<file>, it creates that file when the first file of the `system`
 * project starts: `.ci/run` starts its lanes then, beside the system files (one at a time), and
 * not beside the build, lint, unit and e2e files, which use every core.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export interface FileDuration {
  /** Repository-relative path of the test file. */
  readonly file: string;
  /** The vitest project that ran it: `unit`, `e2e` or `system`. */
  readonly project: string;
  /** Milliseconds from the file's start to its end, as the run saw it. */
  readonly wallMs: number;
  /** When the file started, in milliseconds since the run started (folders' wall times are unions of these spans). */
  readonly startMs: number;
  /** Milliseconds spent in its tests and hooks (vitest's own sum). */
  readonly testsMs: number;
  /** Milliseconds spent importing it (collect). */
  readonly importMs: number;
  readonly state: string;
}

export default class DurationsReporter implements Reporter {
  private readonly started = new Map<string, number>();
  private readonly rows: FileDuration[] = [];
  private root = process.cwd();
  private runStarted = Date.now();

  onInit(vitest: { config: { root: string } }): void {
    this.root = vitest.config.root;
    this.runStarted = Date.now();
  }

  onTestModuleStart(module: TestModule): void {
    this.started.set(module.moduleId, Date.now());
    const mark = process.env.ORCH_TEST_SYSTEM_STARTED;
    if (mark && module.project.name === 'system' && !existsSync(mark)) writeFileSync(mark, `${Date.now()}\n`);
  }

  onTestModuleEnd(module: TestModule): void {
    const start = this.started.get(module.moduleId) ?? Date.now();
    const d = module.diagnostic();
    this.rows.push({
      file: relative(this.root, module.moduleId),
      project: module.project.name,
      wallMs: Date.now() - start,
      startMs: start - this.runStarted,
      testsMs: Math.round(d.duration),
      importMs: Math.round(d.collectDuration),
      state: module.state(),
    });
  }

  onTestRunEnd(): void {
    const rows = [...this.rows].sort((a, b) => b.wallMs - a.wallMs);
    const out = process.env.ORCH_TEST_DURATIONS;
    if (out) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify({ wallMs: Date.now() - this.runStarted, files: rows }, null, 2));
    }
    const n = Number(process.env.ORCH_TEST_SLOWEST ?? 0);
    if (n > 0 && rows.length > 0) process.stdout.write(slowest(rows, n));
  }
}

/** The n slowest files as text lines (shared with test/slowest.mjs's format). */
export function slowest(rows: readonly FileDuration[], n: number): string {
  const lines = rows.slice(0, n).map((r) => `  ${(r.wallMs / 1000).toFixed(1).padStart(7)} s  ${r.project.padEnd(6)}  ${r.file}`);
  return `\n${Math.min(n, rows.length)} slowest test files (wall time):\n${lines.join('\n')}\n`;
}
