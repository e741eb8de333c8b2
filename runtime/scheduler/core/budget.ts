/**
 * Budgets at run time (LANGUAGE.md §7.2). A step whose estimated cost would take the run's
 * actual cost (sub-plans included) past a `budget cost` does not start and the run fails naming
 * the budget; `budget duration` is a deadline (status `timeout`). A `warn` budget journals
 * `budget_exceeded` once and lets the run go on. A sub-plan runs under its parent's blocking
 * budgets, counting what the parent and its other sub-plans spend meanwhile, and the parent
 * counts what its running sub-plans spent so far: concurrent spending on either side is seen.
 *
 * v0.3 (§8.2) makes it a ledger of actual spend: an attempt is charged its reservation when it
 * starts (its worst case: the capability's estimate, or for a model call with `max_tokens` and a
 * price, the prompt's token bound × input price + max_tokens × output price when that is more)
 * and settled to what it reported when it ends (`cost_delta` on its end event). `c.totalCost` is
 * therefore actual spend plus the reservations of attempts in flight, and an attempt starts only
 * when that plus its own reservation stays within the limit. An attempt that reports more than it
 * reserved is journaled as `budget_overrun`; once spend passes the limit nothing more starts.
 *
 * Under §7.2 a blocking policy budget is also one ledger shared by every run open on the journal
 * (`shared` below): each attempt's slot request carries its reservation against it, the limits
 * provider answers from the shared store, and a ledger that cannot fit it even after every attempt
 * in flight settles is answered `over_budget` — the same `budget exceeded` as the run's own check.
 */
import { abortRun } from './endings.js';
import { warnedKey } from './fold.js';
import { evalArgs } from './env.js';
import type { BudgetClaim } from './limits.js';
import { attemptAction, capabilityOf, resourceOf } from './resolve.js';
import { round6 } from './result.js';
import type { RunState } from './run-state.js';
import { blockingCeiling, costCeilings, ledgerClaims, money, spent } from './ceilings.js';
import type { Inst } from './state.js';
import { modelWorstCase as worstCaseAt, type PolicyIR } from '../../../compiler/index.js';

export const DURATION_TIMER = 'budget:duration';

/** May `inst` start within the cost budgets? If not, the run has been failed. */
export function withinBudget(c: RunState, inst: Inst): boolean {
  if (costCeilings(c).length === 0) return true;
  const estimate = reservationOf(c, inst).total;
  const over = blockingCeiling(c, inst, estimate);
  if (over === null) return true;
  abortRun(c, 'failed', `budget exceeded: ${over.label} (spent ${money(c, over.total, over)}, step ${inst.key} would add ${money(c, estimate, over)})`);
  return false;
}

/**
 * The reservations `inst`'s next attempt asks of the shared ledgers. None for a sub-plan: its own
 * steps reserve against the same ledgers (its ceilings carry them), so its cost is never counted twice.
 */
export function budgetClaims(c: RunState, inst: Inst): readonly BudgetClaim[] | undefined {
  if (c.limits.sharesBudgets !== true || attemptAction(inst) === 'run') return undefined;
  return ledgerClaims(c, () => reservationOf(c, inst).total);
}

/** A shared ledger refused `inst`'s reservation (`over_budget`): the run fails as under its own budget. */
export function sharedBudgetExceeded(c: RunState, inst: Inst, key: string, spentAcross: number): void {
  const b = costCeilings(c).find((x) => x.shared?.key === key);
  const label = b?.label ?? key;
  const limit = b?.limit ?? 0;
  const estimate = reservationOf(c, inst).total;
  const own = spent(c);
  const total = Math.max(spentAcross, own);
  // Named only when others' spend is what stands in the way: alone, the message is the run's own.
  const sharers = spentAcross > own ? ' by the runs sharing it' : '';
  c.emit('budget_exceeded', inst.key, { budget: 'cost', label, limit, cost: round6(total), estimate: round6(estimate), warn: false });
  abortRun(c, 'failed', `budget exceeded: ${label} (spent ${money(c, total, b)}${sharers}, step ${inst.key} would add ${money(c, estimate, b)})`);
}

