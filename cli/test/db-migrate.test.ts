/** `orch db migrate`: a real Postgres, the URL from --db or ORCH_DB, exit 0 / 2, no password printed. */
import { describe, expect, it } from 'vitest';
import { orchAsync } from '../../examples/test/cli.js';
import { startPostgres } from '../../test/support/postgres.js';

describe('orch db migrate', () => {
  it('creates the schema, then reports it is current (--db and ORCH_DB)', async () => {
    const db = await startPostgres();
    try {
      const first = await orchAsync(['db', 'migrate', '--db', db.url]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/migrated from version 0 to 2/);
      const again = await orchAsync(['db', 'migrate', '--json'], { env: { ORCH_DB: db.url } });
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ from: 2, to: 2, applied: [] });
    } finally {
      await db.stop();
    }
  });

  it('exits 2 without a Postgres URL, and on a database it cannot reach, without printing the password', async () => {
    const none = await orchAsync(['db', 'migrate'], { env: { ORCH_DB: '' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/pass --db postgres/);
    const sqlite = await orchAsync(['db', 'migrate', '--db', '.orch/runs.db']);
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toMatch(/not a Postgres URL/);
    // Port 1 on localhost: refused at once.
    const down = await orchAsync(['db', 'migrate', '--db', 'postgres://orch:hunter2@127.0.0.1:1/orch']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^orch: cannot migrate postgres:\/\/orch:\*\*\*@127\.0\.0\.1:1\/orch: /);
    expect(down.stderr + down.stdout).not.toContain('hunter2');
  });
});
