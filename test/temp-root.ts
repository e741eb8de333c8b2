/**
 * Vitest global setup. Tests make temporary folders with os.tmpdir() — journals, plans, Postgres
 * clusters, bench-free CLI runs — and a test killed by its timeout never deletes its own. Every
 * test process inherits TMPDIR from here, so all of them land in one folder made for this run,
 * removed when the run ends, whatever the tests left. ORCH_KEEP_TEST_TMP=1 keeps it to look into.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The root this process made: vitest runs a global setup once per project (each `extends` it). */
const ROOT_ENV = 'ORCH_TEST_TMP_ROOT';

export default function setup(): () => void {
  // A later project's run of this setup keeps the first's root: nesting a root in a root per
  // project made paths too long for a Unix socket (Chromium's profile lock, 108 bytes).
  if (process.env[ROOT_ENV] !== undefined && process.env[ROOT_ENV] === process.env.TMPDIR) return () => {};
  const system = tmpdir();
  const root = mkdtempSync(join(system, 'orch-tests-'));
  // Postgres runs as its own user when we are root: it must be able to reach its cluster folder.
  chmodSync(root, 0o755);
  process.env.ORCH_SYSTEM_TMPDIR = system;
  process.env.TMPDIR = root;
  process.env[ROOT_ENV] = root;
  return () => {
    if (process.env.ORCH_KEEP_TEST_TMP === '1') {
      process.stderr.write(`test temporary files kept in ${root}\n`);
      return;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
