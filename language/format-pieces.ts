/**
 * A large file formatted a piece at a time (issue 34, item 8): parsed, printed and checked one
 * run of whole top-level declarations after another, so that only one piece's tree is alive at a
 * time. A 10 MB file's whole tree outlived the young generation: copying it there cost more
 * than parsing it.
 *
 * A piece ends after a line that is only `}` at column 0 and the next piece starts with the
 * line breaks and blank lines before a declaration keyword at column 0 — where a declaration
 * ends and the next begins when the file is written in the usual way. Nothing but line breaks
 * lies between two pieces (no comment, so none changes its place), and every piece but the
 * first starts with a declaration (the `module` line and the imports are in the first).
 *
 * A line that is only `}` at column 0 can close something nested in an oddly indented file:
 * the piece before it then lacks a closing brace and does not parse cleanly. That — or any
 * diagnostic of any piece, or a piece after the first with a `module` line or an import —
 * sends the file to the whole-file path (`undefined`), which also gives the exact diagnostics.
 */
import type { Module } from './ast.js';
import type { LexOutput } from './lexer.js';
import { parse } from './parse.js';
import { printModuleChunks, type PrintedChunk } from './printer.js';

/**
 * A piece of about this many characters or more: its tree (about a megabyte) is gone before the
 * next collection of the young generation. Measured on 10 MB of small plans: 8 KB pieces took
 * ~20 % less CPU than 32 KB ones (128 KB: ~40 % more), 2–4 KB no less.
 */
export const PIECE_CHARS = 8 * 1024;

const DECLARATION = /\n\}[ \t]*(?=\r?\n(?:[ \t]*\r?\n)*(?:type|capability|resource|policy|guardrail|context|plan|trigger|invariant|simulate|source|test)(?![A-Za-z0-9_]))/g;

/**
 * Offsets where pieces start, from 0, with `text.length` last: each piece of at least `size`
 * characters but the last. Only `[0, text.length]` when the text has no place to cut.
 */
export function pieceBounds(text: string, size: number = PIECE_CHARS): number[] {
  const bounds = [0];
  const re = new RegExp(DECLARATION.source, 'g');
  let from = 0;
  while (from + size < text.length) {
    re.lastIndex = from + Math.max(size, 1) - 1;
    const m = re.exec(text);
    if (m === null) break;
    from = m.index + 2; // after the `}`
    bounds.push(from);
  }
  bounds.push(text.length);
  return bounds;
}

export interface PrintedPiece {
  /** The piece's tree, parsed from the piece alone. */
  readonly module: Module;
  /** The piece as printed, its text in chunks (the first starting with the break before it). */
  readonly chunks: readonly PrintedChunk[];
  /** The chunks' texts joined: the part of `print`'s text this piece makes. */
  readonly text: string;
}

/**
 * The piece of `text` from `bounds[i]` to `bounds[i + 1]`, parsed; undefined when it cannot stand
 * alone. `lexed`: as `parse`'s, handed the piece's tokens.
 */
export function parsePiece(file: string, text: string, bounds: readonly number[], i: number, lexed?: (lexed: LexOutput) => void): Module | undefined {
  const { module, diagnostics } = parse({ file, text: text.slice(bounds[i], bounds[i + 1]), compact: true, lexed });
  if (diagnostics.length > 0) return undefined;
  if (i > 0 && (module.module !== undefined || module.imports.length > 0)) return undefined;
  return module;
}

/** A parsed piece printed: exactly its part of the whole file's printed text. */
export function printPiece(module: Module, source: string, first: boolean): PrintedPiece {
  const chunks = [...printModuleChunks(module, { source })];
  // After the piece before it, the first declaration is one blank line below the last one.
  if (!first && chunks.length > 0) chunks[0] = { ...chunks[0]!, text: `\n\n${chunks[0]!.text}` };
  return { module, chunks, text: chunks.map((c) => c.text).join('') };
}
