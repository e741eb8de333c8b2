/**
 * Opens the journal a `--db` names: a SQLite file, or a Postgres database (`postgres://…`). pg is
 * imported only for a Postgres URL, so a SQLite run never loads it.
 *
 * What a `Runtime` needs of a journal besides the `AsyncJournal` operations: the sink its runs
 * commit to (SQLite's stays synchronous: a commit and its effects in one turn, which the runtime
 * bench depends on), sub-plan events readable synchronously while a run resumes, and a limit
 * store on the same database.
 */
import { resolve } from 'node:path';
import type { SharedLimitStore } from '../scheduler/core/limits.js';
import type { JournalSink, RunEvent } from '../scheduler/types.js';
import type { AsyncJournal } from './async-journal.js';
import { isPostgresUrl } from './url.js';
import { asyncJournal } from './sqlite/async-journal.js';
import { SqliteJournal } from './sqlite/journal.js';

export interface RuntimeJournal {
  readonly store: AsyncJournal;
  /** The SQLite journal itself (null on Postgres), for callers that still read it synchronously. */
  readonly sqlite: SqliteJournal | null;
  /** What runs commit to. */
  readonly sink: JournalSink;
  /**
   * Reads the events of a run's sub-plan runs before it resumes (`sink.load` is synchronous);
   * the ids of those it read (none on SQLite, whose `load` reads the file as asked).
   */
  preload(runId: string): Promise<readonly string[]>;
  /** The run stopped executing here (finished, or suspended at an approval). */
  finished(runId: string): Promise<void>;
  /** Resource slots and rate windows shared with every process on this database (null: none). */
  openLimitStore(): Promise<SharedLimitStore | null>;
}

/** The journal of `db` for reading and controls (the CLI's `runs`, `timeline`, `cancel` …). */
export async function openJournal(db: string): Promise<AsyncJournal> {
  if (!isPostgresUrl(db)) return asyncJournal(new SqliteJournal(resolve(db)));
  const { PgJournal } = await import('./pg/journal.js');
  return PgJournal.open(db);
}

export async function openRuntimeJournal(db: string): Promise<RuntimeJournal> {
  return isPostgresUrl(db) ? openPg(db) : openSqlite(db);
}

function openSqlite(db: string): RuntimeJournal {
  const sqlite = new SqliteJournal(resolve(db));
  const memory = sqlite.path.endsWith(':memory:');
  return {
    store: asyncJournal(sqlite),
    sqlite,
    sink: sqlite,
    preload: async () => [],
    // The owner pid tells other processes whether it is still running: nothing to clear.
    finished: async () => undefined,
    openLimitStore: async () => {
      if (memory) return null;
      const { SqliteLimitStore } = await import('./sqlite/limit-store.js');
      // On the journal's connection: a run's turn commits its events and its leases together.
      return new SqliteLimitStore(sqlite.path, { journal: sqlite });
    },
  };
}

async function openPg(url: string): Promise<RuntimeJournal> {
  const { PgJournal } = await import('./pg/journal.js');
  const store = await PgJournal.open(url);
  const preloaded = new Map<string, RunEvent[]>();
  const family = (runId: string, id: string) => id === runId || id.startsWith(`${runId}/`);
  return {
    store,
    sqlite: null,
    sink: {
      commit: (summary, events, hooks) => store.commit(summary, events, hooks),
      load: (runId) => preloaded.get(runId) ?? [],
    },
    preload: async (runId) => {
      const ids: string[] = [];
      for (const row of await store.listRuns(true))
        if (row.id.startsWith(`${runId}/`)) {
          preloaded.set(row.id, await store.load(row.id));
          ids.push(row.id);
        }
      return ids;
    },
    finished: async (runId) => {
      for (const id of [...preloaded.keys()]) if (family(runId, id)) preloaded.delete(id);
      // Liveness on Postgres is the heartbeat: a run that stopped here must not look owned for
      // the next seconds (`orch signal` right after `orch run` stopped at an approval).
      await store.disown(runId);
    },
    openLimitStore: async () => {
      const { PgLimitStore } = await import('./pg/limit-store.js');
      return PgLimitStore.open(url);
    },
  };
}
