/**
 * Diagnostics only — what `orch check` runs. Kept apart from `index.ts` so checking does not
 * load the preview/graph renderers (dagre) at start-up.
 */
import { capDiagnostics, compareDiagnostics, diagnostic, type Diagnostic } from '../language/index.js';
import { diskHost, type SourceHost } from './load.js';
import type { PlanMemo } from './plan-memo.js';
import { compileProgram } from './program.js';

export function internalError(entry: string, err: unknown): Diagnostic {
  const range = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
  return diagnostic('E0001', `internal compiler error: ${err instanceof Error ? err.message : String(err)}`, entry, range);
}

/** Diagnostics only (no IR assembly, no hover types): what `orch check` runs. */
export function check(input: { readonly entry: string; readonly host?: SourceHost; readonly memo?: PlanMemo }): Diagnostic[] {
  try {
    const r = compileProgram({ entry: input.entry, host: input.host ?? diskHost, checkOnly: true, recordTypes: false, recordReferences: false, memo: input.memo });
    return capDiagnostics(dedupe(r.diagnostics).sort(compareDiagnostics));
  } catch (err) {
    if (process.env.ORCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    return [internalError(input.entry, err)];
  }
}

export function dedupe(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diags) {
    const key = `${d.file}\u0000${d.range.start.offset}\u0000${d.range.end.offset}\u0000${d.code}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
