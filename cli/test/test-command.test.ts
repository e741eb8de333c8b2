/**
 * `orch test` (LANGUAGE.md §9.2) through the CLI core, in this process: the movie_night example's
 * tests pass with its own handlers running in worker threads, a failing expect is reported at
 * file:line with a code frame and the values it read, and the exit codes and reporters are as the
 * spec says.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../examples/test/cli.js';
import { runCli } from '../../test/support/cli-in-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-test-cmd-'));
writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
writeFileSync(
  path.join(dir, 'hello.orch'),
  `plan hello {
  input { name: string }
  step greet = transform(value: "hi \${input.name}")
  step tell = notify(channel: "#ops", text: greet.output.value) { after greet }
  output { text: greet.output.value }
}
`,
);
writeFileSync(
  path.join(dir, 'hello.test.orch'),
  `import "./hello.orch" as h

test "greets by name" {
  plan h.hello
  input { name: "ada" }
  mock notify returns { delivered: true, channel: "#ops" }
  expect run.output.text == "hi ada" and calls(notify)[0].text == "hi ada"
}

test "expects the wrong greeting" {
  plan h.hello
  input { name: "bob" }
  mock notify returns { delivered: true, channel: "#ops" }
  expect run.output.text == "hello bob"
}
`,
);

describe('orch test', () => {
  it('passes the example tests, running the example handlers for what is not mocked', async () => {
    const r = await runCli(['test', 'examples/movie_night'], REPO_ROOT);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('✓ picks the film the recommender suggests and starts it (examples/movie_night/movie_night.test.orch:5');
    expect(r.stdout).toContain('6 passed');
    expect(r.code).toBe(0);
  });

  it('reports a failing expect at file:line with a code frame and the values it read; exit 1', async () => {
    const r = await runCli(['test'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✓ greets by name (hello.test.orch:3, plan h.hello)');
    expect(r.stdout).toContain('✗ expects the wrong greeting (hello.test.orch:10, plan h.hello)');
    expect(r.stdout).toContain('hello.test.orch:14: expect run.output.text == "hello bob" does not hold in the final state');
    expect(r.stdout).toContain('14 |   expect run.output.text == "hello bob"');
    expect(r.stdout).toContain('run.output.text = "hi bob"');
    expect(r.stdout).toContain('execution_completed');
    expect(r.stdout).toContain('1 failed, 1 passed');
    // Each test's journal is in memory: nothing is written to the project's.
    expect(existsSync(path.join(dir, '.orch'))).toBe(false);
  });

  it('--filter, --reporter json and junit to a file', async () => {
    const json = await runCli(['test', '--filter', 'greets', '--reporter', 'json'], dir);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; tests: { name: string; file: string; passed: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.tests.map((t) => [t.name, t.passed])).toEqual([['greets by name', true]]);
    // Named from the working directory, as the text and JUnit reports name it.
    expect(report.tests[0]!.file).toBe('hello.test.orch');
    const out = path.join(dir, 'junit.xml');
    const junit = await runCli(['test', 'hello.test.orch', '--reporter', 'junit', '-o', out], dir);
    expect(junit.code).toBe(1);
    expect(junit.stdout).toBe('');
    const xml = readFileSync(out, 'utf8');
    expect(xml).toMatch(/<testsuites name="orch test" tests="2" failures="1" errors="0" time="\d+\.\d{3}">/);
    expect(xml).toMatch(/<testsuite name="hello.test.orch" tests="2" failures="1" errors="0" time="\d+\.\d{3}">/);
    expect(xml).toMatch(/<testcase name="expects the wrong greeting" classname="h.hello" file="hello.test.orch" line="10" time="\d+\.\d{3}">/);
    // -o into a folder not made yet makes it, as compile -o does; a file that cannot be written is exit 2, named.
    const nested = path.join(dir, 'reports', 'ci', 'junit.xml');
    expect((await runCli(['test', 'hello.test.orch', '--reporter', 'junit', '-o', nested], dir)).code).toBe(1);
    expect(readFileSync(nested, 'utf8')).toContain('<testsuites');
    const blocked = await runCli(['test', 'hello.test.orch', '-o', path.join(dir, 'hello.orch', 'x.txt')], dir);
    expect([blocked.code, blocked.stderr]).toEqual([2, expect.stringContaining(`cannot write ${path.join(dir, 'hello.orch', 'x.txt')}`)]);
  });

  it('reports every plan invariant a run breaks, each at its declaration (the plan file) with a code frame, in text, JSON and JUnit', async () => {
    const inv = mkdtempSync(path.join(tmpdir(), 'orch-test-inv-'));
    writeFileSync(path.join(inv, 'package.json'), '{"type":"module"}\n');
    writeFileSync(
      path.join(inv, 'guarded.orch'),
      `plan guarded {
  step tell = notify(channel: "#ops", text: "hi")
  invariant told { never tell.completed }
  invariant quick { always run.elapsed < 0s }
  invariant kept { always true }
  invariant done { eventually tell.failed }
}
`,
    );
    writeFileSync(
      path.join(inv, 'guarded.test.orch'),
      `import "./guarded.orch" as g

test "breaks three invariants" {
  plan g.guarded
  mock notify returns { delivered: true, channel: "#ops" }
  expect run.status == "completed"
}
`,
    );
    const text = await runCli(['test'], inv);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('guarded.orch:3: never invariant "told" became true');
    expect(text.stdout).toMatch(/guarded\.orch:4: always invariant "quick" became false at \d+ ms/);
    expect(text.stdout).toContain('guarded.orch:6: eventually invariant "done" does not hold in the final state');
    expect(text.stdout).not.toContain('"kept"');
    // The code frame is the plan file's line, under the invariant's name.
    expect(text.stdout).toContain('3 |   invariant told { never tell.completed }');
    const json = JSON.parse((await runCli(['test', '--reporter', 'json'], inv)).stdout) as { tests: { failures: { kind: string; file?: string; line?: number }[] }[] };
    expect(json.tests[0]!.failures.map((f) => [f.kind, f.file, f.line])).toEqual([
      // In the order they broke: `quick` on the run's first event, `told` when tell completed.
      ['invariant', 'guarded.orch', 4],
      ['invariant', 'guarded.orch', 3],
      ['invariant', 'guarded.orch', 6],
    ]);
    const junit = (await runCli(['test', '--reporter', 'junit'], inv)).stdout;
    for (const line of [3, 4, 6]) expect(junit).toContain(`guarded.orch:${line}: `);
  });

  it('exit 2 on a test with errors, on no test found (0 with --allow-none), and --help says so', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'orch-test-bad-'));
    writeFileSync(path.join(bad, 'hello.orch'), readFileSync(path.join(dir, 'hello.orch'), 'utf8'));
    writeFileSync(path.join(bad, 'bad.test.orch'), 'import "./hello.orch" as h\ntest "t" {\n  plan h.hello\n  input { name: "x" }\n  mock notify returns { delivered: 1 }\n}\n');
    const r = await runCli(['test', bad], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.test.orch:5');
    expect(r.stderr).toContain('E0201');
    // A test block that lost its name is a syntax error, named file or found in a folder: not "no test found".
    writeFileSync(path.join(bad, 'bad.test.orch'), 'import "./hello.orch" as h\ntest {\n  plan h.hello\n}\n');
    for (const where of [path.join(bad, 'bad.test.orch'), bad]) {
      const unnamed = await runCli(['test', where], dir);
      expect([unnamed.code, unnamed.stderr], where).toEqual([2, expect.stringContaining('bad.test.orch:2:6: error[E0001]: a test needs a name')]);
    }
    const none = await runCli(['test', '--filter', 'nothing matches this'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no test found');
    expect((await runCli(['test', '--filter', 'nothing matches this', '--allow-none'], dir)).code).toBe(0);
    // --allow-none succeeds, so the report CI asked for is still written: one of no tests.
    const noneJson = await runCli(['test', '--filter', 'nothing matches this', '--allow-none', '--reporter', 'json'], dir);
    expect([noneJson.code, JSON.parse(noneJson.stdout)]).toEqual([0, { ok: true, passed: 0, failed: 0, tests: [] }]);
    const junitFile = path.join(bad, 'none.xml');
    const noneJunit = await runCli(['test', '--filter', 'nothing matches this', '--allow-none', '--reporter', 'junit', '-o', junitFile], dir);
    expect([noneJunit.code, existsSync(junitFile) && readFileSync(junitFile, 'utf8')]).toEqual([0, expect.stringContaining('<testsuites name="orch test" tests="0" failures="0" errors="0"')]);
    // Usage errors: an unknown reporter, a path that is not there, a --coverage-min that is no share.
    for (const args of [['--reporter', 'tap'], ['no-such-dir'], ['--coverage', '--coverage-min', 'most'], ['--update', 'no-such.test.orch']]) {
      const u = await runCli(['test', ...args], dir);
      expect([u.code, u.stdout], args.join(' ')).toEqual([2, '']);
      expect(u.stderr, args.join(' ')).not.toContain('internal error');
    }
    const help = await runCli(['test', '--help'], dir);
    expect(help.stdout).toContain('--reporter');
    expect(help.stdout).toContain('Exit status: 0 every test passes, 1 a test fails, 2 usage or compile errors');
  });
});
