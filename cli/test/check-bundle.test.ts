/**
 * The bundled `orch check` entry (cli/bundle-check.mjs → one CommonJS script) must behave
 * exactly like `orch check` through the compiled CLI: same output, same errors, same exit codes —
 * imported as a module, and run the way bin/orch.js runs it (bin/check-bundle.js: compiled with
 * V8's code cache, which a missing, foreign or corrupt cache file must not change).
 * The bundle is built fresh from the current dist/ into a scratch file inside the package (it
 * finds the std library by walking up to the package root), and both are run as real processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM build script without type declarations
import { bundleCheck } from '../bundle-check.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
// A folder of its own: the code cache is written beside the bundle.
const BUNDLE_DIR = mkdtempSync(path.join(ROOT, 'dist', 'bundle-test-'));
const BUNDLE = path.join(BUNDLE_DIR, 'check.cjs');
const LOADER = path.join(ROOT, 'bin', 'check-bundle.js');
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

/** Runs `orch ARGS` through the bundle as bin/orch.js does: compiled with the code cache, then `done()`. */
function runCached(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const script = "const { loadCheckBundle } = await import(process.argv[1]); const b = loadCheckBundle(process.argv[2]); process.exitCode = await b.main(['node', 'orch', ...process.argv.slice(3)]); b.done();";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, LOADER, BUNDLE, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: path.join(dir, 'cache') },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cacheFiles = () => readdirSync(BUNDLE_DIR).filter((f) => f.endsWith('.code-cache'));

beforeAll(async () => {
  await bundleCheck(BUNDLE);
}, 120_000);

afterAll(() => {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('bundled orch check', () => {
  it('is one module: it imports only packages and Node built-ins, no relative files', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).toContain('function registerCheck');
    expect(text).not.toMatch(/\bfrom\s*["']\.\.?\//);
    expect(text).not.toMatch(/\bimport\s*\(\s*["']\.\.?\//);
    expect(text).not.toMatch(/\brequire\s*\(\s*["']\.\.?\//);
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

  it('answers alike with no code cache, with the one it wrote, and with a corrupt or foreign one', () => {
    const args = ['check', file('good.orch', GOOD), file('bad.orch', BAD), '--format', 'json'];
    const compiled = run(MAIN, args);
    rmSync(path.join(BUNDLE_DIR, cacheFiles()[0] ?? 'none'), { force: true });
    expect(runCached(args)).toEqual(compiled);
    const [cache] = cacheFiles();
    expect(cache).toBeDefined();
    const written = readFileSync(path.join(BUNDLE_DIR, cache!));
    expect(runCached(args)).toEqual(compiled);
    // The same header over bytes V8 rejects, and a file from another bundle: each is replaced.
    const head = written.subarray(0, written.indexOf(10) + 1);
    writeFileSync(path.join(BUNDLE_DIR, cache!), Buffer.concat([head, Buffer.from('not a code cache')]));
    expect(runCached(args)).toEqual(compiled);
    expect(readFileSync(path.join(BUNDLE_DIR, cache!)).length).toBeGreaterThan(head.length + 100);
    writeFileSync(path.join(BUNDLE_DIR, cache!), Buffer.concat([Buffer.from(head.toString().replace(/[0-9a-f]{64}/, '0'.repeat(64))), written.subarray(head.length)]));
    expect(runCached(args)).toEqual(compiled);
    expect(readFileSync(path.join(BUNDLE_DIR, cache!)).subarray(0, head.length)).toEqual(head);
  });

  it('writes the code cache to the user cache folder when the bundle\'s folder takes none', () => {
    const args = ['check', file('good.orch', GOOD)];
    for (const f of cacheFiles()) rmSync(path.join(BUNDLE_DIR, f));
    // A folder where the cache file would go: the write beside the bundle fails.
    const blocked = path.join(BUNDLE_DIR, `check-${process.version}-${process.arch}.code-cache`);
    mkdirSync(blocked);
    expect(runCached(args)).toEqual(run(MAIN, args));
    expect(existsSync(path.join(dir, 'cache', 'orch'))).toBe(true);
    expect(readdirSync(path.join(dir, 'cache', 'orch')).filter((f) => f.endsWith('.code-cache'))).toHaveLength(1);
    rmSync(blocked, { recursive: true, force: true });
  });
});
