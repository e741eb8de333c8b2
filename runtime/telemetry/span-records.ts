/**
 * The records the main thread hands the tracing thread (`span-sink.ts` → `span-thread.ts`), in
 * batches. A batch is three lists read in step: numbers in a `Float64Array` (its buffer is
 * transferred, not copied), strings, and objects (attributes, links, a run's id and plan). A
 * record is its kind and then its numbers (below); the strings and objects it has follow in the
 * other two lists, in the order listed, those marked optional only when its flags say so.
 *
 * What the main thread pays per record is kept to numbers written into a typed array (measured
 * on the 10,000-step bench, docs/telemetry.md):
 * - a span is named by a number, its **ref**: the place of its id in the id pools the main thread
 *   draws ids from (`pool` records hand each pool's hex to the thread), so a span id is sent as a
 *   number and made a string only where it is read (a handler's `traceparent`; the thread);
 * - a step and an attempt, two of the three spans a step makes, carry their values and no
 *   attribute names: the tracing thread builds their attributes (`stepAttributes`,
 *   `attemptAttributes`) from them and from their parent's (a run's id and plan, a step's id);
 * - the few strings that repeat step after step (a capability, a step's kind and status) are
 *   sent once and then named by number (`intern`).
 */

export type AttrValue = string | number | boolean | readonly string[];
export type Attrs = { [key: string]: AttrValue };
/** A trace id and span id. */
export type LinkCells = readonly (readonly [string, string])[];
/** A run's id and plan: what the spans under it take as `orch.run_id` and `orch.plan`. */
export type RunCells = readonly [runId: string, plan: string];

export const Rec = {
  /** An id pool's hex (strings: hex); the pools are numbered in the order they come. */
  pool: 0,
  /** A string named by the next number (strings: it); flag 1: forget the ones before (numbers: flags). */
  intern: 1,
  /** numbers: ref, flags (`Start`), time; strings: name, trace id, parent span id ('' for a root); objects: attrs, [links], [run] */
  start: 2,
  /** numbers: ref, run ref, time, has key (0 | 1); strings: base step id, [key] */
  step: 3,
  /** numbers: ref, step ref, time, attempt, queued ms, flags (`AttemptFlag`), capability (interned); strings: [resource] */
  attempt: 4,
  /** numbers: ref, time; strings: name; objects: attrs */
  event: 5,
  /** numbers: ref, time, status code (0 unset, 1 ok, 2 error), flags (`EndFlag`); strings: [message]; objects: [attrs] */
  end: 6,
  /** `end`'s, then numbers: kind (interned; -1 none), cost, attempt, status (interned) */
  endStep: 7,
  /** `end`'s, then numbers: cost */
  endAttempt: 8,
} as const;

export const StartFlag = { sampled: 1, remote: 2, links: 4, run: 8 } as const;
export const AttemptFlag = { fallback: 1, resource: 2 } as const;
export const EndFlag = { message: 1, attrs: 2 } as const;

/** 8-byte ids a pool holds (a trace id takes two, never across pools). */
export const POOL_IDS = 1024;

/** A span id's (`units` 1) or trace id's (2) hex in `pool`, from its ref. */
export function idOf(pool: string, ref: number, units: 1 | 2): string {
  const at = (ref % POOL_IDS) * 16;
  return pool.slice(at, at + units * 16);
}

/** One hand-over: `n` numbers of `nums`, then the strings and objects the records read. */
export interface Batch {
  readonly nums: Float64Array;
  readonly n: number;
  readonly strs: readonly string[];
  readonly objs: readonly unknown[];
  /** When it was handed over (`Date.now()`): the thread paces itself by how long it waited. */
  readonly at: number;
}

/**
 * A money figure as a trace shows it: sums of prices carry float noise (6.950000000000001e-05);
 * twelve significant digits keep every cent fraction a price can give and drop the noise.
 */
export function tidyCost(n: number): number {
  return Number.isFinite(n) ? Number(n.toPrecision(12)) : n;
}

/** `extra` over `a`, its `orch.cost` tidied (a model's reported cost comes in through it). */
function withExtra(a: Attrs, extra: Attrs | null): Attrs {
  if (!extra) return a;
  Object.assign(a, extra);
  const c = a['orch.cost'];
  if (typeof c === 'number') a['orch.cost'] = tidyCost(c);
  return a;
}

// Attributes are built as object literals of one shape: spreading a record received from the
// other thread into a new object, key by key, cost more than the SDK's own work for the span.

/** A step span's attributes: its run's, its own, and what it ended with (`extra` wins). */
export function stepAttributes(run: RunCells, base: string, key: string | null, kind: string | null, cost: number, attempt: number, status: string, extra: Attrs | null): Attrs {
  const a: Attrs = { 'orch.run_id': run[0], 'orch.plan': run[1], 'orch.step': base, 'orch.cost': tidyCost(cost), 'orch.attempt': attempt, 'orch.status': status };
  if (key !== null) a['orch.step_key'] = key;
  if (kind !== null) a['orch.kind'] = kind;
  return withExtra(a, extra);
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
  if (cost !== null) a['orch.cost'] = tidyCost(cost);
  return withExtra(a, extra);
}
