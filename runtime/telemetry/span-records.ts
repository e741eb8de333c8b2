/**
 * The records the main thread hands the tracing thread (`span-sink.ts` → `span-thread.ts`): laid
 * end to end in one flat array, each a record kind and then its cells in the order below. A step
 * and an attempt, two of the three spans a step makes, carry their values and no attribute names:
 * the tracing thread builds their attributes (`stepAttributes`, `attemptAttributes`) from them
 * and from their parent's `shared` attributes (a run's id and plan, a step's name).
 */

export type AttrValue = string | number | boolean | readonly string[];
export type Attrs = { [key: string]: AttrValue };
/** A trace id and span id. */
export type LinkCells = readonly (readonly [string, string])[];
export type Cell = string | number | null | Attrs | LinkCells;

export const Rec = {
  /** id, parent id ('' for a root), trace id, flags (1 sampled, 2 remote parent), name, time, attrs, links | null, shared | null */
  start: 0,
  /** id, parent (run) span id, time, base step id, step key | null */
  step: 1,
  /** id, parent (step) span id, time, attempt, capability, resource | null, queued ms, fallback (0 | 1) */
  attempt: 2,
  /** id, name, time, attrs */
  event: 3,
  /** id, time, status code (0 unset, 1 ok, 2 error), message | null, attrs | null */
  end: 4,
  /** `end`'s cells, then kind | null, cost, attempt, status */
  endStep: 5,
  /** `end`'s cells, then cost */
  endAttempt: 6,
} as const;

/** Cells after the record kind, by kind. */
export const CELLS: readonly number[] = [9, 5, 8, 4, 5, 9, 6];

/** A step span's attributes at its start: its run's (shared) and its own. */
export function stepAttributes(run: Attrs | null, base: string, key: string | null): Attrs {
  const a: Attrs = { ...run, 'orch.step': base };
  if (key !== null) a['orch.step_key'] = key;
  return a;
}

/** What a step span's children take from it. */
export function stepShared(run: Attrs | null, base: string): Attrs {
  return { ...run, 'orch.step': base };
}

/** An attempt span's attributes at its start. */
export function attemptAttributes(step: Attrs | null, attempt: number, capability: string, resource: string | null, queuedMs: number, fallback: boolean): Attrs {
  const a: Attrs = { ...step, 'orch.attempt': attempt, 'orch.capability': capability };
  if (resource !== null) a['orch.resource'] = resource;
  if (queuedMs > 0) a['orch.queued_ms'] = queuedMs;
  if (fallback) a['orch.fallback'] = true;
  return a;
}
