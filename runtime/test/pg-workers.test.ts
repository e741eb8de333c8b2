/**
 * Steps on `orch worker` processes (the step queue in orch.attempts), through the real CLI: every worker and
 * every `orch run --remote` a process of its own, on a throwaway Postgres (never skipped).
 * Handlers append a JSON line per start and end with the pid of the process running them, which
 * proves where each step ran: a worker's, never the owner's.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionResult } from '../scheduler/types.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { local, orch, orchAsync, projectDir, tempDir, writePlan, type CliResult } from './helpers.js';
import { lit, out, plan, resource, step } from './ir-builder.js';
import { maxOverlap, type Span } from './spans.js';

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
  appendFileSync(input.log, JSON.stringify({ pid: process.pid, run: ctx.runId, step: ctx.stepId, attempt: ctx.attempt, phase, t: Date.now() }) + '\\n');
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
  t: number;
}

function project(): string {
  const dir = projectDir();
  writeFileSync(join(dir, 'wh.js'), HANDLERS);
  return dir;
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
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Worker {
  readonly pid: number;
  readonly child: ReturnType<typeof orchAsync>['child'];
  readonly done: Promise<CliResult>;
}
const workers: Worker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    const stopped = await Promise.race([w.done.then(() => true), sleep(15_000).then(() => false)]);
    if (!stopped) w.child.kill('SIGKILL');
  }
});

/** Starts `n` `orch worker` processes and waits until each is registered and taking jobs. */
async function startWorkers(n: number, dir: string, extra: readonly string[]): Promise<Worker[]> {
  const started: Worker[] = [];
  for (let i = 0; i < n; i++) {
    const w = orchAsync(['worker', '--db', db.url, '--project', dir, ...extra], dir);
    const worker = { pid: w.child.pid!, child: w.child, done: w.done };
    workers.push(worker);
    started.push(worker);
  }
  const pids = started.map((w) => w.pid);
  await until(async () => {
    const { rows } = await client.query<{ pid: number }>(`SELECT pid FROM orch.workers WHERE state = 'alive' AND pid = ANY($1)`, [pids]);
    return rows.length === n;
  }, `${n} workers registered`);
  return started;
}

/**
 * `slow` (not idempotent: a take-over that re-ran or failed it would show) taking `ms`, then
 * `after`, which doubles its value; written to `<name>.json` in `dir`.
 */
function slowThenAfter(dir: string, log: string, name: string, slow: { readonly value: number; readonly ms: number }): string {
  const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' }, idempotent: false });
  const p = plan({
    base_dir: '.',
    capabilities: [cap],
    steps: [
      step({ id: 'slow', capability: 'tagged', args: { log: lit(log), value: lit(slow.value), ms: lit(slow.ms) } }),
      step({ id: 'after', capability: 'tagged', deps: ['slow'], args: { log: lit(log), value: out('slow', 'value') } }),
    ],
  });
  return writePlan(dir, p, `${name}.json`);
}

function stepsOf(r: CliResult): Record<string, { status: string; output: unknown }> {
  const result = JSON.parse(r.stdout) as ExecutionResult;
  return Object.fromEntries(result.steps.map((s) => [s.stepId, { status: s.status, output: s.output }]));
}

