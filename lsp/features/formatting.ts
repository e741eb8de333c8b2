/**
 * Formatting with `format()` — exactly what `orch fmt` writes. A file with syntax errors is left
 * alone, and so is one the formatter's self-check refuses.
 *
 * Range formatting formats the whole file the same way, then takes from the result only the
 * top-level items (imports and declarations) that the range touches: the formatter prints each
 * item as a chunk of its own, in order, so the chunks of the touched items are the new text of
 * those items. Everything outside them stays as written. A large file is cut into pieces of whole declarations as
 * `orch fmt` cuts it (format-pieces.ts): every piece is parsed (a syntax error anywhere still
 * leaves the file alone), but only the pieces the range touches are formatted and matched item by
 * item — a declaration prints the same alone as in its file. The language server asks the check
 * worker for both (lsp/check-worker.ts), which hands the whole-file path the parse its check of
 * the very same text kept.
 */
import type { Range as LspRange, TextEdit } from 'vscode-languageserver';
import { format, LineIndex, parse, parsePiece, pieceBounds, printWithChunks, PIECE_CHARS, type Module, type ParseOutput } from '../../language/index.js';
import { toLspPosition } from '../convert.js';

export function formatDocument(file: string, text: string): TextEdit[] {
  return documentEdits(text, format(file, text));
}

/** The edit that replaces `text` by `format`'s result for it (the check worker's, or one made here). */
export function documentEdits(text: string, result: { readonly text: string; readonly changed: boolean }): TextEdit[] {
  if (!result.changed) return [];
  return [{
    range: { start: { line: 0, character: 0 }, end: { line: new LineIndex(text).lineCount, character: 0 } },
    newText: result.text,
  }];
}

type Item = Module['imports'][number] | Module['declarations'][number];

function items(module: Module): Item[] {
  return [...module.imports, ...module.declarations].sort((a, b) => a.range.start.offset - b.range.start.offset);
}

/**
 * The edit that formats the items lines `range` touches, or none. `parsed`: a parse of exactly
 * `text` its caller holds (the check worker keeps the last one), for the whole-file path, which
 * then prints from it instead of parsing the file again; the answer is the same.
 */
export function formatRange(file: string, text: string, range: LspRange, pieceChars: number = PIECE_CHARS, parsed?: ParseOutput): TextEdit[] {
  const bounds = pieceBounds(text, pieceChars);
  if (bounds.length > 2) {
    const pieces = touchedPieces(file, text, bounds, range, parsed !== undefined && cleanThroughout(parsed.module, parsed.diagnostics.length));
    if (pieces !== undefined) {
      const { from, to, line } = pieces;
      // Positions in the slice are its own: shifted back by the lines before it (a slice starts
      // right after a `}`, so no item starts on its first line and no column needs shifting).
      return formatItems(file, text.slice(from, to), range.start.line - line, range.end.line - line).map((e) => ({
        ...e,
        range: { start: { line: e.range.start.line + line, character: e.range.start.character }, end: { line: e.range.end.line + line, character: e.range.end.character } },
      }));
    }
  }
  return formatItems(file, text, range.start.line, range.end.line, parsed);
}

/**
 * Whether a whole-file parse says what parsing every piece would about the pieces a range does
 * not touch: no diagnostic anywhere, and no import below a declaration (a piece after the first
 * with one does not stand alone).
 */
function cleanThroughout(module: Module, diagnostics: number): boolean {
  if (diagnostics > 0) return false;
  const firstDeclaration = module.declarations[0]?.range.start.offset ?? Infinity;
  return module.imports.every((i) => i.range.start.offset < firstDeclaration);
}

/**
 * The span of the pieces that lines `range` touches, and the line it starts on; undefined when a
 * piece does not parse cleanly on its own (the whole-file path then decides, as `orch fmt` does).
 * `clean`: a parse of the whole file found nothing wrong anywhere (`cleanThroughout`), so only
 * the touched pieces, which are formatted alone, are parsed alone (10 MB of small plans: all the
 * others took ~2.5 s). An untouched piece that would not stand alone in a clean file (a line of
 * `}` at column 0 closing something nested) then leaves the answer to the pieces, not to the
 * whole file: a declaration prints the same either way.
 */
