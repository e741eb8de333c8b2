/** `orch retry RUN`: a failed, timed-out or cancelled run again, as a new run from its journal. */
import type { Command } from 'commander';
import { journalOf, requireRun, withJournal } from '../db-option.js';
import { execute, executingCommand, openRuntime, progressFor } from './execute-run.js';

export function registerRetry(program: Command): void {
  executingCommand(program, 'retry', 'run a failed, timed-out or cancelled run again as a new run: the same plan IR, input and consent, from its journal (exit 0 when it completes)')
    .action(async (runId: string, cli: { db?: string; json?: boolean; quiet?: boolean; workers?: number; maxOutput?: number; remote?: boolean; local?: boolean }) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      await withJournal(opts.db, (j) => requireRun(j, runId));
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () => runtime.retry(runId, { onEvent: progressFor(opts).onEvent }));
    });
}
