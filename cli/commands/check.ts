/** `orch check FILES|DIRS… [--format text|json|sarif|github] [--explain-stages]`: report diagnostics; exit 1 when any is an error. */
import type { Command } from 'commander';
import { checkFiles, StageTimer } from '../../compiler/index.js';
import { hasErrors, type Diagnostic } from '../../language/index.js';
import { checkInputs } from '../check-inputs.js';
import { CliError } from '../errors.js';
import { boundHeapGrowth } from '../heap-growth.js';
import { readSource, readStdinSource, STDIN_NAME } from '../read-source.js';
import { colorFor, DIAGNOSTIC_FORMATS, renderJson, renderText, type DiagnosticFormat } from '../render-diagnostics.js';
import { renderGithub } from '../render-github.js';
import { renderSarif } from '../render-sarif.js';
import { reportRoot } from '../report-paths.js';
import { renderStageTimings } from '../stage-timings.js';

/** Characters of input from which `orch check` bounds heap growth (about 16,000 steps). */
const BOUND_HEAP_FROM = 1 << 20;
/** How far the old generation may grow past what survived the last full collection (V8's percent). */
const CHECK_HEAP_GROWTH_PERCENT = 150;

const HELP_EXAMPLES = `
Examples:
  $ orch check plans/campaign.orch
  $ orch check .                                # every .orch file under the folder (not node_modules, dist, dot-folders)
  $ orch check plans/*.orch --format json
  $ orch check plans/*.orch --format sarif > orch.sarif   # upload to GitHub code scanning
  $ orch check . --format github                # annotations on a pull request's lines (GitHub Actions)
  $ cat plan.orch | orch check -                # standard input, named <stdin>; imports resolve from here
  $ orch check big.orch --explain-stages        # the compile's stages and their wall time, on stderr

sarif and github name files relative to $GITHUB_WORKSPACE when it is set (the repository root on
GitHub Actions), else to the current directory. GitHub shows 10 annotations of each kind per step:
github ends with the totals and, past that, points to the SARIF report.

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O error.`;

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check .orch files and report syntax, name, type, placement and guardrail problems')
    .argument('<files...>', '.orch files, folders to check every .orch file under, or - for standard input')
    .option('-f, --format <format>', `output format: ${DIAGNOSTIC_FORMATS.join(' | ')}`, 'text')
    .option('--explain-stages', 'after the diagnostics, print each compile stage with its wall time in ms (summed over the files) to stderr')
    .addHelpText('after', HELP_EXAMPLES)
    .action(async (args: string[], opts: { format: string; explainStages?: boolean }) => {
      const stdin = args.includes('-');
      if (stdin && args.length > 1) throw new CliError('`-` (standard input) cannot be combined with file names', 2);
      const files = stdin ? [STDIN_NAME] : await checkInputs(args);
      const format = opts.format as DiagnosticFormat;
      if (!DIAGNOSTIC_FORMATS.includes(format)) {
        throw new CliError(`unknown --format "${opts.format}" (expected ${DIAGNOSTIC_FORMATS.join(', ')})`, 2);
      }
      // Read (and validate) every input first so an unusable file is one clear I/O error.
      const sources = new Map<string, string>();
      let size = 0;
      for (const file of files) {
        const text = stdin ? await readStdinSource() : await readSource(file);
        if (stdin && text.length === 0) throw new CliError('standard input is empty', 2);
        sources.set(file, text);
        size += text.length;
      }
      // A large input's tree is most of the heap: bound its growth (memory for a little time;
      // a small input's check would only get slower). By 150 %, not `orch run`'s 50 %: at 50 % a
      // 10 MB file of small plans collected so often that its check took ~20 % longer for no
      // lower peak (~925 MB either way); 150 % still keeps a 100,000-step plan's check near
      // 500 MB (unbounded: 610–660 MB), and is faster than 50 % there too.
      if (size >= BOUND_HEAP_FROM) boundHeapGrowth(CHECK_HEAP_GROWTH_PERCENT);
      // Off, the stages run untimed: no clock is read.
      const timer = opts.explainStages ? new StageTimer() : undefined;
      const diagnostics = await checkFiles(files, async (f) => sources.get(f) ?? readSource(f), { timer });
      process.stdout.write(render(format, diagnostics, sources, files.length, program.version() ?? '0.0.0'));
      if (timer) process.stderr.write(renderStageTimings(timer.timings()));
      process.exitCode = hasErrors(diagnostics) ? 1 : 0;
    });
}

function render(format: DiagnosticFormat, diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, fileCount: number, version: string): string {
  switch (format) {
    case 'json':
      return renderJson(diagnostics);
    case 'sarif':
      return renderSarif(diagnostics, { root: reportRoot(), version, sources });
    case 'github':
      return renderGithub(diagnostics, { root: reportRoot(), fileCount });
    case 'text':
      return renderText(diagnostics, { sources, color: colorFor(process.stdout), fileCount });
  }
}
