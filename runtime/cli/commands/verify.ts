/**
 * `orch verify FILE [--plan NAME] [--runs N] [--seed S] [--no-failures] [--format text|json]`:
 * explores simulated executions of each plan and checks its invariants (compiler/verify).
 * Exit 0 when every invariant holds, 1 when one is violated (or the file has errors), 2 on
 * usage or I/O errors.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { CliError } from '../errors.js';
import { loadPlansForVerify } from '../../../compiler/verify/load.js';
import { verify, type VerifyResult } from '../../../compiler/verify/verify.js';
import { formatResult } from '../../../compiler/verify/report.js';

interface VerifyCliOptions {
  readonly plan?: string;
  readonly runs: number;
  readonly seed?: number;
  readonly path?: string;
  readonly failures: boolean;
  readonly failRate?: number;
  readonly maxList?: number;
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
    .option('--plan <name>', 'verify only this plan of the file')
    .option('--runs <n>', 'scenarios to explore per plan', integer('--runs', 1), 200)
    .option('--seed <s>', 'generator seed; the same seed gives the same result', integer('--seed', -2147483648))
    .option('--path <path>', 'replay one counterexample directly (with the --seed it was found with)')
    .option('--no-failures', 'only explore runs where every step succeeds and approvals are granted')
    .option('--fail-rate <percent>', 'failure rate of capabilities without a simulate model (default 10%)', percent)
    .option('--max-list <n>', 'largest generated list / for each fan-out (default 6)', integer('--max-list', 0))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (file: string, opts: VerifyCliOptions) => {
      const loaded = loadPlansForVerify(file, opts.plan);
      if (loaded.kind === 'io-error') throw new CliError(loaded.message, 2);
      if (loaded.kind === 'errors') {
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify({ ok: false, diagnostics: loaded.diagnostics, results: [] }, null, 2)}\n`);
        } else {
          for (const d of loaded.diagnostics) {
            process.stderr.write(`${d.file}:${d.range.start.line}:${d.range.start.column}: ${d.severity} ${d.code}: ${d.message}\n`);
          }
        }
        throw new CliError(`${file} has errors; fix them before verifying`, 1);
      }
      if (loaded.plans.length === 0) {
        process.stdout.write(opts.format === 'json' ? `${JSON.stringify({ ok: true, seed: null, results: [] }, null, 2)}\n` : `no plan to verify in ${file}\n`);
        return;
      }
      // One seed for the whole invocation, so a single `--seed` replays every plan.
      const seed = opts.seed ?? Math.floor(Math.random() * 0x7fffffff);
      const results: VerifyResult[] = [];
      for (const { plan, locate } of loaded.plans) {
        results.push(
          await verify(plan, {
            runs: opts.runs,
            seed,
            failures: opts.failures,
            ...(opts.failRate !== undefined ? { defaultFailRate: opts.failRate } : {}),
            ...(opts.maxList !== undefined ? { maxListSize: opts.maxList } : {}),
            ...(opts.path !== undefined ? { path: opts.path } : {}),
            locate,
          }),
        );
      }
      const ok = results.every((r) => r.ok);
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify({ ok, seed, results }, null, 2)}\n`);
      } else {
        const color = process.stdout.isTTY ? pc : undefined;
        const style = color
          ? { bold: color.bold, red: color.red, green: color.green, dim: color.dim }
          : undefined;
        const texts = results.map((r) => formatResult(r, `orch verify ${file} --plan ${r.plan}`, style));
        process.stdout.write(`${texts.join('\n\n')}\n`);
      }
      process.exitCode = ok ? 0 : 1;
    });
}
