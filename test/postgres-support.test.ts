/**
 * The throwaway Postgres of test/support: each call gets a database of its own in one cluster,
 * usable at once, gone after `stop()`.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres } from './support/postgres.js';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  it('gives each caller a fresh database of one cluster, dropped by stop()', async () => {
    const a = await startPostgres();
    const b = await startPostgres();
    expect(a.url).not.toBe(b.url);
    expect(new URL(a.url).port).toBe(new URL(b.url).port);
    await query(a.url, 'CREATE TABLE t (x int)');
    // b is another database: a's table is not there.
    expect(await query<{ n: string }>(b.url, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 't'")).toEqual([{ n: '0' }]);
    const name = new URL(a.url).pathname.slice(1);
    await a.stop();
    const left = await query<{ datname: string }>(b.url, 'SELECT datname FROM pg_database');
    expect(left.map((r) => r.datname)).not.toContain(name);
    await b.stop();
  });
});
