/**
 * Run controls and history over the journal: `orch resume RUN`, `orch pause RUN`,
 * `orch cancel RUN`, `orch signal RUN STEP approve|reject` (or `--context JSON`), `orch runs`
 * (`orch runs export RUN`), `orch timeline RUN [--stats]`. Controls reach a run executing in
 * another process through control rows it polls; a run no process executes is changed directly.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { readJsonArg } from '../../load-plan.js';
import { Runtime } from '../../index.js';
import { SqliteJournal } from '../../journal/sqlite-journal.js';
import { replay } from '../../scheduler/replay.js';
import type { RunEvent } from '../../scheduler/types.js';
import { execute, openRuntime, positiveInt, progressFor } from './run.js';
import { ms } from '../progress.js';

const DB_HELP = 'journal database';
const DEFAULT_DB = '.orch/runs.db';

function openJournal(db: string): SqliteJournal {
  if (!existsSync(resolve(db))) throw new CliError(`no journal at ${db} (nothing has been run here yet; see --db)`, 2);
  try {
    return new SqliteJournal(resolve(db));
  } catch (err) {
    throw new CliError(`cannot open ${db}: ${(err as Error).message}`, 2);
  }
}

function withJournal<T>(db: string, f: (j: SqliteJournal) => T): T {
  const j = openJournal(db);
  try {
    return f(j);
  } finally {
    j.close();
  }
}

function requireRun(j: SqliteJournal, runId: string) {
  const row = j.getRun(runId);
  if (!row) throw new CliError(`no run ${runId} in ${j.path}`, 2);
  return row;
}

export function registerRunControls(program: Command): void {
  program
    .command('resume')
    .description('continue a paused or interrupted run from its journal (exit 0 when it completes)')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP, DEFAULT_DB)
    .option('--json', 'print the execution result as JSON')
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInt('--workers'))
    .option('--rerun-in-flight', 'also re-run steps of non-idempotent capabilities that were running when it stopped')
    .option('--wait-for-signals', 'keep waiting in this process at approval steps instead of stopping (paused)')
    .action(async (runId: string, opts: { db: string; json?: boolean; workers?: number; rerunInFlight?: boolean; waitForSignals?: boolean }) => {
      const elsewhere = withJournal(opts.db, (j) => {
        const row = requireRun(j, runId);
        if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
          throw new CliError(`run ${runId} has already finished (${row.status})`, 2);
        return j.ownedElsewhere(runId) ? row : null;
      });
      if (elsewhere) {
        if (elsewhere.status !== 'paused') throw new CliError(`run ${runId} is running in process ${elsewhere.owner_pid}`, 2);
        const rt = await Runtime.open({ db: opts.db, executor: noExecutor });
        const r = await rt.control(runId, 'resume');
        await rt.close();
        if (!r.ok) throw new CliError(r.message, 2);
        process.stdout.write(`${r.message}\n`);
        return;
      }
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () =>
        runtime.resume(runId, { rerunInFlight: opts.rerunInFlight === true, onEvent: progressFor(opts).onEvent }),
      );
    });

  for (const kind of ['pause', 'cancel'] as const)
    program
      .command(kind)
      .description(kind === 'pause' ? 'stop starting new steps of a run (running steps finish)' : 'cancel a run: abort running steps, start nothing more')
      .argument('<run>', 'run id')
      .option('--db <path>', DB_HELP, DEFAULT_DB)
      .action(async (runId: string, opts: { db: string }) => {
        withJournal(opts.db, (j) => requireRun(j, runId));
        const rt = await Runtime.open({ db: opts.db, executor: noExecutor });
        const r = await rt.control(runId, kind);
        await rt.close();
        if (!r.ok) throw new CliError(r.message, 2);
        process.stdout.write(`${r.message}\n`);
      });

  program
    .command('signal')
    .description('answer a waiting approval step (approve|reject), or update context signals (--context)')
    .argument('<run>', 'run id')
    .argument('[step]', 'the approval step id (`id[i]` inside for each)')
    .argument('[decision]', 'approve or reject')
    .option('--context <json>', 'context values to merge: inline JSON or @file')
    .option('--by <name>', 'who decides (recorded in the step output)')
    .option('--comment <text>', 'a note recorded with the decision')
    .option('--db <path>', DB_HELP, DEFAULT_DB)
    .option('--json', 'print the execution result as JSON when this command continues the run')
    .option('--workers <n>', 'worker threads when this command continues the run', positiveInt('--workers'))
    .action(
      async (
        runId: string,
        step: string | undefined,
        decision: string | undefined,
        opts: { db: string; context?: string; by?: string; comment?: string; json?: boolean; workers?: number },
      ) => {
        let payload: Parameters<Runtime['signal']>[1];
        if (opts.context !== undefined) {
          let ctx: unknown;
          try {
            ctx = readJsonArg(opts.context, '--context');
          } catch (err) {
            throw new CliError((err as Error).message, 2);
          }
          if (!ctx || typeof ctx !== 'object' || Array.isArray(ctx)) throw new CliError('--context must be a JSON object', 2);
          payload = { context: ctx as Record<string, unknown> };
        } else {
          if (!step || (decision !== 'approve' && decision !== 'reject'))
            throw new CliError('usage: orch signal RUN STEP approve|reject (or orch signal RUN --context JSON)', 2);
          payload = { stepId: step, decision, by: opts.by ?? null, comment: opts.comment ?? null };
        }
        const state = withJournal(opts.db, (j) => {
          const row = requireRun(j, runId);
          if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
            throw new CliError(`run ${runId} has already finished (${row.status})`, 2);
          if ('stepId' in payload) {
            const restored = replay(j.load(runId));
            const s = restored.steps.get(payload.stepId);
            const plan = row.ir ? (JSON.parse(row.ir) as { steps: { id: string }[] }) : null;
            // `sub/approve` addresses a step of the sub-plan run by step `sub`.
            const base = payload.stepId.split('/')[0]!.replace(/\[\d+\]$/, '');
            if (plan && !plan.steps.some((x) => x.id === base)) throw new CliError(`run ${runId} has no step ${payload.stepId}`, 2);
            if (s && ['completed', 'failed', 'skipped', 'cancelled', 'timeout'].includes(s.status))
              throw new CliError(`step ${payload.stepId} has already finished (${s.status})`, 2);
          }
          return { elsewhere: j.ownedElsewhere(runId) };
        });
        const rt = await Runtime.open({ db: opts.db, executor: noExecutor });
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

  const runs = program
    .command('runs')
    .description('list the runs in the journal (newest first): status, duration, cost')
    .option('--db <path>', DB_HELP, DEFAULT_DB)
    .option('--json', 'print as JSON')
    .option('--all', 'include sub-plan runs')
    .action((opts: { db: string; json?: boolean; all?: boolean }) => {
      // No journal yet simply means no runs (not an error).
      const rows = existsSync(resolve(opts.db)) ? withJournal(opts.db, (j) => j.listRuns(opts.all === true)) : [];
      const list = rows.map((r) => ({
        runId: r.id,
        plan: r.plan,
        status: r.status,
        startedAt: new Date(r.started_at).toISOString(),
        completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
        duration: r.completed_at === null ? null : r.completed_at - r.started_at,
        cost: r.cost,
        events: r.event_count ?? 0,
        ...(r.parent_id ? { parentRunId: r.parent_id } : {}),
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ runs: list }, null, 2)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write('no runs\n');
        return;
      }
      const table = [
        ['RUN', 'PLAN', 'STATUS', 'STARTED', 'DURATION', 'COST'],
        ...list.map((r) => [r.runId, r.plan, r.status, r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), r.duration === null ? '—' : ms(r.duration), String(r.cost)]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });

  runs
    .command('export')
    .description('print the full history of a run as JSON (run, events, final state)')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP, DEFAULT_DB)
    .action((runId: string, opts: { db: string }, cmd: Command) => {
      const db = (cmd.parent?.opts() as { db?: string } | undefined)?.db && opts.db === DEFAULT_DB ? (cmd.parent!.opts() as { db: string }).db : opts.db;
      const out = withJournal(db, (j) => {
        const row = requireRun(j, runId);
        const events = j.load(runId);
        const children = j.listRuns(true).filter((r) => r.parent_id === runId || r.id.startsWith(`${runId}/`));
        return {
          run: {
            runId: row.id,
            plan: row.plan,
            status: row.status,
            startedAt: new Date(row.started_at).toISOString(),
            completedAt: row.completed_at === null ? null : new Date(row.completed_at).toISOString(),
            cost: row.cost,
            error: row.error,
            input: row.input ? JSON.parse(row.input) : null,
          },
          events: events.map(eventJson),
          steps: Object.fromEntries(
            [...replay(events).steps].map(([id, s]) => [
              id,
              { status: s.status, attempts: s.attempts, output: s.output, error: s.error, resource: s.resource, cost: s.cost },
            ]),
          ),
          subRuns: children.map((c) => ({ runId: c.id, plan: c.plan, status: c.status, events: j.load(c.id).map(eventJson) })),
        };
      });
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  program
    .command('timeline')
    .description('replay the journal of a run: every event with its time and duration')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP, DEFAULT_DB)
    .option('--json', 'print the events as JSON')
    .option('--stats', 'print totals: duration, average step duration, event counts')
    .action((runId: string, opts: { db: string; json?: boolean; stats?: boolean }) => {
      const { row, events } = withJournal(opts.db, (j) => ({ row: requireRun(j, runId), events: j.load(runId) }));
      const stats = timelineStats(events);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ runId, plan: row.plan, status: row.status, events: events.map(eventJson), ...(opts.stats ? { stats } : {}) }, null, 2)}\n`,
        );
        return;
      }
      if (opts.stats) {
        process.stdout.write(`run ${runId} (${row.plan}): ${row.status}\n`);
        process.stdout.write(`total duration      ${ms(stats.totalDuration)}\n`);
        process.stdout.write(`steps finished      ${stats.stepsFinished}\n`);
        process.stdout.write(`avg step duration   ${ms(stats.avgStepDuration)}\n`);
        process.stdout.write(`max step duration   ${ms(stats.maxStepDuration)}\n`);
        process.stdout.write('events\n');
        for (const [type, n] of Object.entries(stats.eventCounts)) process.stdout.write(`  ${type.padEnd(22)}${n}\n`);
        return;
      }
      const t0 = events[0]?.ts ?? 0;
      const started = new Map<string, number>();
      for (const e of events) {
        let dur = '';
        if (e.type === 'step_started' && e.stepId) started.set(e.stepId, e.ts);
        if ((e.type === 'step_completed' || e.type === 'step_failed') && e.stepId && started.has(e.stepId))
          dur = ` (${ms(e.ts - started.get(e.stepId)!)})`;
        const detail = describeEvent(e);
        process.stdout.write(
          `+${ms(e.ts - t0).padStart(7)}  #${String(e.seq).padEnd(4)} ${e.type.padEnd(20)} ${e.stepId ?? ''}${dur}${detail ? `  ${detail}` : ''}\n`,
        );
      }
    });
}

/** Controls never execute steps; the runtime they open needs no worker pool. */
const noExecutor = {
  start(): never {
    throw new Error('this command does not execute steps');
  },
};

