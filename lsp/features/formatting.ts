/**
 * Whole-document formatting with the same printer as `orch fmt`. A file with syntax errors is
 * left alone: printing a recovered tree would silently drop what the parser could not read.
 */
import type { TextEdit } from 'vscode-languageserver';
import { print } from '../../language/printer.js';
import type { ParsedFile } from '../workspace.js';

export function formatDocument(parsed: ParsedFile): TextEdit[] {
  if (parsed.diagnostics.some((d) => d.code === 'E0001')) return [];
  const formatted = print(parsed.module, { source: parsed.text });
  if (formatted === parsed.text) return [];
  const lines = parsed.text.split(/\r\n|\r|\n/);
  return [{
    range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
    newText: formatted,
  }];
}
