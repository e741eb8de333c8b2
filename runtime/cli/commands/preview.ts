/** `orch preview FILE [--plan NAME] [--format text|json]`: what will happen, before it happens. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';

const HELP = `
Examples:
  $ orch preview plans/campaign.orch
  $ orch preview plans/home.orch --plan nightly_cooling --format json | jq .estimates

Shows stages and parallel groups, each step's resource with the placement rationale and its
estimate, totals against the policy budgets, guardrails with their static verdicts, and triggers.`;

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('show stages, bindings, estimates, guardrails and triggers of a plan')
    .argument('<file>', '.orch file')
    .option('-p, --plan <name>', 'plan to preview (required when the file declares several)')
    .option('-f, --format <format>', 'text | json', 'text')
    .addHelpText('after', HELP)
    .action(async (file: string, opts: { plan?: string; format: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new CliError(`unknown --format "${opts.format}" (expected text, json)`, 2);
      const { compileSelectedPlan } = await import('./compiled-plan.js');
      const { preview, renderPreviewText } = await import('../../../compiler/preview.js');
      const { plan, model } = await compileSelectedPlan(file, opts.plan);
      const p = preview(plan, model);
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(p, null, 2)}\n` : renderPreviewText(p, Boolean(process.stdout.isTTY) && !process.env.NO_COLOR));
    });
}
