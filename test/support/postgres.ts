/**
 * A throwaway Postgres for tests: one cluster per test run, a fresh database per `startPostgres()`
 * call. The first test file that asks starts the cluster (so a run without Postgres tests never
 * pays for initdb) and leaves its address in the run's folder (ORCH_TEST_PG_RUN, made by
 * test/pg-global.ts); every later file of the run uses it. The run's global teardown stops and
 * deletes it; a detached reaper does it too if the vitest process is killed first, so no server
 * outlives its run. A file's databases are dropped after its tests.
 *
 * Outside a vitest run (no ORCH_TEST_PG_RUN) the cluster is this process's own, stopped after the
 * file's tests as before.
 *
 * It is never skipped: when Postgres cannot start, `startPostgres()` rejects with the reason (and
 * the server log), and the test that asked fails. `.ci/run` installs Debian's postgresql.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { openBackend } from '../../runtime/index.js';
import { admin, PG_RUN_ENV, RUN_PID_ENV, startCluster, stopCluster, type Cluster, type ClusterRecord } from './pg-cluster.js';

/**
 * A fresh database at the Orch schema's latest version, with a client of the test's own: what the
 * Postgres test files need before their first test (`migratedPostgres()` in `beforeAll`,
 * `db.stop()` in `afterAll`, which ends the client then drops the database).
 */
export interface MigratedPostgres extends TestPostgres {
  readonly client: pg.Client;
}

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/DB`, a database of its own. */
  readonly url: string;
  /** Drops the database (the cluster stays for the run's other tests). */
  stop(): Promise<void>;
}

let port: Promise<number> | null = null;
let own: Promise<Cluster> | null = null;
const live = new Set<string>();
let databases = 0;

/** A fresh database in the run's cluster (started by the first file that asks). */
export async function startPostgres(): Promise<TestPostgres> {
  port ??= clusterPort();
  const p = await port.catch((err: unknown) => {
    port = null; // the next test asks again rather than failing on a stale error
    throw err;
  });
  const name = `orch_test_${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
  await admin(p, `CREATE DATABASE ${name}`);
  live.add(name);
  return {
    url: `postgres://postgres@127.0.0.1:${p}/${name}`,
    stop: async () => {
      live.delete(name);
      await admin(p, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A fresh database at the latest schema — migrated in this process by the runtime's own
 * `Backend.migrate` (what `orch db migrate` runs), not by spawning the CLI — with a client of its own.
 */
export async function migratedPostgres(): Promise<MigratedPostgres> {
  const db = await startPostgres();
  let client: pg.Client | null = null;
  try {
    await (await openBackend(db.url)).migrate();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  } catch (err) {
    await client?.end().catch(() => undefined);
    await db.stop();
    throw err;
  }
  const c = client;
  return {
    url: db.url,
    client: c,
    stop: async () => {
      await c.end().catch(() => undefined);
      await db.stop();
    },
  };
}

async function clusterPort(): Promise<number> {
  const run = process.env[PG_RUN_ENV];
  if (!run) {
    own ??= startCluster();
    return (await own).port;
  }
  return (await sharedCluster(run)).port;
}

/**
 * The run's cluster: read from its record, or started here under a lock (a directory, made
 * atomically) when no file started it yet. Files run one at a time today; the lock keeps it right
 * if two ever ask at once.
 */
async function sharedCluster(run: string): Promise<ClusterRecord> {
  const record = join(run, 'cluster.json');
  const lock = join(run, 'starting');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (existsSync(record)) return JSON.parse(readFileSync(record, 'utf8')) as ClusterRecord;
    let locked = false;
    try {
      mkdirSync(lock);
      locked = true;
    } catch {
      // Another file is starting it; a lock older than initdb ever takes was left by a killed one.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 90_000) rmSync(lock, { recursive: true, force: true });
    }
    if (locked) {
      try {
        const owner = Number(process.env[RUN_PID_ENV]) || process.pid;
        const c = await startCluster({ ownerPid: owner, maxConnections: 300 });
        const rec: ClusterRecord = { base: c.base, port: c.port };
        writeFileSync(`${record}.tmp`, JSON.stringify(rec));
        renameSync(`${record}.tmp`, record);
        return rec;
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw new Error('test Postgres: timed out waiting for another test file to start the cluster');
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Registered when a test file imports this module, so it runs after that file's tests.
afterAll(async () => {
  if (port) {
    const p = await port.catch(() => null);
    if (p !== null) {
      for (const name of [...live]) await admin(p, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    }
    live.clear();
    port = null;
  }
  if (own) {
    const c = await own.catch(() => null);
    own = null;
    if (c) await stopCluster(c);
  }
});
