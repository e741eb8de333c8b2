/**
 * `orch draft "INTENT" [-o FILE] [--endpoint E] [--model M] [--max-rounds N] [--force]`: asks the
 * configured model for a plan, checks each answer with the compiler and sends the diagnostics
 * back (LANGUAGE.md §8.5; cli/draft/). Writes the plan and prints its preview; never runs it.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { positiveInt } from '../positive-int.js';

const HELP = `
Examples:
  $ orch draft "every night at 2, back up the customer database and tell #ops when done"
  $ orch draft "triage new support tickets" -o plans/triage.orch --endpoint claude --max-rounds 6

The model is shown every capability (with its types), resource, policy and guardrail declared in
the project's .orch files and in std, and the language's rules in brief. Each answer is checked as
the file it will be (at its -o path); the diagnostics go back to the model until the plan checks
without errors or --max-rounds is reached. Progress goes to stderr, the preview to stdout.

The endpoint is --endpoint, else "draft": { "endpoint" } of orch.config.json, else its first
endpoint; the model is --model, else "draft": { "model" }, else gpt-4o-mini (openai api) or
claude-sonnet-4-5 (anthropic api).

A file already at the output path is kept beside it as FILE~ (with --force: replaced).

Exit codes: 0 a clean plan was written, 1 errors are left (the file is written with them as
comments), 2 usage or configuration error (no endpoint configured, unknown endpoint).`;

export function registerDraft(program: Command): void {
  program
    .command('draft')
    .description('draft a plan from an intent with the configured model, checked by the compiler until it is clean (never run)')
    .argument('<intent>', 'what the plan should achieve, in words')
    .option('-o, --output <file>', 'where to write the plan', 'draft.orch')
    .option('--endpoint <name>', 'model endpoint of orch.config "endpoints" (default: the first)')
    .option('--model <model>', 'model to ask')
    .option('--max-rounds <n>', 'rounds of answer and diagnostics at most (default 4)', positiveInt('--max-rounds'))
    .option('--force', 'replace an existing output file without keeping it as FILE~')
    .addHelpText('after', HELP)
    .action(async (intent: string, opts: { output: string; endpoint?: string; model?: string; maxRounds?: number; force?: boolean }) => {
      if (intent.trim() === '') throw new CliError('the intent is empty: say what the plan should achieve, e.g. orch draft "send the weekly report to #team"', 2);
      const { runDraft } = await import('../draft/draft.js');
      const report = await runDraft(
        { intent, output: opts.output, endpoint: opts.endpoint, model: opts.model, maxRounds: opts.maxRounds, force: opts.force },
        { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
      );
      process.exitCode = report.clean ? 0 : 1;
    });
}
