/**
 * Orch on Postgres, against the physical limit measured in the same run: the commit rate of a
 * durable Postgres on this box (fsync and synchronous_commit on, as a real cluster runs), from a
 * few clients each committing one-row INSERT transactions — what `pgbench -N` measures, without
 * needing pgbench. Then a 1,000-step no-op layered DAG journaled in that database with its steps on
 * this process's worker threads (`--local`): every turn of the scheduler is one fenced commit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migratePostgres, Runtime } from '../runtime/index.js';
import { admin, startCluster, stopCluster } from '../test/support/pg-cluster.js';
import type { BenchFigure } from './figure.js';
import { layeredPlan } from './runtime.js';

const CLIENTS = 4;
const COMMIT_SECONDS = 3;

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

async function localRate(url: string, dir: string): Promise<number> {
  const plan = layeredPlan(dir, 10);
  const rt = await Runtime.open({ db: url, workers: availableParallelism() });
  try {
    const warm = { ...plan, plan: 'warm', steps: plan.steps.slice(0, 100), stages: [plan.stages[0]!] };
    await (await rt.start(warm, { config: { file: null, hooks: {}, secrets: {} } })).result;
    const t0 = performance.now();
    const r = await (await rt.start(plan, { config: { file: null, hooks: {}, secrets: {} } })).result;
    if (r.status !== 'completed') throw new Error(`the bench run ended ${r.status}`);
    return plan.steps.length / ((performance.now() - t0) / 1000);
  } finally {
    await rt.close();
  }
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-cluster-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
  const cluster = await startCluster({ durable: true });
  try {
    await admin(cluster.port, 'CREATE DATABASE orch_bench');
    const url = `postgres://postgres@127.0.0.1:${cluster.port}/orch_bench`;
    await migratePostgres(url);
    const commits = await commitRate(url);
    const local = await localRate(url, dir);
    const ratio = (local / commits) * 100;
    return [
      { name: `Postgres commit rate, durable (${CLIENTS} clients, one-row INSERT transactions)`, value: commits, unit: 'commits/s', target: '', met: true },
      { name: 'orch on Postgres, steps in-process (--local), 1,000-step no-op DAG', value: local, unit: 'steps/s', target: '≥ 150 steps/s', met: local >= 150 },
      { name: 'the same vs the commit rate', value: ratio, unit: '%', target: '≥ 25 %', met: ratio >= 25 },
    ];
  } finally {
    await stopCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  }
}
