/**
 * Vitest global setup. CLI, language-server and worker-thread tests run the compiled JS in dist/
 * (bin/orch.js, worker scripts). `npm test` builds first; this makes `npx vitest run FILE` work
 * too, rebuilding once, before any test file starts, and only when a source is newer than dist/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['language', 'compiler', 'runtime', 'verify', 'serve', 'lsp', 'cli', 'stdlib', 'bench'];
const MARKER = join(REPO, 'dist', 'cli', 'main.js');

export default function setup(): void {
  if (existsSync(MARKER) && statSync(MARKER).mtimeMs >= newestSource()) return;
  // tsc emits even when some file has a type error; only missing output is fatal here.
  spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO,
    stdio: 'inherit',
  });
  if (!existsSync(MARKER)) throw new Error('building dist/ failed: run `npm run build` to see why');
  // The build is incremental (tsconfig.build.json): a source touched but not changed emits
  // nothing, and the marker would stay older than it, rebuilding at every start.
  const now = new Date();
  utimesSync(MARKER, now, now);
  // The dashboard's browser bundle (dist/ui/) is built from the compiled tree.
  spawnSync(process.execPath, [join(REPO, 'serve', 'ui', 'build.mjs')], { cwd: REPO, stdio: 'inherit' });
}

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'test' && e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(REPO, d))) walk(join(REPO, d));
  return newest;
}
