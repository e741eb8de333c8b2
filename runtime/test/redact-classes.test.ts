/**
 * `SecretView` (runtime/redact-classes.ts): the shown copy of a run's events and result, where a
 * value whose declared class is `secret` reads `***` — through optionals, lists, maps and records,
 * a whole `for each` step's list of outputs, a sub-plan step's output, context signals, and plan output fields bound to a
 * secret value (read, interpolated or passed through a function) — and copies of those values
 * elsewhere are blanked; `null` stays, and nothing else changes.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { compileText } from '../../compiler/test/helpers.js';
import { SecretView, type RunEvent } from '../index.js';

const SOURCE = `
capability vault { kind tool input { name: string } output { key: string @secret, keys: list<string> @secret, label: string } cost 0usd latency 1ms requires cpu }
capability echo { kind tool input { text: string } output { text: string } cost 0usd latency 1ms requires cpu }
resource box { kind local_device provides cpu }
context { pin: string @secret, temp: number }
plan inner {
  step v = vault(name: "y")
  output { key: v.output.key, label: v.output.label }
}
plan p {
  input { token: string? @secret, names: list<string>, extra: map<secret>? }
  step k = vault(name: "x")
  for each n in input.names {
    step each = vault(name: n)
  }
  step e = echo(text: "hi")
  step sub = run inner()
  output { key: k.output.key, upper: upper(k.output.key), said: "token \${input.token ?? ""}", label: k.output.label, temp: context.temp }
}
`;

function plan(): PlanIR {
  const out = compileText(SOURCE);
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans.find((p) => p.plan === 'p')!;
}

const ev = (type: string, stepId: string | null, data: unknown, seq = 0): RunEvent => ({ runId: 'r', seq, ts: 0, type, stepId, data }) as RunEvent;

describe('SecretView', () => {
  it('replaces secret-class values in the input, context, step outputs and the plan output, and their copies', () => {
    const ir = plan();
    const events = [
      ev('plan_created', null, { plan: 'p', input: { token: 'tok-123456', names: ['a'], extra: { x: 'MAPSECRET' } }, context: { pin: 'PIN-9999', temp: 20 }, steps: 3, parentRunId: null }),
      ev('context_updated', null, { patch: { pin: 'PIN-0000', temp: 21 } }),
      ev('step_completed', 'k', { output: { key: 'KEY-abcdef', keys: ['K1-aaaa'], label: 'L' } }),
      ev('step_completed', 'each[0]', { output: { key: 'KEY-each0', keys: [], label: 'E' } }),
      ev('step_completed', 'each', { output: [{ key: 'KEY-each0', keys: [], label: 'E' }] }),
      ev('step_completed', 'e', { output: { text: 'echo tok-123456 and KEY-abcdef' } }),
      ev('step_failed', 'e', { error: 'bad pin PIN-0000', attempt: 1 }),
      ev('step_completed', 'sub', { output: { key: 'KEY-inner1', label: 'I' } }),
      ev('execution_completed', null, { output: { key: 'KEY-abcdef', upper: 'KEY-ABCDEF', said: 'token tok-123456', label: 'L', temp: 21 }, cost: 0, duration: 1 }),
    ];
    const shown = new SecretView(ir, events).events(events).map((e) => e.data);
    expect(shown[0]).toMatchObject({ input: { token: '***', names: ['a'], extra: { x: '***' } }, context: { pin: '***', temp: 20 } });
    expect(shown[1]).toEqual({ patch: { pin: '***', temp: 21 } });
    expect(shown[2]).toEqual({ output: { key: '***', keys: '***', label: 'L' } });
    expect(shown[3]).toEqual({ output: { key: '***', keys: '***', label: 'E' } });
    expect(shown[4]).toEqual({ output: [{ key: '***', keys: '***', label: 'E' }] });
    expect(shown[5]).toEqual({ output: { text: 'echo *** and ***' } });
    expect(shown[6]).toEqual({ error: 'bad pin ***', attempt: 1 });
    expect(shown[7]).toEqual({ output: { key: '***', label: 'I' } });
    expect(shown[8]).toMatchObject({ output: { key: '***', upper: '***', said: '***', label: 'L', temp: 21 } });
    // The journal's own events are not changed.
    expect(events[0]!.data).toMatchObject({ input: { token: 'tok-123456' } });
  });

  it('keeps null (nothing there) and a run without a secret class as it is', () => {
    const ir = plan();
    const created = ev('plan_created', null, { plan: 'p', input: { token: null, names: [], extra: null }, context: {}, steps: 3, parentRunId: null });
    expect(new SecretView(ir).event(created)).toEqual(created);
    const result = { steps: [{ stepId: 'e', output: { text: 'hi' } }], output: { label: 'L' }, error: null };
    expect(new SecretView(ir, [created]).result(result as never)).toEqual(result);
  });

  it('a result: step outputs by their capability, the output by the plan output, copies from the input', () => {
    const ir = plan();
    const result = {
      steps: [
        { stepId: 'k', output: { key: 'KEY-abcdef', keys: [], label: 'L' } },
        { stepId: 'e', output: { text: 'tok-123456' } },
      ],
      output: { key: 'KEY-abcdef', label: 'L' },
      error: 'failed near tok-123456',
    };
    const shown = new SecretView(ir, [], { token: 'tok-123456', names: [] }).result(result as never) as typeof result;
    expect(shown.steps.map((s) => s.output)).toEqual([{ key: '***', keys: '***', label: 'L' }, { text: '***' }]);
    expect(shown.output).toEqual({ key: '***', label: 'L' });
    expect(shown.error).toBe('failed near ***');
  });
});
