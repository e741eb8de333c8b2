/**
 * A throwaway Postgres for tests: one cluster per test file (vitest runs each file in its own
 * process), a fresh database per `startPostgres()` call. The cluster is stopped and deleted after
 * the file's tests; a detached reaper does it too if the test process is killed first, so no
 * server outlives its tests.
 *
 * It is never skipped: when Postgres cannot start, `startPostgres()` rejects with the reason (and
 * the server log), and the test that asked fails. `.ci/run` installs Debian's postgresql.
 */
import { afterAll } from 'vitest';
import { admin, startCluster, stopCluster, type Cluster } from './pg-cluster.js';

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/DB`, a database of its own. */
  readonly url: string;
  /** Drops the database (the cluster stays for the file's other tests). */
  stop(): Promise<void>;
}

let cluster: Promise<Cluster> | null = null;
let databases = 0;

/** A fresh database in this test file's cluster (started on the first call). */
export async function startPostgres(): Promise<TestPostgres> {
  cluster ??= startCluster();
  const c = await cluster;
  const name = `orch_test_${process.pid}_${++databases}`;
  await admin(c.port, `CREATE DATABASE ${name}`);
  return {
    url: `postgres://postgres@127.0.0.1:${c.port}/${name}`,
    stop: async () => {
      await admin(c.port, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

// Registered when a test file imports this module, so it runs after that file's tests.
afterAll(async () => {
  if (!cluster) return;
  const c = await cluster.catch(() => null);
  cluster = null;
  if (c) await stopCluster(c);
});
