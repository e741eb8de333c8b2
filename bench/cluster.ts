/**
 * Orch on Postgres, against the physical limit measured in the same run: the commit rate of a
 * durable Postgres on this box (fsync and synchronous_commit on, as a real cluster runs), from a
 * few clients each committing one-row INSERT transactions — what `pgbench -N` measures, without
 * needing pgbench. Then a 1,000-step no-op layered DAG journaled in that database with its steps on
 * this process's worker threads (`--local`): every turn of the scheduler is one fenced commit.
 * Then the same DAG on three `orch worker` processes (`--remote`), the dispatch latency of the
 * steps of a chain (dispatched with their step_started commit → started on a worker, both by the
 * database's clock; a chain, so that no step queues behind busy slots), and failover: a worker running a step is killed with SIGKILL, and the time until the
 * step runs again on another worker.
 *
 * Commits per step, two ways, over each measured DAG run: `xact_commit` of `pg_stat_database`
 * (every transaction the database committed, read-only ones included; backends publish it when
 * idle, up to 10 s late, so it is read after the numbers settle, and the background of idle
 * processes — heartbeats, sweeps, polls — measured over as long right after is taken off; the
 * workers are started fresh before the measured run and stopped right after it, so that their
 * listening connections publish the transactions they ran for every NOTIFY of the database), and
 * durable commits: transactions that wrote (transaction ids assigned, exact and immediate). The
 * load of the box (1-minute load average over its cores) is reported with the figures: the box
 * is shared.
 *
 * CPU per 1,000 steps over the measured runs, from /proc: this process (the run's owner), Postgres
 * (every backend and background process, the ones that exited since included) and the workers —
 * the owner and Postgres being what every worker host shares. Where Postgres ships
 * pg_stat_statements the bench loads it and prints, on stderr, the statements it spent most time on.
 * Postgres's work per step is also counted, which the box's load does not move: WAL records and
 * bytes (pg_stat_wal) and the shared buffers its statements touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PlanIR } from '../compiler/index.js';
import { openBackend, Runtime } from '../runtime/index.js';
import { admin, startCluster, stopCluster } from '../test/support/pg-cluster.js';
import { median, postgresCpuMs, processCpuMs, smoke, type BenchFigure } from './figure.js';
import { layeredPlan } from './runtime.js';
import { capability, lit, plan, step } from '../runtime/test/ir-builder.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
/** Two at least: a step's failover needs a worker besides the one killed. */
const WORKERS = smoke(3, 2);
const SLOTS = 4;
const FAILOVERS = smoke(5, 1);
const CHAIN = smoke(200, 5);
const NO_CONFIG = { config: { file: null, hooks: {}, secrets: {} } };

const CLIENTS = 4;
const COMMIT_SECONDS = smoke(3, 0.2);

