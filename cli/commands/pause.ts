/** `orch pause RUN`: no new step of the run starts (running steps finish). */
import type { Command } from 'commander';
import { DB_HELP, journalOf, requireRun, withJournal } from '../db-option.js';
import { controlRun } from './control-run.js';

export function registerPause(program: Command): void {
  program
    .command('pause')
    .description('stop starting new steps of a run (running steps finish)')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .addHelpText('after', ['', 'Example:', '  $ orch pause hello-20260131-101500-3f9a2c      # later: orch resume hello-20260131-101500-3f9a2c', '', 'Exit codes: 0 paused, 2 unknown run, or a run that has finished or is paused already.'].join('\n'))
    .action(async (runId: string, cli: { db?: string }) => {
      const db = journalOf(cli.db);
      await withJournal(db, (j) => requireRun(j, runId));
      const r = await controlRun(db, (rt) => rt.control(runId, 'pause'));
      process.stdout.write(`${r.message}\n`);
    });
}
