/**
 * `orch test [FILES|DIRS…] [--filter TEXT] [--reporter text|json|junit] [-o FILE] [--allow-none]
 * [--coverage] [--coverage-min N]`
 * (LANGUAGE.md §9.2): runs every `test` block of the `.orch` files given or found under the
 * folders given (default `.`) on the runtime with mocks and a virtual clock. Exit 0 all pass,
 * 1 one fails, 2 on usage or compile errors and when no test is found (unless `--allow-none`).
 */
import { statSync } from 'node:fs';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import { coverageText, jsonReport, junitReport, runTestFiles, textReport, TestUsageError } from '../../verify/index.js';
import { CliError } from '../errors.js';
import { readSource } from '../read-source.js';
import { writeOutputFile } from '../output-file.js';
import { addCoverageOptions, coverageVerdict, wantsCoverage, type CoverageCliOptions } from './test-coverage.js';
import { colorFor, writeRefusal } from '../render-diagnostics.js';
import { DB_HELP } from '../db-option.js';

interface TestCliOptions extends CoverageCliOptions {
  readonly filter?: string;
  readonly reporter: 'text' | 'json' | 'junit';
  readonly output?: string;
  readonly allowNone?: boolean;
  readonly capture?: string;
  readonly update?: boolean;
  readonly keepPersonal?: boolean;
  readonly force?: boolean;
  readonly db?: string;
}

export function registerTest(program: Command): void {
  const cmd = program
    .command('test')
    .description('run the test blocks of .orch files on the runtime with mocks and a virtual clock (exit 1 when one fails)')
    .argument('[paths...]', '.orch files, or folders searched for .orch files with tests (default: .)')
    .option('--filter <text>', 'run only the tests whose name contains TEXT')
    .addOption(new Option('--reporter <reporter>', 'report format').choices(['text', 'json', 'junit']).default('text'))
    .option('-o, --output <file>', 'write the report to FILE instead of standard output')
    .option('--allow-none', 'exit 0 when no test is found')
    .option('--capture <run>', 'write a test from a journaled run (to -o FILE, else standard output), after checking that it passes')
    .option('--update', 'rewrite the captured tests (captured_from) of the files given from a run of their plan as it is now, and say what changed')
    .option('--keep-personal', 'with --capture: write personal and sensitive values as they are, not as placeholders')
    .option('--force', 'with --capture -o FILE: replace FILE if it exists (else exit 2)')
    .option('--db <path>', `with --capture, and to list a stale test's changes since its captured run: the ${DB_HELP}`);
  addCoverageOptions(cmd)
    .addHelpText(
      'after',
      `
Each test runs its plan on the real scheduler (budgets, limits, guardrails, invariants) with a
journal of its own in memory, on a virtual clock: timers, waits, timeouts, retries and mock
latencies take no real time. Mocked capabilities answer as their mock lines say; a capability
without a mock runs its own handler. See docs/testing.md.

--coverage reports, per plan, the outcomes the tests saw out of those the plan can show (after
the text report, inside the JSON one, on standard error with --reporter junit).

Exit status: 0 every test passes, 1 a test fails, 2 usage or compile errors, or no test found
(0 with --allow-none); 1 too when the coverage is under --coverage-min.`,
    )
    .action(async (paths: string[], opts: TestCliOptions) => {
      // A named file that is not text (binary, not UTF-8) is refused in orch check's words.
      for (const p of paths) if (p.endsWith('.orch') && isFile(p)) await readSource(p);
      if (opts.update) return (await import('./test-capture.js')).updateCommand(paths);
      if (opts.capture !== undefined) return (await import('./test-capture.js')).captureCommand({ ...opts, capture: opts.capture });
      const pastPlan = (await import('./test-capture.js')).pastPlanFrom(opts.db);
      const run = await runTestFiles(paths, { pastPlan, ...(opts.filter !== undefined ? { filter: opts.filter } : {}) }).catch((err: unknown) => {
        if (err instanceof TestUsageError) throw new CliError(err.message, 2);
        throw err;
      });
      if (run.kind === 'errors') {
        writeRefusal(run.diagnostics);
        throw new CliError('the tests have errors; fix them before testing (orch check shows them too)', 2);
      }
      if (run.results.length === 0) {
        const where = paths.length > 0 ? paths.join(' ') : '.';
        if (opts.allowNone) {
          process.stderr.write(`no test found in ${where}\n`);
          // CI reads the report it asked for (a JUnit file for its publisher, JSON for a script)
          // whenever the command succeeds: one of no tests, then.
          if (opts.reporter !== 'text' || opts.output !== undefined) await writeReport(opts, opts.reporter === 'json' ? jsonReport([], process.cwd()) : opts.reporter === 'junit' ? junitReport([], process.cwd()) : textReport([], process.cwd()));
          return;
        }
        throw new CliError(`no test found in ${where}${opts.filter !== undefined ? ` matching "${opts.filter}"` : ''} (--allow-none makes that exit 0)`, 2);
      }
      const cwd = process.cwd();
      const toFile = opts.output !== undefined;
      const color = !toFile && opts.reporter === 'text' && colorFor(process.stdout) ? { red: pc.red, green: pc.green, dim: pc.dim, bold: pc.bold } : undefined;
      const coverage = wantsCoverage(opts) ? run.coverage : undefined;
      let report = opts.reporter === 'json' ? jsonReport(run.results, cwd, coverage) : opts.reporter === 'junit' ? junitReport(run.results, cwd) : textReport(run.results, cwd, color);
      if (coverage && opts.reporter === 'text') report += `\n\n${coverageText(coverage, cwd)}`;
      else if (coverage && opts.reporter === 'junit') process.stderr.write(`${coverageText(coverage, cwd)}\n`);
      await writeReport(opts, report);
      const under = coverage ? coverageVerdict(coverage, opts) : null;
      if (under) process.stderr.write(`${under}\n`);
      process.exitCode = run.results.every((r) => r.passed) && !under ? 0 : 1;
    });
}

/** The report goes to `-o FILE`, else to standard output (§9.2). */
async function writeReport(opts: TestCliOptions, report: string): Promise<void> {
  if (opts.output !== undefined) await writeOutputFile(opts.output, `${report}\n`);
  else process.stdout.write(`${report}\n`);
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}
