/**
 * `--db` of every command that reads or runs on a journal: which database it names (the flag,
 * else `$ORCH_DB`, else `.orch/runs.db`), opened with its problems as one line and exit 2.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './errors.js';
import { displayUrl, isPostgresUrl, openJournal, Runtime, type AsyncJournal } from '../runtime/index.js';

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

/** Controls never execute steps; the runtime they open needs no worker pool. */
const noExecutor = {
  start(): never {
    throw new Error('this command does not execute steps');
  },
};
