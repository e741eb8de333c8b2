/**
 * Run controls and history over the journal: `orch resume RUN`, `orch pause RUN`,
 * `orch cancel RUN`, `orch signal RUN STEP approve|reject` (or `--context JSON`), `orch runs`
 * (`orch runs export RUN`), `orch timeline RUN [--stats] [--format svg|html]`. Controls reach a run executing in
 * another process through control rows it polls; a run no process executes is changed directly.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { PlanIR } from '../../compiler/index.js';
import { countsForLocality, irTextHash, localRatio, privacyScore, shortHash, type PlacedStep } from '../../compiler/index.js';
import { renderTimelineFile, starterLabel, type TimelineFileFormat } from '../../serve/index.js';
import { CliError } from '../errors.js';
import { parseAge, readJsonArg } from '../../runtime/index.js';
import { Runtime } from '../../runtime/index.js';
import { displayUrl, isPostgresUrl, openJournal, type AsyncJournal } from '../../runtime/index.js';
import { attemptSpend, baseId, eventReason, eventResource, placedSteps, replay, spendBy, type AttemptSpend, type SpendTotals } from '../../runtime/index.js';
import type { RunEvent, RunRow, Starter } from '../../runtime/index.js';
import { execute, LOCAL_HELP, MAX_OUTPUT_HELP, openRuntime, positiveInt, progressFor, QUIET_HELP, REMOTE_HELP } from './run.js';
import { ms } from '../progress.js';
import { MIN_TAKE_OVER_S, takeOverAge } from './take-over.js';
import { noteChangedSource } from './plan-version.js';
import { refuseDecisionWhenPeopleConfigured } from './people-decisions.js';

export const DB_HELP = 'journal: a SQLite file or a postgres:// URL (default: $ORCH_DB, else .orch/runs.db)';
const DEFAULT_DB = '.orch/runs.db';

/** `--db`, else `$ORCH_DB`, else `.orch/runs.db`. */
export function journalOf(db: string | undefined): string {
  return db ?? process.env.ORCH_DB ?? DEFAULT_DB;
}

/** No SQLite file yet means nothing has been run there; a Postgres database always answers. */
export function journalExists(db: string): boolean {
  return isPostgresUrl(db) || existsSync(resolve(db));
}

async function openCliJournal(db: string): Promise<AsyncJournal> {
  if (!journalExists(db)) throw new CliError(`no journal at ${db} (nothing has been run here yet; see --db)`, 2);
  try {
    return await openJournal(db);
  } catch (err) {
    throw new CliError(`cannot open ${displayUrl(db)}: ${(err as Error).message}`, 2);
  }
}

export async function withJournal<T>(db: string, f: (j: AsyncJournal) => T | Promise<T>): Promise<T> {
  const j = await openCliJournal(db);
  try {
    return await f(j);
  } finally {
    await j.close();
  }
}

export async function requireRun(j: AsyncJournal, runId: string) {
  const row = await j.getRun(runId);
  if (!row) throw new CliError(`no run ${runId} in ${j.location}`, 2);
  return row;
}

/** A control-only runtime on the journal, with its opening problems as one line and exit 2. */
export async function controlRuntime(db: string): Promise<Runtime> {
  try {
    return await Runtime.open({ db, executor: noExecutor });
  } catch (err) {
    throw new CliError(`cannot open ${displayUrl(db)}: ${(err as Error).message}`, 2);
  }
}

/** A command that executes a run in this process (`resume`, `retry`): its journal and run options. */
function executingCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the execution result as JSON')
    .option('--quiet', QUIET_HELP)
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInt('--workers'))
    .option('--max-output <bytes>', MAX_OUTPUT_HELP, positiveInt('--max-output'))
    .option('--remote', REMOTE_HELP)
    .option('--local', LOCAL_HELP);
}

