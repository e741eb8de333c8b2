/**
 * The bundled `orch check` entry (cli/bundle-check.mjs → one ESM module) must behave
 * exactly like `orch check` through the compiled CLI: same output, same errors, same exit codes.
 * The bundle is built fresh from the current dist/ into a scratch file inside the package (it
 * finds the std library by walking up to the package root), and both are run as real processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM build script without type declarations
import { bundleCheck } from '../bundle-check.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const BUNDLE = path.join(ROOT, 'dist', 'bundle', `check-test-${process.pid}.js`);
const dir = mkdtempSync(path.join(tmpdir(), 'orch-bundle-'));

const GOOD = `capability greet { kind tool input { name: string } output { message: string } }
plan hello {
  step g = greet(name: "Ada")
  output { m: g.output.message }
}
`;
const BAD = `capability greet { kind tool input { name: string } output { message: string } }
plan hello {
  step g = greet(nme: "Ada")
  step h = greet(name: g.output.mesage)
  deadline 2h
}
`;

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Runs `orch ARGS` through the module `entry` (its exported `main`). */
function run(entry: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const script = "const { main } = await import(process.argv[1]); process.exitCode = await main(['node', 'orch', ...process.argv.slice(2)]);";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, entry, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await bundleCheck(BUNDLE);
}, 120_000);

afterAll(() => {
  rmSync(BUNDLE, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('bundled orch check', () => {
  it('is one module: it imports only packages and Node built-ins, no relative files', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).toContain('function registerCheck');
    expect(text).not.toMatch(/\bfrom\s*["']\.\.?\//);
    expect(text).not.toMatch(/\bimport\s*\(\s*["']\.\.?\//);
  });

  it('does not load ajv or dagre: checking validates no schema and lays out no graph', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).not.toMatch(/["']ajv[/"']/);
    expect(text).not.toMatch(/["']@dagrejs\/dagre[/"']/);
  });

  const cases: [string, () => string[]][] = [
    ['a valid file', () => ['check', file('good.orch', GOOD)]],
    ['a file with errors', () => ['check', file('bad.orch', BAD)]],
    ['json output', () => ['check', file('bad.orch', BAD), '--format', 'json']],
    ['sarif output', () => ['check', file('bad.orch', BAD), '--format', 'sarif']],
    ['github output', () => ['check', file('bad.orch', BAD), '--format', 'github']],
    ['several files', () => ['check', file('good.orch', GOOD), file('bad.orch', BAD)]],
    ['a missing file', () => ['check', path.join(dir, 'missing.orch')]],
    ['an unknown format', () => ['check', file('good.orch', GOOD), '--format', 'yaml']],
    ['no files', () => ['check']],
    ['--help', () => ['check', '--help']],
  ];
  it.each(cases)('answers like the compiled CLI: %s', (_name, args) => {
    const a = args();
    const bundled = run(BUNDLE, a);
    const compiled = run(MAIN, a);
    expect(bundled).toEqual(compiled);
    expect(compiled.code).not.toBeNull();
  });
});
