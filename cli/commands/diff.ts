/** `orch diff OLD NEW [--plan P] [--input JSON|@file] [--format text|json]`: what differs between two versions of a plan (LANGUAGE.md §8.6). */
import type { Command } from 'commander';
import type { PlanIR } from '../../compiler/index.js';
import { CliError } from '../errors.js';
import { DB_HELP } from '../db-option.js';
import { readPlanVersion } from './plan-version.js';
import { inputOption, typedInput } from '../input-option.js';

const HELP = `
OLD and NEW are .orch files, IR files (orch compile -o) or run ids (the IR the run's journal
records now). Lists the steps added, removed and changed (capability, arguments, dependencies,
when, join, retry, timeout, binding, fallbacks, blocks), plan-level changes, and what follows:
estimates (best..worst) before → after, budget and guardrail verdicts, consent scopes, data
classes that reach a new tier, triggers (only between two .orch files: an IR or a run records
none, and the output says they were not compared). Capabilities are compared by definition: the
same declarations in files of different names (no module line) are the same plan, though the IR
hashes shown differ.

Exit status: 0 the plans are the same, 1 they differ, 2 usage or I/O error (like diff(1)).

Examples:
  $ orch diff plans/campaign.orch plans/campaign.new.orch
  $ orch diff launch-7f3a plans/campaign.orch --plan launch      # a run against the file now
  $ git show main:plans/campaign.orch > /tmp/base.orch && orch diff /tmp/base.orch plans/campaign.orch --format json`;

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two versions of a plan: steps added, removed, changed, and their consequences')
    .argument('<old>', '.orch file, IR file or run id')
    .argument('<new>', '.orch file, IR file or run id')
    .option('-p, --plan <name>', 'the plan, when a file declares several')
    .option('-i, --input <json>', 'plan input as JSON or @file: resolves conditions that depend only on it')
    .option('-f, --format <format>', 'text | json', 'text')
    .option('--db <path>', DB_HELP)
    .addHelpText('after', HELP)
    .action(async (oldArg: string, newArg: string, opts: { plan?: string; input?: string; format: string; db?: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new CliError(`unknown --format "${opts.format}" (expected text, json)`, 2);
      const input = await inputOption(opts.input);
      const before = await readPlanVersion(oldArg, opts.plan, opts.db);
      // A new version in a file of several plans is the old one's plan (`orch diff RUN FILE`).
      const after = await readPlanVersion(newArg, opts.plan, opts.db, 2, before.plan.plan);
      const { diffPlans, preview, renderPlanDiff } = await import('../../compiler/index.js');
      // Read as a run of each version would start with it (units, defaults), as `orch preview` does:
      // an input one version does not take is a usage error naming that version.
      const inputFor = async (version: string, plan: PlanIR) => {
        if (input === undefined) return {};
        try {
          return { input: await typedInput(plan, input) };
        } catch (err) {
          throw new CliError(`--input for ${version}: ${(err as Error).message}`, 2);
        }
      };
      const oldOptions = await inputFor(oldArg, before.plan);
      const newOptions = await inputFor(newArg, after.plan);
      // Triggers live in the compiled model: a run id or an IR file has none to compare.
      const triggers = before.model !== undefined && after.model !== undefined;
      const d = diffPlans(before.plan, after.plan, preview(before.plan, before.model, oldOptions), preview(after.plan, after.model, newOptions), { triggers });
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(d, null, 2)}\n` : renderPlanDiff(d));
      process.exitCode = d.same ? 0 : 1;
    });
}
