/**
 * The run commands on a Postgres journal through the CLI, each command a process other than the
 * run's, as on separate machines: run then runs / timeline / export from another process; pause,
 * resume and cancel of a run executing elsewhere; an approval answered by `orch signal`;
 * `orch cancel --step`, `orch retry`, `orch runs prune`; `orch run` killed with SIGKILL and
 * `orch resume` completing it without running a completed step again; two `orch run` processes
 * sharing a `concurrency 1` resource. The runs that others reach, kill or race, the first run and
 * the resume after the kill are real processes (bin/orch.js → dist/); the commands sent to them,
 * and those over a journal no process holds, run the same CLI core in this process (`runCli`,
 * test/support/cli-in-process.ts). A throwaway Postgres, never skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_TIMING_ENV } from '../cluster/timing.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { runCli as cli } from '../../test/support/cli-in-process.js';
import { local, orch, orchAsync, projectDir, writePlan } from './helpers.js';
import { lit, plan, resource, step } from './ir-builder.js';

let db: MigratedPostgres;
let client: pg.Client;

beforeAll(async () => {
  db = await migratedPostgres();
  client = db.client;
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventTypes(runId: string): Promise<string[]> {
  const { rows } = await client.query<{ type: string }>('SELECT type FROM orch.events WHERE run_id = $1 ORDER BY seq', [runId]);
  return rows.map((r) => r.type);
}

async function until(check: () => Promise<boolean>, what: string, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms; // CLI start-up can be slow on a loaded machine
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** How long a run's owner has been silent, by the database's clock (the one a take-over reads). */
async function silentFor(runId: string): Promise<number> {
  const { rows } = await client.query<{ ms: number }>(
    `SELECT ((extract(epoch from clock_timestamp()) * 1000)::bigint - heartbeat_at)::float8 AS ms FROM orch.runs WHERE id = $1`,
    [runId],
  );
  return rows[0]?.ms ?? 0;
}

/** The crash test's cluster clocks: the killed owner's run is free after 1 s, not 10 s. */
const CRASH_TIMING = { heartbeatMs: 200, ownerStaleMs: 1000 };

const logLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('orch on a Postgres journal', () => {
  it('orch run --db URL, then runs, runs --stats, timeline and runs export from other processes ($ORCH_DB)', async () => {
    const project = projectDir();
    const p = plan({
      base_dir: '.',
      capabilities: [local('work', 'work'), local('double', 'double')],
      steps: [
        step({ id: 'a', capability: 'work', args: { value: lit(4) } }),
        step({ id: 'b', capability: 'double', deps: ['a'], args: { value: { op: 'get', object: { op: 'get', object: { op: 'step', id: 'a' }, key: 'output' }, key: 'value' } } }),
      ],
    });
    const file = writePlan(project, p);
    const r = orch(['run', file, '--db', db.url, '--run-id', 'pg-cli-1', '--json', '--workers', '1'], project);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('completed');
    // No SQLite journal was created beside the project.
    expect(existsSync(join(project, '.orch', 'runs.db'))).toBe(false);

    const env = { ORCH_DB: db.url };
    const runs = await cli(['runs', '--json', '--stats'], project, env);
    expect(runs.code, runs.stderr).toBe(0);
    const listed = JSON.parse(runs.stdout) as { runs: { runId: string; status: string; events: number }[]; stats: { runs: number; finishedSteps: number } };
    expect(listed.runs.find((x) => x.runId === 'pg-cli-1')).toMatchObject({ status: 'completed' });
    expect(listed.stats.finishedSteps).toBeGreaterThanOrEqual(2);
    expect((await cli(['runs'], project, env)).stdout).toMatch(/pg-cli-1\s+test_plan\s+completed/);

    const timeline = await cli(['timeline', 'pg-cli-1', '--json'], project, env);
    expect(timeline.code, timeline.stderr).toBe(0);
    const types = (JSON.parse(timeline.stdout) as { events: { type: string }[] }).events.map((e) => e.type);
    expect(types[0]).toBe('plan_created');
    expect(types.at(-1)).toBe('execution_completed');
    expect(types.filter((t) => t === 'step_completed')).toHaveLength(2);

    const exported = await cli(['runs', 'export', 'pg-cli-1'], project, env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ run: { runId: 'pg-cli-1', status: 'completed' }, steps: { b: { status: 'completed', output: { value: 8 } } } });

    const missing = await cli(['timeline', 'nope', '--db', db.url], project);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no run nope in postgres:\/\//);
  });

  it('an unreachable database is one line and exit 2, naming it without its password', async () => {
    const project = projectDir();
    const url = 'postgres://orch:s3cret-pw@127.0.0.1:1/orch';
    for (const args of [['runs'], ['timeline', 'x'], ['cancel', 'x'], ['run', 'plan.json'], ['worker'], ['workers'], ['db', 'migrate']]) {
      if (args[0] === 'run') writePlan(project, plan({ base_dir: '.', steps: [] }));
      const r = await cli([...args, '--db', url], project);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toContain('s3cret');
      expect(r.stderr, args.join(' ')).toContain('postgres://orch:***@127.0.0.1:1/orch');
    }
  });

  it('pause, resume and cancel reach a run executing in another process', async () => {
    const project = projectDir();
    const steps = Array.from({ length: 100 }, (_, i) => step({ id: `s${i}`, capability: 'work', deps: i ? [`s${i - 1}`] : [], args: { ms: lit(100) } }));
    const file = writePlan(project, plan({ base_dir: '.', capabilities: [local('work', 'work')], steps }));
    const env = { ORCH_DB: db.url };
    const { done } = orchAsync(['run', file, '--run-id', 'pg-ctl-1', '--json', '--workers', '1'], project, env);
    await until(async () => (await eventTypes('pg-ctl-1')).includes('step_completed'), 'the first step');
    const paused = await cli(['pause', 'pg-ctl-1'], project, env);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/pause requested for pg-ctl-1 \(running in process \d+\)/);
    await until(async () => (await eventTypes('pg-ctl-1')).includes('execution_paused'), 'execution_paused');
    const startedAtPause = (await eventTypes('pg-ctl-1')).filter((t) => t === 'step_started').length;
    await sleep(400);
    expect((await eventTypes('pg-ctl-1')).filter((t) => t === 'step_started').length).toBeLessThanOrEqual(startedAtPause + 1);
    const resumed = await cli(['resume', 'pg-ctl-1'], project, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    await until(async () => (await eventTypes('pg-ctl-1')).includes('execution_resumed'), 'execution_resumed');
    const cancelled = await cli(['cancel', 'pg-ctl-1'], project, env);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(1);
    expect((JSON.parse(exit.stdout) as { status: string }).status).toBe('cancelled');
    expect((await eventTypes('pg-ctl-1')).at(-1)).toBe('execution_cancelled');
    expect((await cli(['cancel', 'pg-ctl-1'], project, env)).code).toBe(2);
  }, 120_000);

  it('orch signal approves a run stopped at an approval (continuing it), and one waiting in another process', async () => {
    const project = projectDir();
    const env = { ORCH_DB: db.url };
    const p = plan({
      base_dir: '.',
      capabilities: [{ ...local('std.capabilities.approval', 'echo'), kind: 'human', handler: { builtin: 'approval' } }, local('echo', 'echo')],
      steps: [
        step({ id: 'ok', capability: 'std.capabilities.approval', kind: 'human', args: { approver: lit('lead') } }),
        step({ id: 'send', capability: 'echo', deps: ['ok'], args: { by: { op: 'get', object: { op: 'get', object: { op: 'step', id: 'ok' }, key: 'output' }, key: 'approver' } } }),
      ],
    });
    const file = writePlan(project, p);
    const first = await cli(['run', file, '--run-id', 'pg-appr-1'], project, env);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(/paused/);
    const second = await cli(['signal', 'pg-appr-1', 'ok', 'approve', '--by', 'ada', '--json'], project, env);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout) as { status: string; steps: { stepId: string; output: unknown }[] };
    expect(result.status).toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'send')!.output).toEqual({ by: 'ada' });

    const { done } = orchAsync(['run', file, '--run-id', 'pg-wait-1', '--wait-for-signals', '--json'], project, env);
    await until(async () => (await eventTypes('pg-wait-1')).includes('step_started'), 'the approval step');
    const sig = await cli(['signal', 'pg-wait-1', 'ok', 'approve'], project, env);
    expect(sig.code, sig.stderr).toBe(0);
    expect(sig.stdout).toMatch(/delivered by process \d+/);
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    expect((JSON.parse(exit.stdout) as { status: string }).status).toBe('completed');
  }, 120_000);

  it('orch upgrade moves a run waiting in another process to the fixed plan, which that process runs on (§8.6)', async () => {
    const project = projectDir();
    const env = { ORCH_DB: db.url };
    const version = (note: string) =>
      plan({
        base_dir: '.',
        capabilities: [{ ...local('std.capabilities.approval', 'echo'), kind: 'human', handler: { builtin: 'approval' } }, local('echo', 'echo')],
        steps: [
          step({ id: 'ok', capability: 'std.capabilities.approval', kind: 'human', args: { approver: lit('lead') } }),
          step({ id: 'send', capability: 'echo', deps: ['ok'], args: { note: lit(note) } }),
        ],
      });
    const v1 = writePlan(project, version('the bug'), 'v1.json');
    const v2 = writePlan(project, version('the fix'), 'v2.json');
    // The owner: a process of its own, holding the run at its approval.
    const { done } = orchAsync(['run', v1, '--run-id', 'pg-up-1', '--wait-for-signals', '--json'], project, env);
    await until(async () => (await eventTypes('pg-up-1')).includes('step_started'), 'the approval step');
    const up = await cli(['upgrade', 'pg-up-1', '--to', v2, '--json'], project, env);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).runs[0]).toMatchObject({ runId: 'pg-up-1', compatible: true, applied: true });
    await until(async () => (await eventTypes('pg-up-1')).includes('plan_upgraded'), 'plan_upgraded');
    expect((await cli(['signal', 'pg-up-1', 'ok', 'approve'], project, env)).code).toBe(0);
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    const result = JSON.parse(exit.stdout) as { status: string; steps: { stepId: string; output: unknown }[] };
    expect(result.status).toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'send')!.output).toEqual({ note: 'the fix' });
  }, 120_000);

  it('orch run killed with SIGKILL mid-run: orch resume completes it and no completed step runs again', async () => {
    const project = projectDir();
    const env = { ORCH_DB: db.url };
    const log = join(project, 'work.log');
    const steps = [];
    for (let l = 0; l < 6; l++)
      for (let w = 0; w < 3; w++)
        steps.push(step({ id: `s${l}_${w}`, capability: 'work', deps: l ? [`s${l - 1}_${w}`, `s${l - 1}_${(w + 1) % 3}`] : [], args: { log: lit(log), ms: lit(80) } }));
    const file = writePlan(project, plan({ base_dir: '.', capabilities: [local('work', 'work')], steps }));
    // The owner's clocks at test speed (runtime/cluster/timing.ts): a heartbeat every 200 ms, a
    // run free once it is 1 s old — the same code paths as the product's 1 s and 10 s.
    const timed = { ...env, [CLUSTER_TIMING_ENV]: JSON.stringify(CRASH_TIMING) };
    const { child, done } = orchAsync(['run', file, '--run-id', 'pg-crash-1', '--workers', '2'], project, timed);
    await until(async () => (await eventTypes('pg-crash-1')).filter((t) => t === 'step_completed').length >= 4, 'four completed steps');
    child.kill('SIGKILL');
    await done;
    const { rows } = await client.query<{ step_id: string }>("SELECT step_id FROM orch.events WHERE run_id = $1 AND type = 'step_completed'", ['pg-crash-1']);
    const completedBefore = rows.map((r) => r.step_id);
    expect(completedBefore.length).toBeLessThan(steps.length);

    // The killed owner's heartbeat has to go stale first: until then the run counts as running.
    // Waited on by the database's clock (the one `orch resume` reads); then one `orch resume`, a
    // process with the same clocks as the owner's.
    await until(async () => (await silentFor('pg-crash-1')) > CRASH_TIMING.ownerStaleMs, "the killed owner's heartbeat to go stale");
    const resumed = orch(['resume', 'pg-crash-1', '--json'], project, timed);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as { status: string }).status).toBe('completed');
    const runsOf = new Map<string, number>();
    for (const line of logLines(log)) {
      const id = line.split(' ')[1]!;
      runsOf.set(id, (runsOf.get(id) ?? 0) + 1);
    }
    for (const id of completedBefore) expect(runsOf.get(id), id).toBe(1);
    for (const s of steps) expect(runsOf.get(s.id), s.id).toBeGreaterThanOrEqual(1);
    const types = await eventTypes('pg-crash-1');
    expect(types.at(-1)).toBe('execution_completed');
    const seqs = (await client.query<{ seq: number }>('SELECT seq FROM orch.events WHERE run_id = $1 ORDER BY seq', ['pg-crash-1'])).rows.map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }, 120_000);

  it('cancel --step of a step running in another process; retry of a failed run; runs prune', async () => {
    const project = projectDir();
    const env = { ORCH_DB: db.url };
    const p = plan({
      base_dir: '.',
      capabilities: [local('hang', 'withSignal'), local('work', 'work')],
      steps: [step({ id: 'hang', capability: 'hang' }), step({ id: 'other', capability: 'work', args: { ms: lit(50) } })],
    });
    const { done } = orchAsync(['run', writePlan(project, p), '--run-id', 'pg-step-1', '--json'], project, env);
    await until(async () => (await eventTypes('pg-step-1')).includes('step_completed'), 'the other step');
    const cancel = await cli(['cancel', 'pg-step-1', '--step', 'hang'], project, env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/applied by process \d+/);
    const exit = await done;
    const result = JSON.parse(exit.stdout) as { status: string; steps: { stepId: string; status: string }[] };
    expect(result.status).toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'hang')!.status).toBe('cancelled');

    const failing = writePlan(project, plan({ base_dir: '.', capabilities: [local('throws', 'throws')], steps: [step({ id: 'x', capability: 'throws' })] }), 'failing.json');
    expect((await cli(['run', failing, '--run-id', 'pg-fail-1'], project, env)).code).toBe(1);
    const retried = await cli(['retry', 'pg-fail-1', '--json'], project, env);
    expect(retried.code, retried.stderr).toBe(1);
    const again = JSON.parse(retried.stdout) as { runId: string; status: string };
    expect(again.runId).not.toBe('pg-fail-1');
    expect(again.status).toBe('failed');
    const { rows } = await client.query<{ data: string }>("SELECT data FROM orch.events WHERE run_id = $1 AND type = 'plan_created'", [again.runId]);
    expect(JSON.parse(rows[0]!.data)).toMatchObject({ retryOf: 'pg-fail-1' });

    await client.query('UPDATE orch.runs SET completed_at = completed_at - 2 * 86400000 WHERE id = $1', ['pg-fail-1']);
    const pruned = await cli(['runs', 'prune', '--older-than', '1d', '--json'], project, env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ runs: 1 });
    expect((await client.query('SELECT 1 FROM orch.runs WHERE id = $1', ['pg-fail-1'])).rowCount).toBe(0);
  }, 120_000);

  it('two orch run processes on one database never overlap on a concurrency 1 resource', async () => {
    const project = projectDir();
    const env = { ORCH_DB: db.url };
    const log = join(project, 'gpu.log');
    const p = plan({
      base_dir: '.',
      capabilities: [local('exclusive', 'exclusive')],
      resources: [resource('gpu', { concurrency: 1 })],
      steps: Array.from({ length: 4 }, (_, i) => step({ id: `g${i}`, capability: 'exclusive', resource: 'gpu', args: { log: lit(log), ms: lit(150) } })),
    });
    const file = writePlan(project, p);
    const a = orchAsync(['run', file, '--run-id', 'pg-gpu-a', '--workers', '4', '--json'], project, env);
    const b = orchAsync(['run', file, '--run-id', 'pg-gpu-b', '--workers', '4', '--json'], project, env);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    let inFlight = 0;
    let peak = 0;
    const lines = logLines(log);
    for (const line of lines) {
      inFlight += line.startsWith('+') ? 1 : -1;
      peak = Math.max(peak, inFlight);
    }
    expect(lines).toHaveLength(16);
    expect(peak).toBe(1);
    // Each process ran its own steps under the shared slot.
    const owners = lines.filter((l) => l.startsWith('+')).map((l) => l.split(' ')[1]);
    expect(new Set(owners)).toEqual(new Set(['pg-gpu-a', 'pg-gpu-b']));
  }, 120_000);
});
