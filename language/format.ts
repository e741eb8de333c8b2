/**
 * `format(file, text)`: the canonical text of a source file, for `orch fmt` and the LSP.
 *
 * A file with errors is left alone (printing a recovered tree would drop what the parser could
 * not read). Before returning new text the formatter re-parses it and checks that it means the
 * same (same tree ignoring positions, same comments): a formatter bug must never corrupt a file.
 * New text that is the same tokens and comments laid out differently means the same
 * (`sameTokens`); any other is re-parsed some kilobytes at a time, each piece against
 * the items it prints (`sameMeaningByPieces`). A large file is formatted a piece at a time
 * (format-pieces.ts). Never throws.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Comment, Declaration, Module } from './ast.js';
import { type Diagnostic } from './diagnostic.js';
import { parse, type ParseOutput } from './parse.js';
import { DocComment, lex, type LexOutput } from './lexer.js';
import { parsePiece, pieceBounds, PIECE_CHARS, printPiece } from './format-pieces.js';
import { commentText, printChunks, printModuleChunks, type PrintedChunk } from './printer.js';
import { sameTokensOfClean } from './same-tokens.js';
import { endOffset, startOffset } from './source.js';
import { sameIgnoringRanges } from './tree-equality.js';

/**
 * Errors the parser reports on a tree that still holds every word of the text — a `repeat`
 * without a valid bound or step (E0302), a race of fewer than two branches (E0303): the printer
 * prints that tree, so such a file is formatted like any other.
 */
const FORMATS_DESPITE: ReadonlySet<string> = new Set(['E0302', 'E0303']);
/**
 * Errors on a tree that dropped what was written — a property given twice (E0102), a value of
 * another unit (E0203): printing the tree would delete it, so the declaration holding one is
 * printed as written and the rest of the file is formatted. Any other error (a syntax error, or
 * one of these outside every declaration) leaves the whole file as it is.
 */
const KEPT_AS_WRITTEN: ReadonlySet<string> = new Set(['E0102', 'E0203']);

/** The declarations to print as written, or undefined when `diagnostics` keep the file from being formatted. */
function asWrittenFor(module: Module, diagnostics: readonly Diagnostic[]): Set<Declaration> | undefined {
  const out = new Set<Declaration>();
  for (const d of diagnostics) {
    if (d.severity !== 'error' || FORMATS_DESPITE.has(d.code)) continue;
    const at = d.range.start.offset;
    const decl = KEPT_AS_WRITTEN.has(d.code) ? module.declarations.find((x) => startOffset(x.range) <= at && at < endOffset(x.range)) : undefined;
    if (!decl) return undefined;
    out.add(decl);
  }
  return out;
}

const blockersOf = (diagnostics: readonly Diagnostic[]): Diagnostic[] => diagnostics.filter((d) => d.severity === 'error' && !FORMATS_DESPITE.has(d.code));

export interface FormatResult {
  /** The formatted text; the input text unchanged when there are errors. */
  readonly text: string;
  /** The parser's diagnostics. */
  readonly diagnostics: readonly Diagnostic[];
  readonly changed: boolean;
  /** Set when errors kept the file from being formatted: those errors (the text is unchanged). */
  readonly blockers?: readonly Diagnostic[];
  /**
   * Set when the printed text would not mean the same as the input (a formatter bug): the
   * text is then returned unchanged and this says why.
   */
  readonly refused?: string;
}

export interface FormatOptions {
  /**
   * The size from which a file is formatted a piece at a time (format-pieces.ts); tests make it
   * small to take that path with small files. The answer is the same either way.
   */
  readonly pieceChars?: number;
  /**
   * A parse of exactly `text` that its caller already holds (the language server's check worker
   * keeps the last one): the file is then printed whole from it, not parsed again. The answer is
   * the same.
   */
  readonly parsed?: ParseOutput;
}

export function format(file: string, text: string, options: FormatOptions = {}): FormatResult {
  try {
    if (options.parsed) return printWithChunks(file, text, options.parsed).checked();
    return formatUnsafe(file, text, options.pieceChars ?? PIECE_CHARS);
  } catch (err) {
    // A bug in the formatter must not take down `orch fmt` or the language server.
    return { text, diagnostics: [], changed: false, refused: internalError(file, err) };
  }
}

function internalError(file: string, err: unknown): string {
  return `formatting ${file} failed (internal formatter error: ${err instanceof Error ? err.message : String(err)}); the file was left unchanged`;
}

const meaningChanged = (file: string): string => `formatting ${file} would change its meaning (formatter bug); the file was left unchanged`;

function formatUnsafe(file: string, text: string, pieceChars: number): FormatResult {
  const bounds = pieceBounds(text, pieceChars);
  return (bounds.length > 2 ? formatByPieces(file, text, bounds) : undefined) ?? printWithChunks(file, text).checked();
}