function eventJson(e: RunEvent) {
  return { seq: e.seq, ts: new Date(e.ts).toISOString(), type: e.type, stepId: e.stepId, data: e.data };
}

function describeEvent(e: RunEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'step_started':
      return `attempt ${String(d.attempt)}${d.resource ? ` on ${String(d.resource)}` : ''}`;
    case 'step_failed':
    case 'step_retried':
      return String(d.error ?? '');
    case 'step_skipped':
      return String(d.reason ?? '');
    case 'guardrail_violation':
      return `${String(d.guardrail)} (${String(d.severity)}): ${String(d.message)}`;
    case 'execution_failed':
      return String(d.error ?? '');
    case 'execution_cancelled':
      return String(d.reason ?? '');
    case 'execution_paused':
      return d.reason ? String(d.reason) : '';
    case 'step_compensated':
      return d.ok ? 'ok' : String(d.error ?? 'failed');
    default:
      return '';
  }
}

export function timelineStats(events: readonly RunEvent[]) {
  const counts: Record<string, number> = {};
  const started = new Map<string, number>();
  const durations: number[] = [];
  for (const e of events) {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    if (e.type === 'step_started' && e.stepId && !started.has(e.stepId)) started.set(e.stepId, e.ts);
    if ((e.type === 'step_completed' || e.type === 'step_failed') && e.stepId && started.has(e.stepId))
      durations.push(e.ts - started.get(e.stepId)!);
  }
  const total = events.length ? events[events.length - 1]!.ts - events[0]!.ts : 0;
  return {
    totalDuration: total,
    stepsFinished: durations.length,
    avgStepDuration: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : 0,
    maxStepDuration: durations.length ? Math.max(...durations) : 0,
    eventCounts: counts,
  };
}
