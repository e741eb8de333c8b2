/**
 * A nemesis over the cluster's links (issue #49): three `orch worker` processes, each reaching
 * Postgres through a fault proxy of its own (test/support/fault-proxy.ts), run a plan whose steps
 * share a `concurrency 4` resource, while a seeded schedule partitions a worker (past its death
 * sentence, or briefly), resets its connections, slows its link, or kills it with SIGKILL and
 * starts another, or partitions the run's owner (also behind a proxy) past its lease, so that a
 * worker takes the run over — then heals everything. A checker reads the journal and the handlers' own
 * records afterwards:
 * - the run completes, within a bound after the last heal;
 * - every step completed exactly once in the journal, and the journal's sequence has no gap;
 * - exactly one attempt per step succeeded; every other execution of a step's handler is
 *   explained — aborted when its worker lost the database, killed with its worker, or an
 *   attempt the journal shows as lost;
 * - the resource's `concurrency 4` held across the partitions (handlers of a worker killed count
 *   until it died).
 * CI runs one schedule; ORCH_NEMESIS_SCHEDULES=N runs N, each with a seed of its own, printed when
 * it fails (ORCH_TEST_SEED=… replays that one).
 *
 * Where the machine allows it (root, `ip netns`), every worker and the owner run on a host of their
 * own — a network namespace joined to this one by a veth pair (test/support/netns.ts) — and reach
 * Postgres over that link through their proxy, which listens on the link's address: a partition is
 * the link taken down, so the process's packets are lost in the kernel as on a real network, and
 * the proxy adds the faults a kernel without netem cannot (latency, resets). Elsewhere (or with
 * ORCH_NEMESIS_NETNS=0) the processes share this network stack and the proxy's `cut` stands in
 * for the link; the test says which it ran.
 */
import { spawn } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_TIME_SCALE_ENV } from '../cluster/timing.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { openDbLink, type DbLink } from '../../test/support/db-link.js';
import { netnsUnavailable } from '../../test/support/netns.js';
import { seededRandom } from '../../test/support/seed.js';
import { waitUntil } from '../../test/support/wait.js';
import { BIN, local, orchAsync, projectDir, writePlan } from './helpers.js';
import { layeredSteps, lit, plan, resource } from './ir-builder.js';
import { HELD_HANDLER, readHeldLines as readLines, type HeldLine as Line } from './held-log.js';
import { maxOverlap, type Span } from './spans.js';

const SCHEDULES = Math.max(1, Number(process.env.ORCH_NEMESIS_SCHEDULES ?? 1) || 1);
const WORKERS = 3;
const WIDTH_OF_LAYER = 12;
/** Steps of the run (96 in CI; ORCH_NEMESIS_STEPS=1000 for the issue's long runs), 12 a layer. */
const LAYERS = Math.max(1, Math.ceil((Number(process.env.ORCH_NEMESIS_STEPS ?? 96) || 96) / WIDTH_OF_LAYER));
const WIDTH = WIDTH_OF_LAYER;
const STEP_MS = 150;
const CONCURRENCY = 4;
/** Faults in a schedule, at most (the schedule stops once the run is final). */
const FAULTS = Math.max(1, Number(process.env.ORCH_NEMESIS_FAULTS ?? 6) || 6);
/** Every clock of the cluster at 0.4×: beats every 400 ms, a worker dead after 2 s. */
const FAST = { [CLUSTER_TIME_SCALE_ENV]: '0.4' };
/**
 * A run is final within this long after the last heal (the death sentence, a sweep, a few steps'
 * worth), plus the steps not completed by then, each at its full length as if one ran at a time.
 */
const FINAL_WITHIN_MS = 45_000;


/** Why the processes share this network stack (null: each on a netns host of its own). */
const NO_NETNS = process.env.ORCH_NEMESIS_NETNS === '0' ? 'ORCH_NEMESIS_NETNS=0' : netnsUnavailable();

let db: MigratedPostgres;
/** One per worker, and the last for the run's owner. */
const links: DbLink[] = [];
const live = new Set<ReturnType<typeof spawn>>();

