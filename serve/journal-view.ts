/**
 * The execution result (LANGUAGE.md §6) of a run this process does not hold in memory (finished
 * earlier, or owned by another process), rebuilt from its journal with the scheduler's replay.
 * Items of a `for each` step (`send[0]`, `send[1]` …) fold into one step whose output is the list.
 */
import type { PlanIR } from '../compiler/index.js';
import type { RunRow } from '../runtime/index.js';
import { replay, type RestoredStep } from '../runtime/index.js';
import type { RunEvent } from '../runtime/index.js';
import type { RunView } from './run-starter.js';

const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());
const FAILED = new Set(['failed', 'timeout', 'cancelled']);

export function journalView(row: RunRow, events: readonly RunEvent[]): RunView {
  const restored = replay(events);
  const plan = row.ir ? (JSON.parse(row.ir) as PlanIR) : null;
  const groups = new Map<string, { key: string; s: RestoredStep }[]>();
  for (const [key, s] of restored.steps) {
    const base = key.replace(/\[\d+\]$/, '');
    const list = groups.get(base) ?? [];
    list.push({ key, s });
    groups.set(base, list);
  }
  const order = plan ? plan.steps.map((s) => s.id) : [...groups.keys()];
  const steps = order.map((id) => {
    const insts = groups.get(id) ?? [];
    const single = insts.length === 1 && insts[0]!.key === id ? insts[0]!.s : null;
    if (single || insts.length === 0) {
      const s = single;
      return {
        stepId: id,
        status: s?.status ?? 'pending',
        output: s?.output ?? null,
        error: s?.error ?? null,
        attempts: s?.attempts ?? 0,
        resource: s?.resource ?? null,
        duration: s && s.startedAt !== null && s.completedAt !== null ? s.completedAt - s.startedAt : 0,
        startedAt: iso(s?.startedAt),
        completedAt: iso(s?.completedAt),
        ...spendOf(s ? [s] : []),
      };
    }
    const sorted = insts
      .map((i) => ({ index: Number(/\[(\d+)\]$/.exec(i.key)?.[1] ?? 0), s: i.s }))
      .sort((a, b) => a.index - b.index)
      .map((i) => i.s);
    const status = sorted.find((s) => FAILED.has(s.status))?.status ?? (sorted.every((s) => s.status === 'completed') ? 'completed' : sorted[0]!.status);
    const starts = sorted.map((s) => s.startedAt).filter((t): t is number => t !== null);
    const ends = sorted.map((s) => s.completedAt).filter((t): t is number => t !== null);
    return {
      stepId: id,
      status,
      output: sorted.map((s) => s.output),
      error: sorted.find((s) => s.error !== null)?.error ?? null,
      attempts: sorted.reduce((n, s) => n + s.attempts, 0),
      resource: sorted.find((s) => s.resource !== null)?.resource ?? null,
      duration: starts.length && ends.length ? Math.max(...ends) - Math.min(...starts) : 0,
      startedAt: iso(starts.length ? Math.min(...starts) : null),
      completedAt: iso(ends.length ? Math.max(...ends) : null),
      ...spendOf(sorted),
    };
  });
  const last = [...events].reverse().find((e) => e.type.startsWith('execution_') && e.type !== 'execution_started');
  const output = last?.type === 'execution_completed' ? (last.data.output ?? null) : null;
  const count = (st: string) => steps.filter((s) => s.status === st).length;
  return {
    planId: row.plan,
    runId: row.id,
    status: row.status,
    steps,
    output,
    error: row.error,
    metadata: {
      totalDuration: (row.completed_at ?? Date.now()) - row.started_at,
      totalCost: row.cost,
      totalSteps: steps.length,
      completedSteps: count('completed'),
      failedSteps: steps.filter((s) => FAILED.has(s.status)).length,
      skippedSteps: count('skipped'),
    },
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
  };
}

/** v0.3 (§8.1): a step's actual cost over its instances and attempts, and the tokens they reported. */
function spendOf(records: readonly RestoredStep[]): { cost: number; usage?: { input_tokens: number; output_tokens: number; model: string | null; endpoint: string | null } } {
  const cost = Math.round(records.reduce((a, s) => a + s.cost, 0) * 1e6) / 1e6;
  const used = records.map((s) => s.usage).filter((u): u is NonNullable<typeof u> => u !== null && u !== undefined);
  if (used.length === 0) return { cost };
  return {
    cost,
    usage: {
      input_tokens: used.reduce((a, u) => a + u.input_tokens, 0),
      output_tokens: used.reduce((a, u) => a + u.output_tokens, 0),
      model: used.at(-1)!.model,
      endpoint: used.at(-1)!.endpoint,
    },
  };
}