export function registerRunControls(program: Command): void {
  executingCommand(program, 'resume', 'continue a paused or interrupted run from its journal (exit 0 when it completes)')
    .option('--rerun-in-flight', 'also re-run steps of non-idempotent capabilities that were running when it stopped')
    .option('--wait-for-signals', 'keep waiting in this process at approval steps instead of stopping (paused)')
    .option(
      '--take-over-after <age>',
      `on Postgres: take the run over once its owner's heartbeat (written every second) is this old, e.g. 3s (default 10s, at least ${MIN_TAKE_OVER_S}s)`,
      takeOverAge,
    )
    .action(async (runId: string, cli: { db?: string; json?: boolean; quiet?: boolean; workers?: number; maxOutput?: number; remote?: boolean; local?: boolean; rerunInFlight?: boolean; waitForSignals?: boolean; takeOverAfter?: number }) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      const elsewhere = await withJournal(opts.db, async (j) => {
        const row = await requireRun(j, runId);
        if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
          throw new CliError(`run ${runId} has already finished (${row.status})`, 2);
        await noteChangedSource(runId, row.ir);
        return (await j.ownedElsewhere(runId, opts.takeOverAfter)) ? row : null;
      });
      if (elsewhere) {
        if (elsewhere.status !== 'paused') throw new CliError(`run ${runId} is running in process ${elsewhere.owner_pid}`, 2);
        const rt = await controlRuntime(opts.db);
        const r = await rt.control(runId, 'resume');
        await rt.close();
        if (!r.ok) throw new CliError(r.message, 2);
        process.stdout.write(`${r.message}\n`);
        return;
      }
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () =>
        runtime.resume(runId, { rerunInFlight: opts.rerunInFlight === true, takeOverAfterMs: opts.takeOverAfter, onEvent: progressFor(opts).onEvent }),
      );
    });

  executingCommand(program, 'retry', 'run a failed, timed-out or cancelled run again as a new run: the same plan IR, input and consent, from its journal (exit 0 when it completes)')
    .action(async (runId: string, cli: { db?: string; json?: boolean; quiet?: boolean; workers?: number; maxOutput?: number; remote?: boolean; local?: boolean }) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      await withJournal(opts.db, (j) => requireRun(j, runId));
      const runtime = await openRuntime(opts);
      await execute(runtime, opts.json === true, () => runtime.retry(runId, { onEvent: progressFor(opts).onEvent }));
    });

  for (const kind of ['pause', 'cancel'] as const) {
    const cmd = program
      .command(kind)
      .description(
        kind === 'pause'
          ? 'stop starting new steps of a run (running steps finish)'
          : 'cancel a run: abort running steps, start nothing more (--step: cancel only that step)',
      )
      .argument('<run>', 'run id')
      .option('--db <path>', DB_HELP);
    if (kind === 'cancel')
      cmd.option('--step <step>', 'cancel only this step (`id`, or one instance: `id[i]`, `id#k`); its dependants follow their join rule and the run goes on');
    cmd.action(async (runId: string, cli: { db?: string; step?: string }) => {
        const opts = { ...cli, db: journalOf(cli.db) };
        await withJournal(opts.db, (j) => requireRun(j, runId));
        const rt = await controlRuntime(opts.db);
        const r = opts.step !== undefined ? await rt.cancelStep(runId, opts.step) : await rt.control(runId, kind);
        await rt.close();
        if (!r.ok) throw new CliError(r.message, 2);
        process.stdout.write(`${r.message}\n`);
      });
  }

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
          if (!ctx || typeof ctx !== 'object' || Array.isArray(ctx)) throw new CliError('--context must be a JSON object', 2);
          payload = { context: ctx as Record<string, unknown> };
        } else {
          if (!step || (decision !== 'approve' && decision !== 'reject'))
            throw new CliError('usage: orch signal RUN STEP approve|reject (or orch signal RUN --context JSON)', 2);
          payload = { stepId: step, decision, by: opts.by ?? null, comment: opts.comment ?? null };
        }
        const state = await withJournal(opts.db, async (j) => {
          const row = await requireRun(j, runId);
          if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status))
            throw new CliError(`run ${runId} has already finished (${row.status})`, 2);
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
          await noteChangedSource(runId, row.ir);
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

  const runs = program
    .command('runs')
    .description('list the runs in the journal (newest first): status, duration, cost')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print as JSON')
    .option('--all', 'include sub-plan runs')
    .option('--stats', 'add totals: runs by status, success rate, cost, and over their finished steps the local ratio and privacy score')
    .option('--plan <name>', 'only runs of this plan (its name, or MODULE.NAME), as GET /runs?plan= does; --stats then totals those')
    .action(async (cli: { db?: string; json?: boolean; all?: boolean; stats?: boolean; plan?: string }) => {
      const opts = { ...cli, db: journalOf(cli.db) };
      // No journal yet simply means no runs (not an error).
      const { list, stats } = journalExists(opts.db)
        ? await withJournal(opts.db, async (j) => {
            const all = await j.listRuns(opts.all === true);
            const rows = opts.plan === undefined ? all : all.filter((r) => r.plan === opts.plan || r.plan.endsWith(`.${opts.plan}`));
            return { list: await runEntries(j, rows), stats: opts.stats ? await runStats(j, rows) : undefined };
          })
        : { list: [], stats: undefined };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ runs: list, ...(stats ? { stats } : {}) }, null, 2)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write('no runs\n');
        return;
      }
      if (stats) process.stdout.write(statsText(stats));
      const table = [
        // VERSION last: scripts that read the first six columns keep working.
        ['RUN', 'PLAN', 'STATUS', 'STARTED', 'DURATION', 'COST', 'VERSION'],
        ...list.map((r) => [
          r.runId,
          r.plan,
          r.status,
          r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
          r.duration === null ? '—' : ms(r.duration),
          String(r.cost),
          r.irHash ? shortHash(r.irHash) : '—',
        ]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });

  runs
    .command('export')
    .description('print the full history of a run as JSON (run, events, final state)')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .action(async (runId: string, opts: { db?: string }, cmd: Command) => {
      const db = journalOf(opts.db ?? (cmd.parent?.opts() as { db?: string } | undefined)?.db);
      const out = await withJournal(db, async (j) => {
        const row = await requireRun(j, runId);
        const events = await j.load(runId);
        const children = (await j.listRuns(true)).filter((r) => r.parent_id === runId || r.id.startsWith(`${runId}/`));
        const childEvents = await Promise.all(children.map((c) => j.load(c.id)));
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
          subRuns: children.map((c, i) => ({ runId: c.id, plan: c.plan, status: c.status, events: childEvents[i]!.map(eventJson) })),
        };
      });
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  runs
    .command('prune')
    .description('delete finished runs (with their sub-plan runs and events) older than an age; running and paused runs are kept')
    .requiredOption('--older-than <age>', 'how long ago a run must have finished, e.g. 30d, 12h, 90m')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print what was deleted as JSON')
    .action(async (own: { olderThan: string; db?: string; json?: boolean }, cmd: Command) => {
      // `runs` has --db and --json of its own, and commander gives a flag to the parent when both have it.
      const opts = { ...own, ...(cmd.parent?.opts() as { json?: boolean } | undefined), olderThan: own.olderThan };
      const age = parseAge(opts.olderThan);
      if (age === null) throw new CliError(`--older-than must be an age such as 30d, 12h or 90m, not ${JSON.stringify(opts.olderThan)}`, 2);
      const db = journalOf(own.db ?? (cmd.parent?.opts() as { db?: string } | undefined)?.db);
      const removed = journalExists(db) ? await withJournal(db, (j) => j.prune(Date.now() - age)) : { runs: 0, events: 0 };
      if (opts.json) process.stdout.write(`${JSON.stringify(removed)}\n`);
      else process.stdout.write(`pruned ${removed.runs} run${removed.runs === 1 ? '' : 's'} (${removed.events} events) that finished more than ${opts.olderThan} ago\n`);
    });

  program
    .command('timeline')
    .description('replay the journal of a run: every event with its time and duration')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the events as JSON')
    .option('--stats', 'print totals: duration, average step duration, event counts')
    .option('--format <format>', 'text (default), or svg / html: the Gantt and step graph as one self-contained file', timelineFormat, 'text')
    .option('-o, --out <file>', 'with --format svg|html: write to this file instead of stdout')
    .action(async (runId: string, opts: { db?: string; json?: boolean; stats?: boolean; format: 'text' | TimelineFileFormat; out?: string }) => {
      const { row, events } = await withJournal(journalOf(opts.db), async (j) => ({ row: await requireRun(j, runId), events: await j.load(runId) }));
      if (opts.format !== 'text') {
        if (!row.ir) throw new CliError(`run ${runId} has no plan recorded in its journal; cannot draw it`, 2);
        const file = renderTimelineFile(
          {
            runId,
            planId: row.plan,
            status: row.status,
            plan: JSON.parse(row.ir) as PlanIR,
            events: events.map((e) => ({ type: e.type, stepId: e.stepId, at: new Date(e.ts).toISOString(), resource: eventResource(e) })),
          },
          opts.format,
        );
        if (opts.out) writeFileSync(opts.out, file);
        else process.stdout.write(file);
        return;
      }
      const stats = timelineStats(events);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ...timelineJson(row, events), ...(opts.stats ? { stats } : {}) }, null, 2)}\n`,
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
        if ((e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_cancelled') && e.stepId && started.has(e.stepId))
          dur = ` (${ms(e.ts - started.get(e.stepId)!)})`;
        const detail = describeEvent(e);
        process.stdout.write(
          `+${ms(e.ts - t0).padStart(7)}  #${String(e.seq).padEnd(4)} ${e.type.padEnd(20)} ${e.stepId ?? ''}${dur}${detail ? `  ${detail}` : ''}\n`,
        );
      }
    });
}

