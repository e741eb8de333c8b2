/**
 * `orch verify FILE [--plan NAME] [--runs N] [--seed S] [--no-failures] [--cancels]
 * [--concurrent-runs K] [--against OLD] [--format text|json | --json]`:
 * explores simulated executions of each plan and checks its invariants (verify/); with
 * `--against OLD`, runs that start on OLD and are upgraded to FILE's version (LANGUAGE.md §8.6).
 * Exit 0 when every invariant holds, 1 when one is violated (or the file has errors), 2 on
 * usage or I/O errors.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { CliError } from '../errors.js';
import { readSource } from '../read-source.js';
import { colorFor, writeRefusal } from '../render-diagnostics.js';
import type { PlanIR } from '../../compiler/index.js';
import { DEFAULT_RUNS, formatResult, replayFlags, shellWord, verifyFile, VerifyUsageError } from '../../verify/index.js';
import { searchProgress } from '../verify-progress.js';

interface VerifyCliOptions {
  readonly plan?: string;
  readonly runs: number;
  readonly seed?: number;
  readonly path?: string;
  readonly failures: boolean;
  readonly failRate?: number;
  readonly maxList?: number;
  readonly cancels?: boolean;
  readonly concurrentRuns?: number;
  readonly invariant?: string;
  readonly against?: string;
  readonly format: 'text' | 'json';
}

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function percent(value: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a percentage between 0 and 100');
  return n / 100;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('explore simulated executions of a plan and check its invariants (exit 1 on a violation)')
    .argument('<file>', '.orch source file (or a compiled plan .json)')
    .option('-p, --plan <name>', 'verify only this plan of the file')
    .option('--runs <n>', 'scenarios to explore per plan', integer('--runs', 1), DEFAULT_RUNS)
    .option('--seed <s>', 'generator seed; the same seed gives the same result', integer('--seed', -2147483648))
    .option('--path <path>', 'replay one counterexample directly (with the --seed and --invariant it was found with)')
    .option('--invariant <name>', 'check only this invariant (a declared one, or a built-in such as "the run terminates")')
    .option('--no-failures', 'only explore runs where every step succeeds and approvals are granted')
    .option('--fail-rate <percent>', 'failure rate of capabilities without a simulate model (default 10%)', percent)
    .option('--max-list <n>', 'largest generated list / for each fan-out (default 6)', integer('--max-list', 0))
    .option('--cancels', 'also explore a user cancelling one step at some moment (orch cancel RUN --step STEP)')
    .option('--concurrent-runs <k>', 'explore K runs of the plan at once sharing resource concurrency and rate limits (default 1)', integer('--concurrent-runs', 1))
    .option('--against <old>', 'check a change: runs start on OLD (.orch or IR file) and are upgraded to FILE where orch upgrade would accept it')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    // `orch run --json` is how the spec asks for JSON elsewhere; both spellings print the same.
    .addOption(new Option('--json', 'same as --format json').conflicts('format'))
    .addHelpText(
      'after',
      `
With --against OLD, each explored run starts on OLD's version of the plan, is upgraded to FILE's
at a random point (a share of its turns) when the compatibility rules of orch upgrade accept it,
and goes on under FILE's version; FILE's invariants are judged from the upgrade on. Points
orch upgrade would refuse are counted and reported, not failures. A counterexample names its
upgrade point (the event after which it happened, what had completed, what was in flight).

In a terminal, a line on stderr shows the search's progress while it runs (nothing when stderr
is not a terminal).

Exit status: 0 every invariant holds, 1 one is violated (or a file has errors), 2 usage or I/O error.`,
    )
    .action(async (file: string, cliOpts: VerifyCliOptions & { readonly json?: boolean }) => {
      const opts: VerifyCliOptions = cliOpts.json ? { ...cliOpts, format: 'json' } : cliOpts;
      // One seed for the whole invocation, so a single `--seed` replays every plan.
      const seed = opts.seed ?? Math.floor(Math.random() * 0x7fffffff);
      // A source that is not text (binary, not UTF-8) is refused in orch check's words, not lexed.
      if (!file.endsWith('.json')) await readSource(file);
      const progress = searchProgress(process.stderr);
      const verified = await verifyFile(file, {
        onProgress: progress.onProgress,
        ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
        runs: opts.runs,
        seed,
        failures: opts.failures,
        ...(opts.failRate !== undefined ? { defaultFailRate: opts.failRate } : {}),
        ...(opts.maxList !== undefined ? { maxListSize: opts.maxList } : {}),
        ...(opts.path !== undefined ? { path: opts.path } : {}),
        ...(opts.cancels ? { cancels: true } : {}),
        ...(opts.concurrentRuns !== undefined ? { concurrentRuns: opts.concurrentRuns } : {}),
        ...(opts.invariant !== undefined ? { invariant: opts.invariant } : {}),
        ...(opts.against !== undefined ? { againstOf: againstOf(opts.against, opts.plan) } : {}),
      })
        .catch((err: unknown) => {
          if (err instanceof VerifyUsageError) throw new CliError(err.message, 2);
          throw err;
        })
        .finally(() => progress.stop());
      if (!verified.ok) {
        const reason = verified.reason;
        if (reason.kind === 'io-error') throw new CliError(reason.message, 2);
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify({ ok: false, seed, diagnostics: reason.diagnostics, results: [] }, null, 2)}\n`);
        } else {
          writeRefusal(reason.diagnostics, 1);
        }
        throw new CliError(`${file} has errors; fix them before verifying`, 1);
      }
      const results = verified.results;
      if (results.length === 0) {
        process.stdout.write(opts.format === 'json' ? `${JSON.stringify({ ok: true, seed, results: [] }, null, 2)}\n` : `no plan to verify in ${file}\n`);
        return;
      }
      const ok = results.every((r) => r.ok);
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify({ ok, seed, results }, null, 2)}\n`);
      } else {
        const color = colorFor(process.stdout) ? pc : undefined;
        const style = color
          ? { bold: color.bold, red: color.red, green: color.green, dim: color.dim }
          : undefined;
        // The replay line repeats what shapes the scenarios, so its --seed finds the same case.
        const shape = replayFlags(opts);
        const texts = results.map((r) => formatResult(r, `orch verify ${shellWord(file)} --plan ${r.plan}${shape}`, style));
        process.stdout.write(`${texts.join('\n\n')}\n`);
      }
      process.exitCode = ok ? 0 : 1;
    });
}

/**
 * OLD's version of each plan FILE declares, read as `orch diff` reads a version (a `.orch` file
 * or an IR file; a file that does not compile is a usage error, exit 2).
 */
function againstOf(old: string, plan: string | undefined): (planName: string) => Promise<PlanIR> {
  return async (planName) => {
    const { readPlanVersion } = await import('./plan-version.js');
    return (await readPlanVersion(old, plan ?? planName, undefined)).plan;
  };
}
