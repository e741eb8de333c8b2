/**
 * `orch test --capture` of a run with approvals (LANGUAGE.md §9.2: the test holds "the decisions
 * with their deciders and virtual times"): a decision made without people (`orch signal --by`) and
 * decisions by people (`approval_decided`, here from a test run's own journal) become `approve` /
 * `reject` lines at the time after the step began to wait, and the captured test passes. And a
 * personal value is written as a placeholder unless `--keep-personal`, a secret one never.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import type { RunEvent } from '../../runtime/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { runCli } from '../../test/support/cli-in-process.js';
import { captureTest, runPlanTest, updateCapturedTests } from '../index.js';

const PLAN = `
capability f { kind tool  input { x: int }  output { y: int }  handler "./h.mjs#f" }
plan p {
  input { x: int }
  step a = f(x: input.x)
  step ok = approval(approver: "ops", summary: "go?") { after a }
  step b = f(x: a.output.y) { after ok }
  output { y: b.output.y }
}
capability g { kind tool  input { to: string }  output { ok: bool }  handler "./h.mjs#g" }
plan mail {
  input { to: string @personal }
  step s = g(to: input.to)
}
capability keep { kind tool  input { to: string @secret }  output { echo: string @secret }  handler "./h.mjs#keep" }
plan vault {
  input { to: string @secret }
  step k = keep(to: input.to)
  output { e: k.output.echo }
}
plan two {
  step ok = approval(approver: "group:finance", summary: "go?", approvals: 2)
}
plan two_then {
  step ok = approval(approver: "group:finance", summary: "go?", approvals: 2) { timeout 1h }
  step b = f(x: 1) { after ok }
}
`;

function project(): string {
  const dir = tempDir('orch-capture-decisions-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'h.mjs'), 'export function f(i) { return { y: i.x + 1 }; }\nexport function g() { return { ok: true }; }\nexport function keep(i) { return { echo: i.to }; }\n');
  writeFileSync(join(dir, 'plans.orch'), PLAN);
  return dir;
}

describe('capturing a run with approvals', () => {
  it('a decision without people: approve / reject NAME at the time it came; the captured test passes', async () => {
    const dir = project();
    const db = join(dir, 'runs.db');
    for (const decision of ['approve', 'reject'] as const) {
      const paused = await runCli(['run', 'plans.orch', '--plan', 'p', '--input', '{"x": 1}', '--db', db, '--json', '--quiet'], dir);
      expect(paused.code, paused.stderr).toBe(1);
      const runId = (JSON.parse(paused.stdout) as { runId: string }).runId;
      // Not finished yet: no test that passes can be written from it (exit 1, the reason, nothing written).
      const early = await runCli(['test', '--capture', runId, '-o', join(dir, 'early.test.orch'), '--db', db], dir);
      expect([early.code, early.stderr]).toEqual([1, expect.stringContaining('has not finished')]);
      expect(existsSync(join(dir, 'early.test.orch'))).toBe(false);
      expect((await runCli(['signal', runId, 'ok', decision, '--by', 'cfo', '--db', db, '--quiet'], dir)).code).toBe(decision === 'approve' ? 0 : 1);
      const out = join(dir, `${decision}.test.orch`);
      const captured = await runCli(['test', '--capture', runId, '-o', out, '--db', db], dir);
      expect(captured.code, captured.stderr).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(text).toMatch(new RegExp(`^  ${decision} ok by "cfo" at \\d+ms$`, 'm'));
      // The approval is decided, not mocked; the rest is as for any capture.
      expect(text).not.toContain('mock approval');
      expect(text).toContain(decision === 'approve' ? 'expect b.completed' : 'expect ok.failed');
      const r = await runCli(['test', out], dir);
      expect(r.code, r.stdout).toBe(0);
    }
  });

  it('refuses, saying why, a run whose approval one decision settled without people though it asks for two, where a test wants two people', async () => {
    // The replay under the captured lines waits for a second approver and times out, so it never
    // called f: the capture wrote `mock plans.f returns ` (nothing after it) and refused the text
    // it made as one that "does not check" (E0101 unknown name "approve").
    const dir = project();
    const db = join(dir, 'runs.db');
    const paused = await runCli(['run', 'plans.orch', '--plan', 'two_then', '--db', db, '--json', '--quiet'], dir);
    const runId = (JSON.parse(paused.stdout) as { runId: string }).runId;
    expect((await runCli(['signal', runId, 'ok', 'approve', '--by', 'alice', '--db', db, '--quiet'], dir)).code).toBe(0);
    const out = join(dir, 'two.test.orch');
    const captured = await runCli(['test', '--capture', runId, '-o', out, '--db', db], dir);
    expect(captured.code).toBe(1);
    expect(captured.stderr).not.toContain('does not check');
    expect(captured.stderr).toContain(`run ${runId} called plans.f, and under the test's lines the run never does (it failed: step ok timed out`);
    expect(captured.stderr).toContain('approval ok was decided without people, where the first decision decides');
    expect(existsSync(out)).toBe(false);
  });

  it('a personal value is a placeholder unless --keep-personal; a secret one is never written', async () => {
    const dir = project();
    const db = join(dir, 'runs.db');
    const ran = await runCli(['run', 'plans.orch', '--plan', 'mail', '--input', '{"to": "ada@example.com"}', '--db', db, '--json', '--quiet'], dir);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    const hidden = await runCli(['test', '--capture', runId, '--db', db], dir);
    expect(hidden.code, hidden.stderr).toBe(0);
    expect(hidden.stdout).not.toContain('ada@example.com');
    expect(hidden.stdout).toContain('input { to: "personal-1" }');
    const kept = await runCli(['test', '--capture', runId, '--keep-personal', '--db', db], dir);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('input { to: "ada@example.com" }');
    // A value of class secret is never written, not even with --keep-personal, nor where the run's output carries it.
    const vault = await runCli(['run', 'plans.orch', '--plan', 'vault', '--input', '{"to": "hunter2"}', '--db', db, '--json', '--quiet'], dir);
    const vaultRun = (JSON.parse(vault.stdout) as { runId: string }).runId;
    const sealed = await runCli(['test', '--capture', vaultRun, '--keep-personal', '--db', db], dir);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout + sealed.stderr).not.toContain('hunter2');
    expect(sealed.stdout).toContain('expect run.output == { e: "***" }');
  });

  it("decisions by people: each decider's subject, in order, at its time", async () => {
    const dir = project();
    const file = join(dir, 'two.test.orch');
    writeFileSync(file, `import "./plans.orch" as plans\ntest "two" {\n  plan plans.two\n  approve ok by "alice" at 1h\n  approve ok by "bob" at 3h\n}\n`);
    const out = compile({ entry: file, navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    let journal: readonly RunEvent[] = [];
    const ran = await runPlanTest(out.tests[0]!, { real: null, onJournal: (events) => (journal = events) });
    expect(ran.run_status).toBe('completed');
    expect(journal.filter((e) => e.type === 'approval_decided')).toHaveLength(2);
    const { text, result } = await captureTest({ runId: 'two-1', plan: out.tests[0]!.plan, events: journal }, { file: join(dir, 'captured.test.orch') });
    expect(result.passed).toBe(true);
    expect(text.split('\n').filter((l) => l.startsWith('  approve'))).toEqual(['  approve ok by "alice" at 3600000ms', '  approve ok by "bob" at 10800000ms']);
  });

  it("--update of a test whose approval step was renamed says the new plan's run waits on it, and what the test names that is gone", async () => {
    const dir = project();
    const file = join(dir, 'p.test.orch');
    writeFileSync(
      file,
      `import "./plans.orch" as plans\ntest "cap" {\n  captured_from "p-1" ir_hash "x"\n  plan plans.p\n  input { x: 1 }\n  mock plans.f returns { y: 2 }\n  approve ok by "cfo" at 0ms\n  expect b.completed\n}\n`,
    );
    writeFileSync(join(dir, 'plans.orch'), PLAN.replace('step ok = approval', 'step sign = approval').replace('after ok', 'after sign'));
    await expect(updateCapturedTests(file, { real: null })).rejects.toThrow(
      /test "cap": the run of plan p as it is now, under the test's mocks, decisions and signals, did not finish.*sign waits.*no longer has \(ok\): write its approve \/ reject lines for the new steps/,
    );
    // The file is left as it was.
    expect(readFileSync(file, 'utf8')).toContain('approve ok by "cfo"');
  });
});

describe('capturing a run that was upgraded (§8.6)', () => {
  it('records the version the run ended on, so orch test reads the captured plan from the journal', async () => {
    const dir = project();
    const db = join(dir, 'runs.db');
    writeFileSync(join(dir, 'v2.orch'), PLAN.replace('step b = f(x: a.output.y) { after ok }', 'step b = f(x: a.output.y + 10) { after ok }'));
    const paused = await runCli(['run', 'plans.orch', '--plan', 'p', '--input', '{"x": 1}', '--db', db, '--json', '--quiet'], dir);
    const runId = (JSON.parse(paused.stdout) as { runId: string }).runId;
    const up = await runCli(['upgrade', runId, '--to', 'v2.orch', '--plan', 'p', '--json', '--db', db], dir);
    expect(up.code, up.stderr).toBe(0);
    const toHash = (JSON.parse(up.stdout) as { runs: { toHash: string }[] }).runs[0]!.toHash;
    expect((await runCli(['signal', runId, 'ok', 'approve', '--db', db, '--quiet'], dir)).code).toBe(0);
    const captured = await runCli(['test', '--capture', runId, '--db', db], dir);
    expect(captured.code, captured.stderr).toBe(0);
    expect(captured.stdout).toContain(`captured_from ${JSON.stringify(runId)} ir_hash ${JSON.stringify(toHash)}`);
  });
});
