/**
 * The backend of a cluster's Postgres database: every store in the `orch` schema that `orch db
 * migrate` prepares (pg/migrations.ts), shared by every process on many machines — an owner is
 * judged by its heartbeat, and the step queue lets `orch worker` processes run the steps.
 */
import type { Backend, ClusterDatabase, RuntimeJournal } from '../backend.js';
import { pruneBoth } from '../retention.js';
import type { RunEvent } from '../../scheduler/types.js';
import { displayUrl } from '../url.js';
import { PgJournal } from './journal.js';
import { PgLimitStore } from './limit-store.js';
import { migrate, openMigratedPool } from './migrations.js';
import { pgPeopleStore } from './people-store.js';
import { openClient, openPool } from './pool.js';
import { pgClusterLock } from './cluster-lock.js';
import { pgContextJournal } from './context-journal.js';
import { pgTriggerState } from './trigger-state.js';

export function pgBackend(url: string): Backend {
  const displayName = displayUrl(url);
  let opened: Promise<RuntimeJournal> | null = null;
  const journal = (): Promise<RuntimeJournal> => {
    opened ??= openJournal(url);
    // A database that was down or not migrated yet may be there at the next ask.
    opened.catch(() => (opened = null));
    return opened;
  };
  const people = async () => pgPeopleStore(await openMigratedPool(url, 2));
  const contextJournal = async () => pgContextJournal(await openMigratedPool(url, 2));
  const cluster: ClusterDatabase = {
    displayName,
    pool: (max, opts) => openMigratedPool(url, max, opts),
    rawPool: (max) => openPool(url, { max }),
    client: () => openClient(url),
  };
  return {
    kind: 'postgres',
    displayName,
    capabilities: { workers: true, sharedServers: true, durable: true, migrations: true },
    // A database always answers (or says why it cannot).
    exists: () => true,
    journal,
    limits: () => PgLimitStore.open(url),
    people,
    sessions: people,
    triggerState: async () => pgTriggerState(await openMigratedPool(url, 2), url),
    migrate: () => migrate(url),
    contextJournal,
    prune: (before) => pruneBoth(before, async (b) => (await journal()).store.prune(b), contextJournal),
    lock: (name) => pgClusterLock(url, name),
    cluster,
    close: async () => {
      const j = opened;
      opened = null;
      await (await j?.catch(() => null))?.store.close();
    },
  };
}

/**
 * The journal as a runtime uses it: runs commit through `AsyncJournal` (a promise per commit),
 * and a resumed run's sub-plan runs are read before it resumes, for the run driver reads them
 * synchronously.
 */
async function openJournal(url: string): Promise<RuntimeJournal> {
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
  };
}
