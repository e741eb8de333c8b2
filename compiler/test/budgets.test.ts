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

  it('of several budgets of one metric the tightest holds, a blocking one before any warn one', () => {
    const budgetsOf = (lines: string) => {
      const r = compileText(withPolicy(lines));
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return r.plans[0]!.policy!.budgets;
    };
    expect(budgetsOf('budget cost <= 1usd\n  budget cost <= 5usd')).toEqual({ cost: 1, duration_ms: null });
    expect(budgetsOf('budget cost <= 5usd\n  budget cost <= 1usd')).toEqual({ cost: 1, duration_ms: null });
    expect(budgetsOf('budget cost <= 1usd warn\n  budget cost <= 5usd')).toEqual({ cost: 5, duration_ms: null });
    expect(budgetsOf('budget cost <= 5usd\n  budget cost <= 1usd warn')).toEqual({ cost: 5, duration_ms: null });
    expect(budgetsOf('budget duration <= 10m warn\n  budget duration <= 2m warn')).toEqual({ cost: null, duration_ms: 120_000, duration_warn: true });
  });

  it('the tighter of two budgets is the one the estimate is held to (W0502)', () => {
    const diags = checkText(withPolicy('budget cost <= 5usd\n  budget cost <= 0.000001usd'));
    expect(diags.filter((d) => d.code === 'W0502')).toHaveLength(1);
  });
});
