/**
 * `orch test --capture` of a run whose approval steps stand inside a `for each` (LANGUAGE.md §9.2:
 * the test holds "the decisions with their deciders and virtual times"). A test's `approve` /
 * `reject` line decides every instance of its step, so a run whose instances were decided alike
 * is written as one line per decision; the capture refused every such run ("not supported yet").
 * Instances decided differently cannot be one line: refused, naming them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import type { RunEvent } from '../../runtime/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { captureTest, runPlanTest } from '../index.js';
import { runAndCapture } from './capture-source.js';

const PLAN = `
capability ship { kind tool  input { id: string }  output { ok: bool } }
plan batch {
  input { ids: list<string> }
  for each id in input.ids parallel 3 {
    step ok = approval(approver: "ops", summary: "ship \${id}?") { timeout 1d }
    step s = ship(id: id) { after ok }
  }
  output { shipped: len(s.output) }
}
`;

describe('capturing a run with approvals inside a for each', () => {
  it('instances decided alike: one line per decision, at its time; the captured test passes', async () => {
    const body = '  plan plans.batch\n  input { ids: ["a", "b", "c"] }\n  mock plans.ship returns { ok: true }\n  approve ok by "dana" at 2h\n  expect run.output.shipped == 3\n';
    const { ran, captured } = await runAndCapture(PLAN, body);
    expect(ran.passed).toBe(true);
    const { text, result } = captured;
    expect(text.match(/^ {2}(approve|reject) .*$/gm)).toEqual(['  approve ok by "dana" at 7200000ms']);
    expect(text).toContain('  expect run.output == { shipped: 3 }');
    expect(result.passed).toBe(true);
    expect(result.elapsed_ms).toBe(ran.elapsed_ms);
  });

  it('an instance the run skipped is not decided by the line; the captured test passes', async () => {
    const plan = PLAN.replace('approval(approver: "ops", summary: "ship ${id}?")', 'approval(approver: "ops", summary: "ship ${id}?") when id != "b"');
    const body = '  plan plans.batch\n  input { ids: ["a", "b"] }\n  mock plans.ship returns { ok: true }\n  approve ok by "dana" at 1h\n';
    const { captured } = await runAndCapture(plan, body);
    expect(captured.text).toContain('  approve ok by "dana" at 3600000ms');
    expect(captured.result.passed).toBe(true);
  });

  it('instances decided by different people are refused, naming them: one line would decide both alike', async () => {
    const dir = tempDir('orch-capture-blocks-');
    writeFileSync(join(dir, 'plans.orch'), PLAN);
    const file = join(dir, 'source.test.orch');
    writeFileSync(file, 'import "./plans.orch" as plans\ntest "source" {\n  plan plans.batch\n  input { ids: ["a", "b"] }\n  mock plans.ship returns { ok: true }\n  approve ok by "dana" at 1h\n}\n');
    const t = compile({ entry: file, navigation: false, tests: true }).tests[0]!;
    let journal: readonly RunEvent[] = [];
    await runPlanTest(t, { real: null, onJournal: (events) => (journal = events) });
    // As `orch signal RUN 'ok[1]' approve --by erin` would have journaled it.
    const edited = journal.map((e) => (e.type === 'step_completed' && e.stepId === 'ok[1]' ? { ...e, data: { ...e.data, output: { ...(e.data.output as object), approver: 'erin' } } } : e));
    await expect(captureTest({ runId: 'p-1', plan: t.plan, events: edited }, { file: join(dir, 'captured.test.orch') })).rejects.toThrow(
      /decided the instances of approval ok differently \(ok\[0\]: approve by "dana"; ok\[1\]: approve by "erin"\)/,
    );
  });
});