beforeAll(async () => {
  db = await migratedPostgres();
  for (let i = 0; i <= WORKERS; i++) links.push(await openDbLink(db.url, NO_NETNS === null));
  process.stdout.write(
    NO_NETNS === null
      ? `nemesis: each worker and the owner on a network namespace of its own (${links.map((l) => l.host!.address).join(', ')})\n`
      : `nemesis: network namespaces not used (${NO_NETNS}): every process on this network stack, each link a fault proxy\n`,
  );
}, 120_000);
// A schedule that failed left its workers and owner running: the next ones would share the
// machine with them (a long run of schedules slowed down until runs missed their bound).
afterEach(() => {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
});
afterAll(async () => {
  for (const c of live) c.kill('SIGKILL');
  await Promise.all(links.map((l) => l.close()));
  await db?.stop();
});

type Fault = 'partition' | 'blip' | 'reset' | 'slow' | 'kill' | 'owner';
const FAULT_KINDS: readonly Fault[] = ['partition', 'blip', 'reset', 'slow', 'kill', 'owner'];
/** A silent owner's run is taken over by a worker after this long (at least the scaled floor). */
const TAKE_OVER_AFTER = '3s';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `orch ARGS` as the run's owner, on its link's side (orchAsync's shape). */
function ownerRun(link: DbLink, args: readonly string[], cwd: string): ReturnType<typeof orchAsync> {
  if (!link.host) return orchAsync(args, cwd, FAST);
  const child = link.spawnNode([BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...FAST } });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += String(d)));
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done } as ReturnType<typeof orchAsync>;
}

