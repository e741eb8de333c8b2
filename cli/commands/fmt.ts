/**
 * `orch fmt FILES… [--check]`: rewrite `.orch` files in the canonical style (language/printer.ts).
 * Directories are searched for `.orch` files. A file with syntax errors is never rewritten: its
 * diagnostics are printed and the command exits 1. `--check` writes nothing and lists the files
 * that would change (exit 1 if any) — for CI. `orch fmt -` formats standard input to standard output.
 */
import { stat, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { givenFolderWalk, orchFilesUnder } from '../../compiler/index.js';
import type { Diagnostic } from '../../language/index.js';
import { checkFormatted, format } from '../../language/index.js';
import { CliError } from '../errors.js';
import { noOrchFileUnder } from '../check-inputs.js';
import { readSource, readStdinSource, STDIN_NAME } from '../read-source.js';
import { colorFor, renderText } from '../render-diagnostics.js';

const HELP_EXAMPLES = `
Examples:
  $ orch fmt plans/campaign.orch          # rewrite one file in place
  $ orch fmt plans/                       # every .orch file under plans/
  $ orch fmt --check plans/*.orch         # CI: list files that need formatting, change nothing
  $ cat plan.orch | orch fmt -            # standard input to standard output

Files are only written when their formatted text differs. Files with syntax errors are left
untouched and their errors are printed. A declaration with a property given twice or a value of
another unit (which its tree drops) is kept as written, the rest formatted; other errors (orch
check reports them) do not stop formatting.

Exit codes: 0 all formatted (or already formatted), 1 --check found files to format or a file
has syntax errors, 2 usage or I/O error.`;

interface FmtOptions {
  readonly check?: boolean;
}

export function registerFmt(program: Command): void {
  program
    .command('fmt')
    .description('format .orch files in the canonical style (in place, or --check for CI)')
    .argument('<files...>', '.orch files or directories to format, or - for standard input')
    .option('--check', 'write nothing; list files that would change and exit 1 if any')
    .addHelpText('after', HELP_EXAMPLES)
    .action(async (inputs: string[], opts: FmtOptions) => {
      process.exitCode = await runFmt(inputs, opts);
    });
}

async function runFmt(inputs: readonly string[], opts: FmtOptions): Promise<number> {
  if (inputs.includes('-')) {
    if (inputs.length > 1) throw new CliError('`-` (standard input) cannot be combined with file names', 2);
    return fmtStdin(opts);
  }
  let ioFailed = false;
  const fail = (message: string): void => {
    process.stderr.write(`orch: ${message}\n`);
    ioFailed = true;
  };
  const files: string[] = [];
  for (const input of inputs) {
    try {
      files.push(...(await expand(input)));
    } catch (err) {
      fail(err instanceof CliError ? err.message : `${input}: ${(err as Error).message}`);
    }
  }

  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const changed: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readSource(file);
    } catch (err) {
      fail(err instanceof CliError ? err.message : `${file}: ${(err as Error).message}`);
      continue;
    }
    // `--check` writes nothing: it asks whether the text would change, not for the new text.
    const result = opts.check ? checkFormatted(file, text) : format(file, text);
    if (result.refused !== undefined) {
      fail(result.refused);
      continue;
    }
    const errors = result.blockers ?? [];
    if (errors.length > 0) {
      sources.set(file, text);
      diagnostics.push(...errors);
      continue;
    }
    if (!result.changed) continue;
    changed.push(file);
    if (result.text === undefined) continue; // --check
    try {
      await writeFile(file, result.text, 'utf8');
    } catch (err) {
      fail(`${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  if (diagnostics.length > 0) {
    const color = colorFor(process.stderr);
    process.stderr.write(renderText(diagnostics, { sources, color, fileCount: sources.size }));
  }
  for (const file of changed) process.stdout.write(`${file}\n`);
  if (opts.check && changed.length > 0) {
    process.stderr.write(`${changed.length} of ${files.length} file${files.length === 1 ? '' : 's'} would be reformatted\n`);
  }
  if (ioFailed) return 2;
  if (diagnostics.length > 0 || (opts.check && changed.length > 0)) return 1;
  return 0;
}

/** `orch fmt -`: standard input to standard output (for editors and pipes). */
async function fmtStdin(opts: FmtOptions): Promise<number> {
  const file = STDIN_NAME;
  const text = await readStdinSource();
  const result = opts.check ? checkFormatted(file, text) : format(file, text);
  if (result.refused !== undefined) throw new CliError(result.refused, 2);
  const errors = result.blockers ?? [];
  if (errors.length > 0) {
    const color = colorFor(process.stderr);
    process.stderr.write(renderText(errors, { sources: new Map([[file, text]]), color, fileCount: 1 }));
    return 1;
  }
  if (result.text === undefined) return result.changed ? 1 : 0; // --check
  process.stdout.write(result.text);
  return 0;
}

/** A file as given, or every `.orch` file under a directory (as every command walks one: `givenFolderWalk`). */
async function expand(input: string): Promise<string[]> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(input)).isDirectory();
  } catch {
    return [input]; // readSource reports why it cannot be read
  }
  if (!isDirectory) return [input];
  // An unreadable folder ends the walk with Node's own error, which runFmt reports after `${input}: `.
  const out = orchFilesUnder(
    input,
    givenFolderWalk((_, err) => {
      throw err;
    }),
  );
  if (out.length === 0) throw noOrchFileUnder(input);
  return out;
}
