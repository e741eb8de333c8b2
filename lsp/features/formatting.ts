/**
 * Formatting with `format()` — exactly what `orch fmt` writes. A file with syntax errors is left
 * alone, and so is one the formatter's self-check refuses.
 *
 * Range formatting formats the whole file the same way, then takes from the result only the
 * top-level items (imports and declarations) that the range touches: the formatter keeps their
 * order, so the n-th item of the formatted text is the n-th item of the source. Everything
 * outside those items stays as written.
 */
import type { Range as LspRange, TextEdit } from 'vscode-languageserver';
import { format, parse, type Module } from '../../language/index.js';
import { toLspPosition } from '../convert.js';

export function formatDocument(file: string, text: string): TextEdit[] {
  const result = format(file, text);
  if (!result.changed) return [];
  return [{
    range: { start: { line: 0, character: 0 }, end: { line: lineCount(text), character: 0 } },
    newText: result.text,
  }];
}

/** The number of lines (`\r\n`, `\r` and `\n` end one), without splitting a 10 MB text into them. */
function lineCount(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

type Item = Module['imports'][number] | Module['declarations'][number];

function items(module: Module): Item[] {
  return [...module.imports, ...module.declarations].sort((a, b) => a.range.start.offset - b.range.start.offset);
}

export function formatRange(file: string, text: string, range: LspRange): TextEdit[] {
  const result = format(file, text);
  if (!result.changed) return [];
  // Compact ranges: only the touched items' positions are read.
  const before = items(parse({ file, text, compact: true }).module);
  const after = items(parse({ file, text: result.text, compact: true }).module);
  if (before.length !== after.length) return [];
  const touched = before
    .map((item, i) => ({ item, i }))
    .filter(({ item }) => {
      const start = toLspPosition(item.range.start).line;
      const end = toLspPosition(item.range.end).line;
      return start <= range.end.line && end >= range.start.line;
    });
  if (touched.length === 0) return [];
  const first = touched[0]!.i;
  const last = touched[touched.length - 1]!.i;
  const newText = result.text.slice(after[first]!.range.start.offset, after[last]!.range.end.offset);
  const oldText = text.slice(before[first]!.range.start.offset, before[last]!.range.end.offset);
  if (newText === oldText) return [];
  return [{
    range: { start: toLspPosition(before[first]!.range.start), end: toLspPosition(before[last]!.range.end) },
    newText,
  }];
}