/** A run not final in time: its progress since the heal, its owner, and the attempts not folded with their workers. */
async function whereItWaits(runId: string, completedAtHeal: number): Promise<string> {
  const q = async (text: string) => JSON.stringify((await db.client.query(text, [runId])).rows);
  const completed = (await db.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.events WHERE run_id = $1 AND type = 'step_completed'`, [runId])).rows[0]!.n;
  return [
    `steps completed: ${completedAtHeal} at the last heal, ${completed} now`,
    `run: ${await q(`SELECT status, owner, (extract(epoch from clock_timestamp()) * 1000)::bigint - heartbeat_at AS owner_silent_ms FROM orch.runs WHERE id = $1`)}`,
    `last events: ${await q(`SELECT seq, type, step_id, ts FROM orch.events WHERE run_id = $1 ORDER BY seq DESC LIMIT 8`)}`,
    `attempts not folded: ${await q(
      `SELECT a.step_key, a.attempt, a.fence, a.status, a.worker, w.state AS worker_state, a.dispatched_at, a.started_at
         FROM orch.attempts a LEFT JOIN orch.workers w ON w.id = a.worker WHERE a.run_id = $1 AND NOT a.folded ORDER BY a.dispatched_at LIMIT 20`,
    )}`,
    `resource slots: ${JSON.stringify((await db.client.query(`SELECT holder, run_id, step_key, expires_at - (extract(epoch from clock_timestamp()) * 1000)::bigint AS expires_in_ms FROM orch.limit_leases ORDER BY acquired_at`)).rows)}`,
    `workers: ${JSON.stringify((await db.client.query(`SELECT id, state, (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint AS age FROM orch.workers ORDER BY started_at`)).rows)}`,
  ].join('\n');
}

describe(`a nemesis over the workers' links (${SCHEDULES} seeded schedule${SCHEDULES === 1 ? '' : 's'}, ${NO_NETNS === null ? 'hosts in network namespaces' : 'proxied links on one network stack'})`, () => {
  for (let n = 0; n < SCHEDULES; n++) {
    it(`schedule ${n + 1}: the run completes, every step once, every extra handler run explained, concurrency ${CONCURRENCY} held`, async () => {
      const random = seededRandom();
      const dir = projectDir();
      writeFileSync(join(dir, 'wh.js'), HELD_HANDLER);
      const log = join(dir, 'held.log');
      const cap = local('held', 'held', { handler: { module: './wh.js', export: 'held' }, idempotent: true });
      const steps = layeredSteps(LAYERS, WIDTH, { capability: 'held', args: { log: lit(log), ms: lit(STEP_MS) } }).map((s) => ({ ...s, resource: 'pool' }));
      const file = writePlan(dir, plan({ base_dir: '.', capabilities: [cap], resources: [resource('pool', { concurrency: CONCURRENCY })], steps }), `nemesis-${n}.json`);
      const runId = `nemesis-${n}`;
      const finalStatus = async (): Promise<string | null> => {
        const { rows } = await db.client.query<{ status: string }>(`SELECT status FROM orch.runs WHERE id = $1`, [runId]);
        const status = rows[0]?.status;
        return status === undefined || status === 'running' || status === 'paused' ? null : status;
      };

      /** When each worker process died (killed by the nemesis), by pid. */
      const killedAt = new Map<number, number>();
      const workers: ReturnType<typeof spawn>[] = [];
      const logs = process.env.ORCH_NEMESIS_LOGS ?? dir;
      const workerLog = (i: number): number => openSync(join(logs, `${runId}-worker-${i}.log`), 'a');
      const start = (i: number): void => {
        const child = links[i]!.spawnNode([BIN, 'worker', '--db', links[i]!.url, '--project', dir, '--resources', 'pool', '--slots', '2', '--take-over-after', TAKE_OVER_AFTER], {
          cwd: dir,
          env: { ...process.env, NO_COLOR: '1', ...FAST },
          stdio: ['ignore', workerLog(i), workerLog(i)],
        });
        live.add(child);
        child.on('exit', () => live.delete(child));
        workers[i] = child;
      };
      for (let i = 0; i < WORKERS; i++) start(i);
      await waitUntil(
        async () => (await db.client.query(`SELECT 1 FROM orch.workers WHERE state = 'alive' AND pid = ANY($1)`, [workers.map((w) => w.pid)])).rowCount === WORKERS,
        'the workers to register',
        60_000,
      );

      const run = ownerRun(links[WORKERS]!, ['run', file, '--db', links[WORKERS]!.url, '--remote', '--json', '--run-id', runId], dir);
      let ownerCut = false;
      await waitUntil(() => readLines(log).length > 0, 'the first step to start', 60_000);

      const applied: string[] = [];
      /** When one of the three workers was cut off past its death sentence. */
      const partitions: { start: number; end: number }[] = [];
      for (let f = 0; f < FAULTS; f++) {
        await sleep(300 + Math.floor(random() * 1200));
        // Not on the owner's exit: an owner cut off past its lease lets the run go and exits, and
        // the schedule goes on against the worker that took the run over.
        if ((await finalStatus()) !== null) break;
        const i = Math.floor(random() * WORKERS);
        let kind = FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)]!;
        // The owner is cut once at most: after that a worker owns the run.
        if (kind === 'owner' && ownerCut) kind = 'reset';
        const link = links[i]!;
        const proxy = link.proxy;
        applied.push(kind === 'owner' ? 'owner partition' : `${kind} w${i}`);
        if (kind === 'owner') {
          ownerCut = true;
          links[WORKERS]!.cut();
          await sleep(4500 + Math.floor(random() * 1000));
          links[WORKERS]!.heal();
        } else if (kind === 'partition' || kind === 'blip') {
          const cutAt = Date.now();
          link.cut();
          await sleep(kind === 'partition' ? 2500 + Math.floor(random() * 1500) : 300 + Math.floor(random() * 700));
          link.heal();
          if (kind === 'partition') partitions.push({ start: cutAt, end: Date.now() });
        } else if (kind === 'reset') proxy.reset();
        else if (kind === 'slow') {
          proxy.latency(50 + Math.floor(random() * 150));
          await sleep(1500);
          proxy.latency(0);
        } else {
          const victim = workers[i]!;
          killedAt.set(victim.pid!, Date.now());
          victim.kill('SIGKILL');
          start(i);
        }
      }
      for (const l of links) {
        l.proxy.latency(0);
        l.heal();
      }
      const healedAt = Date.now();
      const { rows: done } = await db.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.events WHERE run_id = $1 AND type = 'step_completed'`, [runId]);
      const finalWithinMs = FINAL_WITHIN_MS + (steps.length - done[0]!.n) * STEP_MS;
      const context = `faults: ${applied.join(', ')}`;
      // Final by the database, whoever owns the run by then (the owner cut off lets it go). Not
      // final in time: what it waits on (a stall, or only a slow machine) is in the failure.
      await waitUntil(async () => (await finalStatus()) !== null, `the run to be final within ${finalWithinMs} ms of the last heal (${context})`, finalWithinMs, 100).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await whereItWaits(runId, done[0]!.n)}\nworkers' output: ${join(logs, `${runId}-worker-*.log`)}`);
      });
      const finalAfterMs = Date.now() - healedAt;
      expect(await finalStatus(), `${context}`).toBe('completed');
      if (!ownerCut) {
        const result = await run.done;
        expect(result.code, `${context}\n${result.stderr}`).toBe(0);
      }

      // The journal: every step completed once, no gap in the sequence.
      const events = (await db.client.query<{ seq: number; type: string; step_id: string | null }>(`SELECT seq, type, step_id FROM orch.events WHERE run_id = $1 ORDER BY seq`, [runId])).rows;
      expect(events.map((e) => Number(e.seq))).toEqual(events.map((_, k) => k + 1));
      const completed = events.filter((e) => e.type === 'step_completed').map((e) => e.step_id);
      expect(completed.length, context).toBe(steps.length);
      expect(new Set(completed).size).toBe(steps.length);

      // Exactly one succeeded attempt per step.
      const attempts = (await db.client.query<{ step_key: string; attempt: number; status: string }>(`SELECT step_key, attempt, status FROM orch.attempts WHERE run_id = $1`, [runId])).rows;
      const succeeded = attempts.filter((a) => a.status === 'succeeded');
      expect(succeeded.length, context).toBe(steps.length);
      expect(new Set(succeeded.map((a) => a.step_key)).size).toBe(steps.length);

      // Every execution beyond one per step is explained.
      const lines = readLines(log);
      const ends = (s: Line) => lines.find((l) => l.phase !== 'start' && l.pid === s.pid && l.step === s.step && l.attempt === s.attempt && l.t >= s.t);
      const lostAttempts = new Set(attempts.filter((a) => a.status === 'abandoned').map((a) => `${a.step_key}#${a.attempt}`));
      let duplicates = 0;
      const spans: Span[] = [];
      for (const s of lines.filter((l) => l.phase === 'start')) {
        const end = ends(s);
        spans.push({ start: s.t, end: end?.t ?? killedAt.get(s.pid) ?? Number.POSITIVE_INFINITY, who: `${s.step}@${s.pid}` });
      }
      // Each step's handler ran once for its succeeded attempt; any other run must be explained:
      // aborted when its worker lost the database, killed with its worker, or of an attempt the
      // journal shows as lost (abandoned: its result, had it come, was refused by its fence).
      for (const step of new Set(lines.map((l) => l.step))) {
        const runs = lines.filter((l) => l.step === step && l.phase === 'start');
        duplicates += runs.length - 1;
        const won = succeeded.find((a) => a.step_key === step)!.attempt;
        const counted = runs.filter((r) => r.attempt === won && ends(r)?.phase === 'end');
        expect(counted.length, `${step}: the succeeded attempt's handler ended normally ${counted.length} times (${context})`).toBe(1);
        for (const r of runs) {
          if (r === counted[0]) continue;
          const end = ends(r);
          const explained = end?.phase === 'aborted' || (end === undefined && killedAt.has(r.pid)) || lostAttempts.has(`${r.step}#${r.attempt}`) || killedAt.has(r.pid);
          if (!explained)
            expect.fail(
              `${step} attempt ${r.attempt} on ${r.pid}: ${end?.phase ?? 'no end'} (${context})\nits handler runs: ${JSON.stringify(lines.filter((l) => l.step === step))}\nits attempts: ${JSON.stringify(attempts.filter((a) => a.step_key === step))}\nkilled: ${JSON.stringify([...killedAt])}`,
            );
        }
      }
      expect(maxOverlap(spans), context).toBeLessThanOrEqual(CONCURRENCY);
      // Steps/s overall and while one worker was cut off (handlers ended normally in those spans).
      const endsAt = lines.filter((l) => l.phase === 'end').map((l) => l.t);
      const firstStart = Math.min(...lines.map((l) => l.t));
      const rate = (from: number, to: number) => (endsAt.filter((t) => t >= from && t < to).length * 1000) / Math.max(1, to - from);
      const lastEnd = Math.max(...endsAt) + 1;
      const overall = rate(firstStart, lastEnd);
      const afterHeal = lastEnd > healedAt ? `, ${rate(healedAt, lastEnd).toFixed(1)} steps/s after it` : '';
      const during = partitions.length === 0 ? '' : `, ${(partitions.reduce((sum, p) => sum + rate(p.start, p.end), 0) / partitions.length).toFixed(1)} steps/s while a worker was cut off`;
      process.stdout.write(
        `nemesis schedule ${n + 1} (seed ${random.seed}): ${context}; ${duplicates} extra handler runs over ${steps.length} steps; final ${finalAfterMs} ms after the last heal${afterHeal}; ${overall.toFixed(1)} steps/s${during}\n`,
      );

      for (const w of workers) w.kill('SIGTERM');
      if (run.child.exitCode === null) run.child.kill('SIGTERM');
    }, 180_000 + LAYERS * WIDTH * STEP_MS);
  }
});
