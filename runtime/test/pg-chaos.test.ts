/**
 * Chaos on the cluster path (LANGUAGE.md §7.5): a 500-step plan on three `orch worker` processes
 * while one of them, picked at random, is killed with SIGKILL every second and replaced — 20 times.
 * The run completes; every step completed once in the journal; the journal's sequence has no
 * gap; and no step ran again after its completion was journaled (handlers log each execution).
 * Then the owner of a 400-step run of non-idempotent steps is killed 12 times (each kill the same
 * path; CI's 25 minutes are shared by the whole suite) and each time a
 * new `orch resume --take-over-after` takes the run over: every step runs exactly once.
 * Real processes through the CLI, a throwaway Postgres. The cluster's clocks (heartbeats, worker
 * death, take-over floor) are shortened (ORCH_CLUSTER_TIME_SCALE, ORCH_CLUSTER_TIMING,
 * runtime/cluster/timing.ts): the same code paths without waiting out real leases. The victims
 * are picked by a seeded generator; a failure prints the seed (ORCH_TEST_SEED replays it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_TIME_SCALE_ENV, CLUSTER_TIMING_ENV } from '../cluster/timing.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { seededRandom } from '../../test/support/seed.js';
import { waitUntil } from '../../test/support/wait.js';
import { BIN, local, orchAsync, projectDir, writePlan, type CliResult } from './helpers.js';
import { layeredSteps, lit, plan } from './ir-builder.js';

const WIDTH = 50;
const LAYERS = 10;
const KILLS = 20;
const KILL_EVERY_MS = 1000;
/**
 * How long each step of the worker-kill run sleeps: 500 of them on 6 slots take at least 25 s from
 * the first step's start, longer than the 20 kills a second apart that begin then, so every kill
 * lands while the run is in flight.
 */
const STEP_MS = 300;
/** The run takes about 30 s; with no stall it is done long before this. */
const STALL_AFTER_MS = 150_000;
/**
 * The cluster's clocks in the worker-kill test, as a fraction of the product's: heartbeats every
 * 400 ms, a worker dead after 2 s (its steps are idempotent: a live worker wrongly presumed dead
 * on a loaded machine only runs a step twice, which the test allows).
 */
const SCALE = 0.4;
const FAST = { [CLUSTER_TIME_SCALE_ENV]: String(SCALE) };
/**
 * The owner-kill test's steps are not idempotent, so its workers keep the product's 5 s before
 * they count as dead; only the owner's heartbeat (200 ms, the owner's control poll) and the
 * take-over floor (800 ms, four missed beats) are shortened: the take-overs are what it waits on.
 * Each owner is taken over only after it was killed, so no live owner can be taken for a dead one.
 */
const OWNER_TIMING = { heartbeatMs: 200, minTakeOverMs: 800 };
/**
 * An `orch resume` process takes longer than this to start and reach the run's lease here, so it
 * is spawned this long before the dead owner's heartbeat reaches the floor: its start-up overlaps
 * the wait. One that still comes too early is refused, and spawned again once the floor passed.
 */
const RESUME_HEAD_START_MS = 500;
const OWNERS_FAST = { [CLUSTER_TIMING_ENV]: JSON.stringify(OWNER_TIMING) };

let db: MigratedPostgres;
let sql: pg.Client;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  db = await migratedPostgres();
  sql = db.client;
}, 120_000);
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await db?.stop();
});

