/**
 * Long-form explanations of every diagnostic code, shown by `orch explain CODE`.
 *
 * Typed as a `Record` over `DiagnosticCode` so that adding a code to `language/diagnostic.ts`
 * without explaining it is a compile error here. The snippets are complete `.orch` modules:
 * `trigger` produces the code and `fix` does not (the examples test compiles both). The
 * explanations are written in one file per family of codes, in table order.
 */
import type { DiagnosticCode } from '../../language/index.js';
import type { Entry, Explanation } from './entry.js';
import { FLOWS } from './flows.js';
import { CONTEXT } from './context.js';
import { GRAPH_GUARDRAILS } from './graph-guardrails.js';
import { PLACEMENT_TRIGGERS_MCP } from './placement-triggers-mcp.js';
import { SYNTAX_NAMES_TYPES } from './syntax-names-types.js';
import { TESTS } from './tests.js';

export type { Explanation } from './entry.js';

const CATALOG: Record<DiagnosticCode, Entry> = { ...SYNTAX_NAMES_TYPES, ...GRAPH_GUARDRAILS, ...PLACEMENT_TRIGGERS_MCP, ...TESTS, ...CONTEXT, ...FLOWS };

/** Every explanation in the order of the spec's tables: by number (`E0801` before `E0802`, whatever the family files spread). */
export function allExplanations(): readonly Explanation[] {
  return (Object.keys(CATALOG) as DiagnosticCode[])
    .sort((a, b) => a.slice(1).localeCompare(b.slice(1)))
    .map((code) => ({ code, ...CATALOG[code] }));
}

/** Case-insensitive lookup; `undefined` for an unknown code. */
export function explanationFor(code: string): Explanation | undefined {
  const wanted = code.trim().toUpperCase();
  return allExplanations().find((e) => e.code === wanted);
}
