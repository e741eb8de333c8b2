/**
 * `orch serve` on Postgres (LANGUAGE.md §7.5): two real servers on one real database. Each schedule
 * tick and each event starts exactly one run; a run started through one server is seen, approved
 * and finished through the other; the API and the dashboard's views read the shared journal.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { orchAsync } from '../../examples/test/cli.js';
import { startPostgres } from '../../test/support/postgres.js';
import { http, waitFor } from './http-helpers.js';
import { startServe, TOKEN, type ServeProcess } from './serve-process.js';

const api = (s: ServeProcess, method: string, path: string, body?: unknown) => http(s.url, method, path, { token: TOKEN, body });

describe('orch serve on Postgres', () => {
  it('two servers on one database: one run per tick and per event, and either server controls any run', async () => {
    const db = await startPostgres();
    const servers: ServeProcess[] = [];
    const sql = new pg.Client({ connectionString: db.url });
    try {
      const migrated = await orchAsync(['db', 'migrate', '--db', db.url]);
      expect(migrated.code).toBe(0);
      servers.push(await startServe(['cluster.orch'], { db: db.url }));
      servers.push(await startServe(['cluster.orch'], { db: db.url }));
      const [a, b] = servers as [ServeProcess, ServeProcess];
      expect(a.stdout()).toContain('postgres://postgres@127.0.0.1');
      await sql.connect();

      // A burst of events, half to each server at once: one run each.
      const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => api(n % 2 ? b : a, 'POST', '/events', { type: 'ping', n })));
      for (const r of replies) expect(r.status).toBe(202);
      await waitFor(
        async () => ((await sql.query("SELECT count(*)::int AS n FROM orch.runs WHERE plan = 'on_ping' AND status = 'completed'")).rows[0].n === 20 ? true : undefined),
        30_000,
        'the 20 event runs to complete',
      );
      const pings = await sql.query<{ input: string }>("SELECT input FROM orch.runs WHERE plan = 'on_ping'");
      expect(pings.rows.map((r) => JSON.parse(r.input).n).sort((x: number, y: number) => x - y)).toEqual(Array.from({ length: 20 }, (_, n) => n));

      // The per-second schedule ticks in both servers; every tick starts one run, not two.
      await waitFor(
        async () => ((await sql.query("SELECT count(*)::int AS n FROM orch.runs WHERE plan = 'ticked'")).rows[0].n >= 4 ? true : undefined),
        30_000,
        'four scheduled runs',
      );

      // A run started through A waits for its approval; B lists it, approves it, and shows its end.
      const started = await api(a, 'POST', '/runs', { plan: 'gate', input: { item: 'crate' } });
      expect(started.status).toBe(202);
      const id: string = started.json.runId;
      await waitFor(async () => ((await api(b, 'GET', `/runs/${id}`)).json.status === 'running' ? true : undefined), 10_000, 'B to see the run');
      expect((await api(b, 'GET', '/runs')).json.runs.map((r: { runId: string }) => r.runId)).toContain(id);
      await waitFor(
        async () => ((await api(b, 'GET', `/runs/${id}/timeline`)).json.events.some((e: { type: string }) => e.type === 'step_started') ? true : undefined),
        10_000,
        'the approval step to start',
      );
      const approved = await api(b, 'POST', `/runs/${id}/steps/ask/approve`, { comment: 'from B' });
      expect(approved.status).toBe(202);
      const done = await waitFor(async () => {
        const v = (await api(b, 'GET', `/runs/${id}`)).json;
        return v.status === 'completed' ? v : undefined;
      }, 15_000, 'the approved run to complete');
      expect(done.output).toEqual({ shipped: 'crate' });
      expect((await api(a, 'GET', `/runs/${id}`)).json.status).toBe('completed');
      const plan = (await api(b, 'GET', `/runs/${id}/plan`)).json;
      expect(plan.plan.steps.map((s: { id: string }) => s.id)).toEqual(['ask', 'ship']);

      // Stop both, then count: each tick's time appears in exactly one run.
      for (const s of servers.splice(0)) expect(await s.stop()).toBe(0);
      const ticks = await sql.query<{ input: string }>("SELECT input FROM orch.runs WHERE plan = 'ticked'");
      const at = ticks.rows.map((r) => JSON.parse(r.input).at as string);
      expect(at.length).toBeGreaterThanOrEqual(4);
      expect(new Set(at).size).toBe(at.length);
    } finally {
      for (const s of servers) await s.stop().catch(() => {});
      await sql.end().catch(() => {});
      await db.stop();
    }
  });

  it('refuses a database that was never migrated, in one line without the password (exit 2)', async () => {
    const db = await startPostgres();
    try {
      const url = db.url.replace('postgres@', 'postgres:hunter2@');
      await expect(startServe(['cluster.orch'], { db: url, timeoutMs: 15_000 })).rejects.toThrow(/exited with 2[\s\S]*orch db migrate/);
      await expect(startServe(['cluster.orch'], { db: url, timeoutMs: 15_000 })).rejects.not.toThrow(/hunter2/);
    } finally {
      await db.stop();
    }
  });
});
