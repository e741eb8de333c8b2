/**
 * Budget declarations (LANGUAGE.md §7.2): the `warn` form reaches the IR, and a limit of the wrong
 * unit is an E0203 unit error at the limit (not a syntax error).
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, compileText, covered } from './helpers.js';

const withPolicy = (budget: string) => `${BASE}\npolicy tight {\n  strategy cost\n  ${budget}\n}\nplan p {\n  policy tight\n  input { url: string }\n  step a = fetch(url: input.url)\n}\n`;

describe('budgets', () => {
  it('`warn` marks the budget in the IR', () => {
    const r = compileText(withPolicy('budget cost <= 0.50usd warn\n  budget duration <= 10m'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const budgets = r.plans[0]!.policy!.budgets;
    expect(budgets).toMatchObject({ cost: 0.5, cost_warn: true, duration_ms: 600_000 });
    expect(budgets.duration_warn).toBeUndefined();
  });

  it('a duration where money is expected is E0203 at the limit, with no syntax error', () => {
    const text = withPolicy('budget cost <= 10m');
    const diags = checkText(text);
    expect(diags.filter((d) => d.code === 'E0001')).toEqual([]);
    const e = diags.filter((d) => d.code === 'E0203');
    expect(e).toHaveLength(1);
    expect(covered(text, e[0]!)).toBe('10m');
  });

  it('money where a duration is expected is E0203 too', () => {
    const text = withPolicy('budget duration <= 2usd');
    expect(checkText(text).filter((d) => d.code === 'E0203').map((d) => covered(text, d))).toEqual(['2usd']);
  });
});
