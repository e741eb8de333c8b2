/**
 * The execution result (LANGUAGE.md §6) of a run this process does not hold in memory (finished
 * earlier, or owned by another process), read back from its journal by the runtime's
 * `resultFromJournal` — the builder `orch run --json` prints with, so both show the same steps,
 * statuses, outputs and metadata.
 */
import type { PlanIR } from '../compiler/index.js';
import type { RunEvent, RunRow } from '../runtime/index.js';
import { baseId, resultFromJournal, SecretView } from '../runtime/index.js';
import type { RunView } from './run-starter.js';

const ENDED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

/** `plan`: the IR the run executes (`planOfRun`); null when it cannot be found. */
export function journalView(row: RunRow, events: readonly RunEvent[], plan: PlanIR | null = row.ir ? (JSON.parse(row.ir) as PlanIR) : null): RunView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  if (!plan) return { planId: row.plan, runId: row.id, status: row.status, steps: [], output: null, error: row.error, startedAt: iso(row.started_at), completedAt: iso(row.completed_at) };
  // Shown, never the journal's own values: a secret-class value reads `***`.
  const result = new SecretView(plan, events).result(resultFromJournal(plan, row.id, events));
  // A run still going elsewhere (or left unfinished) keeps the status its row has, and no end yet.
  if (ENDED.has(result.status) && ENDED.has(row.status)) return result;
  return { ...result, status: row.status, completedAt: null };
}

/**
 * The IR a run executes: its own row's, or — a sub-plan run (`PARENT/KEY`) keeps none — the
 * sub-plan its parent's step `KEY` runs, found through the parent's IR.
 */
export async function planOfRun(row: RunRow, getRun: (id: string) => Promise<RunRow | undefined>): Promise<PlanIR | null> {
  if (row.ir) return JSON.parse(row.ir) as PlanIR;
  const parent = row.parent_id ? await getRun(row.parent_id) : undefined;
  if (!parent || !row.id.startsWith(`${parent.id}/`)) return null;
  const outer = await planOfRun(parent, getRun);
  const action = outer?.steps.find((s) => s.id === baseId(row.id.slice(parent.id.length + 1)))?.action;
  return action?.type === 'run' ? (outer!.subplans[action.plan] ?? null) : null;
}

/** The sub-plan a sub-plan run runs, by its path under the root run (`sub`, `each[1]/inner`); null when none. */
export function subplanAt(plan: PlanIR | null, path: string): PlanIR | null {
  let at = plan;
  for (const key of path.split('/')) {
    const action = at?.steps.find((s) => s.id === baseId(key))?.action;
    at = action?.type === 'run' ? (at!.subplans[action.plan] ?? null) : null;
  }
  return at;
}