describe('steps on orch worker processes', () => {
  it('runs a plan with the same outputs and statuses as SQLite, every step in a worker (3 workers)', async () => {
    const dir = project();
    const log = join(dir, 'steps.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [
        step({ id: 'a', capability: 'tagged', args: { log: lit(log), value: lit(3), ms: lit(100) } }),
        step({ id: 'b', capability: 'tagged', deps: ['a'], args: { log: lit(log), value: out('a', 'value') } }),
        step({ id: 'c', capability: 'tagged', args: { log: lit(log), value: lit(5), ms: lit(100) } }),
        step({ id: 'd', capability: 'tagged', deps: ['b', 'c'], args: { log: lit(log), value: out('b', 'value') } }),
        step({ id: 'e', capability: 'tagged', deps: ['c'], args: { log: lit(log), value: out('c', 'value') } }),
      ],
    });
    const file = writePlan(dir, p);
    const sqlite = orch(['run', file, '--db', join(tempDir(), 'runs.db'), '--json', '--workers', '1'], dir);
    expect(sqlite.code, sqlite.stderr).toBe(0);
    const localLines = readLines(log);
    writeFileSync(log, '');

    const ws = await startWorkers(3, dir, ['--slots', '2']);
    const remote = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-1'], dir);
    const r = await remote.done;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsOf(r)).toEqual(stepsOf(sqlite));
    expect(stepsOf(r).d).toEqual({ status: 'completed', output: { value: 24 } });

    const lines = readLines(log);
    expect(lines.filter((l) => l.phase === 'end').map((l) => l.step).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const workerPids = new Set(ws.map((w) => w.pid));
    for (const l of lines) expect(workerPids.has(l.pid), `step ${l.step} ran in pid ${l.pid}`).toBe(true);
    expect(lines.some((l) => l.pid === remote.child.pid)).toBe(false);
    // The SQLite run ran its steps in its own process.
    expect(new Set(localLines.map((l) => l.pid)).size).toBe(1);
    expect(workerPids.has(localLines[0]!.pid)).toBe(false);
    // Every attempt was folded by the owner.
    const { rows } = await client.query<{ status: string; folded: boolean }>(`SELECT status, folded FROM orch.attempts WHERE run_id = 'remote-1'`);
    expect(rows).toHaveLength(5);
    expect(rows.every((x) => x.status === 'succeeded' && x.folded)).toBe(true);
    // Each attempt's row (and job) was added by the transaction that committed its step_started
    // (the batch holding that event: one row per commit).
    const BATCH = 'JOIN orch.event_batches b ON b.run_id = e.run_id AND e.seq BETWEEN b.first_seq AND b.last_seq';
    const same = await client.query<{ step: string; same: boolean }>(
      `SELECT a.step_key AS step, bool_or(a.dispatched_xact % 4294967296 = b.xmin::text::bigint) AS same
         FROM orch.attempts a JOIN orch.events e ON e.run_id = a.run_id AND e.step_id = a.step_key AND e.type = 'step_started' ${BATCH}
        WHERE a.run_id = 'remote-1' GROUP BY a.step_key ORDER BY 1`,
    );
    expect(same.rows).toEqual(['a', 'b', 'c', 'd', 'e'].map((step) => ({ step, same: true })));
    // … and marked folded by the one that committed its step_completed.
    const folded = await client.query<{ step: string; same: boolean }>(
      `SELECT a.step_key AS step, a.xmin = b.xmin AS same
         FROM orch.attempts a JOIN orch.events e ON e.run_id = a.run_id AND e.step_id = a.step_key AND e.type = 'step_completed' ${BATCH}
        WHERE a.run_id = 'remote-1' ORDER BY 1`,
    );
    expect(folded.rows).toEqual(['a', 'b', 'c', 'd', 'e'].map((step) => ({ step, same: true })));

    const listed = orch(['workers', '--db', db.url, '--json'], dir);
    expect(listed.code, listed.stderr).toBe(0);
    const pids = (JSON.parse(listed.stdout) as { workers: { pid: number; state: string }[] }).workers.map((w) => w.pid);
    for (const w of ws) expect(pids).toContain(w.pid);

    // SIGTERM: each worker finishes, deregisters (state stopped) and exits 0.
    for (const w of ws) w.child.kill('SIGTERM');
    for (const w of ws) expect((await w.done).code).toBe(0);
    const after = orch(['workers', '--db', db.url, '--all', '--json'], dir);
    const states = (JSON.parse(after.stdout) as { workers: { pid: number; state: string }[] }).workers.filter((w) => ws.some((x) => x.pid === w.pid));
    expect(states.map((w) => w.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(orch(['workers', '--db', db.url], dir).stdout).not.toMatch(new RegExp(`:${ws[0]!.pid}:`));
  }, 120_000);

  it('holds a concurrency 3 resource across 3 workers of 4 slots each: at most 3 at once, and 3 reached', async () => {
    const dir = project();
    const log = join(dir, 'gpu.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      resources: [resource('gpu', { concurrency: 3 })],
      steps: Array.from({ length: 12 }, (_, i) => step({ id: `g${i}`, capability: 'tagged', resource: 'gpu', args: { log: lit(log), ms: lit(600) } })),
    });
    const file = writePlan(dir, p);
    await startWorkers(3, dir, ['--slots', '4', '--resources', 'gpu']);
    const r = await orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-gpu'], dir).done;
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines(log);
    const spans: Span[] = [];
    for (const s of lines.filter((l) => l.phase === 'start')) {
      const end = lines.find((l) => l.phase === 'end' && l.step === s.step)!;
      spans.push({ start: s.t, end: end.t, who: s.step });
    }
    expect(spans).toHaveLength(12);
    expect(maxOverlap(spans)).toBe(3);
  }, 120_000);

  it('kill -9 of a worker running a step: the step completes on another worker as a new attempt (attempt_lost names the dead worker), no completed step runs again', async () => {
    const dir = project();
    const log = join(dir, 'kill.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [
        step({ id: 'a', capability: 'tagged', args: { log: lit(log), value: lit(1) } }),
        step({ id: 'slow', capability: 'tagged', deps: ['a'], args: { log: lit(log), value: out('a', 'value'), ms: lit(3000) } }),
        step({ id: 'c', capability: 'tagged', deps: ['slow'], args: { log: lit(log), value: out('slow', 'value') } }),
      ],
    });
    const file = writePlan(dir, p);
    const ws = await startWorkers(3, dir, ['--slots', '1']);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-kill'], dir);
    await until(() => readLines(log).some((l) => l.step === 'slow' && l.phase === 'start'), 'the slow step to start');
    const holder = readLines(log).find((l) => l.step === 'slow')!.pid;
    const victim = ws.find((w) => w.pid === holder)!;
    expect(victim, `slow ran in pid ${holder}, not a worker`).toBeDefined();
    victim.child.kill('SIGKILL');

    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsOf(r).c).toEqual({ status: 'completed', output: { value: 8 } });
    const lines = readLines(log);
    const starts = (id: string) => lines.filter((l) => l.step === id && l.phase === 'start');
    const ends = (id: string) => lines.filter((l) => l.step === id && l.phase === 'end');
    // a completed before the kill and never ran again; slow started twice, finished once elsewhere.
    expect(starts('a')).toHaveLength(1);
    expect(starts('c')).toHaveLength(1);
    expect(starts('slow')).toHaveLength(2);
    expect(ends('slow')).toHaveLength(1);
    expect(ends('slow')[0]!.pid).not.toBe(holder);
    // Issue 34: the re-dispatch is a new attempt, and its handler is told so (ctx.attempt).
    expect(starts('slow').map((l) => l.attempt)).toEqual([1, 2]);
    const { rows } = await client.query<{ id: string; state: string }>(`SELECT id, state FROM orch.workers WHERE pid = $1`, [holder]);
    expect(rows.map((x) => x.state)).toEqual(['dead']);
    const attempt = await client.query<{ attempt: number; fence: number; status: string; folded: boolean }>(
      `SELECT attempt, fence::int AS fence, status, folded FROM orch.attempts WHERE run_id = 'remote-kill' AND step_key = 'slow' ORDER BY attempt`,
    );
    expect(attempt.rows).toEqual([
      { attempt: 1, fence: 1, status: 'abandoned', folded: true },
      { attempt: 2, fence: 1, status: 'succeeded', folded: true },
    ]);
    // The journal says which attempt was lost with which worker, between the two starts.
    const events = (
      await client.query<{ type: string; data: string }>(`SELECT type, data FROM orch.events WHERE run_id = 'remote-kill' AND step_id = 'slow' ORDER BY seq`)
    ).rows.map((e) => ({ type: e.type, data: JSON.parse(e.data) as Record<string, unknown> }));
    expect(events.filter((e) => e.type !== 'step_queued').map((e) => [e.type, e.data.attempt])).toEqual([
      ['step_started', 1],
      ['attempt_lost', 1],
      ['step_started', 2],
      ['step_completed', 2],
    ]);
    expect(events.find((e) => e.type === 'attempt_lost')!.data).toEqual({ attempt: 1, worker: rows[0]!.id });
    // … and `orch timeline` shows it.
    const timeline = orch(['timeline', 'remote-kill', '--db', db.url], dir);
    expect(timeline.code, timeline.stderr).toBe(0);
    const lost = timeline.stdout.split('\n').find((l) => l.includes('attempt_lost'));
    expect(lost).toContain(`slow  attempt 1 lost: worker ${rows[0]!.id} died`);
  }, 120_000);
});

