/**
 * LANGUAGE.md §9.3: which `when` is a sink that needs a trusted value. One rule for the
 * compile-time analysis (`assemble/flows.ts`) and the load-time re-check of an IR compiled
 * before §9.3 (`flow-recheck.ts`).
 */

/**
 * The `when` of a step needs trust when any call the step can make is destructive — its own, its
 * `fallback`'s or its `compensate`'s: the condition decides whether that call can happen. (Before,
 * only the step's own capability counted, so a model's answer could choose to run a step whose
 * fallback or compensation deletes.)
 */
export function whenNeedsTrust(calls: readonly ({ readonly destructive?: boolean } | undefined)[]): boolean {
  return calls.some((c) => c?.destructive === true);
}
