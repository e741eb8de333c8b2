/**
 * The budget ledger's worst case as the files tell it (LANGUAGE.md §8.2, §9.1): every step
 * reserves its reservation per attempt before it starts, so what a run may commit is the sum of
 * every step's reservation — each `repeat` at its `max` iterations, each `for each` over a list
 * the file gives at its length, and over any other list per item (said so). The budget verdicts of
 * `check`, `preview` and `diff` use this figure, not the best-case estimate: a preview that says
 * "ok" for a plan the ledger refuses at its first model step was the bug (issue 47, item 9).
 */
import { round6 } from './money.js';

export interface LedgerStep {
  readonly id: string;
  /** What one attempt reserves. */
  readonly reservation: number;
  /** How many times it may run: the product of its `repeat` blocks' `max` and its known `for each` lengths. */
  readonly times: number;
  /** Inside a `for each` whose length the file does not tell: counted once, per item. */
  readonly perItem: boolean;
  /** A `run` step: its sub-plan's worst case, which reserves in this run's ledger (§8.2: "its sub-plans"). */
  readonly sub?: LedgerWorstCase;
  /** Its `fallback` (and `compensate`) calls: each reserves on its own whenever it runs (`fallback big`). */
  readonly calls?: readonly LedgerCall[];
}

export interface LedgerCall {
  readonly what: string;
  readonly reservation: number;
}

/** One attempt's reservation: a step's (`r/b` inside sub-plan run by `r`), or one of its calls'. */
export interface LedgerOver {
  readonly step: string;
  readonly reservation: number;
  /** A call of the step rather than the step itself (`fallback big`). */
  readonly call?: string;
}

export interface LedgerWorstCase {
  readonly cost: number;
  /** Some step is in a `for each` of unknown length: `cost` is per item of it. */
  readonly per_item: boolean;
  /** Steps whose one reservation alone exceeds the limit: the ledger refuses them whatever else runs. */
  readonly over: readonly LedgerOver[];
  /** The largest single reservation (a caller's ledger judges a sub-plan's by it); null: nothing reserves. */
  readonly largest: LedgerOver | null;
}

export function ledgerWorstCase(steps: readonly LedgerStep[], limit: number | null): LedgerWorstCase {
  const sum = new LedgerSum(limit);
  for (const s of steps) sum.add(s.id, s.reservation, s.times, s.perItem, s.sub, s.calls);
  return sum.result();
}

/**
 * The worst case summed a step at a time, in the plan's order: the check's `budgets` stage adds
 * each step as it works it out, where a list of `LedgerStep`s would be 100,000 objects for a
 * 100,000-step plan, kept until the sum is done.
 */
export class LedgerSum {
  private cost = 0;
  private perItem = false;
  private readonly over: LedgerOver[] = [];
  private largest: LedgerOver | null = null;

  constructor(private readonly limit: number | null) {}

  add(id: string, reservation: number, times: number, perItem: boolean, sub?: LedgerWorstCase, calls?: readonly LedgerCall[]): void {
    this.cost += (reservation + (sub?.cost ?? 0)) * times;
    this.perItem ||= perItem || sub?.per_item === true;
    this.one({ step: id, reservation });
    if (sub?.largest) this.one({ ...sub.largest, step: `${id}/${sub.largest.step}` });
    for (const c of calls ?? []) this.one({ step: id, reservation: c.reservation, call: c.what });
  }

  private one(o: LedgerOver): void {
    if (o.reservation <= 0) return;
    if (this.limit !== null && o.reservation > this.limit + 1e-12) this.over.push(o);
    if (!this.largest || o.reservation > this.largest.reservation) this.largest = o;
  }

  result(): LedgerWorstCase {
    return { cost: round6(this.cost), per_item: this.perItem, over: this.over, largest: this.largest };
  }
}
