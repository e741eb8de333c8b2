/**
 * `orch runs [--stats] [--all]`: the runs in the journal; `orch runs export RUN`: a run's whole
 * history as JSON; `orch runs prune --older-than AGE`: deletes finished runs, and the context's
 * events (LANGUAGE.md §9.4) journaled before the same cutoff.
 */
import { Option, type Command } from 'commander';
import { moneyText, shortHash } from '../../compiler/index.js';
import { parseAge, replay, RUN_STATUSES, type AsyncJournal, type Backend, type BackendPruneResult } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { ms } from '../progress.js';
import { DB_HELP, journalExists, journalOf, requireRun, withBackend, withJournal } from '../db-option.js';
import { DamagedRuns, eventJson, runCurrencies, runEntries } from './run-json.js';
import { runStats, statsText } from './run-stats.js';

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('list the runs in the journal (newest first): status, duration, cost')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print as JSON')
    .option('--all', 'include sub-plan runs')
    .option('--stats', 'add totals: runs by status, success rate, cost, and over their finished steps the local ratio and privacy score')
    .option('--plan <name>', 'only runs of this plan (its name, or MODULE.NAME), as GET /runs?plan= does; --stats then totals those')
    .addOption(new Option('--status <status>', 'only runs with this status, as GET /runs?status= does; --stats then totals those').choices(RUN_STATUSES))
    .addHelpText('after', ['', 'Examples:', '  $ orch runs --stats', '  $ orch runs --plan weekly_sales_report --json', '  $ orch runs --status failed', '', 'Exit codes: 0 listed (no journal yet: "no runs"), 2 usage or I/O error, or a damaged run (named on stderr; the others are listed).'].join('\n'))
    .action(listRuns);

  runs
    .command('export')
    .description('print the full history of a run as JSON (run, events, final state)')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .addHelpText('after', ['', 'Example:', '  $ orch runs export hello-20260131-101500-3f9a2c > run.json', '', 'Exit codes: 0 printed, 2 unknown run or no journal.'].join('\n'))
    .action(async (runId: string, opts: { db?: string }, cmd: Command) => {
      const db = journalOf(opts.db ?? (cmd.parent?.opts() as { db?: string } | undefined)?.db);
      const out = await withJournal(db, (j) => runExport(j, runId));
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  runs
    .command('prune')
    .description('delete finished runs (with their sub-plan runs and events) older than an age, and the context events journaled before it; running and paused runs are kept')
    .requiredOption('--older-than <age>', 'how long ago a run must have finished, e.g. 30d, 12h, 90m')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print what was deleted as JSON')
    .addHelpText('after', ['', 'Example:', '  $ orch runs prune --older-than 30d --json', '', 'Exit codes: 0 pruned, 2 not an age, or no journal.'].join('\n'))
    .action(async (own: { olderThan: string; db?: string; json?: boolean }, cmd: Command) => {
      // `runs` has --db and --json of its own, and commander gives a flag to the parent when both have it.
      const opts = { ...own, ...(cmd.parent?.opts() as { json?: boolean } | undefined), olderThan: own.olderThan };
      const age = parseAge(opts.olderThan);
      if (age === null) throw new CliError(`--older-than must be an age such as 30d, 12h or 90m, not ${JSON.stringify(opts.olderThan)}`, 2);
      const db = journalOf(own.db ?? (cmd.parent?.opts() as { db?: string } | undefined)?.db);
      const removed = (await journalExists(db)) ? await withBackend(db, (b) => pruneBackend(b, Date.now() - age)) : { runs: 0, events: 0, contextEvents: 0 };
      if (opts.json) process.stdout.write(`${JSON.stringify({ runs: removed.runs, events: removed.events, context_events: removed.contextEvents })}\n`);
      else
        process.stdout.write(
          `pruned ${removed.runs} run${removed.runs === 1 ? '' : 's'} (${removed.events} events) that finished more than ${opts.olderThan} ago, and ${removed.contextEvents} context event${removed.contextEvents === 1 ? '' : 's'} journaled before then\n`,
        );
    });
}

type RunsOptions = { db?: string; json?: boolean; all?: boolean; stats?: boolean; plan?: string; status?: string };

/** `orch runs`: the journal's runs (those of --plan / --status), with their totals under --stats. */
async function listRuns(cli: RunsOptions): Promise<void> {
  const opts = { ...cli, db: journalOf(cli.db) };
  // A run whose journal rows are damaged is left out, named on stderr, and the exit is 2: the
  // others are still listed (docs/language.md, `orch runs` and a damaged run).
  const damaged = new DamagedRuns();
  // No journal yet simply means no runs (not an error).
  const { list, stats, currencies } = (await journalExists(opts.db))
    ? await withJournal(opts.db, async (j) => {
        const all = await j.listRuns(opts.all === true, damaged.note);
        const rows = all.filter((r) => (cli.plan === undefined || r.plan === cli.plan || r.plan.endsWith(`.${cli.plan}`)) && (cli.status === undefined || r.status === cli.status));
        const list = await runEntries(j, rows, damaged.note);
        const listed = rows.filter((r) => !damaged.has(r.id));
        const stats = opts.stats ? await runStats(j, listed, damaged.note) : undefined;
        const currencies = opts.json ? new Map<string, string | undefined>() : await runCurrencies(j, listed.map((r) => r.id));
        return { list: list.filter((r) => !damaged.has(r.runId)), stats, currencies };
      })
    : { list: [], stats: undefined, currencies: new Map<string, string | undefined>() };
  for (const line of damaged.warnings()) process.stderr.write(`${line}\n`);
  if (damaged.size > 0) process.exitCode = 2;
  if (opts.json) {
    const left = damaged.list();
    process.stdout.write(`${JSON.stringify({ runs: list, ...(stats ? { stats } : {}), ...(left.length ? { damaged: left } : {}) }, null, 2)}\n`);
    return;
  }
  if (list.length === 0) {
    process.stdout.write('no runs\n');
    return;
  }
  if (stats) process.stdout.write(statsText(stats, oneCurrency(currencies)));
  process.stdout.write(runsTable(list, currencies));
}

/** The one currency of these runs' amounts; undefined when they have none, or several (bare amounts then). */
function oneCurrency(currencies: ReadonlyMap<string, string | undefined>): string | undefined {
  const all = new Set(currencies.values());
  return all.size === 1 ? [...all][0] : undefined;
}

/** The runs as a table, one line a run; its cost in the run's currency. */
function runsTable(list: Awaited<ReturnType<typeof runEntries>>, currencies: ReadonlyMap<string, string | undefined>): string {
  const table = [
    // VERSION last: scripts that read the first six columns keep working.
    ['RUN', 'PLAN', 'STATUS', 'STARTED', 'DURATION', 'COST', 'VERSION'],
    ...list.map((r) => [
      r.runId,
      r.plan,
      r.status,
      r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      r.duration === null ? '—' : ms(r.duration),
      moneyText(r.cost, currencies.get(r.runId)),
      r.irHash ? shortHash(r.irHash) : '—',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => `${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}

/** `orch runs export`: a run's row, events and final steps, and its sub-plan runs' events. */
async function runExport(j: AsyncJournal, runId: string) {
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
}

/** The backend's prune, its failure to open one line (exit 2) as `withJournal` gives it. */
async function pruneBackend(b: Backend, before: number): Promise<BackendPruneResult> {
  try {
    return await b.prune(before);
  } catch (err) {
    throw new CliError(`cannot prune ${b.displayName}: ${(err as Error).message}`, 2);
  }
}
