/** `orch runs --stats`: totals over the listed runs — by status, success rate, cost, locality, privacy and spend. */
import type { PlanIR } from '../../compiler/index.js';
import { countsForLocality, localRatio, moneyText, privacyScore, round6, type PlacedStep } from '../../compiler/index.js';
import { attemptSpend, JournalCorrupt, placedSteps, spendBy, type AsyncJournal, type AttemptSpend, type RunEvent, type SpendTotals } from '../../runtime/index.js';

export interface RunStats {
  readonly runs: number;
  readonly byStatus: Record<string, number>;
  /** Completed among finished runs (null: none finished). */
  readonly successRate: number | null;
  readonly cost: number;
  readonly finishedSteps: number;
  /** Over the finished steps of these runs, by the functions `orch preview` uses (null: no such step). */
  readonly localRatio: number | null;
  /** 1 when no step touching personal data ran — as in `orch preview` and `/metrics`. */
  readonly privacyScore: number;
  /** v0.3 (§8.2): actual spend and tokens of every attempt, by plan, capability and model ("" = none reported). */
  readonly spend: {
    readonly byPlan: Record<string, SpendTotals>;
    readonly byCapability: Record<string, SpendTotals>;
    readonly byModel: Record<string, SpendTotals>;
  };
}

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

/** A run whose journal cannot be read (`JournalCorrupt`) throws, or with `damaged` is given to it and left out of the totals. */
export async function runStats(j: AsyncJournal, all: readonly { id: string; plan: string; status: string; cost: number }[], damaged?: (err: JournalCorrupt) => void): Promise<RunStats> {
  const byStatus: Record<string, number> = {};
  const steps: PlacedStep[] = [];
  const attempts: AttemptSpend[] = [];
  const planOf = new Map<AttemptSpend, string>();
  let cost = 0;
  const rows: typeof all[number][] = [];
  // A sub-plan's spend is its own run's attempts (§8.2: by the capability and model that spent
  // it); its parent's `run` step only settles that sum. Each attempt counts once: a listed run
  // (`--all`) whose ancestor is listed too is already in that ancestor's cost.
  const listedIds = new Set(all.map((r) => r.id));
  const every = await j.listRuns(true, damaged);
  const childrenOf = (id: string) => every.filter((c) => c.parent_id === id);
  const subAttempts = async (id: string, out: { a: AttemptSpend; plan: string }[]): Promise<void> => {
    for (const c of childrenOf(id)) {
      if (listedIds.has(c.id)) continue;
      let events: RunEvent[];
      try {
        events = await j.load(c.id);
      } catch (err) {
        if (!damaged || !(err instanceof JournalCorrupt)) throw err;
        damaged(err);
        continue;
      }
      for (const a of attemptSpend(events)) if (!settlesChild(c.id, a)) out.push({ a, plan: c.plan });
      await subAttempts(c.id, out);
    }
  };
  const settlesChild = (runId: string, a: AttemptSpend) => a.capability === null && every.some((c) => c.parent_id === runId && subPlanOf(runId, a.step, c.id));
  for (const r of all) {
    let ir: string | null | undefined;
    let events: RunEvent[];
    try {
      ir = (await j.getRun(r.id))?.ir;
      events = await j.load(r.id);
    } catch (err) {
      if (!damaged || !(err instanceof JournalCorrupt)) throw err;
      damaged(err);
      continue;
    }
    rows.push(r);
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const parent = every.find((x) => x.id === r.id)?.parent_id ?? null;
    if (!hasListedAncestor(parent, listedIds, every)) cost += r.cost;
    const own = attemptSpend(events)
      .filter((a) => !settlesChild(r.id, a))
      .map((a) => ({ a, plan: r.plan }));
    await subAttempts(r.id, own);
    for (const { a, plan } of own) {
      attempts.push(a);
      planOf.set(a, plan);
    }
    // Sub-plan runs keep no IR of their own; their parent's steps stand for them.
    if (ir) steps.push(...placedSteps(JSON.parse(ir) as PlanIR, events));
  }
  const finished = rows.filter((r) => FINISHED.has(r.status)).length;
  return {
    runs: rows.length,
    byStatus,
    successRate: finished ? (byStatus.completed ?? 0) / finished : null,
    cost: round6(cost),
    finishedSteps: steps.length,
    localRatio: steps.some(countsForLocality) ? localRatio(steps) : null,
    privacyScore: privacyScore(steps),
    spend: {
      byPlan: spendBy(attempts, (a) => planOf.get(a) ?? null),
      byCapability: spendBy(attempts, (a) => a.capability),
      byModel: spendBy(attempts, (a) => a.model),
    },
  };
}

/** Whether `childId` is the run of step `stepId` of run `runId` (`R/step`, `R/step[2]`, `R/step#2` …). */
function subPlanOf(runId: string, stepId: string, childId: string): boolean {
  const base = `${runId}/${stepId}`;
  return childId === base || (childId.startsWith(base) && !/[A-Za-z0-9_]/.test(childId[base.length]!));
}

function hasListedAncestor(parent: string | null, listed: ReadonlySet<string>, every: readonly { id: string; parent_id: string | null }[]): boolean {
  for (let at = parent; at !== null; at = every.find((x) => x.id === at)?.parent_id ?? null) if (listed.has(at)) return true;
  return false;
}

/** `currency`: the runs' one currency (bare amounts without one: none, or several). */
export function statsText(s: RunStats, currency?: string): string {
  const money = (n: number) => moneyText(n, currency);
  const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
  const statuses = Object.entries(s.byStatus).map(([k, n]) => `${n} ${k}`).join(', ');
  return (
    `${s.runs} runs (${statuses}); success ${pct(s.successRate)}; cost ${money(s.cost)}\n` +
    `${s.finishedSteps} finished steps; local ratio ${pct(s.localRatio)}; privacy score ${pct(s.privacyScore)}\n` +
    spendLines('plan', s.spend.byPlan, money) +
    spendLines('capability', s.spend.byCapability, money) +
    spendLines('model', s.spend.byModel, money) +
    '\n'
  );
}

/** `spent by model: gpt-4o-mini 0.0123 (1200 in, 300 out tokens), …` — actual spend (§8.2). */
function spendLines(what: string, by: Record<string, SpendTotals>, money: (n: number) => string): string {
  const entries = Object.entries(by).filter(([k]) => what !== 'model' || k !== '');
  if (entries.length === 0) return '';
  const one = ([k, t]: [string, SpendTotals]) =>
    `${k || '(none)'} ${money(t.cost)}${t.input_tokens || t.output_tokens ? ` (${t.input_tokens} in, ${t.output_tokens} out tokens)` : ''}`;
  return `spent by ${what}: ${entries.map(one).join(', ')}\n`;
}
