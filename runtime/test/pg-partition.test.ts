/**
 * A worker cut off from Postgres and healed (issue #49, items 1–4): its link goes silent (a fault
 * proxy stops every byte, test/support/fault-proxy.ts) for longer than a worker may be silent,
 * while it runs a step of a `concurrency 1` resource; another worker, on a direct link, is alive
 * throughout. After the heal:
 * - the run completes — nothing the partition did fails it (v0.3 aborted the re-claimed attempt
 *   and failed the run for good);
 * - the cut worker registered again exactly once (v0.3: once per missed heartbeat);
 * - the cut worker's handler was aborted before its lease lapsed, so the step's two runs never
 *   overlapped and the resource's `concurrency 1` held (v0.3: the handler ran on beside the
 *   re-dispatched attempt);
 * - during the cut, `orch workers` called it unreachable.
 * The cluster's heartbeats are shortened to 400 ms (ORCH_CLUSTER_TIMING); a worker is dead after 5 s.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_TIMING_ENV } from '../cluster/timing.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { startFaultProxy, type FaultProxy } from '../../test/support/fault-proxy.js';
import { waitUntil } from '../../test/support/wait.js';
import { local, orchAsync, projectDir, writePlan } from './helpers.js';
import { lit, plan, resource, step } from './ir-builder.js';
import { readHeldLines as readLines, type HeldLine } from './held-log.js';
import { maxOverlap, type Span } from './spans.js';

/**
 * Beats, sweeps and polls at 400 ms, but a worker dead only after the product's 5 s: the window in
 * which `orch workers` calls a silent worker unreachable (missed beats, not yet dead) is seconds wide.
 */
const FAST = { [CLUSTER_TIMING_ENV]: JSON.stringify({ heartbeatMs: 400, sweepMs: 400, claimPollMs: 400, orphanPollMs: 800, outcomePollMs: 200 }) };

const HANDLERS = `
import { appendFileSync } from 'node:fs';
const line = (input, ctx, phase) =>
  appendFileSync(input.log, JSON.stringify({ pid: process.pid, step: ctx.stepId, attempt: ctx.attempt, phase, t: Date.now() }) + '\\n');
export async function held(input, ctx) {
  line(input, ctx, 'start');
  await new Promise((resolve) => {
    // The first attempt is the one cut off; the one after it need not wait as long.
    const timer = setTimeout(resolve, ctx.attempt === 1 ? input.ms : 300);
    ctx.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
  line(input, ctx, ctx.signal?.aborted ? 'aborted' : 'end');
  return { done: true };
}
`;

let db: MigratedPostgres;
let proxy: FaultProxy;
const children: ReturnType<typeof orchAsync>[] = [];

beforeAll(async () => {
  db = await migratedPostgres();
  const url = new URL(db.url);
  proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.done.catch(() => undefined)));
  await proxy?.close();
  await db?.stop();
});

/**
 * Every run of a handler is an attempt of its own in the run's journal (issue #49): no two runs of
 * a step's handler share an attempt number, each number was journaled started, and each but the
 * last was journaled lost.
 */
async function expectEachRunItsOwnAttempt(runId: string, lines: readonly HeldLine[]): Promise<void> {
  const events = (await db.client.query<{ type: string; step_id: string; data: string }>(`SELECT type, step_id, data FROM orch.events WHERE run_id = $1 AND step_id IS NOT NULL ORDER BY seq`, [runId])).rows.map(
    (e) => ({ type: e.type, step: e.step_id, attempt: (JSON.parse(e.data) as { attempt?: number }).attempt }),
  );
  for (const step of new Set(lines.map((l) => l.step))) {
    const runs = lines.filter((l) => l.step === step && l.phase === 'start');
    const journaled = events.filter((e) => e.step === step);
    expect(new Set(runs.map((r) => r.attempt)).size, `${step}: ${JSON.stringify(runs)}`).toBe(runs.length);
    const last = Math.max(...runs.map((r) => r.attempt));
    for (const r of runs) {
      expect(journaled.some((e) => e.type === 'step_started' && e.attempt === r.attempt), `${step}#${r.attempt} started: ${JSON.stringify(journaled)}`).toBe(true);
      if (r.attempt !== last) expect(journaled.some((e) => e.type === 'attempt_lost' && e.attempt === r.attempt), `${step}#${r.attempt} lost: ${JSON.stringify(journaled)}`).toBe(true);
    }
  }
}

