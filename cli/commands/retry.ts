/** `orch retry RUN`: a failed, timed-out or cancelled run again, as a new run from its journal. */
import type { Command } from 'commander';
import { journalOf, requireRun, withJournal } from '../db-option.js';
import { execute, executingCommand, openRuntime, progressFor } from './execute-run.js';

export function registerRetry(program: Command): void {
  executingCommand(program, 'retry', 'run a failed, timed-out or cancelled run again as a new run: the same plan IR, input and consent, from its journal (exit 0 when it completes)')
    .addHelpText('after', ['', 'Example:', '  $ orch retry hello-20260131-101500-3f9a2c', '', 'Exit codes: 0 the new run completed, 1 it failed, was cancelled, timed out or stopped at an approval, 2 unknown run or a run that cannot be retried, 130 interrupted by Ctrl-C.'].join('\n'))
    .action(async (runId: string, cli: { db?: string; json?: boolean; quiet?: boolean; workers?: number; maxOutput?: number; remote?: boolean; local?: boolean }) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      await withJournal(opts.db, (j) => requireRun(j, runId));
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () => runtime.retry(runId, { onEvent: progressFor(opts).onEvent }));
    });
}
