/**
 * LANGUAGE.md §9.3 at run time: a rule a `"flows": "warn"` compile let through, as the refused
 * call's error names it — code, sink and source, then the compiler's message with its witness path.
 */
import type { FlowRefusalIR } from '../../../compiler/index.js';

export function refusalText(r: FlowRefusalIR): string {
  return `${r.code}: refused before the handler: ${r.sink} ← … ← ${r.source} (${r.message})`;
}
