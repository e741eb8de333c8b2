/**
 * The output conventions every command shares (docs/cli.md, "Conventions"): colours only on a
 * terminal and never under NO_COLOR, and diagnostics naming files as `orch check` does — relative
 * to the current directory. `orch run`, `verify` and `test` print a file's diagnostics before they
 * refuse it (`serve` too); they must follow the same rules as `check`. In-process CLI; nothing runs a handler.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const BAD = `plan p {
  step t = transform(value: 1s + 2usd)
}
`;
const BAD_TEST = `test "t" {
  plan nope
}
`;
const ESC = '\x1b[';

/** Makes the CLI believe both its streams are a terminal, as `orch` run by a person sees them. */
function onTerminal(): void {
  Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
  Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
}
const saved = { out: Object.getOwnPropertyDescriptor(process.stdout, 'isTTY'), err: Object.getOwnPropertyDescriptor(process.stderr, 'isTTY') };
afterEach(() => {
  for (const [stream, d] of [[process.stdout, saved.out], [process.stderr, saved.err]] as const) {
    if (d) Object.defineProperty(stream, 'isTTY', d);
    else delete (stream as { isTTY?: boolean }).isTTY;
  }
});

function project(): string {
  const dir = tempDir('orch-conventions-');
  writeFileSync(join(dir, 'bad.orch'), BAD);
  writeFileSync(join(dir, 'bad.test.orch'), BAD_TEST);
  return dir;
}

/** A command that refuses `bad.orch` (or the test file) after printing its diagnostics. */
const REFUSALS: readonly (readonly string[])[] = [
  ['check', 'bad.orch'],
  ['run', 'bad.orch', '--quiet'],
  ['verify', 'bad.orch', '--runs', '1'],
  ['test', 'bad.test.orch'],
  ['compile', 'bad.orch'],
  ['serve', 'bad.orch', '--port', '0'],
];
const argsIn = (dir: string, args: readonly string[]): string[] => (args[0] === 'run' || args[0] === 'serve' ? [...args, '--db', join(dir, 'runs.db')] : [...args]);

describe('output conventions shared by every command', () => {
  it.each(REFUSALS)('NO_COLOR turns colours off on a terminal: orch %s', async (...args) => {
    const dir = project();
    onTerminal();
    const plain = await runCli(argsIn(dir, args), dir, { NO_COLOR: '1' });
    expect(plain.code, plain.stderr).not.toBe(0);
    expect(plain.stdout + plain.stderr).toMatch(/error\[E0\d{3}\]/);
    expect(plain.stdout + plain.stderr, 'under NO_COLOR').not.toContain(ESC);
    // The same command on a terminal without NO_COLOR is coloured: the check above can fail.
    const coloured = await runCli(argsIn(dir, args), dir, { NO_COLOR: undefined });
    expect(coloured.stdout + coloured.stderr, 'on a terminal').toContain(ESC);
  });

  it.each(REFUSALS)('diagnostics name the file relative to the current directory: orch %s', async (...args) => {
    const dir = project();
    const r = await runCli(argsIn(dir, args), dir);
    const file = args[1]!.replace(/\./g, '\\.');
    expect(r.stdout + r.stderr).toMatch(new RegExp(`^${file}:\\d+:\\d+: error\\[`, 'm'));
    expect(r.stdout + r.stderr).not.toContain(dir);
  });
});

describe('usage errors are one line prefixed orch:, as every other error', () => {
  it.each([
    [['check', '--bogus', 'x.orch'], "orch: unknown option '--bogus'"],
    [['bogus'], "orch: unknown command 'bogus'"],
    [['check'], "orch: missing required argument 'files'"],
    [['check', '--fromat', 'json', 'x.orch'], "orch: unknown option '--fromat' (Did you mean --format?)"],
    [['compile', 'a.orch', 'b.orch'], 'orch: too many arguments for \'compile\''],
    [['verify', 'a.orch', '--runs', '0'], "orch: option '--runs <n>' argument '0' is invalid"],
  ])('orch %s', async (args, start) => {
    const r = await runCli(args, process.cwd());
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(start), r.stderr).toBe(true);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('--help');
  });
});