/**
 * The whole file's answer (`printWithChunks(…).checked()`) for a file that parses cleanly a
 * piece at a time (format-pieces.ts), or undefined. A piece printed exactly as it was written
 * means what it meant; any other is re-parsed and compared with the piece's tree.
 */
function formatByPieces(file: string, text: string, bounds: readonly number[]): FormatResult | undefined {
  const out: string[] = [];
  let at = 0;
  let same = true;
  for (let i = 0; i + 1 < bounds.length; i++) {
    let lexed: LexOutput | undefined;
    const module = parsePiece(file, text, bounds, i, (l) => (lexed = l));
    if (module === undefined) return undefined;
    const source = text.slice(bounds[i], bounds[i + 1]);
    const piece = printPiece(module, source, i === 0);
    if (same && text.startsWith(piece.text, at)) at += piece.text.length;
    else {
      same = false;
      const meansTheSame = layoutOnly(source, piece.text, lexed) || sameMeaningByPieces(file, module, piece.chunks);
      if (!meansTheSame) return { text, diagnostics: [], changed: false, refused: meaningChanged(file) };
    }
    out.push(piece.text);
  }
  const formatted = `${out.join('')}\n`;
  return formatted === text ? { text, diagnostics: [], changed: false } : { text: formatted, diagnostics: [], changed: true };
}

/** The file taken whole, printed; the check that the printed text means the same is left to `checked`. */
export interface PrintedWhole {
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The printed text's chunks, in order; none when the text has errors. Each prints one
   * top-level item of the source (its `item`, with the source's range) at a known offset of the
   * result, so a range formatter finds the touched items' new text without parsing the whole
   * file twice more (a 100,000-step plan is one item: seconds each).
   */
  readonly chunks?: readonly PrintedChunk[];
  /**
   * `format`'s answer (the same text as by pieces) from these chunks: the meaning check made (a
   * few lexes or parses of the file), only when asked — a range formatter whose items print as
   * they are written answers no edit without it. May throw (`format` does not).
   */
  readonly checked: () => FormatResult;
}

/** The file taken whole, parsed (unless `parsed`, a parse of `text`, is given) and printed. May throw. */
export function printWithChunks(file: string, text: string, parsed?: ParseOutput): PrintedWhole {
  // Compact ranges: the printer reads the positions of few nodes next to the ranges it makes.
  const { module, diagnostics } = parsed ?? parse({ file, text, compact: true });
  const asWritten = asWrittenFor(module, diagnostics);
  if (!asWritten) return { diagnostics, checked: () => ({ text, diagnostics, changed: false, blockers: blockersOf(diagnostics) }) };
  const chunks = [...printModuleChunks(module, { source: text, asWritten })];
  const checked = (): FormatResult => {
    const body = chunks.map((c) => c.text).join('');
    // As `print`: a non-empty text ends with one line break.
    const formatted = body.length === 0 ? '' : `${body}\n`;
    if (formatted === text) return { text, diagnostics, changed: false };
    if (!layoutOnly(text, formatted) && !sameMeaningByPieces(file, module, chunks)) {
      return { text, diagnostics, changed: false, refused: meaningChanged(file) };
    }
    return { text: formatted, diagnostics, changed: true };
  };
  return { diagnostics, chunks, checked };
}

/**
 * `sameMeaning(module, parse(chunks' text))`, piece by piece. A piece is a run of whole
 * top-level chunks (each starts a line at indent 0 and holds complete items), so it parses to the
 * items it prints: they must equal, ignoring positions and parentheses, the module's items the
 * chunks print, and every piece must parse without errors. The comments of all pieces, together,
 * must be the module's. A piece never ends after a `///` line: in the whole text, that line
 * would be the doc comment of the next chunk's declaration.
 */
function sameMeaningByPieces(file: string, module: Module, chunks: readonly PrintedChunk[]): boolean {
  const comments: string[] = [];
  let from = 0;
  while (from < chunks.length) {
    let to = from;
    let size = 0;
    while (to < chunks.length) {
      size += chunks[to]!.text.length;
      to++;
      if (size >= PIECE_CHARS && !endsWithDocLine(chunks[to - 1]!.text)) break;
    }
    const piece = chunks.slice(from, to);
    const { module: printed, diagnostics } = parse({ file, text: piece.map((c) => c.text).join(''), compact: true });
    if (!asWrittenFor(printed, diagnostics)) return false;
    const expected = piece.flatMap((c) => (c.item === undefined ? [] : [c.item]));
    const found = [...(printed.module ? [printed.module] : []), ...printed.imports, ...printed.declarations];
    if (!sameIgnoringRanges(expected, found, { transparentParens: true })) return false;
    for (const c of printed.comments) comments.push(commentText(c).trimEnd());
    from = to;
  }
  return isDeepStrictEqual(comments.sort(), commentTexts(module.comments));
}

/**
 * Whether two texts are the same tokens and comments, only laid out differently (most of what
 * formatting changes): the parser, which skips whitespace, then builds the same tree from both
 * — except where a `///` comment documents what follows it, which depends on the lines: a text
 * with one is not compared this way. Lexing costs a fraction of parsing and comparing trees, and
 * only the lines that differ are lexed twice (same-tokens.ts). `lexedA`: `lex(a)`, when the caller
 * has it.
 */
export function sameTokens(a: string, b: string, lexedA: LexOutput = lex(a)): boolean {
  if (lexedA.problems.length > 0 || lexedA.comments.some((c) => c.tokenType === DocComment)) return false;
  return sameTokensOfClean(a, b);
}

/**
 * `sameTokens(text, formatted)` for a `text` that parsed without errors (so it lexes without
 * problems): only a text with a `///` is lexed whole (its `lexed` tokens when the caller has
 * them), to find a doc comment; any other goes straight to the lines that differ.
 */
function layoutOnly(text: string, formatted: string, lexed?: LexOutput): boolean {
  return text.includes('///') ? sameTokens(text, formatted, lexed) : sameTokensOfClean(text, formatted);
}

function endsWithDocLine(chunk: string): boolean {
  return chunk.slice(chunk.lastIndexOf('\n') + 1).trimStart().startsWith('///');
}

const commentTexts = (cs: readonly Comment[]): string[] => cs.map((c) => commentText(c).trimEnd()).sort();

export interface FormatCheck {
  /** The parser's diagnostics. */
  readonly diagnostics: readonly Diagnostic[];
  /** Whether formatting would change the text. */
  readonly changed: boolean;
  /** Set when errors keep the file from being formatted: those errors (`changed` is then false). */
  readonly blockers?: readonly Diagnostic[];
  /** Set when the formatter failed (an internal error); `changed` is then false. */
  readonly refused?: string;
  /** No formatted text: the check stops at the first difference. */
  readonly text?: undefined;
}

/**
 * Whether `format` would change the text (`orch fmt --check`), without its result: the printed
 * text is compared with the file piece by piece, up to the first difference. The meaning check
 * guards what `format` returns to be written; nothing is written here, so it is not made — a
 * file that is not formatted is reported as such even where `orch fmt` would then refuse it.
 * Never throws.
 */
export function checkFormatted(file: string, text: string, options: FormatOptions = {}): FormatCheck {
  try {
    const bounds = pieceBounds(text, options.pieceChars ?? PIECE_CHARS);
    return (bounds.length > 2 ? checkByPieces(file, text, bounds) : undefined) ?? checkWhole(file, text);
  } catch (err) {
    return { diagnostics: [], changed: false, refused: internalError(file, err) };
  }
}

/**
 * `checkWhole`'s answer for a file that parses cleanly a piece at a time, or undefined. After the
 * first difference the rest is only parsed: a syntax error anywhere is the answer.
 */
function checkByPieces(file: string, text: string, bounds: readonly number[]): FormatCheck | undefined {
  let at = 0;
  let same = true;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const module = parsePiece(file, text, bounds, i);
    if (module === undefined) return undefined;
    if (!same) continue;
    for (const chunk of printPiece(module, text.slice(bounds[i], bounds[i + 1]), i === 0).chunks) {
      if (!text.startsWith(chunk.text, at)) {
        same = false;
        break;
      }
      at += chunk.text.length;
    }
  }
  // `print` ends a non-empty text with one line break.
  return { diagnostics: [], changed: !same || text.length !== at + 1 || text.charCodeAt(at) !== 10 };
}