/** The runs as `orch runs --json` (and the MCP server's `runs` tool) list them: each with its version. */
export async function runEntries(j: AsyncJournal, rows: readonly RunRow[]): Promise<RunListEntry[]> {
  const versions = await runVersions(j, rows);
  const starters = new Map<string, Starter>();
  for (const r of rows) {
    // §9.1: who started each run, as its first event records it.
    const first = (await j.load(r.id))[0];
    if (first?.type === 'plan_created' && first.data.started_by) starters.set(r.id, first.data.started_by);
  }
  return rows.map((r) => runListEntry(r, versions.get(r.id) ?? null, starters.get(r.id)));
}

export type RunListEntry = ReturnType<typeof runListEntry>;

/** One run as `orch runs --json` lists it; `irHash` is its version (`runVersions`). */
function runListEntry(r: RunRow, irHash: string | null, startedBy: Starter | undefined) {
  return {
    runId: r.id,
    plan: r.plan,
    status: r.status,
    ...(startedBy ? { started_by: startedBy } : {}),
    startedAt: new Date(r.started_at).toISOString(),
    completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
    duration: r.completed_at === null ? null : r.completed_at - r.started_at,
    cost: r.cost,
    events: r.event_count ?? 0,
    irHash,
    ...(r.parent_id ? { parentRunId: r.parent_id } : {}),
  };
}

