/**
 * The cost ceilings a run spends under (LANGUAGE.md §7.2, §8.2): its policy's `budget cost` and
 * those of the runs above it, and what it has spent against them. Read by the budget checks of
 * steps (`./budget.ts`) and of a rollback's compensations (`./endings.ts`).
 */
import { type BudgetClaim, budgetLedger } from './limits.js';
import { warnedKey } from './fold.js';
import { moneyText, round6 } from '../../../compiler/index.js';
import type { CostCeiling, RunState } from './run-state.js';
import type { Inst } from './state.js';

/**
 * An amount as Orch writes money (moneyText, `0.50usd`) in the currency its budget was written in:
 * `ceiling`'s (a caller's budget a sub-plan spends under), else the plan's; bare for an IR without one.
 */
export function money(c: RunState, n: number, ceiling?: Pick<CostCeiling, 'currency'> | null): string {
  return moneyText(n, ceiling?.currency ?? c.plan.policy?.currency);
}

export function costCeilings(c: RunState): readonly CostCeiling[] {
  // Asked for every step that may start: the plan's policy and the parent's ceilings never change in a run.
  return (c.ceilings ??= ceilingsOf(c));
}

function ceilingsOf(c: RunState): readonly CostCeiling[] {
  const own: CostCeiling[] = [];
  const p = c.plan.policy;
  if (p && p.budgets.cost !== null) {
    const warn = p.budgets.cost_warn === true;
    own.push({
      limit: p.budgets.cost,
      label: `budget cost <= ${money(c, p.budgets.cost)} of policy ${p.name}`,
      warn,
      ...(p.currency ? { currency: p.currency } : {}),
      ...(warn ? {} : { shared: { key: budgetLedger(p.name), owner: c.runId } }),
    });
  }
  return [...own, ...(c.opts.costCeilings ?? [])];
}

/** What this run has spent: its own steps, and what its running sub-plans (other than `except`) spent so far. */
export function spent(c: RunState, except: string | null = null): number {
  let total = c.totalCost;
  const of = c.cfg.subplanCost;
  if (of) for (const i of c.inProgress) if (i.activity.kind === 'subplan' && i.key !== except) total += of(i.key);
  return total;
}

/** The blocking budgets the sub-plan of instance `key` runs under, with what is spent outside it. */
export function childCeilings(c: RunState, key: string): readonly CostCeiling[] {
  return costCeilings(c)
    .filter((b) => !b.warn)
    .map((b) => ({ limit: b.limit, label: b.label, warn: false, outside: () => (b.outside?.() ?? 0) + spent(c, key), ...(b.shared ? { shared: b.shared } : {}), ...(b.currency ? { currency: b.currency } : {}) }));
}

/**
 * An attempt's reservations in the journal's shared ledgers (§8.2 under §7.2), of `amount()`: one
 * per blocking budget it spends under. Undefined when the limits keep no shared ledger.
 */
export function ledgerClaims(c: RunState, amount: () => number): readonly BudgetClaim[] | undefined {
  if (c.limits.sharesBudgets !== true) return undefined;
  const shared = costCeilings(c).filter((b) => b.shared !== undefined);
  if (shared.length === 0) return undefined;
  const n = amount();
  return shared.map((b) => ({ key: b.shared!.key, owner: b.shared!.owner, limit: b.limit, amount: n }));
}

/**
 * The first blocking cost budget (the run's, or a parent's it runs under) that `estimate` more on
 * `inst` would take past its limit, `budget_exceeded` journaled on `inst`; a `warn` budget on the
 * way journals once and is passed. Null when it may start.
 */
export function blockingCeiling(c: RunState, inst: Inst, estimate: number): { readonly label: string; readonly total: number; readonly currency?: string } | null {
  const here = spent(c);
  for (const b of costCeilings(c)) {
    const total = here + (b.outside?.() ?? 0);
    const over = total + estimate > b.limit + 1e-9 || total > b.limit + 1e-9;
    if (!over) continue;
    const data = { budget: 'cost' as const, label: b.label, limit: b.limit, cost: round6(total), estimate: round6(estimate), warn: b.warn };
    if (b.warn) {
      const key = warnedKey('cost', b.label);
      if (!c.warned.has(key)) {
        c.warned.add(key);
        c.emit('budget_exceeded', inst.key, data);
      }
      continue;
    }
    c.emit('budget_exceeded', inst.key, data);
    return { label: b.label, total, ...(b.currency ? { currency: b.currency } : {}) };
  }
  return null;
}