describe('handler hashes', () => {
  it('a worker whose copy of the handler differs refuses the step; a worker with the owner\'s copy runs it', async () => {
    const dir = project();
    const other = project();
    writeFileSync(join(other, 'wh.js'), `${HANDLERS}\n// another revision\n`);
    const log = join(dir, 'hash.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [step({ id: 'a', capability: 'tagged', args: { log: lit(log), value: lit(2) } })],
    });
    const file = writePlan(dir, p);
    const [stale] = await startWorkers(1, other, ['--slots', '1']);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-hash'], dir);
    await until(async () => {
      const { rows } = await client.query<{ outcome: string | null }>(`SELECT outcome FROM orch.attempts WHERE run_id = 'remote-hash'`);
      return rows[0]?.outcome?.includes('sha256') === true;
    }, 'the stale worker to refuse');
    expect(readLines(log)).toEqual([]);
    const [good] = await startWorkers(1, dir, ['--slots', '1']);
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsOf(r).a).toEqual({ status: 'completed', output: { value: 4 } });
    expect(readLines(log).map((l) => l.pid)).toEqual([good!.pid, good!.pid]);
    expect(readLines(log).some((l) => l.pid === stale!.pid)).toBe(false);
  }, 120_000);

  it('a run keeps the handler version it started with: the owner\'s file edited mid-run, its next step still goes to a worker with the first version', async () => {
    const dir = project();
    const worker = project();
    const log = join(dir, 'kept.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [
        step({ id: 'a', capability: 'tagged', args: { log: lit(log), value: lit(1), ms: lit(1500) } }),
        step({ id: 'b', capability: 'tagged', deps: ['a'], args: { log: lit(log), value: out('a', 'value') } }),
      ],
    });
    const file = writePlan(dir, p, 'kept.json');
    await startWorkers(1, worker, ['--slots', '1']);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'kept-hash'], dir);
    await until(() => readLines(log).some((l) => l.step === 'a' && l.phase === 'start'), 'step a to start');
    // The owner's checkout is upgraded while the run is in flight; the worker's is not.
    writeFileSync(join(dir, 'wh.js'), `${HANDLERS}\n// the next revision\n`);
    const r = await Promise.race([run.done, sleep(30_000).then(() => null)]);
    if (r === null) run.child.kill('SIGKILL');
    expect(r, 'the run waited for a worker with the edited handler').not.toBeNull();
    expect(r!.code, r!.stderr).toBe(0);
    expect(stepsOf(r!)).toEqual({ a: { status: 'completed', output: { value: 2 } }, b: { status: 'completed', output: { value: 4 } } });
    const recorded = await client.query<{ capability: string; hash: string }>(`SELECT capability, hash FROM orch.run_handlers WHERE run_id = 'kept-hash'`);
    expect(recorded.rows).toEqual([{ capability: 'tagged', hash: createHash('sha256').update(HANDLERS).digest('hex') }]);
    // Pruned with its run: what workers ran for it and the handler versions it was run with.
    await sleep(5);
    const pruned = orch(['runs', 'prune', '--older-than', '1ms', '--db', db.url], dir);
    expect(pruned.code, pruned.stderr).toBe(0);
    const left = await client.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM orch.attempts WHERE run_id = 'kept-hash') + (SELECT count(*) FROM orch.run_handlers WHERE run_id = 'kept-hash') AS n`,
    );
    expect(Number(left.rows[0]!.n)).toBe(0);
  }, 120_000);
});

describe('the owner of a --remote run', () => {
  it('killed with SIGKILL mid-run: orch resume --remote completes the run on the workers; a step a worker finished after the kill — of the run or of a sub-plan — is adopted, not run again', async () => {
    const dir = project();
    const log = join(dir, 'owner.log');
    // Not idempotent: were its recorded outcome not adopted, resume would fail it as failed-unknown.
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' }, idempotent: false });
    const child = plan({
      name: 'child',
      capabilities: [cap],
      steps: [step({ id: 'inner', capability: 'tagged', args: { log: lit(log), value: lit(3), ms: lit(1500) } })],
      over: { output: out('inner', 'value') },
    });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [
        step({ id: 'a', capability: 'tagged', args: { log: lit(log), value: lit(1) } }),
        step({ id: 'slow', capability: 'tagged', deps: ['a'], args: { log: lit(log), value: out('a', 'value'), ms: lit(1500) } }),
        step({ id: 'sub', capability: null, kind: null, deps: ['a'], action: { type: 'run', plan: 'child', args: {} } }),
      ],
      over: { subplans: { child } },
    });
    const file = writePlan(dir, p);
    // The test's `orch resume` takes the run over, not a worker.
    const ws = await startWorkers(2, dir, ['--slots', '2', '--no-take-over']);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-owner'], dir);
    const started = (id: string) => readLines(log).some((l) => l.step === id && l.phase === 'start');
    await until(() => started('slow') && started('inner'), 'the slow step and the sub-plan step to start');
    run.child.kill('SIGKILL');
    await run.done;
    // The worker finishes the steps and records their outcomes; nobody folds them.
    const attemptOf = async (runId = 'remote-owner', key = 'slow') =>
      (await client.query<{ status: string; folded: boolean }>(`SELECT status, folded FROM orch.attempts WHERE run_id = $1 AND step_key = $2`, [runId, key]))
        .rows[0];
    const innerOf = () => attemptOf('remote-owner/sub', 'inner');
    await until(async () => (await attemptOf())?.status === 'succeeded' && (await innerOf())?.status === 'succeeded', 'the worker to record the outcomes of the steps in flight');
    expect((await attemptOf())!.folded).toBe(false);
    expect((await innerOf())!.folded).toBe(false);
    // The owner's heartbeat must be 10 s old before another process may take the run.
    let resumed: CliResult | null = null;
    await until(async () => {
      resumed = orch(['resume', 'remote-owner', '--db', db.url, '--remote', '--json'], dir);
      return !/is running in process/.test(resumed.stderr);
    }, 'the run to be resumable', 60_000);
    const r = resumed as unknown as CliResult;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsOf(r).slow).toEqual({ status: 'completed', output: { value: 4 } });
    const lines = readLines(log);
    expect(lines.filter((l) => l.step === 'a' && l.phase === 'start')).toHaveLength(1);
    // The new owner adopted the outcome the worker recorded: the handler ran once, and the row is folded.
    expect(lines.filter((l) => l.step === 'slow' && l.phase === 'start')).toHaveLength(1);
    expect(await attemptOf()).toEqual({ status: 'succeeded', folded: true });
    // … and the outcome of the sub-plan's step (before, a sub-plan's step in flight was failed as unknown).
    expect(stepsOf(r).sub).toEqual({ status: 'completed', output: 6 });
    expect(lines.filter((l) => l.step === 'inner' && l.phase === 'start')).toHaveLength(1);
    expect(await innerOf()).toEqual({ status: 'succeeded', folded: true });
    const workerPids = new Set(ws.map((w) => w.pid));
    for (const l of lines) expect(workerPids.has(l.pid), `step ${l.step} ran in pid ${l.pid}`).toBe(true);
  }, 120_000);

  it('killed while a worker still runs a step: orch resume --take-over-after 3s waits on that attempt instead of failing or re-running it', async () => {
    const dir = project();
    const log = join(dir, 'attach.log');
    const file = slowThenAfter(dir, log, 'attach', { value: 3, ms: 8000 });
    await startWorkers(1, dir, ['--slots', '2', '--no-take-over']);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'attach'], dir);
    await until(() => readLines(log).some((l) => l.step === 'slow' && l.phase === 'start'), 'the slow step to start');
    run.child.kill('SIGKILL');
    await run.done;
    let acceptedAt = 0;
    let resumed: CliResult | null = null;
    await until(async () => {
      acceptedAt = Date.now();
      resumed = (await orchAsync(['resume', 'attach', '--db', db.url, '--remote', '--json', '--take-over-after', '3s'], dir).done) as CliResult;
      return !/is running in process/.test(resumed.stderr);
    }, 'the run to be resumable', 60_000);
    const r = resumed as unknown as CliResult;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsOf(r)).toEqual({ slow: { status: 'completed', output: { value: 6 } }, after: { status: 'completed', output: { value: 12 } } });
    const lines = readLines(log);
    // Taken over while the step still ran (about 3 s into its 8), and its one execution waited on.
    const slowEnd = lines.find((l) => l.step === 'slow' && l.phase === 'end')!;
    const afterStart = lines.find((l) => l.step === 'after' && l.phase === 'start')!;
    expect(slowEnd.t).toBeGreaterThan(acceptedAt);
    expect(lines.filter((l) => l.step === 'slow' && l.phase === 'start')).toHaveLength(1);
    expect(afterStart.t).toBeGreaterThanOrEqual(slowEnd.t);
    const rows = await client.query<{ attempt: number; status: string; folded: boolean }>(
      `SELECT attempt, status, folded FROM orch.attempts WHERE run_id = 'attach' AND step_key = 'slow' ORDER BY attempt`,
    );
    expect(rows.rows).toEqual([{ attempt: 1, status: 'succeeded', folded: true }]);
  }, 120_000);

  it('killed with SIGKILL and resumed by nobody: a live worker takes the run over and completes it, adopting the step in flight', async () => {
    const dir = project();
    const log = join(dir, 'orphan.log');
    const file = slowThenAfter(dir, log, 'orphan', { value: 5, ms: 1500 });
    // One worker at the default age (10 s), one told 3 s: that one takes the run, well before 10 s.
    const ws = [...(await startWorkers(1, dir, ['--slots', '2'])), ...(await startWorkers(1, dir, ['--slots', '2', '--take-over-after', '3s']))];
    const stderr: string[] = ws.map(() => '');
    let tookOverAt = 0;
    ws.forEach((w, i) =>
      w.child.stderr!.on('data', (d) => {
        stderr[i] += String(d);
        if (!tookOverAt && stderr[i]!.includes('took over run orphan')) tookOverAt = Date.now();
      }),
    );
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'orphan'], dir);
    await until(() => readLines(log).some((l) => l.step === 'slow' && l.phase === 'start'), 'the slow step to start');
    run.child.kill('SIGKILL');
    const killedAt = Date.now();
    await run.done;
    // Stale after 3 s for the second worker; workers look every 2 s.
    await until(async () => (await client.query<{ status: string }>(`SELECT status FROM orch.runs WHERE id = 'orphan'`)).rows[0]?.status === 'completed', 'a worker to complete the run', 60_000);
    expect(stderr.filter((e) => e.includes('took over run orphan'))).toHaveLength(1);
    expect(stderr[1]).toContain('took over run orphan');
    // At the default the run is free 9–10 s after the kill (the last heartbeat came up to 1 s before).
    expect(tookOverAt - killedAt).toBeLessThan(8_000);
    const lines = readLines(log);
    expect(lines.filter((l) => l.phase === 'start').map((l) => l.step)).toEqual(['slow', 'after']);
    const completed = await client.query<{ step_id: string }>(`SELECT step_id FROM orch.events WHERE run_id = 'orphan' AND type = 'step_completed' ORDER BY seq`);
    expect(completed.rows.map((r) => r.step_id)).toEqual(['slow', 'after']);
  }, 120_000);

  it('--take-over-after refuses an age under 3 s (resume, serve, worker)', () => {
    for (const args of [['resume', 'nobody'], ['serve'], ['worker', '--db', db.url]]) {
      const r = orch([...args, '--take-over-after', '1s'], tempDir());
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--take-over-after.*at least 3s/);
    }
  });

  it('orch worker refuses a --project folder that does not exist (exit 2) rather than registering', () => {
    const r = orch(['worker', '--db', db.url, '--project', join(tempDir(), 'missing')], tempDir());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--project .*missing: no such folder/);
  });
});

describe('a worker presumed dead', () => {
  it('paused past 5 s (SIGSTOP): its step completes elsewhere, its late result is never recorded, it registers again under a new id and takes later work', async () => {
    const dir = project();
    const log = join(dir, 'stop.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [step({ id: 'slow', capability: 'tagged', args: { log: lit(log), value: lit(5), ms: lit(2000) } })],
    });
    const file = writePlan(dir, p);
    const ws = await startWorkers(2, dir, ['--slots', '1']);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-stop'], dir);
    await until(() => readLines(log).some((l) => l.phase === 'start'), 'the step to start');
    const holder = ws.find((w) => w.pid === readLines(log)[0]!.pid)!;
    holder.child.kill('SIGSTOP');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const { rows } = await client.query<{ state: string }>(`SELECT state FROM orch.workers WHERE pid = $1`, [holder.pid]);
    expect(rows.map((x) => x.state)).toEqual(['dead']);
    let stderr = '';
    holder.child.stderr!.on('data', (d) => (stderr += String(d)));
    holder.child.kill('SIGCONT');
    // Woken, it either sees its own silence first — past the cut-off, it aborts the handler and
    // gives the attempt back unreported (runtime/cluster/heartbeat.ts) — or the handler finishes
    // first and its result is refused by the fence. Either way nothing of it is recorded.
    await until(
      () => /refused: the result of remote-stop\/slow#1|no heartbeat answered for [\d.]+ s \(unreachable database\); 1 running handler aborted/.test(stderr) && /registered again as/.test(stderr),
      'the woken worker to register again',
    );
    const [, oldId, newId] = /orch worker (\S+) was declared dead .*: registered again as (\S+)/.exec(stderr)!;
    expect(newId).not.toBe(oldId);
    expect(holder.child.exitCode).toBeNull();
    const registered = await client.query<{ id: string; state: string }>(`SELECT id, state FROM orch.workers WHERE pid = $1 ORDER BY started_at`, [holder.pid]);
    expect(registered.rows).toEqual([
      { id: oldId, state: 'dead' },
      { id: newId, state: 'alive' },
    ]);
    // The other worker gone, the woken one takes the next run's step, under its new id.
    const other = ws.find((w) => w !== holder)!;
    other.child.kill('SIGTERM');
    expect((await other.done).code).toBe(0);
    const again = await orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'remote-again'], dir).done;
    expect(again.code, again.stderr).toBe(0);
    expect(readLines(log).filter((l) => l.run === 'remote-again').map((l) => l.pid)).toEqual([holder.pid, holder.pid]);
    const later = await client.query<{ worker: string; status: string }>(`SELECT worker, status FROM orch.attempts WHERE run_id = 'remote-again'`);
    expect(later.rows).toEqual([{ worker: newId, status: 'succeeded' }]);
    const attempt = await client.query<{ fence: number; status: string; worker: string }>(
      `SELECT fence::int AS fence, status, worker FROM orch.attempts WHERE run_id = 'remote-stop'`,
    );
    // The stopped worker's attempt was lost with it; the step completed as attempt 2 elsewhere.
    expect(attempt.rows).toHaveLength(2);
    expect(attempt.rows.map((a) => a.status).sort()).toEqual(['abandoned', 'succeeded']);
    const done = attempt.rows.find((a) => a.status === 'succeeded')!;
    expect(done.fence).toBe(1);
    expect(done.worker).not.toMatch(new RegExp(`:${holder.pid}:`));
  }, 120_000);
});

describe('where `orch run` on Postgres puts the steps', () => {
  it('on the workers when one is live (the default), here with --local, and here — saying so — when none is live', async () => {
    const dir = project();
    const log = join(dir, 'where.log');
    const cap = local('tagged', 'tagged', { handler: { module: './wh.js', export: 'tagged' } });
    const p = plan({
      base_dir: '.',
      capabilities: [cap],
      steps: [
        step({ id: 'a', capability: 'tagged', args: { log: lit(log), value: lit(1) } }),
        step({ id: 'b', capability: 'tagged', deps: ['a'], args: { log: lit(log), value: out('a', 'value') } }),
      ],
    });
    const file = writePlan(dir, p);
    const pidsOf = (run: string) => new Set(readLines(log).filter((l) => l.run === run).map((l) => l.pid));
    // Workers of the tests before have stopped or gone silent.
    await until(async () => {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.workers WHERE state = 'alive' AND heartbeat_at > now() - interval '5 seconds'`);
      return rows[0]!.n === 0;
    }, 'no live worker');

    const alone = orchAsync(['run', file, '--db', db.url, '--json', '--run-id', 'where-none'], dir);
    const ra = await alone.done;
    expect(ra.code, ra.stderr).toBe(0);
    expect(ra.stderr).toMatch(/no live `orch worker` on postgres:\/\/\S+: the steps run in this process/);
    expect(pidsOf('where-none')).toEqual(new Set([alone.child.pid]));

    const [w] = await startWorkers(1, dir, ['--slots', '2']);
    const byDefault = orchAsync(['run', file, '--db', db.url, '--json', '--run-id', 'where-default'], dir);
    const rd = await byDefault.done;
    expect(rd.code, rd.stderr).toBe(0);
    expect(rd.stderr).not.toMatch(/no live/);
    expect(stepsOf(rd).b).toEqual({ status: 'completed', output: { value: 4 } });
    expect(pidsOf('where-default')).toEqual(new Set([w!.pid]));

    // A step bound to a resource no live worker takes (`--resources`) would wait: here instead.
    const onGpu = writePlan(
      dir,
      plan({
        base_dir: '.',
        capabilities: [cap],
        resources: [resource('gpu', { concurrency: 1 })],
        steps: [step({ id: 'g', capability: 'tagged', resource: 'gpu', args: { log: lit(log), value: lit(1) } })],
      }),
      'gpu.json',
    );
    const gpu = orchAsync(['run', onGpu, '--db', db.url, '--json', '--run-id', 'where-gpu'], dir);
    const rg = await gpu.done;
    expect(rg.code, rg.stderr).toBe(0);
    expect(rg.stderr).toMatch(/no live `orch worker` on \S+ takes resource `gpu`: the steps run in this process \(start `orch worker --db …` with `--resources gpu`/);
    expect(pidsOf('where-gpu')).toEqual(new Set([gpu.child.pid]));

    const here = orchAsync(['run', file, '--db', db.url, '--json', '--local', '--run-id', 'where-local'], dir);
    const rl = await here.done;
    expect(rl.code, rl.stderr).toBe(0);
    expect(pidsOf('where-local')).toEqual(new Set([here.child.pid]));

    const both = orch(['run', file, '--db', db.url, '--local', '--remote'], dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--local and --remote exclude each other/);
  }, 120_000);
});