const HANDLER = `
import { appendFileSync } from 'node:fs';
export async function work(input, ctx) {
  appendFileSync(input.log, JSON.stringify({ step: ctx.stepId, t: Date.now() }) + '\\n');
  await new Promise((r) => setTimeout(r, input.ms));
  return { ok: true };
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A layered plan of `work` steps, each logging its execution to `log`, written into `dir` with the handler. */
function workPlan(dir: string, log: string, o: { readonly layers: number; readonly width: number; readonly ms: number; readonly idempotent: boolean; readonly name: string }): string {
  writeFileSync(join(dir, 'chaos.js'), HANDLER);
  const steps = layeredSteps(o.layers, o.width, { capability: 'work', args: { log: lit(log), ms: lit(o.ms) } });
  const work = local('work', 'work', { handler: { module: './chaos.js', export: 'work' }, idempotent: o.idempotent });
  return writePlan(dir, plan({ base_dir: '.', capabilities: [work], steps }), o.name);
}

function startWorker(dir: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = FAST): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'worker', '--db', db.url, '--project', dir, '--slots', '2', ...extra], { cwd: dir, stdio: 'ignore', env: { ...process.env, ...env } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

describe(`a ${WIDTH * LAYERS}-step run on three workers, one killed with SIGKILL every second, ${KILLS} times`, () => {
  it('completes; each step completed once, no journal event lost, no completed step run again', async () => {
    const dir = projectDir();
    const log = join(dir, 'executions.log');
    const file = workPlan(dir, log, { layers: LAYERS, width: WIDTH, ms: STEP_MS, idempotent: true, name: 'plan.json' });
    let workers = [startWorker(dir), startWorker(dir), startWorker(dir)];
    const pids = () => workers.map((w) => w.pid!);
    const live = async () =>
      (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.workers WHERE state = 'alive' AND pid = ANY($1)`, [pids()])).rows[0]!.n;
    for (let t = Date.now(); (await live()) < 3; await sleep(100)) if (Date.now() - t > 30_000) throw new Error('workers did not register');

    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'chaos'], dir, FAST);
    const random = seededRandom();
    let finished = false;
    void run.done.then(() => (finished = true));
    // The kills start with the first handler, not with the `orch run` process: on a loaded machine
    // its start (compile, connect, first dispatch) took 8–18 s, so kills timed from the spawn
    // could all land before any step was in flight.
    await waitUntil(() => finished || existsSync(log), 'the first step to start', 120_000);
    let kills = 0;
    while (!finished && kills < KILLS) {
      await sleep(KILL_EVERY_MS);
      if (finished) break;
      const victim = workers[Math.floor(random() * workers.length)]!;
      victim.kill('SIGKILL');
      kills++;
      workers = [...workers.filter((w) => w !== victim), startWorker(dir)];
    }
    // A run that stalls fails here with what it waits for, rather than at the test's timeout.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), STALL_AFTER_MS)));
    const r = await Promise.race([run.done, stalled]);
    clearTimeout(timer);
    if (r === null) {
      run.child.kill('SIGKILL');
      const waiting = await sql.query(
        `SELECT a.step_key, a.attempt, a.fence, a.status, a.worker, a.dispatched_at, a.started_at
           FROM orch.attempts a
          WHERE a.run_id = 'chaos' AND NOT a.folded`,
      );
      throw new Error(`the run did not finish in ${STALL_AFTER_MS / 1000} s; attempts not folded: ${JSON.stringify(waiting.rows)}`);
    }
    expect(r.code, r.stderr).toBe(0);
    expect(kills).toBe(KILLS);
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('completed');

    const events = (
      await sql.query<{ seq: number; type: string; step_id: string | null; ts: number }>(
        `SELECT seq, type, step_id, ts::float8 AS ts FROM orch.events WHERE run_id = 'chaos' ORDER BY seq`,
      )
    ).rows;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe('execution_completed');
    const completedAt = new Map<string, number>();
    for (const e of events.filter((x) => x.type === 'step_completed')) {
      expect(completedAt.has(e.step_id!), `${e.step_id} completed twice`).toBe(false);
      completedAt.set(e.step_id!, e.ts);
    }
    expect(completedAt.size).toBe(WIDTH * LAYERS);

    const executions = existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { step: string; t: number })
      : [];
    // Every step ran; one in flight on a killed worker ran again, but none after its completion.
    expect(new Set(executions.map((x) => x.step)).size).toBe(WIDTH * LAYERS);
    for (const x of executions) expect(x.t, `${x.step} ran after its completion was journaled`).toBeLessThan(completedAt.get(x.step)!);
    // The kills did hit steps in flight: some ran more than once.
    expect(executions.length).toBeGreaterThan(WIDTH * LAYERS);
  }, 240_000);

  afterAll(async () => {
    // Its workers sweep the database with their short death sentence: the owner test's workers,
    // on the product's, must not be swept by them.
    await Promise.all([...children].map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
  });
});

const OWNER_KILLS = 12;
const OWNER_LAYERS = 20;
const OWNER_WIDTH = 20;
const OWNER_STEPS = OWNER_LAYERS * OWNER_WIDTH;

