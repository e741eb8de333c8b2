/**
 * `orch test --capture` of a run in a project on `"flows": "warn"` (LANGUAGE.md §9.2 "a `mock` per
 * boundary call", §9.3 "an attempt that would break a rule fails before its handler is called").
 * The refused attempt made no call, yet the capture counted it as one: it wrote `mock … returns `
 * with no answer (the test it made did not parse, so nothing was captured), and a step whose
 * arguments failed to evaluate was the same. Such an attempt is no call: nothing is mocked for it,
 * the test's run refuses it alike, and a fallback called after it is answered as it was.
 */
import { describe, expect, it } from 'vitest';
import { runAndCapture } from './capture-source.js';

const PLAN = `
capability gen { kind tool  input { v: string }  output { p: string }  trust untrusted }
capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }
capability park { kind tool  input { path: string @untrusted }  output { ok: bool } }
plan p {
  input { a: any }
  step g = gen(v: "x")
  step w = wipe(path: g.output.p) { fallback park(path: g.output.p) }
  step bad = park(path: "p\${-input.a}") { on_failure continue }
  output { ok: w.output.ok }
}
`;
const FILES = { 'orch.config.json': JSON.stringify({ flows: 'warn' }) };

describe('capturing a run with attempts refused before their handler', () => {
  it('mocks the calls made, not the refused ones, and the captured test passes', async () => {
    const body = ['  plan plans.p', '  input { a: "s" }', '  mock plans.gen returns { p: "/" }', '  mock plans.wipe returns { ok: true }', '  mock plans.park returns { ok: false }', '  expect len(calls(plans.wipe)) == 0', ''].join('\n');
    const { ran, captured } = await runAndCapture(PLAN, body, FILES);
    expect(ran.passed).toBe(true);
    const mocks = captured.text.split('\n').filter((l) => l.startsWith('  mock '));
    // One call of park (w's fallback); bad's attempt failed on its arguments, w's own was refused.
    expect(mocks).toEqual(['  mock plans.gen returns { p: "/" }', '  mock plans.park returns { ok: false }']);
    expect(captured.text).toContain('  expect w.completed');
    expect(captured.text).toContain('  expect bad.failed');
    expect(captured.text).toContain('  expect run.output == { ok: false }');
    expect(captured.result.passed).toBe(true);
  });
});
