/**
 * The execution result (LANGUAGE.md §6) of a run this process does not hold in memory (finished
 * earlier, or owned by another process), read back from its journal by the runtime's
 * `resultFromJournal` — the builder `orch run --json` prints with, so both show the same steps,
 * statuses, outputs and metadata.
 */
import type { PlanIR } from '../compiler/index.js';
import type { RunEvent, RunRow } from '../runtime/index.js';
import { resultFromJournal } from '../runtime/index.js';
import type { RunView } from './run-starter.js';

const ENDED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

export function journalView(row: RunRow, events: readonly RunEvent[]): RunView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  if (!row.ir) {
    // A row without its plan (never expected: every run registers its IR) still answers what the row says.
    return { planId: row.plan, runId: row.id, status: row.status, steps: [], output: null, error: row.error, startedAt: iso(row.started_at), completedAt: iso(row.completed_at) };
  }
  const result = resultFromJournal(JSON.parse(row.ir) as PlanIR, row.id, events);
  // A run still going elsewhere (or left unfinished) keeps the status its row has, and no end yet.
  if (ENDED.has(result.status) && ENDED.has(row.status)) return result;
  return { ...result, status: row.status, completedAt: null };
}
