/**
 * `orch diff` and `orch upgrade` as CI and an operator use them (LANGUAGE.md §8.6): exit 0 when
 * the plans are the same, 1 when they differ, 2 on a usage error; a run stopped at an approval
 * is compared with the file by its id, an incompatible upgrade exits 1 naming the step and
 * changes nothing, a compatible one shows in the timeline with both hashes. The versions are
 * files of different names without a `module` line (each entry module is named after its file,
 * so are its capabilities in the IR), and declare a trigger a run's IR does not record: neither
 * is a difference. Few spawns: the
 * upgrade rules themselves are tested in-process (runtime/test/upgrade*.test.ts).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { orchAsync } from '../../examples/test/cli.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

const FIXTURE = join(import.meta.dirname, '..', '..', 'runtime', 'test', 'fixtures', 'v02-journals');

describe('orch diff and orch upgrade', () => {
  it('exit like diff(1); an incompatible upgrade exits 1 and changes nothing; a compatible one is in the timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-diff-'));
    copyFileSync(join(FIXTURE, 'handlers.js'), join(dir, 'handlers.js'));
    const source = `${readFileSync(join(FIXTURE, 'plans.orch'), 'utf8').replace(/^module .*$/m, '')}
trigger by_hand { manual run gated with { item: "crate" } }
`;
    writeFileSync(join(dir, 'v1.orch'), source);
    writeFileSync(join(dir, 'v1copy.orch'), source);
    writeFileSync(join(dir, 'v2.orch'), source.replace('"shipped ${prepare.output.value}"', '"shipped ${prepare.output.value} at last"'));
    writeFileSync(join(dir, 'bad.orch'), source.replace('step prepare = echo(value: input.item)', 'step prepare = echo(value: "${input.item}!")'));
    const cwd = { cwd: dir };
    const db = ['--db', join(dir, 'runs.db')];

    const same = await orchAsync(['diff', 'v1.orch', 'v1copy.orch', '--plan', 'gated'], cwd);
    expect([same.code, same.stdout]).toEqual([0, expect.stringContaining('the plans are the same')]);
    const differ = await orchAsync(['diff', 'v1.orch', 'v2.orch', '--plan', 'gated', '--format', 'json'], cwd);
    expect(differ.code).toBe(1);
    expect(JSON.parse(differ.stdout).steps).toEqual([expect.objectContaining({ step: 'ship', change: 'changed', what: ['arguments'] })]);
    const usage = await orchAsync(['diff', 'v1.orch', 'missing.orch'], cwd);
    expect(usage.code).toBe(2);

    const run = await orchAsync(['run', 'v1.orch', '--plan', 'gated', '--input', '{"item":"crate"}', '--run-id', 'g', '--quiet', ...db], cwd);
    expect(run.stdout).toMatch(/paused/);
    // The run's IR records no triggers: the file's are not compared, and it says so.
    const against = await orchAsync(['diff', 'g', 'v1.orch', '--plan', 'gated', ...db], cwd);
    expect([against.code, against.stdout]).toEqual([0, expect.stringMatching(/the plans are the same\ntriggers not compared/)]);
    const refused = await orchAsync(['upgrade', 'g', '--to', 'bad.orch', '--plan', 'gated', ...db], cwd);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/incompatible, nothing changed\n {2}step prepare: has started \(completed\); its arguments changed/);
    // --dry-run only reports: compatible, what would change, and nothing applied (the upgrade below still starts from v1).
    // --to may be an IR file (read as orch diff reads OLD and NEW).
    expect((await orchAsync(['compile', 'v2.orch', '--plan', 'gated', '-o', 'v2.json'], cwd)).code).toBe(0);
    const dry = await orchAsync(['upgrade', 'g', '--to', 'v2.json', '--dry-run', '--json', ...db], cwd);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).runs[0]).toMatchObject({ runId: 'g', compatible: true, applied: false, changes: [expect.objectContaining({ step: 'ship', change: 'changed' })] });
    const upgraded = await orchAsync(['upgrade', 'g', '--to', 'v2.orch', '--plan', 'gated', '--json', ...db], cwd);
    expect(upgraded.code).toBe(0);
    const report = JSON.parse(upgraded.stdout).runs[0];
    expect(report).toMatchObject({ runId: 'g', compatible: true, applied: true });
    expect(report.diff.steps).toEqual([expect.objectContaining({ step: 'ship', change: 'changed', what: ['arguments'] })]);
    expect(report.diff.plan).toEqual([]);
    const signal = await orchAsync(['signal', 'g', 'ask', 'approve', '--json', ...db], cwd);
    expect(signal.code).toBe(0);
    // v2.orch is what the run executes now: no note that it changed.
    expect(signal.stderr).not.toMatch(/has changed since run/);
    expect(JSON.parse(signal.stdout).output).toEqual({ shipped: 'shipped crate at last' });
    const timeline = JSON.parse((await orchAsync(['timeline', 'g', '--json', ...db], cwd)).stdout) as { irHash: string; events: { type: string; data: Record<string, unknown> }[] };
    const up = timeline.events.filter((e) => e.type === 'plan_upgraded');
    expect(up).toHaveLength(1);
    expect(up[0]!.data).toMatchObject({ from_hash: report.fromHash, to_hash: report.toHash });
    expect(timeline.events[0]!.data.ir_hash).toBe(report.fromHash);
    expect(timeline.irHash).toBe(report.toHash);
    // orch runs shows each run's version: the IR it executes now.
    const runs = await orchAsync(['runs', ...db], cwd);
    expect(runs.stdout).toMatch(new RegExp(`^g\\s+gated\\s+completed\\s.*\\s${report.toHash.slice(0, 12)}$`, 'm'));
  });

  it('a run names its plan: a --to or NEW file of several plans needs no --plan (§8.6: OLD and NEW may be run ids)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-diff-many-'));
    copyFileSync(join(FIXTURE, 'handlers.js'), join(dir, 'handlers.js'));
    const source = readFileSync(join(FIXTURE, 'plans.orch'), 'utf8').replace(/^module .*$/m, '');
    writeFileSync(join(dir, 'v1.orch'), source);
    writeFileSync(join(dir, 'v2.orch'), source.replace('"shipped ${prepare.output.value}"', '"shipped ${prepare.output.value} at last"'));
    const cwd = { cwd: dir };
    const db = ['--db', join(dir, 'runs.db')];
    const run = await orchAsync(['run', 'v1.orch', '--plan', 'gated', '--input', '{"item":"crate"}', '--run-id', 'g', '--quiet', ...db], cwd);
    expect(run.stdout).toMatch(/paused/);
    const same = await orchAsync(['diff', 'g', 'v1.orch', ...db], cwd);
    expect([same.code, same.stdout], same.stderr).toEqual([0, expect.stringContaining('the plans are the same')]);
    const dry = await orchAsync(['upgrade', 'g', '--to', 'v2.orch', '--dry-run', '--json', ...db], cwd);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).runs[0]).toMatchObject({ compatible: true, changes: [expect.objectContaining({ step: 'ship', change: 'changed' })] });
    // Two files name no run: which plan is still the user's to say.
    const files = await orchAsync(['diff', 'v1.orch', 'v2.orch'], cwd);
    expect([files.code, files.stderr]).toEqual([2, expect.stringContaining('choose one with --plan NAME')]);
  });

  it('upgrade --all moves an interrupted run too (Ctrl-C), as it moves a paused one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-all-'));
    copyFileSync(join(FIXTURE, 'handlers.js'), join(dir, 'handlers.js'));
    const source = readFileSync(join(FIXTURE, 'plans.orch'), 'utf8');
    writeFileSync(join(dir, 'v1.orch'), source);
    writeFileSync(join(dir, 'v2.orch'), source.replace('step after_long = echo(value: long.output.tag)', 'step after_long = echo(value: "after ${long.output.tag}")'));
    const db = ['--db', join(dir, 'runs.db')];
    const child = spawn(process.execPath, [BIN, 'run', 'v1.orch', '--plan', 'chain', '--input', '{"ms":60000}', '--run-id', 'c', ...db], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    // The progress lines go to stderr; Ctrl-C once `long` runs.
    let out = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/started\s+long/.test(out)) child.kill('SIGINT');
    });
    await new Promise((r) => child.on('close', r));
    const all = await orchAsync(['upgrade', '--all', '--plan', 'chain', '--to', 'v2.orch', '--dry-run', '--json', ...db], { cwd: dir });
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout).runs).toEqual([expect.objectContaining({ runId: 'c', compatible: true, changes: [expect.objectContaining({ step: 'after_long', change: 'changed' })] })]);
  });

  it('orch resume and orch signal note a source file changed since the run started, and only then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-note-'));
    copyFileSync(join(FIXTURE, 'handlers.js'), join(dir, 'handlers.js'));
    const source = readFileSync(join(FIXTURE, 'plans.orch'), 'utf8').replace(/^module .*$/m, '');
    writeFileSync(join(dir, 'same.orch'), source);
    writeFileSync(join(dir, 'edited.orch'), source);
    const cwd = { cwd: dir };
    const db = ['--db', join(dir, 'runs.db')];
    for (const [file, id] of [['same.orch', 's'], ['edited.orch', 'e']] as const) {
      const run = await orchAsync(['run', file, '--plan', 'gated', '--input', '{"item":"crate"}', '--run-id', id, '--quiet', ...db], cwd);
      expect(run.stdout).toMatch(/paused/);
    }
    // Written again after the run started, to the same text: compiled, the same version, no note.
    writeFileSync(join(dir, 'same.orch'), source);
    expect((await orchAsync(['resume', 's', ...db], cwd)).stderr).not.toMatch(/has changed since run/);
    const same = await orchAsync(['signal', 's', 'ask', 'approve', ...db], cwd);
    expect([same.code, same.stderr]).toEqual([0, expect.not.stringMatching(/has changed since run/)]);
    writeFileSync(join(dir, 'edited.orch'), source.replace('"shipped ${prepare.output.value}"', '"shipped ${prepare.output.value} at last"'));
    // orch resume says so too, before it goes on (the run stops at its approval again: exit 1).
    const resumed = await orchAsync(['resume', 'e', ...db], cwd);
    expect(resumed.stderr).toMatch(/note: .*edited\.orch has changed since run e started \(1 step differs\)/);
    const edited = await orchAsync(['signal', 'e', 'ask', 'approve', ...db], cwd);
    expect(edited.code).toBe(0);
    expect(edited.stderr).toMatch(/note: .*edited\.orch has changed since run e started \(1 step differs\)/);
  });

  it('a module the plan imports changed since the run started is a changed source too: the entry file, untouched, was all that was looked at', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-note-import-'));
    writeFileSync(join(dir, 'orch.config.json'), '{}');
    writeFileSync(join(dir, 'h.mjs'), 'export default async () => ({ v: 1 });\n');
    writeFileSync(join(dir, 'caps.orch'), 'capability c { input { x: int } output { v: int } handler "./h.mjs" }\n');
    writeFileSync(join(dir, 'main.orch'), 'import "./caps.orch" as caps\nplan p {\n  step a = caps.c(x: 1)\n  step ask = approval(approver: "x", summary: "go?")\n  step b = caps.c(x: 2) { after ask }\n}\n');
    const cwd = { cwd: dir };
    const run = await orchAsync(['run', 'main.orch', '--run-id', 'i', '--quiet'], cwd);
    expect(run.stdout).toMatch(/paused/);
    writeFileSync(join(dir, 'caps.orch'), 'capability c { input { x: int } output { v: int } handler "./h.mjs"  timeout 5s }\n');
    const signal = await orchAsync(['signal', 'i', 'ask', 'approve'], cwd);
    expect(signal.code).toBe(0);
    expect(signal.stderr).toMatch(/note: .*main\.orch \(a module, config or lock file of its project\) has changed since run i started \(2 steps differ/);
  });
});

describe('a --to plan with errors (LANGUAGE.md §6: a plan with errors is exit 1)', () => {
  it('orch upgrade refuses it with exit 1, as check, compile and run do; orch diff keeps 2, its 1 meaning "they differ"', async () => {
    const { runCli } = await import('../../test/support/cli-in-process.js');
    const dir = mkdtempSync(join(tmpdir(), 'orch-diff-'));
    writeFileSync(join(dir, 'errors.orch'), 'plan p {\n  step a = nothing_here(x: 1)\n}\n');
    writeFileSync(join(dir, 'ok.orch'), 'plan p {\n  step a = transform(value: 1)\n}\n');
    const db = ['--db', join(dir, 'runs.db')];
    const check = await runCli(['check', 'errors.orch'], dir);
    const upgrade = await runCli(['upgrade', 'some-run', '--to', 'errors.orch', ...db], dir);
    expect([check.code, upgrade.code]).toEqual([1, 1]);
    expect(upgrade.stderr).toMatch(/errors\.orch:2:12: error\[E0101\]/);
    expect((await runCli(['upgrade', 'some-run', '--to', 'missing.orch', ...db], dir)).code).toBe(2);
    expect((await runCli(['diff', 'ok.orch', 'errors.orch'], dir)).code).toBe(2);
  });
});

describe('orch diff --input (LANGUAGE.md §8.6)', () => {
  it('is read as a run of each version reads it (defaults filled), and an input a version does not take is a usage error (exit 2)', async () => {
    const { runCli } = await import('../../test/support/cli-in-process.js');
    const dir = mkdtempSync(join(tmpdir(), 'orch-diff-'));
    const version = (limit: string) => `capability echo { kind tool input { x: string } output { y: string } cost 0.01usd }
policy capped { strategy cost budget cost <= ${limit} }
plan p {
  policy capped
  input { items: list<string> = ["a", "b", "c"] }
  for each i in input.items {
    step f = echo(x: i)
  }
  output { n: len(f.output) }
}
`;
    writeFileSync(join(dir, 'v1.orch'), version('0.025usd'));
    writeFileSync(join(dir, 'v2.orch'), version('0.05usd'));
    // The default list has three items: three calls of 0.01usd are over v1's budget, within v2's.
    const d = await runCli(['diff', 'v1.orch', 'v2.orch', '--input', '{}', '--format', 'json'], dir);
    expect(d.code).toBe(1);
    expect(JSON.parse(d.stdout).consequences.budgets).toEqual([{ budget: 'cost', before: 'over', after: 'ok' }]);
    const bad = await runCli(['diff', 'v1.orch', 'v2.orch', '--input', '{"item":"a"}'], dir);
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toMatch(/--input for v1\.orch: input does not match plan p: \/item: is not allowed here/);
  });
});
