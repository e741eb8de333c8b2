/**
 * The spend `/metrics` reports (LANGUAGE.md §8.2): every attempt of every finished run in the
 * journal, read with `attemptSpend` as `orch runs --stats` reads it. Finished runs no longer
 * change, so each is read once; a scrape reads only the runs that finished since the last one.
 */
import { round6 } from '../compiler/index.js';
import { attemptSpend, type AttemptSpend } from '../runtime/index.js';
import { TERMINAL_STATUSES, type RunStarter } from './run-starter.js';

export interface SpendTotal {
  readonly labels: { readonly plan: string; readonly capability: string; readonly model: string };
  cost: number;
  input_tokens: number;
  output_tokens: number;
}

/** A reader of the totals by plan, capability and model; scrapes at once share one read. */
export function spendOfFinishedRuns(starter: RunStarter): () => Promise<readonly SpendTotal[]> {
  const counted = new Set<string>();
  const totals = new Map<string, SpendTotal>();
  let reading: Promise<readonly SpendTotal[]> | null = null;

  const add = async (runId: string, plan: string): Promise<void> => {
    const attempts = await attemptsOf(starter, runId, plan, 0);
    // Unreadable now (a journal busy elsewhere): counted at a later scrape.
    if (attempts === null) return;
    counted.add(runId);
    for (const { a, plan } of attempts) {
      const labels = { plan, capability: a.capability ?? '', model: a.model ?? '' };
      const key = JSON.stringify([labels.plan, labels.capability, labels.model]);
      const t = totals.get(key) ?? { labels, cost: 0, input_tokens: 0, output_tokens: 0 };
      totals.set(key, t);
      t.cost += a.cost;
      t.input_tokens += a.input_tokens;
      t.output_tokens += a.output_tokens;
    }
  };

  const read = async (): Promise<readonly SpendTotal[]> => {
    for (const r of await starter.list()) if (TERMINAL_STATUSES.has(r.status) && !counted.has(r.runId)) await add(r.runId, r.planId);
    // The sums stay exact; what is shown is money to 6 decimals, as `orch runs --stats` and
    // `orch run --json` show it — a reservation settled by its delta (0.002 − 0.001955) is no
    // 0.0000449999999999999.
    return [...totals.values()].map((t) => ({ ...t, cost: round6(t.cost) }));
  };

  return () => {
    reading ??= read().finally(() => {
      reading = null;
    });
    return reading;
  };
}

const MAX_DEPTH = 16;

/**
 * A run's attempts with the plan each belongs to. A sub-plan's spend is its own run's attempts
 * (`RUN/STEP`), by the capability and model that spent it; the parent's `run` step, which only
 * settles that sum, is counted as such only when the sub-plan's journal cannot be read.
 */
async function attemptsOf(starter: RunStarter, runId: string, plan: string, depth: number): Promise<{ a: AttemptSpend; plan: string }[] | null> {
  const entries = await starter.timeline(runId).catch(() => null);
  if (entries === null) return null;
  const created = entries.find((e) => e.type === 'plan_created');
  const own = depth > 0 && typeof created?.plan === 'string' ? created.plan : plan;
  const out: { a: AttemptSpend; plan: string }[] = [];
  for (const a of attemptSpend(entries.map((e) => ({ type: e.type, stepId: typeof e.stepId === 'string' ? e.stepId : null, data: e })))) {
    const child = a.capability === null && a.cost !== 0 && depth < MAX_DEPTH ? await attemptsOf(starter, `${runId}/${a.step}`, own, depth + 1) : null;
    if (child && child.length > 0) out.push(...child);
    else out.push({ a, plan: own });
  }
  return out;
}
