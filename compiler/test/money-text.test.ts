/**
 * `moneyText` is the one way Orch writes an amount of money for people: what it writes is a money
 * literal the parser reads back as the same amount, and the compiler's own messages use it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, type MoneyLit, type PolicyDecl } from '../../language/index.js';
import { diffPlans, moneyText, preview, renderPlanDiff } from '../index.js';
import { checkText, compileText } from './helpers.js';

/** `text` read as the money literal of a policy's cost budget, or undefined if it reads as no money. */
function parsedMoney(text: string): MoneyLit | undefined {
  const { module, diagnostics } = parse({ file: 'm.orch', text: `policy p { budget cost <= ${text} }` });
  if (diagnostics.some((d) => d.severity === 'error')) return undefined;
  const limit = (module.declarations[0] as PolicyDecl | undefined)?.budgets[0]?.limit;
  return limit?.kind === 'MoneyLit' ? limit : undefined;
}

describe('moneyText', () => {
  it('round-trips through the parser: any amount to a millionth, in any currency, reads back the same', () => {
    const currency = fc.stringMatching(/^[a-z]{3}$/).filter((c) => !['min', 'sec', 'day', 'hrs', 'yrs'].includes(c));
    // Millionths up to 2^53: every such amount is an exact count of millionths, as money is kept.
    const amount = fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.maxSafeNat()).map((n) => n / 1e6);
    fc.assert(
      fc.property(amount, currency, (n, cur) => {
        const text = moneyText(n, cur);
        expect(text).toMatch(/^\d+(\.\d{2,6})?[a-z]{3}$/);
        expect(parsedMoney(text)).toMatchObject({ amount: n, currency: cur });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps cents and rounds to a millionth; an amount that is no number is ?', () => {
    expect([moneyText(0.5, 'usd'), moneyText(0.1 + 0.2, 'eur'), moneyText(12, 'usd'), moneyText(0.0000004, 'usd'), moneyText(1.5)]).toEqual(['0.50usd', '0.30eur', '12usd', '0usd', '1.50']);
    expect([moneyText(Number.NaN, 'usd'), moneyText(Number.POSITIVE_INFINITY)]).toEqual(['?usd', '?']);
  });
});

describe("the compiler's messages write money with moneyText", () => {
  it('a type mismatch names a money literal as it reads', () => {
    const ds = checkText('plan p {\n  step t = transform(value: 0.50usd + true)\n}\n').filter((d) => d.code === 'E0201');
    expect(ds.map((d) => d.message)).toEqual(['"+": incompatible types money(usd) (0.50usd) and bool (expression)']);
  });

  it("orch diff writes the estimated cost in the program's currency, cents kept", () => {
    const version = (cost: string) => {
      const out = compileText(`capability c { kind tool  input { x: int }  output { y: int }  cost ${cost} }\nplan p {\n  step a = c(x: 1)\n}\n`);
      const plan = out.plans.find((x) => x.plan === 'p')!;
      return { plan, p: preview(plan, out.model) };
    };
    const a = version('0.5eur');
    const b = version('0.75eur');
    expect(renderPlanDiff(diffPlans(a.plan, b.plan, a.p, b.p))).toContain('  cost      0.50eur → 0.75eur\n');
  });
});
