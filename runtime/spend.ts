/**
 * What a run actually spent, attempt by attempt, read back from its journal (LANGUAGE.md §8.2):
 * each attempt is charged its reservation on `step_started` and settled by the `cost_delta` of
 * the event that ends it, which also carries the attempt's usage. `orch runs --stats`, `/metrics`
 * and the dashboard sum these.
 */
import { round6 } from '../compiler/index.js';

export interface AttemptSpend {
  readonly step: string;
  readonly capability: string | null;
  /** The model the attempt reported (usage), else null. */
  readonly model: string | null;
  readonly cost: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
}

interface EventLike {
  readonly type: string;
  readonly stepId: string | null;
  readonly data: { readonly [key: string]: unknown };
}

const ENDS = new Set(['step_completed', 'step_failed', 'step_retried', 'step_cancelled']);

/** Every attempt of the run's journal with what it cost (an attempt still running counts its reservation). */
export function attemptSpend(events: readonly EventLike[]): AttemptSpend[] {
  const open = new Map<string, { capability: string | null; cost: number }>();
  const out: AttemptSpend[] = [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  for (const e of events) {
    if (e.stepId === null) continue;
    if (e.type === 'step_started') {
      open.set(e.stepId, { capability: typeof e.data.capability === 'string' ? e.data.capability : null, cost: num(e.data.cost) });
      continue;
    }
    if (!ENDS.has(e.type)) continue;
    const started = open.get(e.stepId);
    if (!started) continue;
    open.delete(e.stepId);
    const u = (e.data.usage ?? {}) as { [k: string]: unknown };
    out.push({
      step: e.stepId,
      capability: started.capability,
      model: typeof u.model === 'string' ? u.model : null,
      cost: started.cost + num(e.data.cost_delta),
      input_tokens: num(u.input_tokens),
      output_tokens: num(u.output_tokens),
    });
  }
  for (const [step, s] of open) out.push({ step, capability: s.capability, model: null, cost: s.cost, input_tokens: 0, output_tokens: 0 });
  return out;
}

export interface SpendTotals {
  readonly cost: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** Sums attempts by a key (capability, model …); attempts with a null key are grouped under "". */
export function spendBy(attempts: readonly AttemptSpend[], key: (a: AttemptSpend) => string | null): Record<string, SpendTotals> {
  const out: Record<string, { cost: number; input_tokens: number; output_tokens: number }> = {};
  for (const a of attempts) {
    const k = key(a) ?? '';
    const t = (out[k] ??= { cost: 0, input_tokens: 0, output_tokens: 0 });
    t.cost += a.cost;
    t.input_tokens += a.input_tokens;
    t.output_tokens += a.output_tokens;
  }
  for (const t of Object.values(out)) t.cost = round6(t.cost);
  return out;
}
