/**
 * Journals written by earlier releases of Orch (fixtures/vNN-journals, made by their generate.mjs
 * with that release's CLI: a SQLite runs.db and a pg_dump of the `orch` schema), placed where a
 * test of this version can open them: a copy of the SQLite file, or the dump restored into a fresh
 * database of the suite's Postgres cluster and migrated as an operator upgrading Orch does. Either
 * way each run's IR is relocated to the fixture folder, where its handlers are now.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import pg from 'pg';
import { openBackend } from '../index.js';
import { irBlobSync } from '../backend/ir-blob.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { binDir } from '../../test/support/pg-cluster.js';
import { startPostgres } from '../../test/support/postgres.js';
import { tempDir } from './helpers.js';

export interface PlacedJournal {
  /** A SQLite path or a postgres:// URL. */
  readonly db: string;
  /** The `orch db migrate` of a Postgres journal: the schema version it found (null on SQLite). */
  readonly migratedFrom: number | null;
  teardown(): Promise<void>;
}

export interface OldJournalBackend {
  readonly name: 'SQLite' | 'Postgres';
  place(): Promise<PlacedJournal>;
}

/** The IR records where its handlers were when the fixture was made: `dir` now (the project moved). */
function relocated(blob: Buffer, dir: string): Buffer {
  const ir = JSON.parse(inflateRawSync(blob).toString('utf8')) as { base_dir: string };
  return irBlobSync({ ...ir, base_dir: dir }, (t) => t)!;
}

/** The two backends a fixture folder `dir` (runs.db, orch.pg.sql) is placed on. */
export function oldJournalBackends(dir: string): readonly OldJournalBackend[] {
  return [
    {
      name: 'SQLite',
      async place() {
        const db = join(tempDir('orch-old-journal-'), 'runs.db');
        copyFileSync(join(dir, 'runs.db'), db);
        const d = openSqlite(db);
        for (const r of d.prepare('SELECT run_id, ir FROM run_plans').all() as { run_id: string; ir: Buffer }[])
          d.prepare('UPDATE run_plans SET ir = ? WHERE run_id = ?').run(relocated(Buffer.from(r.ir), dir), r.run_id);
        d.close();
        return { db, migratedFrom: null, teardown: async () => undefined };
      },
    },
    {
      name: 'Postgres',
      async place() {
        const pgdb = await startPostgres();
        const psql = spawnSync(join(binDir(), 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', '-f', join(dir, 'orch.pg.sql'), pgdb.url], { encoding: 'utf8' });
        if (psql.status !== 0) throw new Error(`restoring ${join(dir, 'orch.pg.sql')} failed: ${psql.stderr}`);
        const client = new pg.Client({ connectionString: pgdb.url });
        await client.connect();
        try {
          const { rows } = await client.query<{ run_id: string; ir: Buffer }>('SELECT run_id, ir FROM orch.run_plans');
          for (const r of rows) await client.query('UPDATE orch.run_plans SET ir = $1 WHERE run_id = $2', [relocated(r.ir, dir), r.run_id]);
        } finally {
          await client.end();
        }
        // As an operator upgrading Orch does: the cluster's schema moves forward with `orch db migrate`.
        const migrated = await (await openBackend(pgdb.url)).migrate();
        return { db: pgdb.url, migratedFrom: migrated.from, teardown: () => pgdb.stop() };
      },
    },
  ];
}
