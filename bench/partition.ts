/**
 * A cluster through a partition (issue #49): three `orch worker` processes, each on a host of its
 * own where the machine allows it (a network namespace joined by a veth pair,
 * test/support/netns.ts) and reaching Postgres through a proxy on its link, run a layered plan of
 * sleeping steps; a third of the way in, one worker's link goes down for longer than its death
 * sentence, then comes back. Where namespaces are not allowed the proxy's cut stands in for the
 * link (the figures say which). From the handlers' own records (one line per start and end, with
 * the process and the time):
 * - steps/s before the cut, and while one of the three workers is cut off;
 * - the cut-off worker back: from the heal to its first handler started again;
 * - extra handler runs per 1,000 steps: starts beyond one a step (attempts given back or lost);
 * - the run final, from the heal (the steps left at the heal over the measured rate are the floor).
 * Each the median of RUNS runs, and the recovery figures their slowest too (with 5 runs, the
 * slowest is what a p95 would be); the box's load is reported beside them.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openBackend, Runtime } from '../runtime/index.js';
import { capability, layeredSteps, lit, plan } from '../runtime/test/ir-builder.js';
import { HELD_HANDLER, readHeldLines } from '../runtime/test/held-log.js';
import { openDbLink, type DbLink } from '../test/support/db-link.js';
import { netnsUnavailable } from '../test/support/netns.js';
import { admin, startCluster, stopCluster } from '../test/support/pg-cluster.js';
import { median, smoke, type BenchFigure } from './figure.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const WORKERS = 3;
const SLOTS = 4;
const WIDTH = 12;
const STEPS = smoke(1_008, 48);
const STEP_MS = smoke(300, 100);
/** A worker is declared dead 5 s after its last heartbeat: the cut outlasts that. */
const CUT_MS = smoke(9_000, 1_500);
const RUNS = smoke(5, 1);
const NO_CONFIG = { config: { file: null, hooks: {}, secrets: {} } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Trial {
  readonly before: number;
  readonly during: number;
  readonly backMs: number;
  readonly extraPer1000: number;
  readonly finalMs: number;
}

async function trial(dbUrl: string, dir: string, links: readonly DbLink[], sql: pg.Client, n: number): Promise<Trial> {
  const log = join(dir, `held-${n}.log`);
  const workers: ChildProcess[] = links.map((link) => link.spawnNode([BIN, 'worker', '--db', link.url, '--project', dir, '--slots', String(SLOTS)], { cwd: dir, stdio: 'ignore' }));
  const rt = await Runtime.open({ db: dbUrl, workers: availableParallelism(), placement: 'workers' });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.workers WHERE state = 'alive' AND pid = ANY($1)`, [workers.map((w) => w.pid)]);
      if (rows[0]!.n === WORKERS) break;
      if (Date.now() > deadline) throw new Error('the workers did not register');
      await sleep(100);
    }
    const cap = capability('held', { handler: { module: './held.js', export: 'held' }, idempotent: true });
    const steps = layeredSteps(Math.ceil(STEPS / WIDTH), WIDTH, { capability: 'held', args: { log: lit(log), ms: lit(STEP_MS) } });
    const ir = plan({ name: `partition-${n}`, module: 'bench', base_dir: dir, source_file: join(dir, 'bench.orch'), capabilities: [cap], steps });
    const active = await rt.start(ir, NO_CONFIG);
    const ended = () => readHeldLines(log).filter((l) => l.phase === 'end').length;
    while (ended() < steps.length / 3) await sleep(50);
    const victim = links[n % WORKERS]!;
    const victimPid = workers[n % WORKERS]!.pid!;
    const cutAt = Date.now();
    victim.cut();
    await sleep(CUT_MS);
    victim.heal();
    const healedAt = Date.now();
    const result = await active.result;
    if (result.status !== 'completed') throw new Error(`the run ended ${result.status}`);
    const finalMs = Date.now() - healedAt;

    const lines = readHeldLines(log);
    const ends = lines.filter((l) => l.phase === 'end').map((l) => l.t);
    const first = Math.min(...lines.map((l) => l.t));
    const rate = (from: number, to: number) => (ends.filter((t) => t >= from && t < to).length * 1000) / Math.max(1, to - from);
    const back = lines.find((l) => l.phase === 'start' && l.pid === victimPid && l.t >= healedAt);
    return {
      before: rate(first, cutAt),
      during: rate(cutAt, healedAt),
      backMs: back ? back.t - healedAt : Number.NaN,
      extraPer1000: ((lines.filter((l) => l.phase === 'start').length - steps.length) * 1000) / steps.length,
      finalMs,
    };
  } finally {
    await rt.close();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode !== null ? undefined : new Promise((r) => w.once('exit', r)))));
  }
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-partition-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'held.js'), HELD_HANDLER);
  const noNetns = netnsUnavailable();
  const cluster = await startCluster();
  const links: DbLink[] = [];
  try {
    await admin(cluster.port, 'CREATE DATABASE orch_bench');
    const url = `postgres://postgres@127.0.0.1:${cluster.port}/orch_bench`;
    await (await openBackend(url)).migrate();
    for (let i = 0; i < WORKERS; i++) links.push(await openDbLink(url, noNetns === null));
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const load = (loadavg()[0]! / availableParallelism()) * 100;
    const trials: Trial[] = [];
    try {
      for (let n = 0; n < RUNS; n++) trials.push(await trial(url, dir, links, sql, n));
    } finally {
      await sql.end();
    }
    const loadAfter = (loadavg()[0]! / availableParallelism()) * 100;
    const of = (pick: (t: Trial) => number) => median(trials.map(pick));
    const where = noNetns === null ? 'each worker on a network namespace of its own, the link taken down' : `proxied links on one network stack (${noNetns})`;
    const what = `${STEPS} steps of ${STEP_MS} ms on ${WORKERS} workers × ${SLOTS} slots, one cut off ${CUT_MS / 1000} s (${where}), median of ${RUNS}`;
    const slowest = (pick: (t: Trial) => number) => Math.max(...trials.map(pick));
    const before = of((t) => t.before);
    const during = of((t) => t.during);
    return [
      { name: `box load (1-min load average per core) before / after: ${load.toFixed(0)} % / ${loadAfter.toFixed(0)} %`, value: loadAfter, unit: '%', target: '', met: true },
      { name: `partition: steps/s before the cut, ${what}`, value: before, unit: 'steps/s', target: '', met: true },
      { name: 'partition: steps/s while one of the three workers is cut off', value: during, unit: 'steps/s', target: '', met: true },
      { name: 'partition: the same vs before the cut', value: (during / before) * 100, unit: '%', target: '≥ 50 %', met: during / before >= 0.5 },
      { name: 'partition: the cut-off worker back, heal → its first handler started again', value: of((t) => t.backMs), unit: 'ms', target: '≤ 5,000 ms', met: of((t) => t.backMs) <= 5_000 },
      { name: `partition: the same, slowest of ${RUNS}`, value: slowest((t) => t.backMs), unit: 'ms', target: '', met: true },
      { name: 'partition: extra handler runs per 1,000 steps (attempts given back or lost, run again)', value: of((t) => t.extraPer1000), unit: 'runs', target: '', met: true },
      { name: 'partition: the run final after the heal', value: of((t) => t.finalMs), unit: 'ms', target: '', met: true },
      { name: `partition: the run final after the heal, slowest of ${RUNS}`, value: slowest((t) => t.finalMs), unit: 'ms', target: '', met: true },
    ];
  } finally {
    await Promise.all(links.map((l) => l.close()));
    await stopCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  }
}
