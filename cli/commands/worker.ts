/**
 * `orch worker --db URL [--resources a,b] [--slots N] [--project DIR]`: runs the steps of runs
 * of `orch run` and `orch serve` on that database (the step queue in orch.attempts), until SIGINT / SIGTERM.
 * `orch workers --db URL [--all] [--json]`: the workers registered on the database.
 */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { listOrchWorkers, runOrchWorker, type Backend } from '../../runtime/index.js';
import { journalOf, withBackend } from '../db-option.js';
import { CliError } from '../errors.js';
import { positiveInt } from '../positive-int.js';
import { TAKE_OVER_AFTER_HELP, takeOverAge, takeOverOrphans, type TakeOver } from './take-over.js';

interface WorkerFlags {
  readonly db?: string;
  readonly resources?: string;
  readonly slots?: number;
  readonly project?: string;
  readonly takeOver?: boolean;
  readonly takeOverAfter?: number;
}

interface WorkersFlags {
  readonly db?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

/** The database of `--db` or `$ORCH_DB` (no default: a worker serves a cluster's database), which must have workers. */
function withClusterDb<T>(flag: string | undefined, f: (backend: Backend) => Promise<T>): Promise<T> {
  if (flag === undefined && !process.env.ORCH_DB) throw new CliError('no database: pass --db postgres://… or set ORCH_DB', 2);
  const db = journalOf(flag);
  return withBackend(db, f, { capability: 'workers', why: 'is not a Postgres URL (postgres://…): workers need a Postgres database' });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run on this machine the steps of runs on a Postgres journal, until Ctrl-C')
    .option('--db <url>', 'postgres://… URL (default: $ORCH_DB)')
    .option('--resources <names>', 'also take steps bound to these resources, comma-separated (steps on no resource are always taken)')
    .option('--slots <n>', 'attempts run at once, on as many worker threads (default: 4)', positiveInt('--slots'))
    .option('--project <dir>', 'the project checkout handler modules are resolved in, whose orch.config gives this worker its secrets, model endpoints, MCP servers and channels (default: the current directory)')
    .option('--no-take-over', 'do not take over runs whose owner died (by default a worker resumes them here, as orch serve does)')
    .option('--take-over-after <age>', TAKE_OVER_AFTER_HELP, takeOverAge)
    .addHelpText(
      'after',
      [
        '',
        'Every second the worker writes a heartbeat to orch.workers; one silent for more than 5 s is',
        'declared dead, its running attempts are dispatched again to other workers (a worker that finds',
        'itself declared dead, after being frozen or cut off, registers again under a new id). A run whose owner',
        '(orch run, orch serve, another worker) has not written its heartbeat for 10 s (--take-over-after) is taken over by',
        'one live worker or server, which advances it from its journal (--no-take-over: not this one).',
        '',
        'Example:',
        '  orch worker --db postgres://orch@db.internal/orch --resources gpu --slots 2 --project ~/checkout',
        '',
        'Exit codes: 0 stopped by a signal, 2 no URL, not a Postgres URL, the database cannot be reached or is not',
        'migrated, the worker was declared dead and could not register again, or usage error.',
      ].join('\n'),
    )
    .action((opts: WorkerFlags) => withClusterDb(opts.db, async (backend) => {
      // A mistyped folder would otherwise register a worker that refuses every step it claims.
      if (opts.project !== undefined && statSync(opts.project, { throwIfNoEntry: false })?.isDirectory() !== true) {
        throw new CliError(`--project ${opts.project}: no such folder`, 2);
      }
      const resources = (opts.resources ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const slots = opts.slots ?? 4;
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      let takeOver: TakeOver | null = null;
      try {
        if (opts.takeOver !== false) takeOver = await takeOverOrphans(backend, log, opts.takeOverAfter);
        await runOrchWorker({
          db: backend.cluster!,
          resources,
          slots,
          project: opts.project ?? process.cwd(),
          signal: controller.signal,
          onReady: (id) =>
            process.stdout.write(
              `orch worker ${id} on ${backend.displayName}: ${slots} slot${slots === 1 ? '' : 's'}, resources: ${resources.length ? resources.join(', ') : '(none)'}\n`,
            ),
        });
      } catch (err) {
        // Every message names the database (pg's own, such as ECONNREFUSED, do not); the CLI puts
        // its one `orch:` in front.
        const message = (err as Error).message;
        throw new CliError(`worker${message.includes(backend.displayName) ? '' : ` on ${backend.displayName}`}: ${message}`, 2);
      } finally {
        await takeOver?.stop().catch((err: unknown) => log(`orch worker: letting go of the runs taken over: ${(err as Error).message}`));
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    }));

  program
    .command('workers')
    .description('list the orch worker processes registered on a Postgres database')
    .option('--db <url>', 'postgres://… URL (default: $ORCH_DB)')
    .option('--all', 'also dead and stopped workers')
    .option('--json', 'print the workers as JSON')
    .addHelpText('after', ['', 'Example:', '  $ orch workers --db postgres://orch@db.internal/orch --all', '', 'Exit codes: 0 listed, 2 no URL, not a Postgres URL, or the database cannot be reached or is not migrated.'].join('\n'))
    .action((opts: WorkersFlags) => withClusterDb(opts.db, async (backend) => {
      let rows;
      try {
        rows = await listOrchWorkers(backend.cluster!, opts.all === true);
      } catch (err) {
        throw new CliError(`cannot list the workers of ${backend.displayName}: ${(err as Error).message}`, 2);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ workers: rows }, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(`no ${opts.all ? '' : 'live '}workers on ${backend.displayName}\n`);
        return;
      }
      for (const w of rows)
        process.stdout.write(
          `${w.id}  ${w.state}${w.unreachable ? ' (unreachable)' : ''}  slots ${w.running}/${w.slots}  resources ${w.resources.length ? w.resources.join(',') : '-'}  heartbeat ${(w.heartbeatAgeMs / 1000).toFixed(1)}s ago\n`,
        );
    }));
}
