/**
 * How long finished runs stay in a journal: `orch runs prune --older-than 30d` and the config's
 * `retention`. Ages are written like the language's durations (`90m`, `12h`, `30d`).
 */
import type { ContextJournal } from './context-journal.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"30d"` → milliseconds; null when the text is not a positive age. */
export function parseAge(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 && Number.isFinite(ms) ? ms : null;
}

/** What a prune removed. */
export interface PruneResult {
  readonly runs: number;
  readonly events: number;
}

/** What `Backend.prune` removed: the runs, and the context's own events (§9.4) by the same age. */
export interface BackendPruneResult extends PruneResult {
  readonly contextEvents: number;
}

/** Prunes a backend's runs, then its context journal (opened for it and closed after), by one cutoff. */
export async function pruneBoth(before: number, runs: (before: number) => Promise<PruneResult>, context: () => Promise<ContextJournal>): Promise<BackendPruneResult> {
  const removed = await runs(before);
  const journal = await context();
  try {
    return { ...removed, contextEvents: await journal.prune(before) };
  } finally {
    await journal.close();
  }
}

/** A journal applies its retention at most this often (a long-lived `orch serve` included). */
export const RETENTION_INTERVAL_MS = 3_600_000;
