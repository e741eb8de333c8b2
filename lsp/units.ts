/**
 * How estimates read in the editor: money with the program's currency, durations in the
 * largest unit that keeps them short (`340ms`, `1.5s`, `2m`).
 */
import type { MoneyLit, Module } from '../language/index.js';

/**
 * The program's currency, by the compiler's rule (compiler/program.ts): the first non-zero
 * amount on a capability or resource cost or a policy budget of a user module; `usd` if none.
 */
export function currencyOf(modules: readonly Module[]): string {
  for (const m of modules) {
    for (const d of m.declarations) {
      const moneys: MoneyLit[] = [];
      if ((d.kind === 'CapabilityDecl' || d.kind === 'ResourceDecl') && d.cost) moneys.push(d.cost);
      if (d.kind === 'PolicyDecl') for (const b of d.budgets) if (b.limit.kind === 'MoneyLit') moneys.push(b.limit);
      const lit = moneys.find((x) => x.amount !== 0);
      if (lit) return lit.currency;
    }
  }
  return 'usd';
}

export function formatMoney(amount: number, currency: string): string {
  return `${Number.isFinite(amount) ? +amount.toFixed(6) : '?'}${currency}`;
}

