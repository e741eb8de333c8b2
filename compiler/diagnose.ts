/**
 * Diagnostics only — what `orch check` runs. Kept apart from `index.ts` so checking does not
 * load the preview/graph renderers (dagre) at start-up.
 */
import { capDiagnostics, compareDiagnostics, diagnostic, type Diagnostic } from '../language/index.js';
import { diskHost, type SourceHost } from './load.js';
import type { PlanMemo } from './plan-memo.js';
import type { StageTimer } from './stages.js';
import { compileProgram } from './program.js';

export function internalError(entry: string, err: unknown): Diagnostic {
  const range = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
  return diagnostic('E0001', `internal compiler error: ${err instanceof Error ? err.message : String(err)}`, entry, range);
}

type CheckInput = { readonly entry: string; readonly host?: SourceHost; readonly memo?: PlanMemo; readonly timer?: StageTimer };

/** Diagnostics only (no IR assembly, no hover types): what `orch check` runs. */
export function check(input: CheckInput): Diagnostic[] {
  return checkLoading(input).diagnostics;
}

/** `check`, and the user files the program loaded (the entry and what it imports). */
export function checkLoading(input: CheckInput): { diagnostics: Diagnostic[]; files: readonly string[] } {
  try {
    const r = compileProgram({ entry: input.entry, host: input.host ?? diskHost, checkOnly: true, recordTypes: false, recordReferences: false, memo: input.memo, timer: input.timer });
    return { diagnostics: capDiagnostics(dedupe(r.diagnostics).sort(compareDiagnostics)), files: r.program.modules.filter((m) => !m.std).map((m) => m.file) };
  } catch (err) {
    if (process.env.ORCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    return { diagnostics: [internalError(input.entry, err)], files: [input.entry] };
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
