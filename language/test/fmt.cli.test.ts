/**
 * `orch fmt` on files in a temp folder: rewriting in place and standard input end to end through
 * the real CLI (bin/orch.js → dist), the rest through the same CLI core in this process (`runCli`,
 * test/support/cli-in-process.ts).
 */
import { spawnSync } from 'node:child_process';
import { runCli } from '../../test/support/cli-in-process.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { orch, REPO_ROOT } from '../../examples/test/cli.js';
import { format } from '../format.js';

beforeAll(() => {
  TIDY = orchStdin(['fmt', '-'], MESSY).stdout;
});

const MESSY = `capability greet {   kind tool
    input  { name: string }   // who
  handler "./h.mjs#greet"
}
plan hello { step say = greet(name: "Ada")
  goal "Greet"
}
`;
/** MESSY as the built CLI formats it (computed after the build, so source and dist cannot disagree). */
let TIDY = '';
const BROKEN = 'plan p {\n  step = greet()\n}\n';

/** The CLI with `input` on its standard input (the shared helper has no stdin). */
const cli = (args: readonly string[]) => runCli(args, process.cwd());

function orchStdin(args: readonly string[], input: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/orch.js'), ...args], {
    cwd: REPO_ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'orch-fmt-'));
}
function write(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

describe('orch fmt', () => {
  it('rewrites a file in place, lists it, and leaves it alone the second time', () => {
    expect(TIDY).toBe(format('x.orch', MESSY).text);
    expect(TIDY).toContain('  input { name: string } // who\n');
    const file = write(tempDir(), 'a.orch', MESSY);
    const first = orch(['fmt', file]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${file}\n`);
    expect(readFileSync(file, 'utf8')).toBe(TIDY);
    const second = orch(['fmt', file]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(TIDY);
  });

  it('--check writes nothing, lists files that would change and exits 1', async () => {
    const dir = tempDir();
    const messy = write(dir, 'messy.orch', MESSY);
    const tidy = write(dir, 'tidy.orch', TIDY);
    const r = await cli(['fmt', '--check', messy, tidy]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${messy}\n`);
    expect(r.stderr).toContain('1 of 2 files would be reformatted');
    expect(readFileSync(messy, 'utf8')).toBe(MESSY);
    const clean = await cli(['fmt', '--check', tidy]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe('');
  });

  it('refuses files with syntax errors: prints file:line:col diagnostics, exits 1, keeps the file', async () => {
    const dir = tempDir();
    const broken = write(dir, 'broken.orch', BROKEN);
    const messy = write(dir, 'messy.orch', MESSY);
    const r = await cli(['fmt', broken, messy]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${broken}:`);
    expect(r.stderr).toMatch(/broken\.orch:\d+:\d+: error\[E0001\]/);
    expect(readFileSync(broken, 'utf8')).toBe(BROKEN);
    // The other file is still formatted.
    expect(readFileSync(messy, 'utf8')).toBe(TIDY);
  });

  it('formats a file whose only errors leave its tree whole (E0302, E0303): they are check\'s to report', async () => {
    const dir = tempDir();
    const loops = 'plan p {\n    repeat r until true { step s = f(x: 1) }\n  race q {   step a = f(x: 1) }\n}\n';
    const file = write(dir, 'loops.orch', loops);
    const r = await cli(['fmt', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('plan p {\n  repeat r until true {\n    step s = f(x: 1)\n  }\n  race q {\n    step a = f(x: 1)\n  }\n}\n');
    expect((await cli(['fmt', '--check', file])).code).toBe(0);
  });

  it('formats a file with a property given twice (E0102), keeping that declaration as written: its tree holds one of the two', async () => {
    const dir = tempDir();
    const twice = 'plan p {\n  goal "a"  // first\n    goal "b"\n  step s = f(x: 1)\n}\nplan   q { step s = f(x: 2) }\n';
    const file = write(dir, 'twice.orch', twice);
    const r = await cli(['fmt', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('plan p {\n  goal "a"  // first\n    goal "b"\n  step s = f(x: 1)\n}\n\nplan q {\n  step s = f(x: 2)\n}\n');
    expect((await cli(['fmt', '--check', file])).code).toBe(0);
    // Outside every declaration (a second module line) nothing can be kept as written: refused.
    const modules = write(dir, 'modules.orch', 'module a\nmodule b\nplan   p { step s = f(x: 1) }\n');
    const refused = await cli(['fmt', modules]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/modules\.orch:2:1: error\[E0102\]/);
  });

  it('reports an unreadable input as one line and exits 2', async () => {
    const dir = tempDir();
    const missing = path.join(dir, 'missing.orch');
    const r = await cli(['fmt', missing, write(dir, 'b.orch', BROKEN)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`orch: ${missing}: no such file\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('formats every .orch file under a directory', async () => {
    const dir = tempDir();
    const a = write(dir, 'a.orch', MESSY);
    const b = write(dir, 'sub/b.orch', MESSY);
    write(dir, 'notes.txt', 'not orch');
    const r = await cli(['fmt', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([a, b].sort());
    expect(readFileSync(b, 'utf8')).toBe(TIDY);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('not orch');
  });

  it('formats standard input to standard output with -', () => {
    const r = orchStdin(['fmt', '-'], MESSY);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(TIDY);
    expect(TIDY).not.toBe(MESSY);
    expect(orchStdin(['fmt', '--check', '-'], MESSY).code).toBe(1);
    expect(orchStdin(['fmt', '--check', '-'], TIDY).code).toBe(0);
    const broken = orchStdin(['fmt', '-'], BROKEN);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/<stdin>:\d+:\d+: error\[E0001\]/);
  });

  it('has --help with examples, and needs at least one file', async () => {
    const help = await cli(['fmt', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('orch fmt --check');
    expect(help.stdout).toContain('Exit codes');
    const usage = await cli(['fmt']);
    expect(usage.code).toBe(2);
  });
});
