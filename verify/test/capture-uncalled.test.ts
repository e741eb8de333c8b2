/**
 * `orch test --capture` of a run that never reached some of its boundaries (LANGUAGE.md §9.2): a
 * run that failed before its `notify`, or skipped a model call by its `when`, made no call a mock
 * could be written from — and a test whose plan can reach a model, a channel or the network with
 * no mock is E0906. The capture refused such runs ("the captured test does not check"), the runs
 * one most wants to pin. Each boundary the run never called is mocked to fail, saying so: the
 * captured test checks and passes, and a change that makes the plan call it shows. A capability
 * the run called only as a compensation is a call too: it is mocked to answer as it did.
 */
import { describe, expect, it } from 'vitest';
import { runAndCapture } from './capture-source.js';

const PLAN = `
capability lookup { kind tool  input { id: string }  output { name: string }  retry 0 }
capability summarize { kind llm  input { text: string }  output { text: string }  prompt "Sum \${input.text}"  endpoint "local"  model "m" }
plan p {
  input { id: string, brief: bool }
  step l = lookup(id: input.id)
  step s = summarize(text: l.output.name) when input.brief
  step n = notify(channel: "ops", text: "found \${l.output.name}")
  step h = http_request(url: "https://example.com/hook", method: "POST") { after n }
  output { name: l.output.name }
}
`;
const FILES = { 'orch.config.json': JSON.stringify({ endpoints: { local: { api: 'openai', base_url: 'http://127.0.0.1:9/v1' } } }) };
const MOCKS = `  mock plans.summarize returns { text: "t" }
  mock notify returns { delivered: true, channel: "ops" }
  mock http_request returns { status: 200, body: "", headers: {} }
`;

describe('capturing a run that never reached some boundaries', () => {
  it('a run that failed before its channel and network steps: each is mocked to fail, never called; the captured test passes', async () => {
    const { ran, captured } = await runAndCapture(PLAN, `  plan plans.p\n  input { id: "o-1", brief: true }\n  mock plans.lookup fails "lookup down"\n${MOCKS}  expect run.status == "failed"\n`, FILES);
    expect(ran.passed).toBe(true);
    const { text, result } = captured;
    expect(text).toContain('  mock plans.lookup fails "lookup down"');
    for (const cap of ['plans.summarize', 'notify', 'http_request']) expect(text).toMatch(new RegExp(`^  mock ${cap} fails "not called in run p-1"$`, 'm'));
    expect(text).toContain('  expect run.status == "failed"');
    expect(result.passed).toBe(true);
  });

  it('a completed run whose when skipped its model call: the model is mocked to fail, the calls made as they answered', async () => {
    const { ran, captured } = await runAndCapture(PLAN, `  plan plans.p\n  input { id: "o-1", brief: false }\n  mock plans.lookup returns { name: "Ada" }\n${MOCKS}  expect s.skipped\n`, FILES);
    expect(ran.passed).toBe(true);
    const { text, result } = captured;
    expect(text).toContain('  mock plans.summarize fails "not called in run p-1"');
    expect(text).toContain('  mock notify returns { delivered: true, channel: "ops" }');
    expect(text).toContain('  expect s.skipped');
    expect(result.passed).toBe(true);
  });

  it('a capability called only as a compensation is mocked as it answered, a channel among them; the compensations succeed again', async () => {
    const saga = `
capability book { kind tool  input { n: int }  output { ok: bool } }
capability undo { kind tool  input { n: int }  output { ok: bool } }
capability pay { kind tool  input { n: int }  output { ok: bool }  retry 0 }
plan saga {
  on_failure rollback
  step a = book(n: 1) { compensate undo(n: 1) }
  step b = book(n: 2) { after a  compensate notify(channel: "ops", text: "undone") }
  step c = pay(n: 3) { after b }
}
`;
    const body = '  plan plans.saga\n  mock plans.book returns { ok: true }\n  mock plans.undo returns { ok: true }\n  mock notify returns { delivered: true, channel: "ops" }\n  mock plans.pay fails "declined"\n';
    const { ran, captured } = await runAndCapture(saga, body);
    expect(ran.passed).toBe(true);
    const compensated = (r: typeof ran) => r.timeline.filter((t) => t.type === 'step_compensated').map((t) => [t.step, t.detail]);
    expect(compensated(ran)).toEqual([['b', null], ['a', null]]);
    const { text, result } = captured;
    expect(text).toMatch(/^ {2}mock plans\.undo returns /m);
    expect(text).toMatch(/^ {2}mock notify returns /m);
    expect(text).not.toContain('not called');
    expect(result.passed).toBe(true);
    expect(compensated(result)).toEqual(compensated(ran));
  });
});
