/** `orch preview FILE [--plan NAME] [--format text|json] [--input JSON|@file]`: what will happen, before it happens. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { colorFor } from '../render-diagnostics.js';
import { inputOption, typedInput } from '../input-option.js';

const HELP = `
Examples:
  $ orch preview plans/campaign.orch
  $ orch preview plans/home.orch --plan nightly_cooling --format json | jq .estimates
  $ orch preview plans/onboarding.orch --input '{"teams":[{"channel":"#a","members":[{"name":"Ada"}]}]}'
  $ orch preview plans/campaign.orch --input @input.json

Shows stages and parallel groups, loops (repeat ×1..N) and races (first of …), each step's
resource with the placement rationale and its estimate, totals against the policy budgets (best
and worst case when the plan loops), guardrails with their static verdicts, consent scopes and
triggers. With --input, \`when\` conditions and \`for each\` sizes that depend only on the plan
input are resolved for that input, and the estimates and budget verdicts count those sizes; it is checked and read as orch run reads it (durations, money
and percentages may be written "5m", "12.50usd", "80%").

Exit codes: 0 shown, 1 the file has errors, 2 usage or I/O error (including an --input that is not JSON or not the plan input).`;

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('show stages, bindings, estimates, guardrails and triggers of a plan')
    .argument('<file>', '.orch file')
    .option('-p, --plan <name>', 'plan to preview (required when the file declares several)')
    .option('-f, --format <format>', 'text | json', 'text')
    .option('-i, --input <json>', 'plan input as JSON or @file: resolves conditions and fan-out sizes that depend only on it')
    .addHelpText('after', HELP)
    .action(async (file: string, opts: { plan?: string; format: string; input?: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new CliError(`unknown --format "${opts.format}" (expected text, json)`, 2);
      const input = await inputOption(opts.input);
      const { compileSelectedPlan } = await import('./compiled-plan.js');
      const { preview, renderPreviewText } = await import('../../compiler/index.js');
      const { plan, model } = await compileSelectedPlan(file, opts.plan);
      const p = preview(plan, model, input === undefined ? {} : { input: await typedInput(plan, input) });
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(p, null, 2)}\n` : renderPreviewText(p, colorFor(process.stdout)));
    });
}
