/** `orch compile FILE [--plan NAME] [-o plan.json]`: write the IR (`orch.plan/v3`), schema-validated. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { writeOutputFile } from '../output-file.js';

const HELP = `
Examples:
  $ orch compile plans/campaign.orch -o campaign.plan.json
  $ orch compile plans/home.orch --plan nightly_cooling > nightly.json

The IR names its folder (base_dir) and source file relative to the project of FILE (the nearest
folder with orch.config.*, package.json or .git), so it runs from any copy of that project:
  $ orch compile plans/hello.orch -o build/hello.json && cp -r . /srv/app && orch run /srv/app/build/hello.json
  $ orch run /tmp/hello.json --project /srv/app      # an IR kept apart from its project

The IR is validated against compiler/schema/orch.plan.v3.schema.json (orch.plan/v3) before it is written.
Exit codes: 0 written, 1 the file has errors, 2 usage or I/O error (or an internal schema failure).`;

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a plan to its IR (orch.plan/v3 JSON)')
    .argument('<file>', '.orch file')
    .option('-p, --plan <name>', 'plan to compile (required when the file declares several)')
    .option('-o, --output <file>', 'write the IR to this file instead of stdout')
    .addHelpText('after', HELP)
    .action(async (file: string, opts: { plan?: string; output?: string }) => {
      // Loaded on use so other commands do not pay for ajv, dagre and the compiler at start-up.
      const { compileSelectedPlan } = await import('./compiled-plan.js');
      const { formatPathErrors, validatePlanIR } = await import('../../compiler/index.js');
      const { portablePlan } = await import('../../runtime/index.js');
      const { plan } = await compileSelectedPlan(file, opts.plan);
      // Paths relative to the project: the file runs from any copy of it (`orch run plan.json [--project DIR]`).
      const json = JSON.parse(JSON.stringify(portablePlan(plan))) as unknown;
      const valid = validatePlanIR(json);
      if (!valid.ok) throw new CliError(`internal error: the compiled IR does not match the schema:\n${formatPathErrors(valid.errors)}`, 2);
      const text = `${JSON.stringify(json, null, 2)}\n`;
      if (opts.output) {
        const steps = plan.steps.length;
        if (await writeOutputFile(opts.output, text)) process.stderr.write(`wrote ${opts.output} (plan ${plan.plan}, ${steps} step${steps === 1 ? '' : 's'})\n`);
      } else process.stdout.write(text);
    });
}
