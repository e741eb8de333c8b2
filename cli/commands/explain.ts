/** `orch explain [CODE]` — the long explanation of a diagnostic code, with a trigger and a fix. */
import type { Command } from 'commander';
import pc from 'picocolors';
import { allExplanations, explanationFor, type Explanation } from '../../compiler/index.js';
import { CliError } from '../errors.js';

type Format = 'text' | 'json';

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('explain a diagnostic code (e.g. E0301) with an example and its fix; without CODE, list all codes')
    .argument('[code]', 'diagnostic code such as E0301 (case-insensitive)')
    .option('--format <format>', 'output format: text or json', 'text')
    .addHelpText('after', '\nExit codes: 0 explained, 2 unknown code or bad option.\n')
    .action((code: string | undefined, options: { format: string }) => {
      const format = parseFormat(options.format);
      if (code === undefined) {
        process.stdout.write(format === 'json' ? `${JSON.stringify({ codes: allExplanations() }, null, 2)}\n` : listText());
        return;
      }
      const explanation = explanationFor(code);
      if (!explanation) {
        const known = allExplanations().map((e) => e.code).join(', ');
        throw new CliError(`unknown diagnostic code '${code}'; known codes: ${known}`, 2);
      }
      process.stdout.write(format === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : explanationText(explanation));
    });
}

function parseFormat(value: string): Format {
  if (value === 'text' || value === 'json') return value;
  throw new CliError(`unknown format '${value}' (expected text or json)`, 2);
}

function listText(): string {
  const rows = allExplanations().map((e) => `  ${e.code}  ${e.severity.padEnd(7)}  ${e.title}`);
  return `Diagnostic codes (run \`orch explain CODE\` for details):\n${rows.join('\n')}\n`;
}

export function explanationText(e: Explanation): string {
  return [
    pc.bold(`${e.code} (${e.severity}): ${e.title}`),
    '',
    e.details,
    '',
    pc.bold('Example that triggers it:'),
    '',
    indent(e.trigger),
    pc.bold('Fixed:'),
    '',
    indent(e.fix),
    `See ${e.reference}.`,
    '',
  ].join('\n');
}

function indent(snippet: string): string {
  return snippet
    .split('\n')
    .map((line) => (line === '' ? '' : `    ${line}`))
    .join('\n');
}
