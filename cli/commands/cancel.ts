/** `orch cancel RUN [--step STEP]`: ends a run (running steps are aborted), or only one of its steps. */
import type { Command } from 'commander';
import { DB_HELP, journalOf, requireRun, withJournal } from '../db-option.js';
import { controlRun } from './control-run.js';

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description('cancel a run: abort running steps, start nothing more (--step: cancel only that step)')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .option('--step <step>', 'cancel only this step (`id`, or one instance: `id[i]`, `id#k`); its dependants follow their join rule and the run goes on')
    .addHelpText('after', ['', 'Examples:', '  $ orch cancel launch-20260131-101500-3f9a2c', '  $ orch cancel launch-20260131-101500-3f9a2c --step send[2]', '', 'Exit codes: 0 cancelled, 2 unknown run or step, or a run that has finished.'].join('\n'))
    .action(async (runId: string, cli: { db?: string; step?: string }) => {
      const db = journalOf(cli.db);
      await withJournal(db, (j) => requireRun(j, runId));
      const step = cli.step;
      const r = await controlRun(db, (rt) => (step !== undefined ? rt.cancelStep(runId, step) : rt.control(runId, 'cancel')));
      process.stdout.write(`${r.message}\n`);
    });
}
