/**
 * `orch test --capture` of a run that runs sub-plans (LANGUAGE.md §9.2: a test from a journal, a
 * `mock` per boundary call). A test of a plan mocks the capabilities its sub-plans call too, yet
 * the capture refused every run with a `run` step ("capturing their calls is not supported yet"):
 * the calls a sub-plan's run made are in that run's journal (`RUN/KEY`), which the capture now
 * reads — each answered by the sub-plan step that made it, in a `for each` and nested alike.
 */
import { describe, expect, it } from 'vitest';
import { runAndCapture } from './capture-source.js';

const PLAN = `
capability lookup { kind tool  input { id: string }  output { name: string @personal, score: int }  retry 0 }
capability charge { kind tool  input { n: int }  output { ref: string }  retry 1 backoff fixed 1s }
capability summarize { kind llm  input { text: string }  output { text: string }  prompt "Sum \${input.text}"  endpoint "local"  model "m" }
plan leaf {
  input { n: int }
  step c = charge(n: input.n)
  output { ref: c.output.ref }
}
plan middle {
  input { id: string }
  step l = lookup(id: input.id)
  step s = summarize(text: l.output.name) when l.output.score > 100
  step deeper = run leaf(n: l.output.score)
  output { name: l.output.name, ref: deeper.output.ref }
}
plan top {
  input { ids: list<string> }
  for each id in input.ids parallel 2 {
    step m = run middle(id: id)
  }
  output { refs: m.output }
}
`;
const FILES = { 'orch.config.json': JSON.stringify({ endpoints: { local: { api: 'openai', base_url: 'http://127.0.0.1:9/v1' } } }) };

describe('capturing a run that runs sub-plans', () => {
  it('mocks the calls of its sub-plan runs (in a for each, nested) by their input, and the captured test passes', async () => {
    const body = [
      '  plan plans.top',
      '  input { ids: ["a", "b"] }',
      '  mock plans.lookup where input.id == "a" returns { name: "Ada", score: 1 }',
      '  mock plans.lookup where input.id == "b" returns { name: "Bob", score: 2 }',
      '  mock plans.charge where input.n == 2 fails "declined" times 1 then returns { ref: "r-2" }',
      '  mock plans.charge returns { ref: "r-1" }',
      '  mock plans.summarize returns { text: "t" }',
      '  expect run.status == "completed"',
      '',
    ].join('\n');
    const { ran, captured } = await runAndCapture(PLAN, body, FILES);
    expect(ran.passed).toBe(true);
    const { text, result } = captured;
    expect(text).toContain('  mock plans.lookup where input == { id: "a" } returns { name: "personal-1", score: 1 }');
    expect(text).toContain('  mock plans.lookup where input == { id: "b" } returns { name: "personal-2", score: 2 }');
    expect(text).toContain('  mock plans.charge where input == { n: 1 } returns { ref: "r-1" }');
    expect(text).toMatch(/^ {2}mock plans\.charge where input == \{ n: 2 \} fails "declined" times 1 then returns \{ ref: "r-2" \}/m);
    // The model the sub-plan's when skipped was never called, yet a test must mock it (E0906).
    expect(text).toMatch(/^ {2}mock plans\.summarize fails "not called in run p-1"$/m);
    expect(text).toContain('expect run.output == { refs: [{ name: "personal-1", ref: "r-1" }, { name: "personal-2", ref: "r-2" }] }');
    expect(result.passed).toBe(true);
    expect(result.elapsed_ms).toBe(ran.elapsed_ms);
  });

  it('refuses a run whose sub-plan waits on an approval, which a test of the plan does not decide, saying so', async () => {
    const plan = `
capability charge { kind tool  input { n: int }  output { ref: string } }
plan gated {
  step ok = approval(approver: "lead", summary: "go?") { timeout 1h }
  step c = charge(n: 1) { after ok }
}
plan top {
  step g = run gated()
}
`;
    await expect(runAndCapture(plan, '  plan plans.top\n  mock plans.charge returns { ref: "r" }\n')).rejects.toThrow(/sub-plan with an approval \(g\/ok\)/);
    // A sub-plan the run never reached waited on nothing: the run is captured.
    const skipped = plan.replace('step g = run gated()', 'input { go: bool }\n  step g = run gated() when input.go');
    const { captured } = await runAndCapture(skipped, '  plan plans.top\n  input { go: false }\n  mock plans.charge returns { ref: "r" }\n');
    expect(captured.text).toContain('  expect g.skipped');
    expect(captured.result.passed).toBe(true);
  });
});
