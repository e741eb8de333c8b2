/**
 * `orch test --capture` writes each mock's latency and usage as the run recorded them (LANGUAGE.md
 * §9.2: "latencies and usage as recorded"): captured from a test run's own journal, the mocks keyed
 * by input carry each call's latency and usage, and the captured test takes the same virtual time;
 * a race's loser, cancelled before it answered, is mocked to answer only after it was cancelled; and
 * the capture's first run (which computes the output expected) answers each call after the time it
 * took, so a signal that came while a step ran comes then again; a compensation (whose output the
 * journal does not keep) is answered as it ended.
 */
import { describe, expect, it } from 'vitest';
import { runAndCapture } from './capture-source.js';

const PLAN = `
capability f { kind tool  input { x: int }  output { y: int }  handler "./h.mjs#f" }
plan p {
  step a = f(x: 1)
  step b = f(x: 2)
  step c = f(x: a.output.y + b.output.y)
  output { y: c.output.y }
}
capability g { kind tool  input { x: int }  output { y: int }  handler "./h.mjs#f" }
plan saga {
  on_failure rollback
  step booked = f(x: 1) {
    compensate f(x: 99)
  }
  step broken = g(x: 2) { after booked }
}
context { go: bool }
plan s {
  step a = f(x: 1)
  step b = f(x: 2) when context.go { after a }
  output { y: b.output.y ?? 0 }
}
plan r {
  race pick {
    step q1 = f(x: 1)
    step q2 = f(x: 2)
  }
  output { w: pick.winner }
}
`;

/** Runs the test `body` of the plans above and captures a test from its journal. */
async function captureOf(body: string) {
  const { ran, captured } = await runAndCapture(PLAN, body, { 'h.mjs': 'export function f(i) { return { y: i.x }; }\n' });
  return { ran, ...captured, mocks: captured.text.split('\n').filter((l) => l.startsWith('  mock')) };
}

describe('capturing latencies and usage', () => {
  it('a race loser cancelled before it answered fails just after the moment it was cancelled; the winner is the same', async () => {
    const { ran, result, mocks, text } = await captureOf('  plan plans.r\n  mock plans.f where input.x == 1 returns { y: 1 } latency 5s\n  mock plans.f where input.x == 2 returns { y: 2 } latency 1s\n');
    expect(ran.run_status).toBe('completed');
    expect(mocks).toEqual([
      '  mock plans.f where input == { x: 1 } fails "cancelled: lost race pick to q2" latency 1001ms',
      '  mock plans.f where input == { x: 2 } returns { y: 2 } latency 1000ms',
    ]);
    expect(text).toContain('expect run.output == { w: "q2" }');
    expect([result.passed, result.elapsed_ms]).toEqual([true, 1000]);
  });

  it('each mock carries the latency and usage its calls recorded; the captured test passes in the same virtual time', async () => {
    const { ran, result, mocks } = await captureOf(`  plan plans.p
  mock plans.f where input.x == 1 returns { y: 10 } latency 2s usage { input_tokens: 900, output_tokens: 120, model: "m" }
  mock plans.f where input.x == 2 returns { y: 20 } latency 5s
  mock plans.f returns { y: 30 } latency 1s
`);
    expect([ran.run_status, ran.elapsed_ms]).toEqual(['completed', 6000]);
    expect(mocks).toEqual([
      '  mock plans.f where input == { x: 1 } returns { y: 10 } latency 2000ms usage { input_tokens: 900, output_tokens: 120, model: "m" }',
      '  mock plans.f where input == { x: 2 } returns { y: 20 } latency 5000ms',
      '  mock plans.f where input == { x: 30 } returns { y: 30 } latency 1000ms',
    ]);
    expect([result.passed, result.elapsed_ms]).toEqual([true, 6000]);
  });

  it('a signal that came while a step ran: the captured test sees it when the run did, and expects that output', async () => {
    const { ran, result, text } = await captureOf('  plan plans.s\n  context { go: false }\n  mock plans.f returns { y: 7 } latency 2s\n  signal context.go = true at 1s\n');
    expect(ran.run_status).toBe('completed');
    expect(text).toContain('  signal context.go = true at 1000ms');
    expect(text).toContain('  expect b.completed');
    expect(text).toContain('  expect run.output == { y: 7 }');
    expect([result.passed, result.elapsed_ms]).toEqual([true, 4000]);
  });

  it('a compensation that ran is mocked to answer (the plainest value of its type), not to fail', async () => {
    const { ran, result, mocks } = await captureOf('  plan plans.saga\n  mock plans.f returns { y: 1 }\n  mock plans.g fails "boom"\n');
    expect(ran.run_status).toBe('failed');
    expect(mocks).toContain('  mock plans.f where input == { x: 99 } returns { y: 0 }');
    expect(result.passed).toBe(true);
    expect(result.timeline.filter((t) => t.type === 'step_compensated').map((t) => [t.step, t.detail])).toEqual([['booked', null]]);
  });
});
