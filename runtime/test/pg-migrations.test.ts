/**
 * The Postgres schema: migrations apply once, in order, under an advisory lock (two processes at
 * once apply each once), and a database at another version is refused with what to do.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, migrate, requireSchema, schemaVersion, SchemaError } from '../backend/pg/migrations.js';
import { openPool } from '../backend/pg/pool.js';
import { displayUrl, isPostgresUrl } from '../backend/url.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';

const open: (TestPostgres | pg.Pool)[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await ('end' in o ? o.end() : o.stop());
});

async function fresh(): Promise<{ db: TestPostgres; pool: pg.Pool }> {
  const db = await startPostgres();
  const pool = openPool(db.url);
  open.push(db, pool);
  return { db, pool };
}

describe('orch schema migrations', () => {
  it('creates every table in the orch schema once, then is a no-op', async () => {
    const { db, pool } = await fresh();
    expect(await schemaVersion(pool)).toBe(0);
    await expect(requireSchema(pool, 'db')).rejects.toThrow(/version 0.*orch db migrate/);
    expect(await migrate(db.url)).toEqual({ from: 0, to: LATEST_VERSION, applied: MIGRATIONS.map((m) => m.version) });
    const tables = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'orch' ORDER BY 1");
    expect(tables.rows.map((r) => r.t)).toEqual(['attempts', 'audit_log', 'audit_refused', 'auth_sessions', 'auth_tokens', 'budget_leases', 'context_events', 'controls', 'event_batches', 'limit_leases', 'login_failures', 'rate_hits', 'run_handlers', 'run_plans', 'runs', 'schema_version', 'serve_context', 'serve_fired', 'serve_trigger_state', 'workers']);
    // What `orch worker` registers, and nothing left of graphile-worker (migration 11).
    const columns = await pool.query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'orch' AND table_name = 'workers' ORDER BY ordinal_position");
    expect(columns.rows.map((r) => r.c)).toEqual(['id', 'host', 'pid', 'resources', 'slots', 'started_at', 'heartbeat_at', 'state']);
    // An outcome's fold may be a heap-only update (migration 14): no index of the attempts names
    // `folded`, and their pages keep room for the new version.
    const indexes = await pool.query<{ def: string }>("SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'orch' AND tablename = 'attempts'");
    expect(indexes.rows.filter((r) => r.def.includes('folded'))).toEqual([]);
    const options = await pool.query<{ o: string[] }>("SELECT reloptions AS o FROM pg_class WHERE oid = 'orch.attempts'::regclass");
    expect(options.rows[0]!.o).toContain('fillfactor=50');
    expect(await migrate(pool)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
    await requireSchema(pool, 'db');
  });

  it('applies each migration once when several processes migrate at the same moment', async () => {
    const { db, pool } = await fresh();
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(db.url)));
    expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version));
    const rows = await pool.query('SELECT version FROM orch.schema_version');
    expect(rows.rowCount).toBe(MIGRATIONS.length);
  });

  it('refuses a schema newer than this Orch knows', async () => {
    const { pool } = await fresh();
    await migrate(pool);
    await pool.query("INSERT INTO orch.schema_version (version, name) VALUES (999, 'from the future')");
    await expect(migrate(pool)).rejects.toThrow(SchemaError);
    await expect(requireSchema(pool, 'db')).rejects.toThrow(/newer than this Orch knows.*upgrade Orch/);
  });

  it('reads epoch-ms bigints back as numbers', async () => {
    const { pool } = await fresh();
    const r = await pool.query<{ n: number }>('SELECT 1700000000123::bigint AS n');
    expect(r.rows[0]!.n).toBe(1700000000123);
  });
});

describe('Postgres URLs', () => {
  it('tells them from SQLite paths and masks their passwords', () => {
    expect(isPostgresUrl('postgres://u@h/db')).toBe(true);
    expect(isPostgresUrl('postgresql://u@h/db')).toBe(true);
    expect(isPostgresUrl('.orch/runs.db')).toBe(false);
    expect(displayUrl('postgres://orch:s3cret@db:5432/orch')).toBe('postgres://orch:***@db:5432/orch');
    expect(displayUrl('postgres://db/orch?password=s3cret')).not.toContain('s3cret');
  });
});
