/** Chevrotain recognition errors → E0001 diagnostics (one per offending token). */
import type { IRecognitionException } from 'chevrotain';
import { diagnostic, type Diagnostic } from './diagnostic.js';
import { isRealToken } from './cst-access.js';
import type { LineIndex } from './source.js';

/**
 * `eofOffset` is where "end of input" errors point (the end of the text, or of an
 * interpolation). Several errors on the same token keep only the first: after recovery
 * Chevrotain can report one mistake more than once.
 */
export function syntaxErrorsToDiagnostics(
  errors: readonly IRecognitionException[],
  file: string,
  index: LineIndex,
  eofOffset: number,
): Diagnostic[] {
  const seen = new Set<number>();
  const out: Diagnostic[] = [];
  for (const e of errors) {
    const t = e.token;
    const real = t && isRealToken(t);
    const start = real ? t.startOffset : eofOffset;
    const end = real ? t.endOffset! + 1 : eofOffset;
    if (seen.has(start)) continue;
    seen.add(start);
    out.push(diagnostic('E0001', e.message, file, index.range(start, end)));
  }
  return out;
}