function touchedPieces(file: string, text: string, bounds: readonly number[], range: LspRange, clean: boolean): { from: number; to: number; line: number } | undefined {
  const lines = new LineIndex(text);
  /** The 0-based line of an offset. */
  const lineOf = (offset: number): number => lines.lineAt(offset) - 1;
  let first = -1;
  let last = -1;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const touched = lineOf(bounds[i]!) <= range.end.line && lineOf(bounds[i + 1]!) >= range.start.line;
    if ((touched || !clean) && parsePiece(file, text, bounds, i) === undefined) return undefined;
    if (touched) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return { from: 0, to: 0, line: 0 };
  return { from: bounds[first]!, to: bounds[last + 1]!, line: lineOf(bounds[first]!) };
}

/**
 * The edit that formats the items of `text` on lines `startLine`..`endLine`, or none. The
 * formatted text is made of chunks that each print one source item, in order: the touched
 * items' chunks are found by the source ranges of their items, and only those chunks are parsed
 * again, for where each item starts and ends in its new text. Touched items that print exactly
 * as they are written need no edit: then neither the whole file's meaning check nor that parse
 * is made (every other way out of here answers no edit too, so the answer is the same).
 */
function formatItems(file: string, text: string, startLine: number, endLine: number, parsed?: ParseOutput): TextEdit[] {
  const printed = attempt(() => printWithChunks(file, text, parsed));
  if (printed?.chunks === undefined) return [];
  const touched: { readonly item: Item; readonly from: number; readonly to: number; readonly index: number }[] = [];
  let at = 0;
  for (const [index, chunk] of printed.chunks.entries()) {
    const from = at;
    at += chunk.text.length;
    const item = chunk.item;
    if (item === undefined || item.kind === 'ModuleDecl') continue;
    if (toLspPosition(item.range.start).line <= endLine && toLspPosition(item.range.end).line >= startLine) touched.push({ item, from, to: at, index });
  }
  if (touched.length === 0) return [];
  // An import written below a declaration moves up to the others: the touched items' new text
  // is then no longer one stretch in their order, and no edit of one stretch is right.
  for (let i = 1; i < touched.length; i++)
    if (touched[i]!.from !== touched[i - 1]!.to || touched[i]!.item.range.start.offset < touched[i - 1]!.item.range.end.offset) return [];
  const first = touched[0]!;
  const last = touched[touched.length - 1]!;
  const oldText = text.slice(first.item.range.start.offset, last.item.range.end.offset);
  const printedText = printed.chunks.slice(first.index, last.index + 1).map((c) => c.text).join('');
  if (printsAsWritten(printedText, oldText)) return [];
  const result = attempt(() => printed.checked());
  if (!result?.changed) return [];
  // Compact ranges: only offsets are read.
  const after = items(parse({ file, text: printedText, compact: true }).module);
  if (after.length !== touched.length) return [];
  const newText = printedText.slice(after[0]!.range.start.offset, after[after.length - 1]!.range.end.offset);
  if (newText === oldText) return [];
  return [{
    range: { start: toLspPosition(first.item.range.start), end: toLspPosition(last.item.range.end) },
    newText,
  }];
}

/** What `f` gives, or undefined when it throws: a formatter bug answers no edit (as `format` refuses). */
function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/**
 * Whether `printed` is `written` between line breaks and spaces (the breaks before a chunk, the
 * end of its last line): re-parsed, its items would span exactly `written`, no edit.
 */
function printsAsWritten(printed: string, written: string): boolean {
  let start = 0;
  while (start < printed.length && isSpace(printed.charCodeAt(start))) start++;
  if (!printed.startsWith(written, start)) return false;
  for (let i = start + written.length; i < printed.length; i++) if (!isSpace(printed.charCodeAt(i))) return false;
  return true;
}

/** A space, tab or line break: all the printer puts between items. */
const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;
