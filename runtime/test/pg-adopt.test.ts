/**
 * Adoption when a run that was on workers resumes in-process (`--local`, or no live worker): what
 * the workers did of the steps in flight when the owner died is adopted — a top-level step's and a
 * sub-plan's step's recorded outcome, an attempt no worker claimed yet taken back and run here —
 * so no `idempotent false` step fails as unknown or runs twice. One `orch worker` and one
 * `orch run --remote` process; the resume is this test's own `Runtime` (what `orch resume
 * --local` opens), so the steps it runs are in this process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, RuntimeUsageError } from '../index.js';
import type { ActiveRun, AttemptOutcome, AttemptRequest, Executor } from '../index.js';
import { AdoptingExecutor } from '../cluster/local-adoption.js';
import { CLUSTER_TIMING_ENV } from '../cluster/timing.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { clusterDb, local, orchAsync, projectDir, writePlan } from './helpers.js';
import { capability, lit, out, plan, resource, step } from './ir-builder.js';

/**
 * The cluster's clocks at test speed (runtime/cluster/timing.ts), for this process and the worker
 * and owner it spawns: heartbeats every 200 ms (so the killed owner's run is free after 1 s, five
 * missed beats), outcome polls every 100 ms and sweeps every 200 ms. The same code paths as the
 * product's 1 s, 500 ms and 1 s. Set before anything reads them (each test file is a process).
 */
const TIMING = { heartbeatMs: 200, outcomePollMs: 100, sweepMs: 200 };
process.env[CLUSTER_TIMING_ENV] = JSON.stringify(TIMING);
const TAKE_OVER_AFTER_MS = 5 * TIMING.heartbeatMs;

let db: MigratedPostgres;
let client: pg.Client;

