/**
 * The currency the editor shows estimates in (written by the compiler's moneyText, as `orch
 * preview` writes them).
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

