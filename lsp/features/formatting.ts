/**
 * Whole-document formatting with `format()` — exactly what `orch fmt` writes. A file with
 * syntax errors is left alone, and so is one the formatter's self-check refuses.
 */
import type { TextEdit } from 'vscode-languageserver';
import { format } from '../../language/format.js';

export function formatDocument(file: string, text: string): TextEdit[] {
  const result = format(file, text);
  if (!result.changed) return [];
  const lines = text.split(/\r\n|\r|\n/);
  return [{
    range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
    newText: result.text,
  }];
}