const aliveOf = async (pid: number): Promise<{ id: string; state: string }[]> =>
  (await db.client.query<{ id: string; state: string }>(`SELECT id, state FROM orch.workers WHERE pid = $1 ORDER BY started_at`, [pid])).rows;

/**
 * A project whose plan holds a 20 s `held` step on a resource of concurrency 1 (then `next`, when
 * asked): the step a cut worker is inside when its link goes down.
 */
function heldProject(res: string, first: string, withNext: boolean): { dir: string; log: string; file: string } {
  const dir = projectDir();
  writeFileSync(join(dir, 'wh.js'), HANDLERS);
  const log = join(dir, 'held.log');
  const cap = local('held', 'held', { handler: { module: './wh.js', export: 'held' }, idempotent: true });
  const steps = [step({ id: first, capability: 'held', resource: res, args: { log: lit(log), ms: lit(20_000) } })];
  if (withNext) steps.push(step({ id: 'next', capability: 'held', resource: res, deps: [first], args: { log: lit(log), ms: lit(100) } }));
  const file = writePlan(dir, plan({ base_dir: '.', capabilities: [cap], resources: [resource(res, { concurrency: 1 })], steps }));
  return { dir, log, file };
}

describe('a worker cut off from Postgres mid-step, then healed', () => {
  it('the run completes, the worker registers again once, its handler stops before its lease lapses, and `orch workers` calls it unreachable meanwhile', async () => {
    const { dir, log, file } = heldProject('one', 'long', true);
    const cutUrl = new URL(db.url);
    cutUrl.port = String(proxy.port);

    // The worker to be cut, alone at first, so that it takes `long`.
    const cut = orchAsync(['worker', '--db', cutUrl.toString(), '--project', dir, '--resources', 'one'], dir, FAST);
    children.push(cut);
    const cutPid = cut.child.pid!;
    await waitUntil(async () => (await aliveOf(cutPid)).some((w) => w.state === 'alive'), 'the worker to register', 60_000);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'partition'], dir, FAST);
    children.push(run);
    await waitUntil(() => readLines(log).some((l) => l.step === 'long' && l.pid === cutPid && l.phase === 'start'), 'the cut worker to start `long`', 60_000);

    // The other worker, on a direct link.
    const other = orchAsync(['worker', '--db', db.url, '--project', dir, '--resources', 'one'], dir, FAST);
    children.push(other);
    const otherPid = other.child.pid!;
    await waitUntil(async () => (await aliveOf(otherPid)).some((w) => w.state === 'alive'), 'the other worker to register', 60_000);

    proxy.cut();
    const cutAt = Date.now();
    // `orch workers` (on a direct link) calls it unreachable before it is declared dead, holding
    // `long` (what the dashboard's GET /workers passes on: it marks that step).
    await waitUntil(
      async () => {
        const listed = await orchAsync(['workers', '--db', db.url, '--json'], dir, FAST).done;
        const rows = (JSON.parse(listed.stdout) as { workers: { pid: number; unreachable: boolean; holding: { run: string; step: string }[] }[] }).workers;
        return rows.some((w) => w.pid === cutPid && w.unreachable && w.holding.some((a) => a.run === 'partition' && a.step === 'long'));
      },
      'orch workers to call the cut worker unreachable, holding `long`',
      30_000,
    );
    // Declared dead, and `long` taken by the other worker.
    await waitUntil(async () => (await aliveOf(cutPid)).every((w) => w.state === 'dead'), 'the cut worker to be declared dead', 30_000);
    await waitUntil(() => readLines(log).some((l) => l.step === 'long' && l.pid === otherPid && l.phase === 'start'), 'the other worker to start `long`', 30_000);
    // Several more missed heartbeats (v0.3 registered again once per missed beat), then the heal.
    await waitUntil(() => Date.now() - cutAt >= 7000, 'seven seconds of partition', 15_000);
    proxy.heal();

    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { status: string }).status).toBe('completed');

    // One registration per outage: the dead id and one new one, alive.
    await waitUntil(async () => (await aliveOf(cutPid)).some((w) => w.state === 'alive'), 'the cut worker to register again', 30_000);
    const rows = await aliveOf(cutPid);
    expect(rows.map((w) => w.state)).toEqual(['dead', 'alive']);

    // The cut worker's handler stopped (aborted) before the other worker started `long`: the
    // resource's concurrency 1 held.
    const lines = readLines(log);
    const spans: Span[] = [];
    for (const s of lines.filter((l) => l.phase === 'start')) {
      const end = lines.find((l) => l.phase !== 'start' && l.pid === s.pid && l.step === s.step && l.attempt === s.attempt && l.t >= s.t);
      spans.push({ start: s.t, end: end?.t ?? Number.POSITIVE_INFINITY, who: `${s.step}@${s.pid}` });
    }
    expect(lines.find((l) => l.step === 'long' && l.pid === cutPid && l.phase !== 'start')?.phase).toBe('aborted');
    expect(maxOverlap(spans)).toBe(1);
    await expectEachRunItsOwnAttempt('partition', lines);

    for (const c of [cut, other]) c.child.kill('SIGTERM');
    const [cutDone] = await Promise.all([cut.done, other.done]);
    const registeredAgain = cutDone.stderr.split('\n').filter((l) => l.includes('registered again'));
    expect(registeredAgain, cutDone.stderr).toHaveLength(1);
    expect(cutDone.stderr).toMatch(/no heartbeat answered for [\d.]+ s \(unreachable database\); 1 running handler aborted/);
  }, 120_000);

  it('healed before it is declared dead, the worker gives the aborted attempt back: its second run is an attempt of its own in the journal and `orch timeline`', async () => {
    const { dir, log, file } = heldProject('two', 'solo', false);
    const cutUrl = new URL(db.url);
    cutUrl.port = String(proxy.port);
    // The product's timing: it gives its handlers up after 4 s of silence, is dead after 5 s.
    const worker = orchAsync(['worker', '--db', cutUrl.toString(), '--project', dir, '--resources', 'two'], dir);
    children.push(worker);
    let stderr = '';
    worker.child.stderr.on('data', (d) => (stderr += String(d)));
    const pid = worker.child.pid!;
    await waitUntil(async () => (await aliveOf(pid)).some((w) => w.state === 'alive'), 'the worker to register', 60_000);
    const run = orchAsync(['run', file, '--db', db.url, '--remote', '--json', '--run-id', 'given-back'], dir);
    children.push(run);
    await waitUntil(() => readLines(log).some((l) => l.step === 'solo' && l.phase === 'start'), 'the worker to start `solo`', 60_000);

    proxy.cut();
    await waitUntil(() => stderr.includes('no heartbeat answered'), 'the worker to give its handler up', 15_000);
    proxy.heal();

    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { status: string }).status).toBe('completed');
    // Never declared dead: the same registration throughout.
    const rows = await aliveOf(pid);
    expect(rows.map((w) => w.state), stderr).toEqual(['alive']);
    const lines = readLines(log);
    expect(lines.map((l) => [l.attempt, l.phase])).toEqual([
      [1, 'start'],
      [1, 'aborted'],
      [2, 'start'],
      [2, 'end'],
    ]);
    await expectEachRunItsOwnAttempt('given-back', lines);
    const lost = (await db.client.query<{ data: string }>(`SELECT data FROM orch.events WHERE run_id = 'given-back' AND type = 'attempt_lost'`)).rows.map((r) => JSON.parse(r.data) as Record<string, unknown>);
    expect(lost).toEqual([{ attempt: 1, worker: rows[0]!.id, reason: expect.stringMatching(/^given back: worker \S+ lost the database for [\d.]+ s/) as unknown }]);
    const timeline = await orchAsync(['timeline', 'given-back', '--db', db.url], dir).done;
    expect(timeline.code, timeline.stderr).toBe(0);
    expect(timeline.stdout).toMatch(/solo +attempt 1 lost: given back: worker \S+ lost the database/);
    worker.child.kill('SIGTERM');
    await worker.done;
  }, 60_000);
});
