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

  it('cost estimates are money to the millionth, as --json shows a run\'s cost: 0.1 + 0.2 is 0.3, not 0.30000000000000004', () => {
    const r = compileText(`capability a {\n  kind tool\n  input { x: int }\n  cost 0.1usd\n}\ncapability b {\n  kind tool\n  input { x: int }\n  cost 0.2usd\n}\nplan p {\n  step s1 = a(x: 1)\n  step s2 = b(x: 1)\n  repeat r max 4 until s3.output == null {\n    step s3 = a(x: 2)\n  }\n}\n`);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const est = r.plans[0]!.estimates;
    expect([est.cost, est.cost_max]).toEqual([0.4, 0.7]);
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

/** Issue 34, item 5: `rate_limit ping 2 per 5s` lets the third call start 5 s after the first. */
describe('rate limits in the estimates', () => {
  const rated = (steps: string, extra = '') => `capability ping {
  kind tool
  input { n: int }
  output { n: int }
}
policy paced {
  budget duration <= 3s
  rate_limit ping 2 per 5s${extra}
}
plan p {
  policy paced
${steps}
}
`;
  const three = '  step a = ping(n: 1)\n  step b = ping(n: 2)\n  step c = ping(n: 3)';

  it('three calls of `2 per 5s` take 5 s: the duration estimate, W0502 and the preview say so', async () => {
    const r = compileText(rated(three));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const plan = r.plans[0]!;
    expect(plan.estimates.duration_ms).toBe(5000);
    expect(plan.estimates.duration_ms_max ?? plan.estimates.duration_ms).toBe(5000);
    const w = r.diagnostics.filter((d) => d.code === 'W0502');
    expect(w.map((d) => d.message)).toEqual(['estimated duration 5s (rate limit on ping included) of plan "p" exceeds the budget 3s of policy paced']);
    const { preview, renderPreviewText } = await import('../preview.js');
    const p = preview(plan);
    expect(p.budgets.duration_ms).toMatchObject({ limit: 3000, estimate: 5000, ok: false });
    expect(renderPreviewText(p, false)).toContain('duration: 5s / budget 3s OVER BUDGET by 2s');
  });

  it('two calls fit the window, and a chain waits only for what the window holds back', () => {
    expect(compileText(rated('  step a = ping(n: 1)\n  step b = ping(n: 2)')).plans[0]!.estimates.duration_ms).toBe(0);
    // a → b → c, each 1 s: c is ready at 2 s but its slot opens at 5 s (a started at 0).
    const slow = rated(three.replace('ping(n: 2)', 'ping(n: a.output.n)').replace('ping(n: 3)', 'ping(n: b.output.n)')).replace('output { n: int }', 'output { n: int }\n  latency 1s');
    const plan = compileText(slow).plans[0]!;
    expect(plan.estimates.duration_ms).toBe(6000);
    expect(plan.estimates.critical_path).toEqual(['a', 'b', 'c']);
  });

  it('a loop calls once per iteration: the worst case waits for every slot', () => {
    const loop = rated('  repeat again max 3 until again_ping.output.n > 2 {\n    step again_ping = ping(n: 1)\n  }');
    const r = compileText(loop);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.plans[0]!.estimates.duration_ms).toBe(0);
    expect(r.plans[0]!.estimates.duration_ms_max).toBe(5000);
  });
});

describe('the critical path with zero latencies', () => {
  it('is the whole chain a → b, not its first step', () => {
    const text = `capability z {\n  kind tool\n  input { n: int }\n  output { n: int }\n}\nplan p {\n  step a = z(n: 1)\n  step b = z(n: a.output.n)\n  step lone = z(n: 2)\n}\n`;
    const plan = compileText(text).plans[0]!;
    expect(plan.estimates.duration_ms).toBe(0);
    expect(plan.estimates.critical_path).toEqual(['a', 'b']);
  });
});
