/** Chevrotain recognition errors → E0001 diagnostics (one per offending token). */
import type { IRecognitionException, IToken } from 'chevrotain';
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
  /** Width of the "end of input" range (1 inside an interpolation: its closing brace). */
  eofLength = 0,
): Diagnostic[] {
  const seen = new Set<number>();
  const out: Diagnostic[] = [];
  for (const e of errors) {
    const t = e.token;
    const real = t && isRealToken(t);
    let start = real ? t.startOffset : eofOffset;
    let end = real ? t.endOffset! + 1 : eofOffset + eofLength;
    // Something missing at a line end ("expected ')'…, found 'step'" on the next line) is
    // reported where it is missing: just after the previous token.
    const prev = (e as { previousToken?: IToken }).previousToken;
    if (prev && isRealToken(prev) && index.positionAt(prev.endOffset! + 1).line < index.positionAt(start).line) {
      start = prev.endOffset! + 1;
      end = start;
    }
    if (seen.has(start)) continue;
    seen.add(start);
    out.push(diagnostic('E0001', e.message, file, index.range(start, end)));
  }
  return out;
}
