/**
 * `orch check`: the first two tests end to end through the real CLI (bin/orch.js → dist, and its
 * bundled `check`), the rest through the same CLI core in this process (`runCli`,
 * test/support/cli-in-process.ts).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { orch } from '../../examples/test/cli.js';
import { runCli } from '../../test/support/cli-in-process.js';

const cli = (args: readonly string[]) => runCli(args, process.cwd());

const dir = mkdtempSync(path.join(tmpdir(), 'orch-check-'));
function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const GOOD = `capability greet {
  kind tool
  input { name: string }
  output { message: string }
}

plan hello {
  step g = greet(name: "Ada")
}
`;
const BAD = `capability greet {
  kind tool
  timeout 30
}

plan hello {
  step g = greet(name: "Ada" +)
  deadline 2h
}
`;

describe('orch check', () => {
  it('exits 0 and says so for a valid file', () => {
    const r = orch(['check', file('good.orch', GOOD)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no problems in 1 file');
  });

  it('prints file:line:col, the message, a code frame and a summary, and exits 1', () => {
    const bad = file('bad.orch', BAD);
    const r = orch(['check', bad]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${bad}:3:11: error[E0203]: 'timeout' needs a duration (e.g. 30s), found a number '30'`);
    expect(lines[1]).toBe('  3 |   timeout 30');
    expect(lines[2]).toBe('    |           ^^');
    expect(r.stdout).toContain(`${bad}:7:31: error[E0001]: expected an expression after '+', found ')'`);
    expect(r.stdout).toMatch(/\n2 errors, \d+ warnings? in 1 file\n$/);
    // No colours when stdout is not a terminal.
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('`-` checks standard input as <stdin>, its imports read from the current directory', () => {
    file('lib.orch', GOOD);
    const r = orch(['check', '-', '--format', 'json'], { cwd: dir, input: 'import "./lib.orch" as lib\nplan p { step s = lib.greet(name: 1) }\n' });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).diagnostics.map((d: { file: string; code: string }) => `${d.file} ${d.code}`)).toEqual(['<stdin> E0201']);
    const empty = orch(['check', '-'], { cwd: dir, input: '' });
    expect([empty.code, empty.stderr]).toEqual([2, 'orch: standard input is empty\n']);
  });

  it('`-` is not combined with file names (exit 2)', async () => {
    const r = await cli(['check', '-', file('good-stdin.orch', GOOD)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('`-` (standard input) cannot be combined with file names');
  });

  it('one file named twice (a.orch and ./a.orch) is checked and counted once', async () => {
    const good = file('twice.orch', GOOD);
    const r = await runCli(['check', good, `${path.dirname(good)}/./twice.orch`], process.cwd());
    expect(r.stdout).toContain('no problems in 1 file');
  });

  it('--format json prints exactly the documented shape', async () => {
    const bad = file('bad-json.orch', BAD);
    const r = await cli(['check', bad, '--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['diagnostics']);
    expect(out.diagnostics).toHaveLength(2);
    expect(out.diagnostics[0]).toEqual({
      code: 'E0203',
      severity: 'error',
      message: "'timeout' needs a duration (e.g. 30s), found a number '30'",
      file: bad,
      range: { start: { line: 3, column: 11 }, end: { line: 3, column: 13 } },
    });
  });

  it('--format json carries a diagnostic\'s related information: each hop of a §9.3 witness path at its position (an input at its declaration)', async () => {
    const flow = file(
      'flow-json.orch',
      `capability classify { kind llm  input { text: string }  output { reply_to: string } }
plan p {
  input { body: string @personal @untrusted }
  step c = classify(text: input.body)
  step e = email(to: [c.output.reply_to], subject: "re", text: "hi")
}
`,
    );
    const r = await cli(['check', flow, '--format', 'json']);
    const d = (JSON.parse(r.stdout) as { diagnostics: { code: string }[] }).diagnostics.find((x) => x.code === 'E0902');
    expect(d).toEqual({
      code: 'E0902',
      severity: 'error',
      message: 'untrusted value reaches email.to, which needs a trusted one: email.to ← c.output.reply_to (llm, untrusted) ← input.body @untrusted',
      file: flow,
      range: { start: { line: 5, column: 22 }, end: { line: 5, column: 41 } },
      related: [
        { message: 'c.output.reply_to (llm, untrusted)', file: flow, range: { start: { line: 5, column: 23 }, end: { line: 5, column: 40 } } },
        { message: 'input.body @untrusted', file: flow, range: { start: { line: 3, column: 11 }, end: { line: 3, column: 15 } } },
      ],
    });
  });

  it('"flows": "warn" in the project config: E0902 and E0903 are warnings and the check exits 0 (§9)', async () => {
    const project = path.join(dir, 'flows-warn');
    mkdirSync(project, { recursive: true });
    const src = `capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }
capability keep { kind tool  input { text: string }  output { ok: bool }  data internal }
plan p {
  input { note: string @personal @untrusted }
  step w = wipe(path: input.note)
  step k = keep(text: input.note)
}
`;
    writeFileSync(path.join(project, 'main.orch'), src);
    const findings = async () => {
      const r = await cli(['check', path.join(project, 'main.orch'), '--format', 'json']);
      return { code: r.code, found: (JSON.parse(r.stdout) as { diagnostics: { code: string; severity: string }[] }).diagnostics.filter((d) => d.code.startsWith('E090')).map((d) => [d.code, d.severity]) };
    };
    writeFileSync(path.join(project, 'orch.config.json'), '{}');
    expect(await findings()).toEqual({ code: 1, found: [['E0902', 'error'], ['E0903', 'error']] });
    writeFileSync(path.join(project, 'orch.config.json'), '{ "flows": "warn" }');
    expect(await findings()).toEqual({ code: 0, found: [['E0902', 'warning'], ['E0903', 'warning']] });
  });

  it('--format json on a valid file prints an empty list and exits 0', async () => {
    const r = await cli(['check', file('good-json.orch', GOOD), '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ diagnostics: [] });
  });

  it('warnings alone exit 0, in text and in JSON (exit 1 is for errors only)', async () => {
    const warned = file('warned.orch', `${GOOD}capability spare { kind tool }\n`);
    const json = await cli(['check', warned, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).diagnostics).toMatchObject([{ code: 'W0601', severity: 'warning', file: warned }]);
    const text = await cli(['check', warned]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${warned}:10:12: warning[W0601]: capability "spare" is never used`);
  });

  it('--format sarif prints SARIF 2.1.0 for code scanning', async () => {
    const bad = file('bad-sarif.orch', BAD);
    const r = await runCli(['check', bad, '--format', 'sarif'], dir);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    const run = log.runs[0];
    expect(run.tool.driver.name).toBe('orch');
    const ruleIds = run.tool.driver.rules.map((x: { id: string }) => x.id);
    expect(ruleIds).toEqual(expect.arrayContaining(['E0001', 'E0203']));
    for (const rule of run.tool.driver.rules) expect(rule.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    expect(run.results).toHaveLength(2);
    const res = run.results[0];
    expect(res.ruleId).toBe('E0203');
    expect(run.tool.driver.rules[res.ruleIndex].id).toBe('E0203');
    expect(res.level).toBe('error');
    expect(res.message.text).toMatch(/needs a duration/);
    expect(res.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'bad-sarif.orch', uriBaseId: '%SRCROOT%' },
      region: { startLine: 3, startColumn: 11, endLine: 3, endColumn: 13 },
    });
  });

  it('--format sarif names files inside the repository by relative URI and any other file by an absolute file: URI', async () => {
    // The project is a sub-folder of the repository (GITHUB_WORKSPACE); it imports a module from
    // outside the repository.
    const repo = path.join(dir, 'repo');
    const outside = path.join(dir, 'elsewhere');
    mkdirSync(path.join(repo, 'plans'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'dev.orch'), 'capability turn_off {\n  kind robot\n}\n');
    writeFileSync(path.join(repo, 'plans', 'main plan.orch'), 'import "../../elsewhere/dev.orch" as dev\nplan p {\n  deadline 5usd\n  step a = dev.turn_off()\n}\n');
    const r = await runCli(['check', 'main plan.orch', '--format', 'sarif'], path.join(repo, 'plans'), { GITHUB_WORKSPACE: repo });
    expect(r.code).toBe(1);
    const locations = JSON.parse(r.stdout).runs[0].results.map((x: any) => x.locations[0].physicalLocation.artifactLocation);
    expect(locations).toContainEqual({ uri: 'plans/main%20plan.orch', uriBaseId: '%SRCROOT%' });
    expect(locations).toContainEqual({ uri: pathToFileURL(path.join(outside, 'dev.orch')).href });
    expect(locations.filter((l: { uri: string }) => l.uri.startsWith('..'))).toEqual([]);
  });

  it('--format github prints one workflow command per problem, relative to the repository, then the totals', async () => {
    const repo = path.join(dir, 'gh');
    mkdirSync(path.join(repo, 'plans'), { recursive: true });
    writeFileSync(path.join(repo, 'plans', 'bad.orch'), BAD);
    writeFileSync(path.join(repo, 'plans', 'good.orch'), GOOD);
    const r = await runCli(['check', '.', '--format', 'github'], path.join(repo, 'plans'), { GITHUB_WORKSPACE: repo });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      "::error file=plans/bad.orch,line=3,endLine=3,col=11,endColumn=13,title=E0203::'timeout' needs a duration (e.g. 30s), found a number '30'",
    );
    expect(lines.filter((l) => l.startsWith('::error '))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^orch check: 2 errors, \d+ warnings?, 0 notes in 2 files$/);
    const clean = await runCli(['check', 'good.orch', '--format', 'github'], path.join(repo, 'plans'), { GITHUB_WORKSPACE: repo });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe('orch check: no problems in 1 file\n');
  });

  it('shows code frames for problems in imported files too', async () => {
    const sub = path.join(dir, 'imports');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'dev.orch'), 'capability turn_off {\n  kind robot\n}\n');
    writeFileSync(path.join(sub, 'main.orch'), 'import "./dev.orch" as dev\nplan p { step a = dev.turn_off() }\n');
    const r = await cli(['check', path.join(sub, 'main.orch')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path.join(sub, 'dev.orch')}:2:8: error[E0001]: unknown capability kind 'robot'`);
    expect(r.stdout).toContain('  2 |   kind robot\n    |        ^^^^^');
  });

  it('checks several files and reports each', async () => {
    const r = await cli(['check', file('m1.orch', BAD), file('m2.orch', GOOD), file('m3.orch', 'plan p { deadline 1 }'), '--format', 'json']);
    expect(r.code).toBe(1);
    const files = JSON.parse(r.stdout)
      .diagnostics.filter((d: { severity: string }) => d.severity === 'error')
      .map((d: { file: string }) => path.basename(d.file));
    expect(files).toEqual(['m1.orch', 'm1.orch', 'm3.orch']);
  });

  it('checks every .orch file under a directory (orch check .), skipping node_modules, .git and .orch', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'orch-check-dir-'));
    for (const [rel, text] of [
      ['plans/a.orch', GOOD],
      ['plans/deep/b.orch', BAD],
      ['node_modules/pkg/c.orch', BAD],
      ['.git/d.orch', BAD],
      ['.orch/e.orch', BAD],
      ['notes.txt', 'not orch'],
    ] as const) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    const r = orch(['check', '.', '--format', 'json'], { cwd: root });
    expect(r.code, r.stderr).toBe(1);
    const files = new Set(JSON.parse(r.stdout).diagnostics.map((d: { file: string }) => path.relative(root, path.resolve(root, d.file))));
    expect([...files]).toEqual([path.join('plans', 'deep', 'b.orch')]);
  });

  describe('bad input: one line on stderr, exit 2, no stack trace', () => {
    mkdirSync(path.join(dir, 'a-directory.orch'), { recursive: true });
    const cases: [string, () => string, RegExp][] = [
      ['a missing file', () => path.join(dir, 'missing.orch'), /: no such file$/],
      ['a directory with no .orch file', () => path.join(dir, 'a-directory.orch'), /: is a directory with no \.orch file under it$/],
      ['a binary file', () => file('binary.orch', Buffer.from([0x70, 0x6c, 0x00, 0x01, 0x02])), /: binary file \(contains NUL bytes\), not \.orch source$/],
      ['invalid UTF-8', () => file('latin1.orch', Buffer.from([0x70, 0x6c, 0x61, 0x6e, 0x20, 0xe9, 0xff])), /: not valid UTF-8 text$/],
      ['an empty file', () => file('empty.orch', ''), /: empty file$/],
    ];
    for (const [name, make, reason] of cases) {
      it(name, async () => {
        const p = make();
        const r = await cli(['check', p]);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]!.startsWith(`orch: ${p}: `)).toBe(true);
        expect(lines[0]).toMatch(reason);
      });
    }

    it('an unknown --format', async () => {
      const r = await cli(['check', file('fmt.orch', GOOD), '--format', 'xml']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe('orch: unknown --format "xml" (expected text, json, sarif, github)');
    });

    it('no files at all', async () => {
      const r = await cli(['check']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/missing required argument/);
    });
  });

  it('--help explains usage with an example', async () => {
    const r = await cli(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--format <format>');
    expect(r.stdout).toContain('$ orch check plans/campaign.orch');
    expect(r.stdout).toContain('Exit codes');
  });

  it('--explain-stages prints each compile stage and its wall time on stderr, the diagnostics unchanged', async () => {
    const good = file('stages.orch', `${GOOD}\nplan outer {\n  step r = run hello()\n}\n`);
    const bad = file('stages-bad.orch', BAD);
    const plain = await cli(['check', good, bad, '--format', 'json']);
    const r = await cli(['check', good, bad, '--format', 'json', '--explain-stages']);
    expect(r.code).toBe(plain.code);
    expect(r.stdout).toBe(plain.stdout);
    expect(plain.stderr).toBe('');
    const rows = r.stderr.trimEnd().split('\n').map((l) => /^( *)(\S+) +(\d+\.\d) *(\d*)$/.exec(l));
    expect(r.stderr.split('\n')[0]).toMatch(/^stage +wall ms +runs$/);
    const stages = rows.slice(1).map((m) => m && { indent: m[1]!.length, name: m[2]!, ms: Number(m[3]), runs: m[4] });
    expect(stages.every((s) => s !== null)).toBe(true);
    const names = stages.map((s) => s!.name);
    // The program's stages in order, a plan's indented under assemble; no IR in a check.
    expect(names.slice(0, 3)).toEqual(['load', 'bind', 'context']);
    expect(names.indexOf('plans')).toBeLessThan(names.indexOf('assemble'));
    expect(names.slice(names.indexOf('assemble') + 1, names.indexOf('assemble') + 4)).toEqual(['subplans', 'placement', 'step-estimates']);
    expect(names).not.toContain('emit-ir');
    expect(names.at(-1)).toBe('total');
    const byName = new Map(stages.map((s) => [s!.name, s!]));
    expect(byName.get('placement')!.indent).toBe(2);
    expect(byName.get('load')!.indent).toBe(0);
    // Two files: each program stage ran twice; three plans, so each plan stage ran three times.
    expect(byName.get('load')!.runs).toBe('2');
    expect(byName.get('placement')!.runs).toBe('3');
    const sum = stages.slice(0, -1).reduce((t, s) => t + s!.ms, 0);
    expect(Math.abs(sum - byName.get('total')!.ms)).toBeLessThan(0.05 * stages.length);
  });
});