describe('resources that come and go (§9.4 `available when`) on orch workers', () => {
  it('the owner decides at dispatch: a step on a fallback-less resource whose signal is unknown waits and runs on a worker once it is set; one with a feasible fallback is rebound (step_rebound)', async () => {
    const dir = project();
    const log = join(dir, 'avail.log');
    writeFileSync(
      join(dir, 'avail.orch'),
      `
context {
  online: bool  max_age 1h
  fan_on: bool  max_age 1h
}
capability warm { kind tool  input { log: string, value: int }  output { value: int }  handler "./wh.js#tagged"  requires heat }
capability chill { kind tool  input { log: string, value: int }  output { value: int }  handler "./wh.js#tagged"  requires cold }
resource heater { kind local_device  provides heat  available when context.online }
resource fan { kind local_device  provides cold  available when context.fan_on }
resource spare_fan { kind edge_gateway  provides cold  cost 0.01usd }
plan avail {
  step a = warm(log: ${JSON.stringify(log)}, value: 1)
  step b = chill(log: ${JSON.stringify(log)}, value: 2)
}
`,
    );
    const [w] = await startWorkers(1, dir, ['--resources', 'heater,fan,spare_fan', '--slots', '2']);
    const owner = orchAsync(['run', 'avail.orch', '--db', db.url, '--remote', '--json', '--run-id', 'avail'], dir);
    const lines = () => readLines(log).filter((l) => l.run === 'avail');
    // `b`'s own resource is unknown too, but `spare_fan` is feasible: rebound, and run on the worker.
    await until(() => lines().some((l) => l.step === 'b' && l.phase === 'end'), 'b done on the spare fan');
    const events = async (type: string) =>
      (await client.query<{ step_id: string; data: string }>('SELECT step_id, data FROM orch.events WHERE run_id = $1 AND type = $2 ORDER BY seq', ['avail', type])).rows.map((r) => ({
        step_id: r.step_id,
        data: JSON.parse(r.data) as Record<string, unknown>,
      }));
    expect((await events('step_rebound')).map((r) => ({ step: r.step_id, from: r.data.from, to: r.data.to }))).toEqual([{ step: 'b', from: 'fan', to: 'spare_fan' }]);
    // `a` has no other resource: it waits, and no process has started it.
    expect(lines().filter((l) => l.step === 'a')).toEqual([]);
    const signalled = orch(['signal', 'avail', '--context', '{"online": true}', '--db', db.url], dir);
    expect(signalled.code, signalled.stderr).toBe(0);
    const r = await owner.done;
    expect(r.code, r.stderr).toBe(0);
    expect(stepsOf(r)).toMatchObject({ a: { status: 'completed', output: { value: 2 } }, b: { status: 'completed', output: { value: 4 } } });
    expect(new Set(lines().map((l) => l.pid))).toEqual(new Set([w!.pid]));
    // Waiting is not rebinding: `a` kept its resource.
    expect((await events('step_rebound')).map((r) => r.step_id)).toEqual(['b']);
  });
});
