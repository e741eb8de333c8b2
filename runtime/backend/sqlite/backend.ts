/**
 * The backend of one SQLite file (`.orch/runs.db` by default): every store in the journal's file,
 * the tables made on open (sqlite/schema.ts). One machine: an owner is its pid, and the journal
 * commits synchronously — a commit and its effects in one turn, which the runtime bench depends on.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolders } from '../../make-folders.js';
import type { Backend, RuntimeJournal } from '../backend.js';
import { pruneBoth } from '../retention.js';
import { soleHolder } from '../cluster-lock.js';
import { asyncJournal } from './async-journal.js';
import { SqliteJournal } from './journal.js';
import { openSqlitePeopleStore } from './people-store.js';
import { openTriggerState } from './trigger-state.js';
import { openSqliteContextJournal } from './context-journal.js';

/** `path`: absolute, or `:memory:` (a journal that ends with the process, without shared limits). */
export function sqliteBackend(path: string): Backend {
  const memory = path.endsWith(':memory:');
  let opened: RuntimeJournal | null = null;
  const journal = async (): Promise<RuntimeJournal> => {
    if (opened) return opened;
    const sqlite = new SqliteJournal(path);
    opened = {
      store: asyncJournal(sqlite),
      sqlite,
      sink: sqlite,
      preload: async () => [],
      // The owner pid tells other processes whether it is still running: nothing to clear.
      finished: async () => undefined,
    };
    return opened;
  };
  const fileDir = () => {
    if (!memory) makeFolders(dirname(path));
  };
  const contextJournal = async () => {
    fileDir();
    return openSqliteContextJournal(path);
  };
  const people = async () => {
    fileDir();
    return openSqlitePeopleStore(path);
  };
  return {
    kind: 'sqlite',
    displayName: path,
    capabilities: { workers: false, sharedServers: false, durable: !memory, migrations: false },
    exists: () => memory || existsSync(path),
    journal,
    limits: async () => {
      if (memory) return null;
      const { sqlite } = await journal();
      const { SqliteLimitStore } = await import('./limit-store.js');
      // On the journal's connection: a run's turn commits its events and its leases together.
      return new SqliteLimitStore(path, { journal: sqlite! });
    },
    people,
    sessions: people,
    triggerState: async () => {
      fileDir();
      return openTriggerState(path);
    },
    contextJournal,
    // Its tables are made (and older files brought up to date) as each store opens.
    migrate: async () => ({ from: 0, to: 0, applied: [] }),
    prune: (before) => pruneBoth(before, async (b) => (await journal()).store.prune(b), contextJournal),
    lock: () => soleHolder(),
    cluster: null,
    close: async () => {
      const j = opened;
      opened = null;
      await j?.store.close();
    },
  };
}
