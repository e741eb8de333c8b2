/**
 * Every backend, for the stores' contract tests (journal, limits, people, trigger state): SQLite
 * in a temp file, Postgres in a throwaway database of the run's cluster (migrated), and this
 * process's memory. `open` gives another client of the same database — another process, as far
 * as the stores can tell (memory has one process: its clients are the one backend's stores).
 */
import { join } from 'node:path';
import { memoryBackend, openBackend, type Backend } from '../backend/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { tempDir } from './helpers.js';

export interface BackendPlace {
  /** `--db` of the database (none for memory). */
  readonly db: string | null;
  open(): Promise<Backend>;
  teardown(): Promise<void>;
}

export interface TestBackend {
  readonly name: 'SQLite' | 'Postgres' | 'memory';
  place(): Promise<BackendPlace>;
}

export const SQLITE: TestBackend = {
  name: 'SQLite',
  async place() {
    const db = join(tempDir('orch-backend-'), 'runs.db');
    const opened: Backend[] = [];
    return {
      db,
      open: async () => {
        const b = await openBackend(db);
        opened.push(b);
        return b;
      },
      teardown: async () => void (await Promise.all(opened.map((b) => b.close()))),
    };
  },
};

export const POSTGRES: TestBackend = {
  name: 'Postgres',
  async place() {
    const pg = await startPostgres();
    await (await openBackend(pg.url)).migrate();
    const opened: Backend[] = [];
    return {
      db: pg.url,
      open: async () => {
        const b = await openBackend(pg.url);
        opened.push(b);
        return b;
      },
      teardown: async () => {
        await Promise.all(opened.map((b) => b.close()));
        await pg.stop();
      },
    };
  },
};

export const MEMORY: TestBackend = {
  name: 'memory',
  async place() {
    const b = memoryBackend();
    return { db: null, open: async () => b, teardown: () => b.close() };
  },
};

export const BACKENDS: readonly TestBackend[] = [SQLITE, POSTGRES, MEMORY];
