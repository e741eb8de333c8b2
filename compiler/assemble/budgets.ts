/**
 * The `budgets` stage: the plan's estimates against its policy's budgets — W0502 when the
 * estimated cost or duration exceeds one, best case first, then with every loop at its max
 * iterations. The runtime enforces the budgets; this is the verdict the files alone allow.
 */
import { diagnostic } from '../../language/index.js';
import type { PlanFacts } from './plan-facts.js';

export function checkBudgets(f: PlanFacts): void {
  const { policy, cp, plan, file, cost, costMax, duration, durationMax, maxIterations } = f;
  if (!policy || !cp.policy) return;
  const { diags, money } = f.cx;
  const where = plan.policy?.range ?? plan.name.range;
  if (policy.budgets.cost !== null && cost > policy.budgets.cost + 1e-12)
    diags.push(diagnostic('W0502', `estimated cost ${money(cost)} of plan "${plan.name.name}" exceeds the budget ${money(policy.budgets.cost)} of policy ${policy.name}`, file, where));
  else if (maxIterations && policy.budgets.cost !== null && costMax > policy.budgets.cost + 1e-12)
    diags.push(diagnostic('W0502', `estimated cost ${money(costMax)} of plan "${plan.name.name}" when every loop runs its max iterations exceeds the budget ${money(policy.budgets.cost)} of policy ${policy.name}`, file, where));
  // Say so when it is the rate limits' waiting that takes the plan over: the steps alone fit.
  const limited = [...new Set(f.rates.filter((r) => r !== undefined).map((r) => r.key.split('.').pop()!))];
  const byRate = limited.length && duration > f.dag.duration ? ` (rate limit${limited.length > 1 ? 's' : ''} on ${limited.join(', ')} included)` : '';
  if (policy.budgets.duration_ms !== null && duration > policy.budgets.duration_ms)
    diags.push(diagnostic('W0502', `estimated duration ${fmtMs(duration)}${byRate} of plan "${plan.name.name}" exceeds the budget ${fmtMs(policy.budgets.duration_ms)} of policy ${policy.name}`, file, where));
  else if (maxIterations && policy.budgets.duration_ms !== null && durationMax > policy.budgets.duration_ms)
    diags.push(diagnostic('W0502', `estimated duration ${fmtMs(durationMax)} of plan "${plan.name.name}" when every loop runs its max iterations exceeds the budget ${fmtMs(policy.budgets.duration_ms)} of policy ${policy.name}`, file, where));
}

export function fmtMs(n: number): string {
  if (n >= 3_600_000) return `${Math.round((n / 3_600_000) * 100) / 100}h`;
  if (n >= 60_000) return `${Math.round((n / 60_000) * 100) / 100}m`;
  if (n >= 1000) return `${Math.round((n / 1000) * 100) / 100}s`;
  return `${Math.round(n)}ms`;
}
