/**
 * `orch test --capture` writes "`expect` lines for the final status, each step's status and the
 * output" (LANGUAGE.md §9.2): a step that timed out, one a race cancelled, a race's winner, a
 * `repeat`'s step (its last iteration) and a `for each` step (its items together, as a test's
 * `STEP.status` reads it) are pinned as a completed or skipped one is.
 */
import { describe, expect, it } from 'vitest';
import { runAndCapture } from './capture-source.js';

const PLAN = `
capability look {
  kind tool
  input { id: string }
  output { v: int }
  handler "./h.js#look"
}
plan p {
  step slow = look(id: "slow") { timeout 1m  on_failure continue }
  step fast = look(id: "fast")
  race r {
    step lose = look(id: "late")
    step win = look(id: "fast")
  }
  repeat again max 3 until l.output.v >= 2 {
    step l = look(id: "loop")
  }
  for each x in ["a", "b"] {
    step each = look(id: x)
  }
  for each y in ["x", "bad"] {
    step some = look(id: y) { on_failure continue }
  }
}
`;

describe('a captured test pins each step status', () => {
  it('writes a timed-out, a cancelled, a race winner, a repeat and a for each step, and the capture passes', async () => {
    const { captured } = await runAndCapture(
      PLAN,
      `  plan plans.p
  mock plans.look where input.id == "slow" returns { v: 0 } latency 2m
  mock plans.look where input.id == "late" returns { v: 0 } latency 1h
  mock plans.look where input.id == "loop" returns { v: 1 } then { v: 2 }
  mock plans.look where input.id == "bad" fails "no"
  mock plans.look returns { v: 5 }
`,
      { 'h.js': 'export function look() { return { v: 0 }; }\n' },
    );
    expect(captured.result.failures).toEqual([]);
    const expects = captured.text.split('\n').filter((l) => l.trimStart().startsWith('expect '));
    expect(expects).toEqual(
      expect.arrayContaining([
        '  expect slow.status == "timeout"',
        '  expect fast.completed',
        '  expect lose.status == "cancelled"',
        '  expect win.completed',
        '  expect l.completed',
        '  expect each.completed',
        '  expect some.failed',
      ]),
    );
  });
});