/**
 * Each listed run's version: the SHA-256 of the IR its journal records now (the one `plan_created`
 * named, or the last `orch upgrade` put in its place). Sub-plan runs record none of their own.
 */
async function runVersions(j: AsyncJournal, rows: readonly RunRow[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of rows) {
    if (r.parent_id !== null) continue;
    const row = await j.getRun(r.id);
    if (row?.ir) out.set(r.id, irTextHash(row.ir));
  }
  return out;
}

function timelineFormat(value: string): 'text' | TimelineFileFormat {
  if (value === 'text' || value === 'svg' || value === 'html') return value;
  throw new InvalidArgumentError('must be text, svg or html');
}

/** Controls never execute steps; the runtime they open needs no worker pool. */
const noExecutor = {
  start(): never {
    throw new Error('this command does not execute steps');
  },
};

/** A run's timeline as `orch timeline --json` (and the MCP server's `timeline` tool) give it. */
export function timelineJson(row: RunRow, events: readonly RunEvent[]) {
  return { runId: row.id, plan: row.plan, status: row.status, irHash: row.ir ? irTextHash(row.ir) : null, events: events.map(eventJson) };
}

/**
 * An event as `--json` prints it: exactly the journal's envelope, which the published
 * `orch.events/v2` schema describes (`ts` in epoch milliseconds), so every printed event validates
 * against it as it stands.
 */
export function eventJson(e: RunEvent) {
  return { runId: e.runId, seq: e.seq, ts: e.ts, type: e.type, stepId: e.stepId, data: e.data };
}

