/**
 * The records the main thread hands the tracing thread (`span-sink.ts` → `span-thread.ts`): laid
 * end to end in one flat array, each a record kind and then its cells in the order below. A step
 * and an attempt, two of the three spans a step makes, carry their values and no attribute names:
 * the tracing thread builds their attributes (`stepAttributes`, `attemptAttributes`) from them
 * and from their parent's (a run's id and plan, a step's id).
 */

export type AttrValue = string | number | boolean | readonly string[];
export type Attrs = { [key: string]: AttrValue };
/** A trace id and span id. */
export type LinkCells = readonly (readonly [string, string])[];
export type Cell = string | number | null | Attrs | LinkCells | readonly [string, string];

export const Rec = {
  /** id, parent id ('' for a root), trace id, flags (1 sampled, 2 remote parent), name, time, attrs, links | null, run | null (a run span: its `RunCells`) */
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

/** A run's id and plan: what the spans under it take as `orch.run_id` and `orch.plan`. */
export type RunCells = readonly [runId: string, plan: string];

// Attributes are built as object literals of one shape: spreading a record received from the
// other thread into a new object, key by key, cost more than the SDK's own work for the span.

/** A step span's attributes: its run's, its own, and what it ended with (`extra` wins). */
export function stepAttributes(run: RunCells, base: string, key: string | null, kind: string | null, cost: number, attempt: number, status: string, extra: Attrs | null): Attrs {
  const a: Attrs = { 'orch.run_id': run[0], 'orch.plan': run[1], 'orch.step': base, 'orch.cost': cost, 'orch.attempt': attempt, 'orch.status': status };
  if (key !== null) a['orch.step_key'] = key;
  if (kind !== null) a['orch.kind'] = kind;
  return extra ? Object.assign(a, extra) : a;
}

/** A step span's attributes when it ends without a step's end (`end`: left unfinished). */
export function openStepAttributes(run: RunCells, base: string, key: string | null, extra: Attrs | null): Attrs {
  const a: Attrs = { 'orch.run_id': run[0], 'orch.plan': run[1], 'orch.step': base };
  if (key !== null) a['orch.step_key'] = key;
  return extra ? Object.assign(a, extra) : a;
}

/** An attempt span's attributes: its run's, its step's, its own, its cost, then `extra` (a model call's usage wins). */
export function attemptAttributes(
  run: RunCells,
  base: string,
  attempt: number,
  capability: string,
  resource: string | null,
  queuedMs: number,
  fallback: boolean,
  cost: number | null,
  extra: Attrs | null,
): Attrs {
  const a: Attrs = { 'orch.run_id': run[0], 'orch.plan': run[1], 'orch.step': base, 'orch.attempt': attempt, 'orch.capability': capability };
  if (resource !== null) a['orch.resource'] = resource;
  if (queuedMs > 0) a['orch.queued_ms'] = queuedMs;
  if (fallback) a['orch.fallback'] = true;
  if (cost !== null) a['orch.cost'] = cost;
  return extra ? Object.assign(a, extra) : a;
}
