/**
 * `format(file, text)`: the canonical text of a source file, for `orch fmt` and the LSP.
 *
 * A file with errors is left alone (printing a recovered tree would drop what the parser could
 * not read). Before returning new text the formatter re-parses it and checks that it means the
 * same (same tree ignoring positions, same comments): a formatter bug must never corrupt a file.
 * Never throws.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Comment, Module } from './ast.js';
import { hasErrors, type Diagnostic } from './diagnostic.js';
import { parse } from './index.js';
import { commentText, print } from './printer.js';
import { stripRanges } from './tree-equality.js';

export interface FormatResult {
  /** The formatted text; the input text unchanged when there are errors. */
  readonly text: string;
  /** The parser's diagnostics; formatting is refused when any is an error. */
  readonly diagnostics: readonly Diagnostic[];
  readonly changed: boolean;
  /**
   * Set when the printed text would not mean the same as the input (a formatter bug): the
   * text is then returned unchanged and this says why.
   */
  readonly refused?: string;
}

export function format(file: string, text: string): FormatResult {
  const { module, diagnostics } = parse({ file, text });
  if (hasErrors(diagnostics)) return { text, diagnostics, changed: false };
  const formatted = print(module, { source: text });
  if (formatted === text) return { text, diagnostics, changed: false };
  const reparsed = parse({ file, text: formatted });
  if (hasErrors(reparsed.diagnostics) || !sameMeaning(module, reparsed.module)) {
    return { text, diagnostics, changed: false, refused: `formatting ${file} would change its meaning (formatter bug); the file was left unchanged` };
  }
  return { text: formatted, diagnostics, changed: true };
}

/** Same tree ignoring positions, and the same comments (line endings and trailing spaces of a comment do not count). */
export function sameMeaning(a: Module, b: Module): boolean {
  const texts = (cs: readonly Comment[]): string[] => cs.map((c) => commentText(c).trimEnd()).sort();
  return (
    isDeepStrictEqual(trimDocs(stripRanges({ ...a, comments: [] })), trimDocs(stripRanges({ ...b, comments: [] }))) &&
    isDeepStrictEqual(texts(a.comments), texts(b.comments))
  );
}

/** Doc comment lines are printed without trailing spaces; those spaces carry no meaning. */
function trimDocs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(trimDocs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'doc' && typeof v === 'string' ? v.replace(/[ \t]+$/gm, '') : trimDocs(v)]),
  );
}