function checkWhole(file: string, text: string): FormatCheck {
  const { module, diagnostics } = parse({ file, text, compact: true });
  const asWritten = asWrittenFor(module, diagnostics);
  if (!asWritten) return { diagnostics, changed: false, blockers: blockersOf(diagnostics) };
  let at = 0;
  for (const piece of printChunks(module, { source: text, asWritten })) {
    if (!text.startsWith(piece, at)) return { diagnostics, changed: true };
    at += piece.length;
  }
  // `print` ends a non-empty text with one line break.
  const same = at === 0 ? text.length === 0 : text.length === at + 1 && text.charCodeAt(at) === 10;
  return { diagnostics, changed: !same };
}

/**
 * Same tree ignoring positions and where parentheses were written, and the same comments (line
 * endings and trailing spaces of a comment do not count).
 */
export function sameMeaning(a: Module, b: Module): boolean {
  // Doc comment lines are printed without trailing spaces; those spaces carry no meaning
  // (`sameIgnoringRanges` drops them).
  // Parentheses the printer adds for clarity (`a == (not b)` where `a == not b` parses the same)
  // group nothing differently: the trees are compared with parentheses see-through.
  return sameIgnoringRanges({ ...a, comments: [] }, { ...b, comments: [] }, { transparentParens: true }) && isDeepStrictEqual(commentTexts(a.comments), commentTexts(b.comments));
}
