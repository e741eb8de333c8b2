/**
 * Budgets at run time (LANGUAGE.md §7.2). A step whose estimated cost would take the run's
 * actual cost (sub-plans included) past a `budget cost` does not start and the run fails naming
 * the budget; `budget duration` is a deadline (status `timeout`). A `warn` budget journals
 * `budget_exceeded` once and lets the run go on. A sub-plan runs under its parent's blocking
 * budgets, counting what the parent and its other sub-plans spend meanwhile, and the parent
 * counts what its running sub-plans spent so far: concurrent spending on either side is seen.
 */
import type { SchedulerCore } from './core.js';
import { abortRun } from './finish.js';
import { attemptCostOf } from './resolve.js';
import { round6 } from './result.js';
import type { Inst } from './state.js';

/** A cost limit: this plan's `budget cost`, or what a parent's budget had left for this sub-plan. */
export interface CostCeiling {
  readonly limit: number;
  /** How the budget is named in events and errors: `budget cost <= 0.5 of policy lean`. */
  readonly label: string;
  readonly warn: boolean;
  /**
   * A parent's budget: what is spent against it outside this run — by the parent and its other
   * running sub-plans — read each time a step of this run may start, so that parallel spending
   * on either side is counted.
   */
  readonly outside?: () => number;
}

export const DURATION_TIMER = 'budget:duration';

/** An amount with the plan's currency, as the budget was written (`0.5usd`); bare for an IR without one. */
function money(c: SchedulerCore, n: number): string {
  return `${round6(n)}${c.plan.policy?.currency ?? ''}`;
}

export function costCeilings(c: SchedulerCore): readonly CostCeiling[] {
  const own: CostCeiling[] = [];
  const p = c.plan.policy;
  if (p && p.budgets.cost !== null)
    own.push({ limit: p.budgets.cost, label: `budget cost <= ${money(c, p.budgets.cost)} of policy ${p.name}`, warn: p.budgets.cost_warn === true });
  return [...own, ...(c.opts.costCeilings ?? [])];
}

/** What this run has spent: its own steps, and what its running sub-plans (other than `except`) spent so far. */
export function spent(c: SchedulerCore, except: string | null = null): number {
  let total = c.totalCost;
  const of = c.cfg.subplanCost;
  if (of) for (const i of c.inProgress) if (i.activity.kind === 'subplan' && i.key !== except) total += of(i.key);
  return total;
}

/** The blocking budgets the sub-plan of instance `key` runs under, with what is spent outside it. */
export function childCeilings(c: SchedulerCore, key: string): readonly CostCeiling[] {
  return costCeilings(c)
    .filter((b) => !b.warn)
    .map((b) => ({ limit: b.limit, label: b.label, warn: false, outside: () => (b.outside?.() ?? 0) + spent(c, key) }));
}

/** May `inst` start within the cost budgets? If not, the run has been failed. */
export function withinBudget(c: SchedulerCore, inst: Inst): boolean {
  const ceilings = costCeilings(c);
  if (ceilings.length === 0) return true;
  const estimate = attemptCostOf(c, inst);
  const here = spent(c);
  for (const b of ceilings) {
    const total = here + (b.outside?.() ?? 0);
    const over = total + estimate > b.limit + 1e-9 || total > b.limit + 1e-9;
    if (!over) continue;
    const data = { budget: 'cost' as const, label: b.label, limit: b.limit, cost: round6(total), estimate: round6(estimate), warn: b.warn };
    if (b.warn) {
      const key = `budget:${b.label}`;
      if (!c.warned.has(key)) {
        c.warned.add(key);
        c.emit('budget_exceeded', inst.key, data);
      }
      continue;
    }
    c.emit('budget_exceeded', inst.key, data);
    abortRun(c, 'failed', `budget exceeded: ${b.label} (spent ${money(c, total)}, step ${inst.key} would add ${money(c, estimate)})`);
    return false;
  }
  return true;
}

/** `3s`, `1m30s`, `250ms`: a duration as a budget is written. */
function formatMs(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`;
}

/** Arms the `budget duration` deadline at the run's start (a shorter plan deadline fires first anyway). */
export function armDurationBudget(c: SchedulerCore): void {
  const ms = c.plan.policy?.budgets.duration_ms ?? null;
  if (ms === null) return;
  c.armed.add(DURATION_TIMER);
  c.armTimer(DURATION_TIMER, Math.max(0, c.startedAt + ms - c.now));
}

export function durationBudgetFired(c: SchedulerCore): void {
  c.armed.delete(DURATION_TIMER);
  const p = c.plan.policy!;
  const label = `budget duration <= ${formatMs(p.budgets.duration_ms ?? 0)} of policy ${p.name}`;
  const warn = p.budgets.duration_warn === true;
  c.emit('budget_exceeded', null, { budget: 'duration', label, limit: p.budgets.duration_ms, elapsed: c.now - c.startedAt, warn });
  if (!warn) abortRun(c, 'timeout', `budget exceeded: ${label}`);
}