describe('-o: a file, or - for standard output', () => {
  const PLAN = `plan p {
  step t = transform(value: 1)
}
`;
  it('compile and graph -o - print to standard output and write no file named -', async () => {
    const dir = tempDir('orch-conventions-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    const ir = await runCli(['compile', 'p.orch', '-o', '-'], dir);
    expect(ir.code, ir.stderr).toBe(0);
    expect(JSON.parse(ir.stdout).version).toBe('orch.plan/v3');
    expect(ir.stderr).toBe('');
    const graph = await runCli(['graph', 'p.orch', '--format', 'mermaid', '-o', '-'], dir);
    expect(graph.stdout).toMatch(/^flowchart/);
    expect(existsSync(join(dir, '-'))).toBe(false);
  });

  it('-o naming a directory is refused in plain words (exit 2), and compile counts its steps right', async () => {
    const dir = tempDir('orch-conventions-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    mkdirSync(join(dir, 'out'));
    const r = await runCli(['compile', 'p.orch', '-o', 'out'], dir);
    expect([r.code, r.stderr]).toEqual([2, 'orch: cannot write out: is a directory\n']);
    const ok = await runCli(['compile', 'p.orch', '-o', 'out/p.json'], dir);
    expect(ok.stderr).toBe('wrote out/p.json (plan p, 1 step)\n');
  });

  // Node 20's recursive mkdir loops for ever on such a path: the command spun a CPU and never ended.
  it('-o under a folder that cannot be made (/proc) is exit 2 naming it, not a hang: compile, graph, test', { timeout: 30_000 }, async () => {
    const dir = tempDir('orch-conventions-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    writeFileSync(join(dir, 'p.test.orch'), 'import "./p.orch" as m\ntest "t" {\n  plan m.p\n  expect run.status == "completed"\n}\n');
    for (const args of [['compile', 'p.orch'], ['graph', 'p.orch', '--format', 'mermaid'], ['test', 'p.test.orch', '--reporter', 'junit']]) {
      const r = await runCli([...args, '-o', '/proc/orch-no-such/dir/out.txt'], dir);
      expect([r.code, r.stderr], args[0]).toEqual([2, expect.stringMatching(/^orch: cannot write \/proc\/orch-no-such\/dir\/out\.txt: (no such file|permission denied)/)]);
    }
    // Folders that can be made still are, a level at a time.
    const ok = await runCli(['compile', 'p.orch', '-o', 'a/b/c/p.json'], dir);
    expect([ok.code, existsSync(join(dir, 'a', 'b', 'c', 'p.json'))]).toEqual([0, true]);
    // A file where a folder should be is named as such.
    const file = await runCli(['compile', 'p.orch', '-o', 'p.orch/x/p.json'], dir);
    expect([file.code, file.stderr]).toEqual([2, 'orch: cannot write p.orch/x/p.json: a part of the path is a file, not a directory\n']);
  });
});

describe('an error is one line with one prefix', () => {
  // It read `orch: orch worker on postgres://…: connect ECONNREFUSED`.
  it('orch worker on a database it cannot reach: `orch: worker on DB: …`, exit 2', { timeout: 30_000 }, async () => {
    const db = 'postgres://orch@127.0.0.1:9/orch';
    const r = await runCli(['worker', '--db', db, '--no-take-over'], process.cwd());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^orch: worker on ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\S`));
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  });
});

describe('a folder with no .orch file', () => {
  // fmt said "no .orch files in this directory", check "is a directory with no .orch file under it".
  it('is refused in the same words by check and fmt (exit 2)', async () => {
    const dir = tempDir('orch-conventions-');
    mkdirSync(join(dir, 'empty'));
    for (const args of [['check', 'empty'], ['fmt', 'empty'], ['fmt', '--check', 'empty']]) {
      const r = await runCli(args, dir);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, 'orch: empty: is a directory with no .orch file under it\n']);
    }
  });
});
