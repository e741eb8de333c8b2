/**
 * `orch fork RUN --at STEP [--output JSON|@file] [--to FILE]` (LANGUAGE.md §9.2): a new run that
 * adopts every completed step of RUN outside STEP's downstream closure and runs the rest.
 */
import type { Command } from 'commander';
import { journalOf, requireRun, withJournal } from '../db-option.js';
import { CliError } from '../errors.js';
import { execute, executingCommand, openRuntime, progressFor } from './execute-run.js';
import { readPlanVersion } from './plan-version.js';

const HELP = `
The new run has RUN's input, context and consent. Every step of RUN that completed (and was not
compensated) and is not STEP or downstream of it (in the IR: what reads it or waits for it, blocks
included) is adopted — journaled as step_adopted with its output, its handler not called; STEP and
its closure run again. --output gives STEP's output instead of running it (checked against its type; refused for
an approval: a decision is never forged). --to forks onto a new version of the plan (a .orch
file or an IR), whose adopted steps must be compatible as for orch upgrade. plan_created records
forked_from { run, step }; whoever forks is in the chain not_starter refuses.

Exit status: as orch run (0 completed, 1 failed, 2 usage errors); 1 too when --to names a version
the adopted steps are not compatible with, as orch upgrade (nothing is started).

Examples:
  $ orch fork refund-7f3a --at classify
  $ orch fork refund-7f3a --at classify --output '{"category":"refund"}' --json
  $ orch fork refund-7f3a --at notify --to plans/refund.orch`;

interface ForkCli {
  at: string;
  output?: string;
  to?: string;
  plan?: string;
  db?: string;
  json?: boolean;
  quiet?: boolean;
  workers?: number;
  maxOutput?: number;
  remote?: boolean;
  local?: boolean;
}

export function registerFork(program: Command): void {
  executingCommand(program, 'fork', "start a new run from RUN that re-runs STEP and what is downstream of it, adopting the rest of RUN's completed steps (exit as orch run)")
    .requiredOption('--at <step>', 'the step to run again, with everything downstream of it')
    .option('--output <json>', "STEP's output instead of running it: JSON, or @file (not for an approval step)")
    .option('--to <file>', 'fork onto a new version of the plan: a .orch file or an IR file')
    .option('-p, --plan <name>', 'with --to: the plan, when the file declares several')
    .addHelpText('after', HELP)
    .action(async (runId: string, cli: ForkCli) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      const forked = await withJournal(opts.db, (j) => requireRun(j, runId));
      const { forkRun, IncompatibleFork, readJsonArg } = await import('../../runtime/index.js');
      let output: { value: unknown } | undefined;
      if (cli.output !== undefined) {
        try {
          output = { value: readJsonArg(cli.output, '--output') };
        } catch (err) {
          throw new CliError((err as Error).message, 2);
        }
      }
      const plan = cli.to !== undefined ? (await readPlanVersion(cli.to, cli.plan, opts.db, 1, forked.plan)).plan : undefined;
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () =>
        forkRun(runtime, runId, { at: cli.at, ...(output ? { output } : {}), ...(plan ? { plan } : {}), onEvent: progressFor(opts).onEvent }).catch((err: unknown) => {
          if (err instanceof IncompatibleFork) throw new CliError(err.message, 1);
          throw err;
        }),
      );
    });
}
