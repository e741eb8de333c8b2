/**
 * `orch resume RUN`: continues a paused or interrupted run from its journal here; a paused run
 * another process holds is resumed there (a control row).
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { controlRuntime, journalOf, requireRun, withJournal } from '../db-option.js';
import { execute, executingCommand, openRuntime, progressFor } from './execute-run.js';
import { MIN_TAKE_OVER_S, takeOverAge } from './take-over.js';
import { noteChangedSource } from './plan-version.js';

export function registerResume(program: Command): void {
  executingCommand(program, 'resume', 'continue a paused or interrupted run from its journal (exit 0 when it completes)')
    .option('--rerun-in-flight', 'also re-run steps of non-idempotent capabilities that were running when it stopped')
    .option('--wait-for-signals', 'keep waiting in this process at approval steps instead of stopping (paused)')
    .option(
      '--take-over-after <age>',
      `on Postgres: take the run over once its owner's heartbeat (written every second) is this old, e.g. 3s (default 10s, at least ${MIN_TAKE_OVER_S}s)`,
      takeOverAge,
    )
    .addHelpText('after', ['', 'Example:', '  $ orch resume hello-20260131-101500-3f9a2c', '', 'Exit codes: 0 the run completed, 1 it failed, was cancelled, timed out or stopped at another approval, 2 unknown run or a run that cannot resume (e.g. finished), 130 interrupted by Ctrl-C.'].join('\n'))
    .action(async (runId: string, cli: { db?: string; json?: boolean; quiet?: boolean; workers?: number; maxOutput?: number; remote?: boolean; local?: boolean; rerunInFlight?: boolean; waitForSignals?: boolean; takeOverAfter?: number }) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      const elsewhere = await withJournal(opts.db, async (j) => {
        const row = await requireRun(j, runId);
        if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
          throw new CliError(`run ${runId} has already finished (${row.status})`, 2);
        await noteChangedSource(runId, row.ir, row.started_at);
        return (await j.ownedElsewhere(runId, opts.takeOverAfter)) ? row : null;
      });
      if (elsewhere) {
        if (elsewhere.status !== 'paused') throw new CliError(`run ${runId} is running in process ${elsewhere.owner_pid}`, 2);
        const rt = await controlRuntime(opts.db);
        const r = await rt.control(runId, 'resume');
        await rt.close();
        if (!r.ok) throw new CliError(r.message, 2);
        // The result is that process's to print; --json still gets one JSON document here.
        process.stdout.write(opts.json === true ? `${JSON.stringify({ runId, requested: 'resume', owner_pid: elsewhere.owner_pid, message: r.message })}\n` : `${r.message}\n`);
        return;
      }
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () =>
        runtime.resume(runId, { rerunInFlight: opts.rerunInFlight === true, takeOverAfterMs: opts.takeOverAfter, onEvent: progressFor(opts).onEvent }),
      );
    });
}