beforeAll(async () => {
  db = await migratedPostgres();
  client = db.client;
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

const HANDLERS = `
import { appendFileSync } from 'node:fs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const line = (input, ctx, phase) =>
  appendFileSync(input.log, JSON.stringify({ pid: process.pid, run: ctx.runId, step: ctx.stepId, attempt: ctx.attempt, phase }) + '\\n');
export async function tagged(input, ctx) {
  line(input, ctx, 'start');
  if (input.ms) await sleep(input.ms);
  line(input, ctx, 'end');
  return { value: (input.value ?? 1) * 2 };
}
`;

interface Line {
  pid: number;
  run: string;
  step: string;
  attempt: number;
  phase: 'start' | 'end';
}

const readLines = (file: string): Line[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line)
    : [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function attempts(runId: string): Promise<{ run: string; step: string; attempt: number; status: string; folded: boolean }[]> {
  const { rows } = await client.query<{ run: string; step: string; attempt: number; status: string; folded: boolean }>(
    `SELECT run_id AS run, step_key AS step, attempt, status, folded FROM orch.attempts WHERE run_id = $1 OR run_id LIKE $1 || '/%' ORDER BY run_id, step_key, attempt`,
    [runId],
  );
  return rows;
}

describe('adoption when a run on workers resumes in-process (--local)', () => {
  it('adopts the outcomes a worker recorded after the owner died (a step and a sub-plan step), takes back an unclaimed attempt, and runs each handler once', async () => {
    const dir = projectDir();
    writeFileSync(join(dir, 'wh.js'), HANDLERS);
    const log = join(dir, 'adopt.log');
    // Not idempotent: a step treated as interrupted would fail as unknown, and one run again would log twice.
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' }, idempotent: false });
    const child = plan({
      name: 'child',
      capabilities: [cap],
      steps: [step({ id: 'inner', capability: 'tagged', args: { log: lit(log), value: lit(3), ms: lit(1200) } })],
      over: { output: out('inner', 'value') },
    });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      // No worker takes `box`: its step's job waits, dispatched and never claimed.
      resources: [resource('box', { concurrency: 1 })],
      steps: [
        step({ id: 'slow', capability: 'tagged', args: { log: lit(log), value: lit(1), ms: lit(1200) } }),
        step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} } }),
        step({ id: 'boxed', capability: 'tagged', resource: 'box', args: { log: lit(log), value: lit(7) } }),
        step({ id: 'after', capability: 'tagged', deps: ['slow', 'sub', 'boxed'], args: { log: lit(log), value: out('slow', 'value') } }),
      ],
      over: { subplans: { child } },
    });
    const file = writePlan(dir, p, 'adopt.json');
    const worker = orchAsync(['worker', '--db', db.url, '--project', dir, '--slots', '3', '--no-take-over'], dir);
    let rt: Runtime | null = null;
    try {
      await until(async () => (await client.query(`SELECT 1 FROM orch.workers WHERE state = 'alive' AND pid = $1`, [worker.child.pid])).rowCount === 1, 'the worker to register');
      const owner = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'adopt'], dir);
      const started = (id: string) => readLines(log).some((l) => l.step === id && l.phase === 'start');
      await until(() => started('slow') && started('inner'), 'both steps to start on the worker');
      await until(async () => (await attempts('adopt')).some((a) => a.step === 'boxed' && a.status === 'dispatched'), 'the boxed step to be dispatched');
      owner.child.kill('SIGKILL');
      await owner.done;
      // The worker finishes both and records their outcomes; nobody folds them.
      await until(async () => (await attempts('adopt')).filter((a) => a.status === 'succeeded').length === 2, 'the worker to record both outcomes');
      expect((await attempts('adopt')).map((a) => [a.run, a.step, a.status, a.folded])).toEqual([
        ['adopt', 'boxed', 'dispatched', false],
        ['adopt', 'slow', 'succeeded', false],
        ['adopt/sub', 'inner', 'succeeded', false],
      ]);

      // `orch resume --local --take-over-after 1s`, in this process: free once the owner's heartbeat is 1 s old.
      rt = await Runtime.open({ db: db.url, placement: 'local', workers: 2 });
      let active: ActiveRun | null = null;
      await until(async () => {
        try {
          active = await rt!.resume('adopt', { takeOverAfterMs: TAKE_OVER_AFTER_MS });
          return true;
        } catch (err) {
          if (err instanceof RuntimeUsageError && /another process/.test(err.message)) return false;
          throw err;
        }
      }, 'the run to be free', 30_000);
      const result = await active!.result;
      expect(result.status, JSON.stringify(result.steps)).toBe('completed');
      const byId = Object.fromEntries(result.steps.map((s) => [s.stepId, { status: s.status, output: s.output }]));
      expect(byId).toEqual({
        slow: { status: 'completed', output: { value: 2 } },
        sub: { status: 'completed', output: 6 },
        boxed: { status: 'completed', output: { value: 14 } },
        after: { status: 'completed', output: { value: 4 } },
      });

      const lines = readLines(log).filter((l) => l.phase === 'start');
      const where = Object.fromEntries(lines.map((l) => [l.step, l.pid]));
      // Each handler ran once: the adopted ones on the worker, the rest here.
      expect(lines.map((l) => l.step).sort()).toEqual(['after', 'boxed', 'inner', 'slow']);
      expect(where).toEqual({ slow: worker.child.pid, inner: worker.child.pid, boxed: process.pid, after: process.pid });
      // Adopted rows folded; the unclaimed one taken back (abandoned), so no worker can run it any more.
      expect((await attempts('adopt')).map((a) => [a.run, a.step, a.status, a.folded])).toEqual([
        ['adopt', 'boxed', 'abandoned', true],
        ['adopt', 'slow', 'succeeded', true],
        ['adopt/sub', 'inner', 'succeeded', true],
      ]);
      // The journal shows the adopted outcome as the step's next attempt, completed once.
      const events = await client.query<{ run_id: string; step_id: string; type: string; data: string }>(
        `SELECT run_id, step_id, type, data FROM orch.events WHERE (run_id = 'adopt' AND step_id = 'slow') OR (run_id = 'adopt/sub' AND step_id = 'inner') ORDER BY run_id, seq`,
      );
      const seen = events.rows
        .filter((e) => e.type === 'step_started' || e.type === 'step_completed' || e.type === 'step_failed')
        .map((e) => [e.run_id, e.type, (JSON.parse(e.data) as { attempt?: number }).attempt]);
      expect(seen).toEqual([
        ['adopt', 'step_started', 1],
        ['adopt', 'step_started', 2],
        ['adopt', 'step_completed', 2],
        ['adopt/sub', 'step_started', 1],
        ['adopt/sub', 'step_started', 2],
        ['adopt/sub', 'step_completed', 2],
      ]);
    } finally {
      await rt?.close();
      worker.child.kill('SIGTERM');
      await Promise.race([worker.done, sleep(15_000)]);
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('AdoptingExecutor (in-process, over rows as workers leave them)', () => {
  it('waits on an attempt a worker runs and adopts its outcome; one whose worker went silent runs here once the sweeper declares it dead; an abort abandons the row', async () => {
    const ran: string[] = [];
    const inner: Executor = {
      start(req, done) {
        ran.push(req.stepId);
        queueMicrotask(() => done({ ok: true, output: { here: req.stepId } }));
        return { abort: () => undefined };
      },
    };
    const ex = await AdoptingExecutor.open(inner, await clusterDb(db.url));
    const run = 'unit-adopt';
    try {
      await client.query(
        `INSERT INTO orch.workers (id, host, pid, slots, heartbeat_at) VALUES ('w-live', 'h', 1, 1, now() + interval '1 hour'), ('w-silent', 'h', 2, 1, now() - interval '1 minute')`,
      );
      await client.query(
        `INSERT INTO orch.attempts (run_id, step_key, attempt, owner, status, worker, started_at) VALUES
           ($1, 'a', 1, 'dead-owner', 'running', 'w-live', now()),
           ($1, 'b', 1, 'dead-owner', 'running', 'w-silent', now()),
           ($1, 'c', 1, 'dead-owner', 'running', 'w-live', now())`,
        [run],
      );
      const found = await ex.recover(run, new Map([['a', 1], ['b', 1], ['c', 1], ['d', 1]]));
      // d has no row: the core's to judge.
      expect([...found].sort()).toEqual(['a', 'b', 'c']);
      const req = (stepId: string): AttemptRequest => ({
        runId: run,
        stepId,
        baseStepId: stepId,
        attempt: 2,
        purpose: 'call',
        capability: capability('cap'),
        input: {},
        resource: null,
        timeoutMs: null,
        secrets: {},
        plan: plan({ steps: [] }),
      });
      const outcomes = new Map<string, AttemptOutcome>();
      const settled = (id: string) => new Promise<AttemptOutcome>((resolve) => ex.start(req(id), (o) => (outcomes.set(id, o), resolve(o))));
      const a = settled('a');
      const b = settled('b');
      const c = ex.start(req('c'), (o) => outcomes.set('c', o));
      // The live worker records a's outcome: adopted, with the hook that folds its row.
      await client.query(`UPDATE orch.attempts SET status = 'succeeded', outcome = $2 WHERE run_id = $1 AND step_key = 'a'`, [run, JSON.stringify({ ok: true, output: { on: 'worker' } })]);
      const got = await a;
      expect(got).toMatchObject({ ok: true, output: { on: 'worker' } });
      // b's worker is silent: the sweeper (run by this executor while it waits) abandons b, which runs here.
      expect(await b).toEqual({ ok: true, output: { here: 'b' } });
      expect(ran).toEqual(['b']);
      c.abort('timeout');
      await until(async () => (await client.query(`SELECT status FROM orch.attempts WHERE run_id = $1 AND step_key = 'c'`, [run])).rows[0]?.status === 'abandoned', 'c abandoned');
      expect(outcomes.has('c')).toBe(false);
      // The fold hook marks a's row folded inside the caller's transaction.
      const tx = new pg.Client({ connectionString: db.url });
      await tx.connect();
      await tx.query('BEGIN');
      await got.commitHook!(tx);
      await tx.query('COMMIT');
      await tx.end();
      const rows = await client.query<{ step_key: string; status: string; folded: boolean }>(
        `SELECT step_key, status, folded FROM orch.attempts WHERE run_id = $1 ORDER BY step_key`,
        [run],
      );
      expect(rows.rows).toEqual([
        { step_key: 'a', status: 'succeeded', folded: true },
        { step_key: 'b', status: 'abandoned', folded: false },
        { step_key: 'c', status: 'abandoned', folded: true },
      ]);
    } finally {
      await ex.close();
    }
  }, 60_000);
});