/** Commits per second of `CLIENTS` connections, each inserting one row per transaction. */
async function commitRate(url: string): Promise<number> {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query('CREATE TABLE bench_commits (id bigserial PRIMARY KEY, at bigint NOT NULL, note text)');
  await setup.end();
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const until = performance.now() + COMMIT_SECONDS * 1000;
  const t0 = performance.now();
  const counts = await Promise.all(
    clients.map(async (c) => {
      let n = 0;
      // Autocommit: each INSERT is its own transaction, flushed to the WAL before it returns.
      while (performance.now() < until) {
        await c.query('INSERT INTO bench_commits (at, note) VALUES ($1, $2)', [Date.now(), 'x']);
        n++;
      }
      return n;
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  return counts.reduce((a, b) => a + b, 0) / secs;
}

/** Backends publish their counters when idle, at most this late (PGSTAT_IDLE_INTERVAL, 10 s). */
const STATS_SETTLE_MS = smoke(11_000, 0);

interface Counters {
  /** pg_stat_database.xact_commit of the database. */
  readonly commits: number;
  /** The next transaction id: write transactions since are durable commits (or aborts). */
  readonly xid: number;
  /** WAL records and bytes the cluster wrote (pg_stat_wal): its write work, whatever the box's load. */
  readonly walRecords: number;
  readonly walBytes: number;
  readonly at: number;
}

async function counters(sql: pg.Client): Promise<Counters> {
  const { rows } = await sql.query<{ commits: string; xid: string; wal_records: string; wal_bytes: string }>(
    `SELECT xact_commit::text AS commits, txid_snapshot_xmax(txid_current_snapshot())::text AS xid, w.wal_records::text, w.wal_bytes::text
       FROM pg_stat_database, pg_stat_wal w WHERE datname = current_database()`,
  );
  const r = rows[0]!;
  return { commits: Number(r.commits), xid: Number(r.xid), walRecords: Number(r.wal_records), walBytes: Number(r.wal_bytes), at: performance.now() };
}

interface DagFigures {
  readonly rate: number;
  readonly runId: string;
  /** xact_commit per step, the idle background taken off. */
  readonly commitsPerStep: number;
  /** Write transactions per step, the idle background taken off. */
  readonly durablePerStep: number;
  /**
   * What Postgres did per step, counted rather than timed (the idle background taken off): WAL
   * records and bytes, and shared buffers the statements touched (pg_stat_statements, hit + read;
   * NaN without it). CPU per step read on this shared box moves by half from one run to the next
   * with the same statements and the same batches; these do not, so a change's effect on
   * Postgres's work shows in them first.
   */
  readonly work: { readonly walRecords: number; readonly walBytes: number; readonly buffers: number };
  /** CPU per 1,000 steps of each measured run, ms (from /proc): this process (the run's owner), Postgres, the workers. */
  readonly runs: readonly CpuReading[];
  /** The same of the first run after the runtime opened (the first warm-up): the cold figure. */
  readonly cold: CpuReading;
  /** The statements Postgres spent most time on over the measured runs (none without pg_stat_statements). */
  readonly top: readonly TopStatement[];
  /** Steps of the measured runs. */
  readonly steps: number;
}

/** A statement as pg_stat_statements counted it over the measured runs. */
interface TopStatement {
  readonly query: string;
  readonly calls: number;
  /** Shared buffers hit or read. */
  readonly buffers: number;
  /** Execution plus planning time, ms. */
  readonly ms: number;
  readonly planMs: number;
}

/** How many statements the bench prints, by total time. */
const TOP = 10;

/** Whether this database has `pg_stat_statements` (the cluster loads it where Postgres ships it). */
async function statementsOn(sql: pg.Client): Promise<boolean> {
  try {
    await sql.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await sql.query('SELECT pg_stat_statements_reset()');
    return true;
  } catch {
    return false;
  }
}

/** The top statements since the last reset, this bench's own reads left out. */
async function topStatements(sql: pg.Client): Promise<TopStatement[]> {
  const { rows } = await sql.query<{ query: string; calls: string; buffers: string; exec: number; plan: number }>(
    `SELECT query, calls::text, (shared_blks_hit + shared_blks_read)::text AS buffers, total_exec_time AS exec, total_plan_time AS plan FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'
      ORDER BY total_exec_time + total_plan_time DESC LIMIT ${TOP}`,
  );
  return rows.map((r) => ({ query: r.query.replace(/\s+/g, ' '), calls: Number(r.calls), buffers: Number(r.buffers), ms: r.exec + r.plan, planMs: r.plan }));
}

/** Shared buffers every statement since the last reset touched (hit + read), this bench's own reads left out. */
async function statementBuffers(sql: pg.Client): Promise<number> {
  const { rows } = await sql.query<{ n: string | null }>(
    `SELECT sum(shared_blks_hit + shared_blks_read)::text AS n FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'`,
  );
  return Number(rows[0]?.n ?? NaN);
}

/** CPU readings of the processes a run on Postgres spends: this one, the cluster's, the workers'. */
interface CpuReading {
  readonly owner: number;
  readonly postgres: number;
  readonly workers: number;
}

function cpuNow(dataDir: string, workers: Workers | null): CpuReading {
  const u = process.cpuUsage();
  return { owner: (u.user + u.system) / 1000, postgres: postgresCpuMs(dataDir), workers: workers?.cpuMs() ?? 0 };
}

/**
 * Warm-up runs of the DAG on each side before the measured ones. A cluster's owner is long-lived
 * (`orch serve`), so the shared CPU the issue judges is the steady state's; after one warm-up V8's
 * background threads (optimizing compiler, concurrent GC) still spent as much as the owner's main
 * thread in the next runs. Measured (docs/cluster.md, "The bench's method"): the owner's CPU per run
 * settled between the fourth and the eighth run of the runtime (later under load); so eight.
 */
const WARMUP_RUNS = smoke(8, 1);
/** Measured runs of the DAG on each side (#54: the median of five, with its spread). */
const RUNS = smoke(5, 1);

/**
 * Steps per second of the 1,000-step DAG (the median of `RUNS` runs, after `WARMUP_RUNS` runs of
 * the same DAG on the very processes measured — fresh workers learn their handlers' pace and warm
 * their JIT on it, as the owner does), its last run id, the CPU of each run (the first warm-up's
 * apart: the cold figure), and what the measured runs cost in commits: counters read once the
 * warm-up's settled, again once the runs' settled, and the idle background over the same settle
 * taken off.
 */
async function dagRate(url: string, dir: string, workers: Workers | null, sql: pg.Client, dataDir: string): Promise<DagFigures> {
  const dag = layeredPlan(dir, smoke(10, 1));
  const rt = await Runtime.open({ db: url, workers: availableParallelism(), placement: workers ? 'workers' : 'local' });
  const rates: number[] = [];
  const perRun: CpuReading[] = [];
  let cold: CpuReading | undefined;
  let runId = '';
  let before: Counters;
  let top: TopStatement[] = [];
  let buffers = NaN;
  /** One run of the DAG, its CPU per 1,000 steps. */
  const run = async (ir: PlanIR): Promise<{ cpu: CpuReading; rate: number; runId: string }> => {
    const cpu0 = cpuNow(dataDir, workers);
    const t0 = performance.now();
    const active = await rt.start(ir, NO_CONFIG);
    const r = await active.result;
    const rate = ir.steps.length / ((performance.now() - t0) / 1000);
    const cpu1 = cpuNow(dataDir, workers);
    if (r.status !== 'completed') throw new Error(`the bench run ${ir.plan} ended ${r.status}`);
    const per1k = (c: (x: CpuReading) => number) => ((c(cpu1) - c(cpu0)) / ir.steps.length) * 1000;
    return { cpu: { owner: per1k((x) => x.owner), postgres: per1k((x) => x.postgres), workers: per1k((x) => x.workers) }, rate, runId: active.runId };
  };
  try {
    // Fresh workers: what their listening connections counted before (see `Workers.restart`) is not this run's.
    if (workers) await workers.restart();
    for (let i = 0; i < WARMUP_RUNS; i++) {
      const warm = await run({ ...dag, plan: 'warm' });
      cold ??= warm.cpu;
      logRun(workers, `warm-up ${i + 1}`, warm.cpu);
    }
    await sleep(STATS_SETTLE_MS);
    before = await counters(sql);
    const statements = await statementsOn(sql);
    for (let i = 0; i < RUNS; i++) {
      const measured = await run(dag);
      rates.push(measured.rate);
      perRun.push(measured.cpu);
      runId = measured.runId;
      logRun(workers, `measured ${i + 1}`, measured.cpu);
    }
    if (statements) [top, buffers] = [await topStatements(sql), await statementBuffers(sql)];
    if (workers) await workers.stop();
  } finally {
    await rt.close();
  }
  await sleep(STATS_SETTLE_MS);
  const after = await counters(sql);
  await sleep(STATS_SETTLE_MS);
  const idle = await counters(sql);
  // The background per ms while nothing runs (heartbeats, sweeps, polls, this client's reads).
  const idleMs = idle.at - after.at;
  const background = (c: (x: Counters) => number) => ((c(idle) - c(after)) / idleMs) * (after.at - before.at);
  const steps = RUNS * dag.steps.length;
  const per = (c: (x: Counters) => number) => Math.max(0, c(after) - c(before) - background(c)) / steps;
  const work = { walRecords: per((x) => x.walRecords), walBytes: per((x) => x.walBytes), buffers: buffers / steps };
  return { rate: median(rates), runId, commitsPerStep: per((x) => x.commits), durablePerStep: per((x) => x.xid), work, runs: perRun, cold: cold ?? perRun[0]!, top, steps };
}

/** Each run's CPU per 1,000 steps on stderr, so that the medians hide nothing. */
function logRun(workers: Workers | null, what: string, c: CpuReading): void {
  process.stderr.write(
    `bench: cluster, ${workers ? 'workers' : 'in-process'}, ${what}: owner ${c.owner.toFixed(0)} + Postgres ${c.postgres.toFixed(0)} = ${(c.owner + c.postgres).toFixed(0)} ms per 1,000 steps (workers ${c.workers.toFixed(0)})\n`,
  );
}

/** The shared CPU (owner + Postgres) of a reading. */
const shared = (c: CpuReading): number => c.owner + c.postgres;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Dispatched (committed with step_started) → started on a worker, per attempt of the run, ms. */
async function dispatchLatencies(sql: pg.Client, runId: string): Promise<number[]> {
  const { rows } = await sql.query<{ ms: number }>(
    `SELECT extract(epoch FROM started_at - dispatched_at) * 1000 AS ms FROM orch.attempts WHERE run_id = $1 AND started_at IS NOT NULL`,
    [runId],
  );
  return rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
}

class Workers {
  private readonly children = new Set<ChildProcess>();
  constructor(
    private readonly url: string,
    private readonly dir: string,
    private readonly sql: pg.Client,
  ) {}

  /** The live workers' CPU so far, ms (from /proc). */
  cpuMs(): number {
    let ms = 0;
    for (const c of this.children) if (c.pid !== undefined) ms += processCpuMs(c.pid) || 0;
    return ms;
  }

  start(): ChildProcess {
    const child = spawn(process.execPath, [BIN, 'worker', '--db', this.url, '--project', this.dir, '--slots', String(SLOTS)], { cwd: this.dir, stdio: 'ignore' });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Waits until `n` workers are registered alive. */
  async ready(n: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM orch.workers WHERE state = 'alive' AND heartbeat_at > now() - interval '3 seconds'`);
      if (rows[0]!.n >= n) return;
      if (Date.now() > deadline) throw new Error(`${n} workers did not register`);
      await sleep(100);
    }
  }

  /**
   * Stops every worker and starts `WORKERS` new ones. A connection that LISTENs runs a transaction
   * (counted in `xact_commit`) for every NOTIFY of the database, on any channel, but publishes the
   * count only when it next runs a statement of its own or exits: stopping the workers after a
   * measured run makes their backends publish it, and fresh ones before it leave out what they
   * counted earlier.
   */
  async restart(): Promise<void> {
    await this.stop();
    for (let i = 0; i < WORKERS; i++) this.start();
    await this.ready(WORKERS);
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A chain: one step ready at a time, so its dispatch latency has no queueing behind busy slots. */
function chainPlan(dir: string, length: number): PlanIR {
  return plan({
    name: 'bench_chain',
    module: 'bench',
    base_dir: dir,
    source_file: join(dir, 'bench.orch'),
    capabilities: [capability('noop', { handler: { module: './noop.js', export: 'noop' } })],
    steps: Array.from({ length }, (_, i) => step({ id: `c${i}`, capability: 'noop', deps: i === 0 ? [] : [`c${i - 1}`] })),
  });
}

/** The run id of a `CHAIN`-step chain on the workers. */
async function chainOnWorkers(url: string, dir: string): Promise<string> {
  const rt = await Runtime.open({ db: url, placement: 'workers' });
  try {
    const active = await rt.start(chainPlan(dir, CHAIN), NO_CONFIG);
    const r = await active.result;
    if (r.status !== 'completed') throw new Error(`the chain run ended ${r.status}`);
    return active.runId;
  } finally {
    await rt.close();
  }
}

/** One step that naps long enough to be killed mid-flight. */
function napPlan(dir: string, name: string): PlanIR {
  return plan({
    name,
    module: 'bench',
    base_dir: dir,
    source_file: join(dir, 'bench.orch'),
    capabilities: [capability('nap', { handler: { module: './nap.js', export: 'nap' } })],
    steps: [step({ id: 'nap', capability: 'nap', args: { ms: lit(4000) } })],
  });
}

/**
 * Kills the worker running a step with SIGKILL; the time (by the database's clock) from the kill
 * until the step is running on another worker. `FAILOVERS` trials, ms.
 */
async function failovers(url: string, dir: string, sql: pg.Client, workers: Workers): Promise<number[]> {
  const rt = await Runtime.open({ db: url, placement: 'workers' });
  const times: number[] = [];
  try {
    for (let i = 0; i < FAILOVERS; i++) {
      const active = await rt.start(napPlan(dir, `failover_${i}`), NO_CONFIG);
      let victim: { worker: string; pid: number } | undefined;
      while (!victim) {
        const { rows } = await sql.query<{ worker: string; pid: number }>(
          `SELECT a.worker, w.pid FROM orch.attempts a JOIN orch.workers w ON w.id = a.worker WHERE a.run_id = $1 AND a.status = 'running'`,
          [active.runId],
        );
        victim = rows[0];
        if (!victim) await sleep(20);
      }
      const killed = (await sql.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t;
      process.kill(victim.pid, 'SIGKILL');
      let restarted: Date | undefined;
      while (!restarted) {
        const { rows } = await sql.query<{ started_at: Date }>(
          `SELECT started_at FROM orch.attempts WHERE run_id = $1 AND worker <> $2 AND started_at IS NOT NULL ORDER BY started_at LIMIT 1`,
          [active.runId, victim.worker],
        );
        restarted = rows[0]?.started_at;
        if (!restarted) await sleep(20);
      }
      times.push(restarted.getTime() - killed.getTime());
      const r = await active.result;
      if (r.status !== 'completed') throw new Error(`failover run ${i} ended ${r.status}`);
      workers.start();
      await workers.ready(WORKERS);
    }
  } finally {
    await rt.close();
  }
  return times.sort((a, b) => a - b);
}

/** The top statements of a side's measured runs, on stderr (the figures' table is on stdout). */
function printTop(side: string, run: DagFigures): void {
  if (run.top.length === 0) return;
  const steps = run.steps;
  process.stderr.write(`bench: cluster, ${side}: top statements by Postgres time (execution + planning) per 1,000 steps\n`);
  for (const t of run.top)
    process.stderr.write(
      `  ${((t.ms / steps) * 1000).toFixed(1).padStart(7)} ms (plan ${((t.planMs / steps) * 1000).toFixed(1)})  ${((t.calls / steps) * 1000).toFixed(0).padStart(5)} calls  ${(t.buffers / Math.max(1, t.calls)).toFixed(0).padStart(4)} buffers/call  ${t.query.slice(0, 100)}\n`,
    );
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-cluster-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
  writeFileSync(join(dir, 'nap.js'), 'export async function nap({ ms }) { await new Promise((r) => setTimeout(r, ms)); return null; }\n');
  const cluster = await startCluster({ durable: true, statements: true });
  try {
    await admin(cluster.port, 'CREATE DATABASE orch_bench');
    const url = `postgres://postgres@127.0.0.1:${cluster.port}/orch_bench`;
    await (await openBackend(url)).migrate();
    const commits = await commitRate(url);
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const load = (loadavg()[0]! / availableParallelism()) * 100;
    const dataDir = join(cluster.base, 'data');
    const localRun = await dagRate(url, dir, null, sql, dataDir);
    printTop('in-process', localRun);
    const local = localRun.rate;
    const ratio = (local / commits) * 100;
    const workers = new Workers(url, dir, sql);
    try {
      const remote = await dagRate(url, dir, workers, sql, dataDir);
      printTop(`${WORKERS} workers`, remote);
      const sharedRuns = remote.runs.map(shared);
      const sharedMedian = median(sharedRuns);
      const med = (c: (x: CpuReading) => number) => median(remote.runs.map(c));
      for (let i = 0; i < WORKERS; i++) workers.start();
      await workers.ready(WORKERS);
      const remoteRatio = (remote.rate / commits) * 100;
      const ofLocal = (remote.rate / local) * 100;
      const loadAfter = (loadavg()[0]! / availableParallelism()) * 100;
      const dispatch = await dispatchLatencies(sql, await chainOnWorkers(url, dir));
      const p50 = quantile(dispatch, 0.5);
      const p99 = quantile(dispatch, 0.99);
      const failover = quantile(await failovers(url, dir, sql, workers), 0.95);
      return [
        { name: `box load (1-min load average per core) before / after the DAG runs: ${load.toFixed(0)} % / ${loadAfter.toFixed(0)} %`, value: loadAfter, unit: '%', target: '', met: true },
        { name: `Postgres commit rate, durable (${CLIENTS} clients, one-row INSERT transactions)`, value: commits, unit: 'commits/s', target: '', met: true },
        { name: `orch on Postgres, steps in-process (--local), 1,000-step no-op DAG (median of ${RUNS} runs)`, value: local, unit: 'steps/s', target: '≥ 150 steps/s', met: local >= 150 },
        { name: 'the same vs the commit rate', value: ratio, unit: '%', target: '≥ 25 %', met: ratio >= 25 },
        { name: `orch on Postgres, steps on ${WORKERS} orch workers × ${SLOTS} slots, 1,000-step no-op DAG (median of ${RUNS} runs)`, value: remote.rate, unit: 'steps/s', target: '≥ 150 steps/s', met: remote.rate >= 150 },
        { name: 'the same vs the commit rate', value: remoteRatio, unit: '%', target: '≥ 25 %', met: remoteRatio >= 25 },
        { name: 'the same vs the in-process rate on the same Postgres', value: ofLocal, unit: '%', target: '≥ 50 %', met: ofLocal >= 50 },
        { name: 'the same vs 105 steps/s (graphile-worker, issue #40)', value: remote.rate / 105, unit: '×', target: '≥ 10 ×', met: remote.rate >= 1050 },
        // Names stay the same from run to run (bench/history.jsonl keys figures by name): the spread is figures of its own.
        { name: `shared CPU per 1,000 steps on ${WORKERS} workers: the run's owner + Postgres (/proc), warm: median of ${RUNS} runs after ${WARMUP_RUNS} warm-up runs`, value: sharedMedian, unit: 'ms', target: '≤ 135 ms', met: sharedMedian <= 135 },
        { name: `the same, lowest of the ${RUNS} runs`, value: Math.min(...sharedRuns), unit: 'ms', target: '', met: true },
        { name: `the same, highest of the ${RUNS} runs`, value: Math.max(...sharedRuns), unit: 'ms', target: '', met: true },
        { name: `the same, cold: the first run after the runtime opened (the first warm-up; V8 still compiling)`, value: shared(remote.cold), unit: 'ms', target: '', met: true },
        { name: `the run's owner's CPU per 1,000 steps on ${WORKERS} workers (/proc, warm, median)`, value: med((x) => x.owner), unit: 'ms', target: '', met: true },
        { name: `Postgres's CPU per 1,000 steps on ${WORKERS} workers (/proc: every backend and background process, warm, median)`, value: med((x) => x.postgres), unit: 'ms', target: '', met: true },
        { name: `the ${WORKERS} workers' CPU per 1,000 steps (/proc, warm, median)`, value: med((x) => x.workers), unit: 'ms', target: '', met: true },
        { name: 'CPU per 1,000 steps in-process: the process (handlers included) + Postgres (/proc, warm, median)', value: median(localRun.runs.map(shared)), unit: 'ms', target: '', met: true },
        { name: `Postgres's WAL records per step on ${WORKERS} workers (pg_stat_wal, idle background off)`, value: remote.work.walRecords, unit: 'records/step', target: '', met: true },
        { name: `Postgres's WAL bytes per step on ${WORKERS} workers (pg_stat_wal, idle background off)`, value: remote.work.walBytes, unit: 'B/step', target: '', met: true },
        { name: `shared buffers Postgres's statements touched per step on ${WORKERS} workers (pg_stat_statements, hit + read)`, value: remote.work.buffers, unit: 'buffers/step', target: '', met: true },
        { name: "Postgres's WAL records per step in-process (pg_stat_wal, idle background off)", value: localRun.work.walRecords, unit: 'records/step', target: '', met: true },
        { name: "shared buffers Postgres's statements touched per step in-process (pg_stat_statements, hit + read)", value: localRun.work.buffers, unit: 'buffers/step', target: '', met: true },
        { name: `commits per step on ${WORKERS} workers (pg_stat_database xact_commit: read-only and every listening connection's included, idle background off)`, value: remote.commitsPerStep, unit: 'commits/step', target: '≤ 1.0', met: remote.commitsPerStep <= 1 },
        { name: `durable commits per step on ${WORKERS} workers (write transactions, idle background off)`, value: remote.durablePerStep, unit: 'commits/step', target: '≤ 1.0', met: remote.durablePerStep <= 1 },
        { name: 'commits per step in-process (pg_stat_database xact_commit, idle background off)', value: localRun.commitsPerStep, unit: 'commits/step', target: '', met: true },
        { name: 'durable commits per step in-process (write transactions)', value: localRun.durablePerStep, unit: 'commits/step', target: '', met: true },
        { name: `step dispatch, committed → started on a worker (${CHAIN}-step chain), p50`, value: p50, unit: 'ms', target: '≤ 20 ms', met: p50 <= 20 },
        { name: `step dispatch, committed → started on a worker (${CHAIN}-step chain), p99`, value: p99, unit: 'ms', target: '≤ 200 ms', met: p99 <= 200 },
        { name: `failover, SIGKILL of the worker running a step → running elsewhere, p95 of ${FAILOVERS}`, value: failover, unit: 'ms', target: '≤ 10,000 ms', met: failover <= 10_000 },
      ];
    } finally {
      await workers.stop();
      await sql.end();
    }
  } finally {
    await stopCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  }
}
