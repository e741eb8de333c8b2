/** Capture fidelity's measure (LANGUAGE.md §9.2, issue #52): per step instance, how its attempts began and ended. */
const ENDS = new Set(['step_completed', 'step_failed', 'step_retried', 'step_skipped']);

/** Per step instance, its started/ended events in order, without an attempt a crash lost (a start with no end before the next start). */
export function sequences(events: readonly { readonly key: string; readonly type: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    if (e.type !== 'step_started' && !ENDS.has(e.type)) continue;
    const seq = (out[e.key] ??= []);
    if (e.type === 'step_started' && seq[seq.length - 1] === 'step_started') seq.pop();
    seq.push(e.type);
  }
  return out;
}
