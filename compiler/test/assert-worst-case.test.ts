import { describe, expect, it } from 'vitest';
import { checkText, compileText } from './helpers.js';

// `assert plan.cost` is a cap: judged, like a budget (W0502, §9.1), on the worst case — every
// loop at its max — not on the one-iteration best case.
const src = (max: number) => `
capability work { kind tool  input { n: int = 1 }  output { ok: bool }  cost 0.10usd }
resource box { kind local_device }
guardrail cap {
  severity warning
  assert plan.cost <= 0.25usd
}
plan p {
  guardrails cap
  repeat loop max ${max} until w.output.ok {
    step w = work()
  }
}
`;

describe('assert plan.* on the worst case', () => {
  it('a loop whose max iterations exceed the cap is W0402; one within it holds', () => {
    expect(checkText(src(5)).filter((d) => d.code === 'W0402').map((d) => d.message)).toEqual([expect.stringContaining('worst-case cost 0.50usd,')]);
    expect(checkText(src(2)).filter((d) => d.code === 'W0402')).toEqual([]);
    expect(compileText(src(2)).plans[0]!.guardrails[0]!.static_verdict).toBe('holds');
    expect(compileText(src(5)).plans[0]!.guardrails[0]!.static_verdict).toBe('violated');
  });
});
