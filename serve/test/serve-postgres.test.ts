/**
 * `orch serve` on Postgres (LANGUAGE.md §7.5): two real servers on one real database. Each schedule
 * tick and each event starts exactly one run; a run started through one server is seen, approved
 * and finished through the other; the API and the dashboard's views read the shared journal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { orchAsync } from '../../examples/test/cli.js';
import { startPostgres } from '../../test/support/postgres.js';
import { http, waitFor } from './http-helpers.js';
import { FIXTURES, REPO, startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

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
      // Once only its approval is left, the run is paused (LANGUAGE.md §7.4), on either server.
      await waitFor(async () => ((await api(b, 'GET', `/runs/${id}`)).json.status === 'paused' ? true : undefined), 10_000, 'B to see the run paused');
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

      // `orch ui` over the same database: every run, and the resources view (rate hits in Postgres).
      const ui = await startServe([], { db: db.url, uiMode: true });
      servers.push(ui);
      const listed = (await api(ui, 'GET', '/runs?limit=500')).json.runs as { runId: string; planId: string; trigger?: string | null }[];
      expect(listed.filter((r) => r.planId === 'on_ping')).toHaveLength(20);
      expect(listed.map((r) => r.runId)).toContain(id);
      // Which trigger started each run comes from the shared journal, not from the server that started it.
      expect(listed.filter((r) => r.planId === 'on_ping').every((r) => r.trigger === 'pinged')).toBe(true);
      expect(listed.find((r) => r.runId === id)?.trigger).toBeNull();
      const pinged = (await api(ui, 'GET', '/runs?trigger=pinged&limit=500')).json.runs as { planId: string }[];
      expect(pinged.map((r) => r.planId)).toEqual(Array.from({ length: 20 }, () => 'on_ping'));
      expect((await api(ui, 'GET', `/runs/${id}`)).json.trigger).toBeNull();
      const resources = await api(ui, 'GET', '/resources');
      expect(resources.status).toBe(200);
      expect(resources.json.resources.map((r: { name: string }) => r.name)).toContain('box');
    } finally {
      for (const s of servers) await s.stop().catch(() => {});
      await sql.end().catch(() => {});
      await db.stop();
    }
  });

  it('a server killed with kill -9 mid-run: the other takes the run over (--take-over-after 3s) and finishes it, re-running no completed step', async () => {
    const db = await startPostgres();
    const servers: ServeProcess[] = [];
    const sql = new pg.Client({ connectionString: db.url });
    try {
      expect((await orchAsync(['db', 'migrate', '--db', db.url])).code).toBe(0);
      servers.push(await startServe(['cluster.orch'], { db: db.url }));
      servers.push(await startServe(['cluster.orch'], { db: db.url, args: ['--take-over-after', '3s'] }));
      const [a, b] = servers as [ServeProcess, ServeProcess];
      await sql.connect();
      const log = join(tempDir(), 'tally.log');
      const started = await api(a, 'POST', '/runs', { plan: 'relay', input: { log } });
      expect(started.status).toBe(202);
      const id: string = started.json.runId;
      const completedSteps = async () =>
        (await sql.query<{ step_id: string }>("SELECT step_id FROM orch.events WHERE run_id = $1 AND type = 'step_completed'", [id])).rows.map((r) => r.step_id);
      await waitFor(async () => ((await completedSteps()).length >= 2 ? true : undefined), 20_000, 'two steps to complete in A');
      await a.kill9();
      const killedAt = Date.now();
      const before = await completedSteps();
      expect(before.length).toBeLessThan(6);
      // At the default age (10 s) the run is free 9–10 s after the kill; B was told 3 s.
      const tookOverAt = await waitFor(async () => (b.stderr().includes(`took over run ${id}`) ? Date.now() : undefined), 15_000, 'B to take the run over').catch(
        (err: Error) => Promise.reject(new Error(`${err.message}; B said:\n${b.stderr()}`)),
      );
      expect(tookOverAt - killedAt).toBeLessThan(8_000);

      const done = await waitFor(async () => {
        const v = (await api(b, 'GET', `/runs/${id}`)).json;
        return v.status === 'completed' ? v : undefined;
      }, 25_000, 'B to take the run over and complete it').catch((err: Error) => Promise.reject(new Error(`${err.message}; B said:\n${b.stderr()}`)));
      expect(done.output).toEqual({ last: 'f' });
      expect(b.stderr()).toContain(`took over run ${id}`);
      // The journal has each step completed once; the handler of a step completed before the
      // kill ran once (the one in flight at the kill may have run twice: its capability is idempotent).
      const after = await completedSteps();
      expect([...after].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      const ran = readFileSync(log, 'utf8').trim().split('\n');
      for (const step of before) expect(ran.filter((t) => t === step)).toHaveLength(1);
      const owner = await sql.query<{ owner: string | null; owner_epoch: number }>('SELECT owner, owner_epoch::int AS owner_epoch FROM orch.runs WHERE id = $1', [id]);
      expect(owner.rows[0]).toEqual({ owner: null, owner_epoch: 2 });
      // B stops cleanly (a stop that hangs exits 1 naming what it waited for).
      expect(await b.stop(), b.stderr()).toBe(0);
    } finally {
      for (const s of servers) await s.stop().catch(() => {});
      await sql.end().catch(() => {});
      await db.stop();
    }
    // Its waits (20 + 15 + 25 s) fit inside its timeout, so a slow take-over fails with what B said.
  }, 90_000);

  it('an owner that stalls past its lease finds its run taken over: its late writes are refused and it lets the run go', async () => {
    const db = await startPostgres();
    const servers: ServeProcess[] = [];
    const sql = new pg.Client({ connectionString: db.url });
    let stopped: ServeProcess | null = null;
    try {
      expect((await orchAsync(['db', 'migrate', '--db', db.url])).code).toBe(0);
      servers.push(await startServe(['cluster.orch'], { db: db.url }));
      servers.push(await startServe(['cluster.orch'], { db: db.url }));
      const [a, b] = servers as [ServeProcess, ServeProcess];
      await sql.connect();
      const log = join(tempDir(), 'tally.log');
      const id: string = (await api(a, 'POST', '/runs', { plan: 'relay', input: { log } })).json.runId;
      const events = async () =>
        (await sql.query<{ seq: number; type: string; step_id: string | null }>('SELECT seq, type, step_id FROM orch.events WHERE run_id = $1 ORDER BY seq', [id])).rows;
      await waitFor(async () => ((await events()).some((e) => e.type === 'step_completed' && e.step_id === 'b') ? true : undefined), 20_000, 'step b to complete in A');
      // A freezes (a long GC pause, a VM migration): its heartbeat stops, B takes the run over.
      a.child.kill('SIGSTOP');
      stopped = a;
      await waitFor(async () => ((await api(b, 'GET', `/runs/${id}`)).json.status === 'completed' ? true : undefined), 40_000, 'B to finish the run');
      a.child.kill('SIGCONT');
      stopped = null;
      // A wakes up with a step in flight and a stale lease: whatever it tries to write is refused,
      // and it lets the run go (its next heartbeat or write finds the lease moved on).
      await waitFor(async () => (a.stderr().includes(`run ${id} was taken over by another process`) ? true : undefined), 20_000, 'A to let the run go');
      const all = await events();
      expect(all.at(-1)!.type).toBe('execution_completed');
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      const completed = all.filter((e) => e.type === 'step_completed').map((e) => e.step_id);
      expect(completed.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect((await api(a, 'GET', '/health')).status).toBe(200);
      expect((await api(a, 'GET', `/runs/${id}`)).json.status).toBe('completed');
      expect(a.stderr()).not.toMatch(/internal error|unhandled/i);
    } finally {
      stopped?.child.kill('SIGCONT');
      for (const s of servers) await s.stop().catch(() => {});
      await sql.end().catch(() => {});
      await db.stop();
    }
  });

  it('hands the steps of its runs to a live `orch worker`; with none live (or --local) runs them itself', async () => {
    const db = await startPostgres();
    const servers: ServeProcess[] = [];
    const sql = new pg.Client({ connectionString: db.url });
    let worker: ChildProcess | null = null;
    let workerLog = '';
    try {
      expect((await orchAsync(['db', 'migrate', '--db', db.url])).code).toBe(0);
      await sql.connect();
      // Started before any worker: the choice is made per run, not when the server starts.
      servers.push(await startServe(['cluster.orch'], { db: db.url }));
      servers.push(await startServe(['cluster.orch'], { db: db.url, args: ['--local'] }));
      const [s, local] = servers as [ServeProcess, ServeProcess];
      const relay = async (via: ServeProcess) => {
        const id: string = (await api(via, 'POST', '/runs', { plan: 'relay', input: { log: join(tempDir(), 'tally.log') } })).json.runId;
        await waitFor(async () => ((await api(via, 'GET', `/runs/${id}`)).json.status === 'completed' ? true : undefined), 30_000, `run ${id} to complete`);
        return (await sql.query<{ step_key: string; worker: string | null; status: string }>('SELECT step_key, worker, status FROM orch.attempts WHERE run_id = $1 ORDER BY step_key', [id])).rows;
      };
      // No worker yet: the server runs the steps itself (no attempt rows: nothing was dispatched).
      expect(await relay(s)).toEqual([]);

      worker = spawn(process.execPath, [join(REPO, 'bin/orch.js'), 'worker', '--db', db.url, '--project', FIXTURES, '--resources', 'box'], { cwd: FIXTURES, stdio: ['ignore', 'ignore', 'pipe'] });
      worker.stderr!.on('data', (c: Buffer) => (workerLog += c.toString('utf8')));
      const pid = worker.pid!;
      await waitFor(
        async () => ((await sql.query("SELECT 1 FROM orch.workers WHERE pid = $1 AND state = 'alive'", [pid])).rowCount ? true : undefined),
        30_000,
        'the worker to register',
      );
      const onWorker = await relay(s);
      expect(onWorker.map((a) => a.step_key)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      for (const a of onWorker) {
        expect(a.status).toBe('succeeded');
        expect(a.worker).toMatch(new RegExp(`:${pid}:`));
      }
      // --local: the server keeps its steps even with a worker live.
      expect(await relay(local)).toEqual([]);
    } finally {
      if (worker && worker.exitCode === null) {
        const w = worker;
        // A worker lets its running attempts finish (600 ms here); one that hangs is killed, and
        // the test says so rather than waiting out its own timeout.
        const stopped = await new Promise<boolean>((r) => {
          const hung = setTimeout(() => r(!w.kill('SIGKILL')), 20_000);
          w.once('exit', () => (clearTimeout(hung), r(true)));
          w.kill('SIGTERM');
        });
        expect(stopped, `orch worker to exit on SIGTERM:\n${workerLog}`).toBe(true);
      }
      for (const sv of servers) await sv.stop().catch(() => {});
      await sql.end().catch(() => {});
      await db.stop();
    }
    // Its own waits allow 30 s for each of three runs and for the worker to register: under a
    // full suite on two cores it has taken over 60 s.
  }, 150_000);

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
