/**
 * Vitest global setup: one Postgres cluster per test run. The run gets a folder (ORCH_TEST_PG_RUN)
 * where test/support/postgres.ts records the cluster the first Postgres test file starts; this
 * teardown stops and deletes it when the run ends. The folder is outside the run's temporary root
 * (test/temp-root.ts), whose teardown may come first.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachCluster, PG_RUN_ENV, RUN_PID_ENV, stopCluster, type ClusterRecord } from './support/pg-cluster.js';

export default function setup(): () => Promise<void> {
  const run = mkdtempSync(join(process.env.ORCH_SYSTEM_TMPDIR ?? tmpdir(), 'orch-pg-run-'));
  process.env[PG_RUN_ENV] = run;
  process.env[RUN_PID_ENV] = String(process.pid);
  return async () => {
    const record = join(run, 'cluster.json');
    try {
      if (existsSync(record)) {
        const { base, port } = JSON.parse(readFileSync(record, 'utf8')) as ClusterRecord;
        await stopCluster(attachCluster(base, port));
      }
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  };
}