function describeEvent(e: RunEvent): string {
  switch (e.type) {
    case 'plan_created': {
      // §9.1: who started it, and the run it came from.
      const from = e.data.retryOf ? `retry of ${e.data.retryOf}` : e.data.chained_from ? `after ${e.data.chained_from}` : null;
      return [
        e.data.ir_hash ? `version ${e.data.ir_hash.slice(0, 12)}` : null,
        e.data.started_by ? `started by ${starterLabel(e.data.started_by)}` : null,
        e.data.caused_by ? `caused by ${starterLabel(e.data.caused_by)}` : null,
        from,
      ]
        .filter((x) => x !== null)
        .join(' · ');
    }
    case 'step_started':
      return `attempt ${e.data.attempt}${e.data.resource ? ` on ${e.data.resource}` : ''}`;
    case 'attempt_lost':
      return `attempt ${e.data.attempt} lost: worker ${e.data.worker} died`;
    case 'guardrail_violation':
      return `${e.data.guardrail} (${e.data.severity}): ${e.data.message}`;
    case 'execution_interrupted':
      return e.data.stopped ? 'stopped (orch resume continues it)' : (e.data.reason ?? '');
    case 'step_compensated':
      return e.data.ok ? 'ok' : (e.data.error ?? 'failed');
    case 'step_log':
      return `${e.data.compensation ? 'compensation: ' : ''}${e.data.line}`;
    case 'budget_exceeded':
      return `${e.data.label}${e.data.warn ? ' (warn: the run went on)' : ''}`;
    case 'budget_overrun':
      return `attempt ${e.data.attempt} cost ${e.data.actual}, reserved ${e.data.reserved}`;
    case 'consent_denied':
      return `missing ${e.data.missing.join(', ')}`;
    case 'plan_upgraded':
      return `${e.data.from_hash} → ${e.data.to_hash} (${e.data.changes.length} change${e.data.changes.length === 1 ? '' : 's'})`;
    case 'approval_decided':
      // §8.8: the authenticated person, never a typed name; how many of the needed approvals are in.
      return `${e.data.decision} by ${e.data.by.subject} (${e.data.by.name}, ${e.data.by.method}, ${e.data.by.issuer}) · ${e.data.approved} of ${e.data.needed}${e.data.comment ? `: ${e.data.comment}` : ''}`;
    default:
      return eventReason(e) ?? '';
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

interface RunStats {
  readonly runs: number;
  readonly byStatus: Record<string, number>;
  /** Completed among finished runs (null: none finished). */
  readonly successRate: number | null;
  readonly cost: number;
  readonly finishedSteps: number;
  /** Over the finished steps of these runs, by the functions `orch preview` uses (null: no such step). */
  readonly localRatio: number | null;
  /** 1 when no step touching personal data ran — as in `orch preview` and `/metrics`. */
  readonly privacyScore: number;
  /** v0.3 (§8.2): actual spend and tokens of every attempt, by plan, capability and model ("" = none reported). */
  readonly spend: {
    readonly byPlan: Record<string, SpendTotals>;
    readonly byCapability: Record<string, SpendTotals>;
    readonly byModel: Record<string, SpendTotals>;
  };
}

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

async function runStats(j: AsyncJournal, rows: readonly { id: string; plan: string; status: string; cost: number }[]): Promise<RunStats> {
  const byStatus: Record<string, number> = {};
  const steps: PlacedStep[] = [];
  const attempts: AttemptSpend[] = [];
  const planOf = new Map<AttemptSpend, string>();
  let cost = 0;
  for (const r of rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    cost += r.cost;
    const ir = (await j.getRun(r.id))?.ir;
    const events = await j.load(r.id);
    for (const a of attemptSpend(events)) {
      attempts.push(a);
      planOf.set(a, r.plan);
    }
    // Sub-plan runs keep no IR of their own; their parent's steps stand for them.
    if (ir) steps.push(...placedSteps(JSON.parse(ir) as PlanIR, events));
  }
  const finished = rows.filter((r) => FINISHED.has(r.status)).length;
  return {
    runs: rows.length,
    byStatus,
    successRate: finished ? (byStatus.completed ?? 0) / finished : null,
    cost: Math.round(cost * 1e6) / 1e6,
    finishedSteps: steps.length,
    localRatio: steps.some(countsForLocality) ? localRatio(steps) : null,
    privacyScore: privacyScore(steps),
    spend: {
      byPlan: spendBy(attempts, (a) => planOf.get(a) ?? null),
      byCapability: spendBy(attempts, (a) => a.capability),
      byModel: spendBy(attempts, (a) => a.model),
    },
  };
}

function statsText(s: RunStats): string {
  const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
  const statuses = Object.entries(s.byStatus).map(([k, n]) => `${n} ${k}`).join(', ');
  return (
    `${s.runs} runs (${statuses}); success ${pct(s.successRate)}; cost ${s.cost}\n` +
    `${s.finishedSteps} finished steps; local ratio ${pct(s.localRatio)}; privacy score ${pct(s.privacyScore)}\n` +
    spendLines('plan', s.spend.byPlan) +
    spendLines('capability', s.spend.byCapability) +
    spendLines('model', s.spend.byModel) +
    '\n'
  );
}

/** `spent by model: gpt-4o-mini 0.0123 (1200 in, 300 out tokens), …` — actual spend (§8.2). */
function spendLines(what: string, by: Record<string, SpendTotals>): string {
  const entries = Object.entries(by).filter(([k]) => what !== 'model' || k !== '');
  if (entries.length === 0) return '';
  const one = ([k, t]: [string, SpendTotals]) =>
    `${k || '(none)'} ${t.cost}${t.input_tokens || t.output_tokens ? ` (${t.input_tokens} in, ${t.output_tokens} out tokens)` : ''}`;
  return `spent by ${what}: ${entries.map(one).join(', ')}\n`;
}
