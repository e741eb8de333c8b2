/**
 * Vitest global setup. Tests make temporary folders with os.tmpdir() — journals, plans, Postgres
 * clusters, bench-free CLI runs — and a test killed by its timeout never deletes its own. Every
 * test process inherits TMPDIR from here, so all of them land in one folder made for this run,
 * removed when the run ends, whatever the tests left. ORCH_KEEP_TEST_TMP=1 keeps it to look into.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const system = tmpdir();
  const root = mkdtempSync(join(system, 'orch-tests-'));
  // Postgres runs as its own user when we are root: it must be able to reach its cluster folder.
  chmodSync(root, 0o755);
  process.env.ORCH_SYSTEM_TMPDIR = system;
  process.env.TMPDIR = root;
  return () => {
    if (process.env.ORCH_KEEP_TEST_TMP === '1') {
      process.stderr.write(`test temporary files kept in ${root}\n`);
      return;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
