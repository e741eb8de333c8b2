/**
 * `orch test --coverage` and `--coverage-min N` (LANGUAGE.md §9.2): the options, where the
 * coverage report goes (after the text report, inside the JSON one, on standard error beside a
 * JUnit file) and the minimum's verdict. Kept apart from the command so it stays small.
 */
import { Option, type Command } from 'commander';
import { parseCoverageMin, type CoverageReport } from '../../verify/index.js';
import { CliError } from '../errors.js';

export interface CoverageCliOptions {
  readonly coverage?: boolean;
  readonly coverageMin?: number;
}

export function addCoverageOptions(cmd: Command): Command {
  return cmd
    .option('--coverage', 'report per plan which outcomes the tests saw: steps run, when true/false, approvals approved/rejected, retries exhausted, fallbacks, compensations, loops')
    .addOption(
      new Option('--coverage-min <percent>', 'exit 1 when the tests saw fewer than this share of the outcomes (implies --coverage)').argParser((v: string) => {
        const n = parseCoverageMin(v);
        if (n === null) throw new CliError(`--coverage-min takes a share from 0 to 100 (90 or 90%), not "${v}"`, 2);
        return n;
      }),
    );
}

export function wantsCoverage(opts: CoverageCliOptions): boolean {
  return opts.coverage === true || opts.coverageMin !== undefined;
}

/** Exit 1 (after the report is out) when the share seen is under `--coverage-min`. */
export function coverageVerdict(report: CoverageReport, opts: CoverageCliOptions): string | null {
  // The share itself, not the percent shown (floored to a tenth): 2/3 is at least 66.65%.
  if (opts.coverageMin === undefined || report.seen * 100 >= opts.coverageMin * report.total) return null;
  return `coverage ${report.percent}% (${report.seen}/${report.total} outcomes) is under --coverage-min ${opts.coverageMin}%`;
}