describe(`a ${OWNER_STEPS}-step run on three workers whose owner is killed with SIGKILL ${OWNER_KILLS} times`, () => {
  it('completes after each take-over; every step ran once, though none is idempotent', async () => {
    const dir = projectDir();
    const log = join(dir, 'owner-executions.log');
    // Not idempotent: a step in flight at a kill completes only if the next owner adopts the
    // outcome its worker recorded; were it run again or failed as unknown, this test would see it.
    const file = workPlan(dir, log, { layers: OWNER_LAYERS, width: OWNER_WIDTH, ms: 200, idempotent: false, name: 'owner-chaos.json' });
    // The test's own `orch resume` takes each run over, not a worker.
    for (let i = 0; i < 3; i++) startWorker(dir, ['--no-take-over'], OWNERS_FAST);
    // Progress is what the live owner journals: a dead one writes nothing, its workers only rows.
    const completedSteps = async () =>
      (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.events WHERE run_id = 'owners' AND type = 'step_completed'`)).rows[0]?.n ?? 0;
    const refused = (r: CliResult) => /is running in process|is being run by another process/.test(r.stderr);
    // The dead owner's heartbeat by the database's clock (the one the take-over reads).
    const silentFor = async () =>
      (
        await sql.query<{ ms: number }>(
          `SELECT ((extract(epoch from clock_timestamp()) * 1000)::bigint - heartbeat_at)::float8 AS ms FROM orch.runs WHERE id = 'owners'`,
        )
      ).rows[0]?.ms ?? 0;
    const takeOverAfter = `${OWNER_TIMING.minTakeOverMs}ms`;
    const silentAtLeast = (ms: number) => waitUntil(async () => (await silentFor()) >= ms, 'the dead owner to go silent long enough', 60_000);
    const takeOverPossible = () => silentAtLeast(OWNER_TIMING.minTakeOverMs);
    let kills = 0;
    let killedAt = Date.now();
    let owner = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'owners'], dir, OWNERS_FAST);
    let last: CliResult;
    for (;;) {
      // Let this owner journal a few completions, then kill it — unless it ended first: finished,
      // or refused because the dead owner's heartbeat was not yet old enough.
      const from = await completedSteps();
      const exit: { result: CliResult | null } = { result: null };
      void owner.done.then((r) => (exit.result = r));
      while (exit.result === null && (kills === OWNER_KILLS || (await completedSteps()) < from + 5)) await sleep(50);
      if (exit.result === null) {
        owner.child.kill('SIGKILL');
        await owner.done;
        kills++;
        killedAt = Date.now();
        await silentAtLeast(OWNER_TIMING.minTakeOverMs - RESUME_HEAD_START_MS);
      } else if (!refused(exit.result)) {
        last = exit.result;
        break;
      } else {
        if (Date.now() - killedAt > 60_000) throw new Error(`the run could not be resumed: ${exit.result.stderr}`);
        await takeOverPossible();
      }
      owner = orchAsync(['resume', 'owners', '--db', db.url, '--remote', '--json', '--take-over-after', takeOverAfter], dir, OWNERS_FAST);
    }
    if (last.code !== 0) {
      // What failed the run, from its journal: a failure says more than the last exit code.
      const why = await sql.query(`SELECT seq, type, step_id, data FROM orch.events WHERE run_id = 'owners' AND type IN ('step_failed', 'execution_failed') ORDER BY seq LIMIT 5`);
      expect.fail(`${last.stderr}\n${JSON.stringify(why.rows)}`);
    }
    expect(kills).toBe(OWNER_KILLS);
    expect((JSON.parse(last.stdout) as { status: string }).status).toBe('completed');

    const events = (
      await sql.query<{ seq: number; type: string; step_id: string | null; data: string }>(
        `SELECT seq, type, step_id, data FROM orch.events WHERE run_id = 'owners' ORDER BY seq`,
      )
    ).rows;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const completed = events.filter((e) => e.type === 'step_completed').map((e) => e.step_id);
    expect(new Set(completed).size).toBe(completed.length);
    expect(completed).toHaveLength(OWNER_STEPS);
    const runs = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { step: string }).step);
    expect(runs.length, 'a step ran more than once').toBe(OWNER_STEPS);
    expect(new Set(runs).size).toBe(OWNER_STEPS);
    // The kills did catch steps in flight: their next attempt received the recorded outcome.
    const adopted = events.filter((e) => e.type === 'step_started' && (JSON.parse(e.data) as { attempt?: number }).attempt === 2);
    expect(adopted.length).toBeGreaterThan(0);
  }, 240_000);
});
