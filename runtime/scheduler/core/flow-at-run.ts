/**
 * LANGUAGE.md §9.3 at run time, for one call of a step (its own, its `fallback` or its
 * `compensate`): the endorse/declassify calls its arguments make, journaled as it starts, and the
 * rule a `"flows": "warn"` compile let through that refuses it — code, sink and source, then the
 * compiler's message with its witness path.
 */
import type { FlowRefusalIR, RelabelIR, StepIR } from '../../../compiler/index.js';
import type { RunState } from './run-state.js';

/** Which call: undefined for the step's own. */
export type FlowCall = 'fallback' | 'compensate' | undefined;

/** `key` null: the plan's `output` (attempt 0, no step's). */
export function journalRelabels(c: RunState, key: string | null, relabels: readonly RelabelIR[] | undefined, call: FlowCall, attempt: number): void {
  for (const r of relabels ?? []) {
    if (r.call !== call) continue;
    if (r.kind === 'endorse') c.emit('endorsed', key, { reason: r.reason, attempt });
    else c.emit('declassified', key, { reason: r.reason, to: r.to ?? 'internal', attempt });
  }
}

export function refusalOf(step: StepIR, call: FlowCall): FlowRefusalIR | undefined {
  return step.flow_refusals?.find((r) => r.call === call);
}

export function refusalText(r: FlowRefusalIR): string {
  return `${r.code}: refused before the handler: ${r.sink} ← … ← ${r.source} (${r.message})`;
}
