/**
 * `--db` of every command that reads, runs or keeps something on a journal's database: the flag,
 * else `$ORCH_DB`, else `.orch/runs.db`, turned into the runtime's `Backend` here and nowhere
 * else in the CLI. Commands ask the backend what it can do (`capabilities`) and name it by its
 * `displayName`; opening problems are one line and exit 2.
 */
import { CliError } from './errors.js';
import { databaseOf, openBackend, Runtime, type AsyncJournal, type Backend, type BackendCapabilities, type PeopleStore } from '../runtime/index.js';

export const DB_HELP = 'journal: a SQLite file or a postgres:// URL (default: $ORCH_DB, else .orch/runs.db)';

/** `--db`, else `$ORCH_DB`, else `.orch/runs.db`. */
export function journalOf(db: string | undefined): string {
  return databaseOf(db);
}

/** No SQLite file yet means nothing has been run there; a database always answers. */
export async function journalExists(db: string): Promise<boolean> {
  return (await openBackend(db)).exists();
}

/**
 * Runs `f` on the backend `db` names, closed after. `need`: the capability the command needs,
 * refused (exit 2) with `why` when the backend has not got it.
 */
export async function withBackend<T>(db: string, f: (b: Backend) => T | Promise<T>, need?: { readonly capability: keyof BackendCapabilities; readonly why: string }): Promise<T> {
  const backend = await openBackend(db);
  if (need && !backend.capabilities[need.capability]) throw new CliError(`${backend.displayName} ${need.why}`, 2);
  try {
    return await f(backend);
  } finally {
    await backend.close();
  }
}

/** Runs `f` on the journal `db` names: none there yet, or one that cannot be opened, is exit 2. */
export async function withJournal<T>(db: string, f: (j: AsyncJournal) => T | Promise<T>): Promise<T> {
  return withBackend(db, async (backend) => {
    if (!backend.exists()) throw new CliError(`no journal at ${db} (nothing has been run here yet; see --db)`, 2);
    let journal: AsyncJournal;
    try {
      journal = (await backend.journal()).store;
    } catch (err) {
      throw new CliError(`cannot open ${backend.displayName}: ${(err as Error).message}`, 2);
    }
    return f(journal);
  });
}

/** The people store of the journal `db` (a SQLite journal is created if need be: tokens come before runs). */
export async function withPeople<T>(db: string, create: boolean, f: (store: PeopleStore, backend: Backend) => Promise<T>): Promise<T> {
  return withBackend(db, async (backend) => {
    if (!create && !backend.exists()) throw new CliError(`no journal at ${db} (nothing has been run here yet; see --db)`, 2);
    let store: PeopleStore;
    try {
      store = await backend.people();
    } catch (err) {
      throw new CliError(`cannot open ${backend.displayName}: ${(err as Error).message}`, 2);
    }
    try {
      return await f(store, backend);
    } finally {
      await store.close();
    }
  });
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
    throw await cannotOpen(db, err);
  }
}

/** Why the database `db` could not be opened: one line naming it (its password masked), exit 2. */
export async function cannotOpen(db: string, err: unknown): Promise<CliError> {
  return new CliError(`cannot open ${(await openBackend(db)).displayName}: ${(err as Error).message}`, 2);
}

/** Controls never execute steps; the runtime they open needs no worker pool. */
const noExecutor = {
  start(): never {
    throw new Error('this command does not execute steps');
  },
};
