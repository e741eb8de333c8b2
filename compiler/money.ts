import { formatMoneyAmount } from '../language/index.js';

/**
 * Money is shown to 6 decimals (a millionth of the currency unit): the IR's estimates, `orch
 * preview`, `orch run --json`, the journal's totals — and `step.cost` as expressions read it
 * (runtime/scheduler/core/views.ts), so a log line, a plan output and `--json` give one figure. The ledger itself keeps the exact sum (a
 * reservation settled to actual, `r + (a − r)`, leaves floating noise there, and rounding each
 * step would drop the spend of many tiny calls from a budget).
 */
export function round6(n: number): number {
  // Past about 2e9 the product n × 1e6 is itself rounded and can land a millionth off, so an amount
  // already to a millionth would move (4297210769.317781 → …782): there, round by its decimal digits.
  return Math.abs(n) < 1e9 ? Math.round(n * 1e6) / 1e6 : Number(n.toFixed(6));
}

/**
 * An amount as Orch writes money (§2: `0.05usd`, `12eur`): to a millionth, cents kept (`0.50usd`),
 * the literal's own digits (formatMoneyAmount). `currency` undefined: a bare amount, for a run
 * whose IR keeps none (a plan without a cost budget, docs/language.md). An amount that is no number
 * (NaN, an unbounded estimate) is `?`: an editor's hint or a message says it is unknown rather than
 * printing `NaNusd`.
 */
export function moneyText(amount: number, currency?: string): string {
  return `${Number.isFinite(amount) ? formatMoneyAmount(round6(amount)) : '?'}${currency ?? ''}`;
}

/** The units whose arithmetic is decimal, not a float's: the IR's `unit` on `+ - * / %` and `sum`. */
export type ExactUnit = 'money' | 'percent';

/**
 * A result of arithmetic in `unit`: money to a millionth of its unit (as every figure of money);
 * a percent, kept as a fraction (`80%` is 0.8), to a millionth of a percent — so `10% + 20%` is
 * `30%`, not 0.30000000000000004.
 */
export function roundUnit<T>(unit: ExactUnit | undefined, v: T): T {
  if (unit === undefined || typeof v !== 'number') return v;
  return (unit === 'money' ? round6(v) : Math.round(v * 1e8) / 1e8) as T;
}
