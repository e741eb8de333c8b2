/**
 * `orch check DIR`, `orch fmt DIR` and `orch test DIR` read the same files of a folder (one walk,
 * `givenFolderWalk`): CI that checks, format-checks and tests one folder must not see three sets.
 * Dependencies, build output, coverage reports and dot-folders are not the user's plans.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli-in-process.js';

// Unformatted (two spaces too many), with a warning (an unused type alias) and a passing test, so
// each command says which files it read.
const PLAN = `type Unused = string

plan p {
  step g = transform(value:   "hi")
  output { v: g.output.value }
}

test "t" {
  plan p
  expect run.output.v == "hi"
}
`;

const READ = ['plans/a.orch', 'plans/deep/b.orch', 'z.orch'];
const NOT_READ = ['node_modules/pkg/c.orch', 'dist/d.orch', 'coverage/e.orch', '.git/f.orch', '.orch/g.orch', '.venv/h.orch', 'plans/.cache/i.orch'];

const root = mkdtempSync(path.join(tmpdir(), 'orch-given-folder-'));
for (const rel of [...READ, ...NOT_READ]) {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), PLAN);
}

describe('a folder given to check, fmt and test', () => {
  it('orch check . reads the plans, not dependencies, build output or dot-folders', async () => {
    const r = await runCli(['check', '.', '--format', 'json'], root);
    expect(r.code, r.stderr).toBe(0);
    const files = new Set(JSON.parse(r.stdout).diagnostics.map((d: { file: string }) => path.relative(root, path.resolve(root, d.file)).split(path.sep).join('/')));
    expect([...files].sort()).toEqual(READ);
  });

  it('orch fmt --check . lists the same files', async () => {
    const r = await runCli(['fmt', '--check', '.'], root);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n').sort()).toEqual(READ);
  });

  it('orch test . runs the tests of the same files', async () => {
    const r = await runCli(['test', '.'], root);
    expect(r.code, r.stderr).toBe(0);
    const files = [...r.stdout.matchAll(/^✓ t \(([^:]+):\d+, plan p\)$/gm)].map((m) => m[1]).sort();
    expect(files).toEqual(READ);
  });
});