/**
 * A sub-plan failed on a blocking cost budget this run spends under (its own, handed down by
 * `childCeilings`, or one of a caller's): this run stops on it too, as if one of its own steps had
 * been refused (§7.2: the run's cost counts its sub-plans) — `budget_exceeded` on the sub-plan's
 * step in this journal and the same `budget exceeded: …` error — rather than failing the step,
 * which its retries, fallback or `on_failure continue` would go on past. The child's error names
 * the budget by its label, which the child got from this run. False for any other failure.
 */
export function subplanOverBudget(c: RunState, inst: Inst, error: string | null): boolean {
  const b = error === null ? undefined : costCeilings(c).find((x) => !x.warn && error.startsWith(`budget exceeded: ${x.label} (`));
  if (!b) return false;
  const cost = spent(c, inst.key) + inst.costDelta + (b.outside?.() ?? 0);
  c.emit('budget_exceeded', inst.key, { budget: 'cost', label: b.label, limit: b.limit, cost: round6(cost), warn: false });
  abortRun(c, 'failed', error!);
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
export function armDurationBudget(c: RunState): void {
  const ms = c.plan.policy?.budgets.duration_ms ?? null;
  if (ms === null || c.warned.has(warnedKey('duration', durationLabel(c.plan.policy!)))) return;
  c.armed.add(DURATION_TIMER);
  c.armTimer(DURATION_TIMER, Math.max(0, c.startedAt + ms - c.now));
}

function durationLabel(p: PolicyIR): string {
  return `budget duration <= ${formatMs(p.budgets.duration_ms ?? 0)} of policy ${p.name}`;
}

export function durationBudgetFired(c: RunState): void {
  c.armed.delete(DURATION_TIMER);
  const p = c.plan.policy!;
  const label = durationLabel(p);
  const warn = p.budgets.duration_warn === true;
  c.emit('budget_exceeded', null, { budget: 'duration', label, limit: p.budgets.duration_ms, elapsed: c.now - c.startedAt, warn });
  if (!warn) abortRun(c, 'timeout', `budget exceeded: ${label}`);
}

/** One attempt's reservation: its capability part (settled to actual later) and with the resource's cost. */
export interface Reservation {
  readonly capability: number;
  readonly total: number;
}

/** What `inst`'s next attempt reserves (§8.2). */
export function reservationOf(c: RunState, inst: Inst): Reservation {
  const isCall = attemptAction(inst) === 'call';
  const cap = isCall ? capabilityOf(c, inst) : undefined;
  const res = resourceOf(c, inst);
  const estimate = cap?.cost ?? 0;
  const capPart = cap?.llm && cap.handler === null ? Math.max(estimate, modelWorstCase(c, inst, cap, res) ?? 0) : estimate;
  return { capability: capPart, total: capPart + (res?.cost ?? 0) };
}

/** prompt bound × input price + max_tokens × output price; undefined without max_tokens or a price. */
function modelWorstCase(c: RunState, inst: Inst, cap: NonNullable<ReturnType<typeof capabilityOf>>, res: ReturnType<typeof resourceOf>): number | undefined {
  const llm = cap.llm!;
  const calls = c.cfg.modelCalls;
  if (!calls) return undefined;
  const model = calls.model(cap, res ?? null);
  const price = model !== null ? c.cfg.modelPrices?.[model] : undefined;
  if (llm.max_tokens === null || !price) return undefined;
  const step = inst.logical.step;
  const call = inst.rec.phase === 'fallback' && step.fallback ? step.fallback : { args: step.args };
  let promptTokens: number;
  try {
    promptTokens = calls.promptTokens({ ...cap, llm }, evalArgs(c, inst, call.args), inst.rec.lastError);
  } catch {
    // The arguments cannot be evaluated: the attempt fails before any call, so it spends nothing.
    return undefined;
  }
  return worstCaseAt(promptTokens, llm.max_tokens, price);
}

/** An attempt reported more than it reserved: journaled (§8.2) when the run has a cost budget. */
export function recordOverrun(c: RunState, inst: Inst, actual: number): void {
  const reserved = inst.attemptCapCost;
  if (actual <= reserved + 1e-12) return;
  if (costCeilings(c).length === 0) return;
  c.emit('budget_overrun', inst.key, { attempt: inst.rec.attempts, reserved: round6(reserved), actual: round6(actual), over: round6(actual - reserved) });
}
