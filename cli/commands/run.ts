/**
 * `orch run FILE.orch|plan.json [--plan NAME] [--input JSON|@file] [--context JSON|@file] [--json]
 * [--quiet] [--project DIR] [--db PATH] [--workers N] [--memory-limit MB] [--max-output BYTES] [--wait-for-signals] [--consent a,b]`: compiles (or validates) the plan, validates
 * the input, executes it on worker threads with a journal, and prints progress then a summary
 * (or, with --json, the execution result of LANGUAGE.md §6). Exit 0 only when the run completed.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { boundHeapGrowth, collectNow } from '../heap-growth.js';
import { CliError } from '../errors.js';
import { contextSignals } from '../input-option.js';
import { refuseContext } from '../context-option.js';
import { readSource } from '../read-source.js';
import { writeRefusal } from '../render-diagnostics.js';
import { loadPlan, readJsonArg } from '../../runtime/index.js';
import { positiveInt } from '../positive-int.js';
import { DB_HELP } from '../db-option.js';
import { execute, LOCAL_HELP, MAX_OUTPUT_HELP, openRuntime, progressFor, QUIET_HELP, REMOTE_HELP, type RunCliOptions } from './execute-run.js';

/** Bytes of source from which `orch run` collects the compile's garbage before it starts (~15,000 steps). */
const COLLECT_AFTER_COMPILE_FROM = 1 << 20;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('execute a plan on worker threads with a durable journal (exit 0 only when it completed)')
    .argument('<file>', '.orch source file or compiled plan .json')
    .option('-p, --plan <name>', 'the plan to run when the file declares several')
    .option('--input <json>', 'plan input: inline JSON or @file')
    .option('--context <json>', 'initial context signals: inline JSON or @file')
    .option('--json', 'print the execution result as JSON')
    .option('--quiet', QUIET_HELP)
    .option('--db <path>', DB_HELP)
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInt('--workers'))
    .option('--memory-limit <mb>', 'heap limit of each worker in MB', positiveInt('--memory-limit'))
    .option('--max-output <bytes>', MAX_OUTPUT_HELP, positiveInt('--max-output'))
    .option('--wait-for-signals', 'keep waiting in this process at approval steps instead of stopping (paused)')
    .option('--run-id <id>', 'use this run id instead of a generated one')
    // Repeated, the flag adds scopes: `--consent a --consent b` grants both, as `--consent a,b` does.
    .option('--consent <scopes>', 'grant consent scopes to the run, comma-separated or repeated (needed under require_consent true)', addConsent, [] as string[])
    .option('--remote', REMOTE_HELP)
    .option('--local', LOCAL_HELP)
    .option('--project <dir>', 'for a compiled plan (.json): the project its handlers are loaded from (default: the project of the .json file)')
    .addHelpText('after', ['', 'Examples:', '  $ orch run plans/hello.orch --input @input.json', '  $ orch run build/hello.json --project . --json --quiet      # a compiled plan', '', 'Exit codes: 0 the run completed, 1 it failed, was cancelled, timed out or stopped (paused) at an approval, 2 usage or I/O error, 130 interrupted by Ctrl-C (resumable).'].join('\n'))
    .action(async (file: string, opts: RunCliOptions) => {
      boundHeapGrowth();
      // Not text, or not a file: refused in orch check's words (exit 2), never lexed or run.
      if (!file.endsWith('.json')) await readSource(file);
      const loaded = await loadPlan(file, opts.plan, opts.project !== undefined ? { project: opts.project } : {});
      if (loaded.kind === 'usage') throw new CliError(loaded.message, 2);
      if (loaded.kind === 'errors') {
        writeRefusal(loaded.diagnostics, 1);
        throw new CliError(`${file} has errors; nothing was run`, 1);
      }
      // A large source's compile leaves its garbage on the heap: free it before the run starts.
      if (!file.endsWith('.json') && statSync(file).size >= COLLECT_AFTER_COMPILE_FROM) collectNow();
      let input: unknown = {};
      let context: Record<string, unknown> | undefined;
      try {
        if (opts.input !== undefined) input = readJsonArg(opts.input, '--input');
        if (opts.context !== undefined) context = contextSignals(readJsonArg(opts.context, '--context'));
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError((err as Error).message, 2);
      }
      // Checked as `orch signal --context` and `POST /signals` check theirs: nothing runs on a refused value.
      if (context) refuseContext(loaded.plan, context);
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () => runtime.start(loaded.plan, { input, context, runId: opts.runId, consent: [...(opts.consent ?? [])], onEvent: progressFor(opts).onEvent }));
    });
}

/** One `--consent a,b` added to the scopes of the ones before: `["a", "b"]` (blanks and repeats dropped). */
function addConsent(arg: string, before: readonly string[]): string[] {
  const scopes = arg
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return [...new Set([...before, ...scopes])];
}
