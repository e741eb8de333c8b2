/** `orch graph FILE [--plan NAME] [--format dot|mermaid|svg] [-o file]`: the plan's DAG. */
import type { Command } from 'commander';
import type { GraphFormat } from '../../compiler/index.js';
import { CliError } from '../errors.js';
import { writeOutputFile } from '../output-file.js';

const FORMATS: readonly GraphFormat[] = ['dot', 'mermaid', 'svg'];

const HELP = `
Examples:
  $ orch graph plans/campaign.orch | dot -Tpng > campaign.png
  $ orch graph plans/campaign.orch --format mermaid
  $ orch graph plans/campaign.orch --format svg -o campaign.svg

Exit codes: 0 drawn, 1 the file has errors, 2 usage or I/O error.`;

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('render the dependency graph of a plan (DOT, Mermaid or SVG)')
    .argument('<file>', '.orch file')
    .option('-p, --plan <name>', 'plan to draw (required when the file declares several)')
    .option('-f, --format <format>', FORMATS.join(' | '), 'dot')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText('after', HELP)
    .action(async (file: string, opts: { plan?: string; format: string; output?: string }) => {
      const format = opts.format as GraphFormat;
      if (!FORMATS.includes(format)) throw new CliError(`unknown --format "${opts.format}" (expected ${FORMATS.join(', ')})`, 2);
      const { compileSelectedPlan } = await import('./compiled-plan.js');
      const { renderGraph } = await import('../../compiler/index.js');
      const { plan } = await compileSelectedPlan(file, opts.plan);
      const text = renderGraph(plan, format);
      if (opts.output) await writeOutputFile(opts.output, text);
      else process.stdout.write(text);
    });
}
