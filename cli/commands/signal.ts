/** `orch signal RUN STEP approve|reject` (or `--context JSON`): answers an approval step, or updates context signals. */
import type { Command } from 'commander';
import type { PlanIR } from '../../compiler/index.js';
import { baseId, readJsonArg, replay, type Runtime } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { contextSignals } from '../input-option.js';
import { refuseContext } from '../context-option.js';
import { controlRuntime, DB_HELP, journalOf, requireRun, withJournal } from '../db-option.js';
import { positiveInt } from '../positive-int.js';
import { execute, openRuntime, progressFor, QUIET_HELP } from './execute-run.js';
import { noteChangedSource } from './plan-version.js';
import { refuseDecisionWhenPeopleConfigured } from './people-decisions.js';

export function registerSignal(program: Command): void {
  program
    .command('signal')
    .description('answer a waiting approval step (approve|reject), or update context signals (--context)')
    .argument('<run>', 'run id')
    .argument('[step]', 'the approval step id (`id[i]` inside for each, `sub/id` inside the sub-plan step `sub` runs)')
    .argument('[decision]', 'approve or reject')
    .option('--context <json>', 'context values to merge: inline JSON or @file')
    .option('--by <name>', 'who decides (recorded in the step output; refused when the project configures people, an "auth" block)')
    .option('--comment <text>', 'a note recorded with the decision')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the execution result as JSON when this command continues the run')
    .option('--quiet', QUIET_HELP)
    .option('--workers <n>', 'worker threads when this command continues the run', positiveInt('--workers'))
    .addHelpText('after', ['', 'Examples:', '  $ orch signal launch-20260131-101500-3f9a2c ask approve --comment "looks good"', '  $ orch signal home-20260131-101500-3f9a2c --context \'{"occupancy":"away"}\'', '', 'Exit codes: 0 done (a decision: the run then completed), 1 the continued run failed, was cancelled or stopped at another approval, 2 unknown run or step, or a decision where people are configured (an "auth" block), 130 interrupted by Ctrl-C.'].join('\n'))
    .action(
      async (
        runId: string,
        step: string | undefined,
        decision: string | undefined,
        cli: { db?: string; context?: string; by?: string; comment?: string; json?: boolean; quiet?: boolean; workers?: number },
      ) => {
        const opts = { ...cli, db: journalOf(cli.db) };
        let payload: Parameters<Runtime['signal']>[1];
        if (opts.context !== undefined) {
          let ctx: unknown;
          try {
            ctx = readJsonArg(opts.context, '--context');
          } catch (err) {
            throw new CliError((err as Error).message, 2);
          }
          payload = { context: contextSignals(ctx) };
        } else {
          if (!step || (decision !== 'approve' && decision !== 'reject'))
            throw new CliError('usage: orch signal RUN STEP approve|reject (or orch signal RUN --context JSON)', 2);
          payload = { stepId: step, decision, by: opts.by ?? null, comment: opts.comment ?? null };
        }
        const state = await withJournal(opts.db, async (j) => {
          const row = await requireRun(j, runId);
          if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
            throw new CliError(`run ${runId} has already finished (${row.status})`, 2);
          if ('context' in payload && row.ir) refuseContext(JSON.parse(row.ir) as PlanIR, payload.context);
          if ('stepId' in payload) {
            await refuseDecisionWhenPeopleConfigured(runId, payload.stepId, row.ir, process.cwd());
            const restored = replay(await j.load(runId));
            const s = restored.steps.get(payload.stepId);
            const plan = row.ir ? (JSON.parse(row.ir) as { steps: { id: string }[] }) : null;
            // An instance key (`ok[0][1]`, `ok#2`) or `sub/approve` (a step of the sub-plan run by step `sub`).
            const base = baseId(payload.stepId);
            if (plan && !plan.steps.some((x) => x.id === base)) throw new CliError(`run ${runId} has no step ${payload.stepId}`, 2);
            if (s && ['completed', 'failed', 'skipped', 'cancelled', 'timeout'].includes(s.status))
              throw new CliError(`step ${payload.stepId} has already finished (${s.status})`, 2);
          }
          await noteChangedSource(runId, row.ir, row.started_at);
          return { elsewhere: await j.ownedElsewhere(runId) };
        });
        const rt = await controlRuntime(opts.db);
        const r = await rt.signal(runId, payload);
        await rt.close();
        if (!r.ok) throw new CliError(r.message, 2);
        if (state.elsewhere) {
          process.stdout.write(`${r.message}\n`);
          return;
        }
        // No process runs it (it stopped at the approval): continue it here.
        const runtime = await openRuntime({ db: opts.db, workers: opts.workers });
        await execute(runtime, opts.json === true, () => runtime.resume(runId, { onEvent: progressFor(opts).onEvent }));
      },
    );
}
