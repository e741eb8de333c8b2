/**
 * `orch upgrade RUN --to FILE|IR [--plan P] [--dry-run]` and `orch upgrade --all --plan P --to …`:
 * moves unfinished runs to a new version of their plan when it is compatible (LANGUAGE.md §8.6);
 * the rules and the journal writes are runtime/upgrade.ts's.
 */
import type { Command } from 'commander';
import { renderPlanDiff, diffPlans, preview, shortHash, type PlanIR } from '../../compiler/index.js';
import type { AsyncJournal } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { DB_HELP, journalOf, withJournal } from '../db-option.js';
import { readPlanVersion } from './plan-version.js';

const HELP = `
A run may move to the new version when every step that has started (completed, running,
waiting, failed, skipped) exists in it with the same capability, arguments, dependencies and
block; a completed step's output still has every field the new version reads from it; a
removed step has not started or is read by nothing. Steps that have not started may change,
appear or go. Capabilities are compared as orch diff compares them: the same declarations in a
file of another name (without a module line) are the same. Compatible: the journal records
plan_upgraded { from_hash, to_hash, changes } and the run goes on under the new IR when it is
resumed or signalled. Incompatible: exit 1, every
reason with its step, and nothing changes. A run a live process executes (orch serve) is handed
to it: it moves the run at its next turn with no call in flight, starting nothing new before (this command waits up
to 15 s to say so).

Examples:
  $ orch upgrade launch-7f3a --to plans/campaign.orch --dry-run
  $ orch upgrade launch-7f3a --to plans/campaign.orch && orch signal launch-7f3a ask approve
  $ orch upgrade --all --plan launch --to plans/campaign.orch

Exit codes: 0 upgraded (with --dry-run: compatible), 1 refused (incompatible, a finished run or a
--to plan with errors; with --all: any), 2 usage or I/O error (an unknown run, a --to not found).`;

/** The statuses of a run `orch upgrade` may move (§8.6): running elsewhere, paused or waiting, interrupted. */
const UNFINISHED: ReadonlySet<string> = new Set(['running', 'paused', 'interrupted']);

interface Opts {
  to: string;
  plan?: string;
  all?: boolean;
  dryRun?: boolean;
  db?: string;
  json?: boolean;
}

export function registerUpgrade(program: Command): void {
  program
    .command('upgrade')
    .description('move an unfinished run to a new version of its plan, when it is compatible')
    .argument('[run]', 'run id (or --all with --plan)')
    .requiredOption('--to <file>', 'the new version: a .orch file or an IR file')
    .option('-p, --plan <name>', 'the plan, when the file declares several (with --all: whose runs)')
    .option('--all', 'every unfinished run of --plan')
    .option('--dry-run', 'only report: change nothing')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the reports as JSON')
    .addHelpText('after', HELP)
    .action(async (runId: string | undefined, opts: Opts) => {
      if (opts.all ? runId !== undefined || !opts.plan : runId === undefined)
        throw new CliError('give one RUN, or --all with --plan P', 2);
      // One run: a file of several plans (its sub-plans beside it) gives the run's own, as --plan would.
      // (An unknown run is reported below, after the --to file's own errors, as before.)
      const runPlan =
        runId === undefined || opts.plan ? undefined : await withJournal(journalOf(opts.db), async (j) => (await j.getRun(runId))?.plan).catch(() => undefined);
      const target = await readPlanVersion(opts.to, opts.plan, opts.db, 1, opts.plan ?? runPlan);
      const { upgradeRun, RuntimeUsageError } = await import('../../runtime/index.js');
      const reports = await withJournal(journalOf(opts.db), async (j) => {
        const ids = opts.all
          ? (await j.listRuns()).filter((r) => r.plan === opts.plan && UNFINISHED.has(r.status)).map((r) => r.id)
          : [runId!];
        const out = [];
        for (const id of ids) {
          const row = await j.getRun(id);
          try {
            let outcome = await upgradeRun(j, id, target.plan, { dryRun: opts.dryRun === true });
            // Handed to the live process running it: it moves the run at its next turn that waits only for approvals and waits.
            if (outcome.requested) outcome = { ...outcome, applied: await upgradedWithin(j, id, outcome.toHash, 15_000) };
            const before = row?.ir ? (JSON.parse(row.ir) as PlanIR) : target.plan;
            out.push({ runId: id, ...outcome, diff: diffPlans(before, target.plan, preview(before), preview(target.plan, target.model), { triggers: false }) });
          } catch (err) {
            if (err instanceof RuntimeUsageError) throw new CliError(err.message, 2);
            throw err;
          }
        }
        return out;
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ dryRun: opts.dryRun === true, runs: reports }, null, 2)}\n`);
      else {
        if (reports.length === 0) process.stdout.write(`no unfinished runs of plan ${opts.plan ?? ''}\n`);
        for (const r of reports) {
          const head = `run ${r.runId}: ${shortHash(r.fromHash)} → ${shortHash(r.toHash)}`;
          if (!r.compatible) {
            process.stdout.write(`${head}: incompatible, nothing changed\n`);
            for (const why of r.reasons) process.stdout.write(`  ${why.step ? `step ${why.step}: ` : ''}${why.reason}\n`);
          } else if (r.fromHash === r.toHash) process.stdout.write(`${head}: already on this version\n`);
          else if (r.requested)
            process.stdout.write(
              `${head}: compatible, ${r.applied ? 'upgraded by the process running it' : 'handed to the process running it (it upgrades the run once the calls in flight have ended, and starts nothing new before)'}\n`,
            );
          else process.stdout.write(`${head}: compatible${r.applied ? ', upgraded' : ' (dry run: nothing changed)'}\n`);
          process.stdout.write(`${renderPlanDiff(r.diff).trimEnd().replace(/^/gm, '  ')}\n`);
        }
      }
      process.exitCode = reports.every((r) => r.compatible) ? 0 : 1;
    });
}

/** Whether the run's journal records `plan_upgraded` to `toHash` within `ms`. */
async function upgradedWithin(j: AsyncJournal, runId: string, toHash: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const events = await j.load(runId);
    if (events.some((e) => e.type === 'plan_upgraded' && e.data.to_hash === toHash)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

