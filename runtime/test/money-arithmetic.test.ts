/**
 * Money is exact to a millionth of its unit wherever a figure of it is shown (compiler/money.ts):
 * arithmetic on money (and on percents) in an expression is too, so `0.1usd + 0.2usd == 0.3usd` holds at run time
 * as a person reads it (a float sum is 0.30000000000000004), and a sum exactly at a cap is at it.
 */
import { describe, expect, it } from 'vitest';
import type { ExprIR } from '../../compiler/index.js';
import { compileText } from '../../compiler/test/helpers.js';
import { evaluate } from '../evaluate.js';

/** The IR of the plan's `when` condition of step `s`. */
function conditionOf(text: string): ExprIR {
  const out = compileText(text);
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!.steps.find((s) => s.id === 's')!.when!;
}

describe('money arithmetic at run time', () => {
  it('sums, differences and products of money compare as written', () => {
    const when = conditionOf(`plan p {
  input { a: money = 0.1usd, b: money = 0.2usd, q: int = 3 }
  step s = log(message: "x") when input.a + input.b == 0.3usd and input.a * input.q == 0.3usd and 0.3usd - input.b == input.a and input.a + input.b <= 0.3usd
}
`);
    expect(evaluate(when, { vars: { input: { a: 0.1, b: 0.2, q: 3 } } })).toBe(true);
  });

  it('a sum of a list of money is exact too', () => {
    const when = conditionOf(`plan p {
  input { l: list<money> = [] }
  step s = log(message: "x") when sum(input.l) == 0.3usd and sum([0.1usd, 0.2usd]) == 0.3usd
}
`);
    expect(evaluate(when, { vars: { input: { l: [0.1, 0.2] } } })).toBe(true);
  });

  it('percents are exact too: 10% + 20% is 30%, in a sum and in a product', () => {
    const when = conditionOf(`plan p {
  input { a: percent = 10%, b: percent = 20%, l: list<percent> = [] }
  step s = log(message: "x") when input.a + input.b == 30% and input.a * 3 == 30% and 30% - input.b == input.a and sum(input.l) == 30%
}
`);
    expect(evaluate(when, { vars: { input: { a: 0.1, b: 0.2, l: [0.1, 0.2] } } })).toBe(true);
  });

  it('a percent or duration literal with decimals is the value written: 10% + 2.3% is 12.3%, 2.3h is 138m', () => {
    const when = conditionOf(`plan p {
  input { a: percent = 10%, d: duration = 2h }
  step s = log(message: "x") when input.a + 2.3% == 12.3% and 12.3% == 0.123 and 2.3h == 138m and input.d + 0.3h == 138m and 1.1s == 1100ms
}
`);
    expect(evaluate(when, { vars: { input: { a: 0.1, d: 7_200_000 } } })).toBe(true);
  });

  it('round() of a percent rounds the percent figure: round(80.4%) is 80%, round(12.345%, 1) is 12.3%', () => {
    const when = conditionOf(`plan p {
  input { a: percent = 80.4%, b: percent = 12.345% }
  step s = log(message: "x") when round(input.a) == 80% and round(input.b, 1) == 12.3% and round(0.5%) == 1% and round(2.5) == 3
}
`);
    expect(evaluate(when, { vars: { input: { a: 0.804, b: 0.12345 } } })).toBe(true);
  });

  it('plain numbers keep IEEE arithmetic (only money and percents are decimal)', () => {
    const when = conditionOf(`plan p {
  input { a: number = 0.1, b: number = 0.2 }
  step s = log(message: "x") when input.a + input.b == 0.3
}
`);
    expect(evaluate(when, { vars: { input: { a: 0.1, b: 0.2 } } })).toBe(false);
  });
});
