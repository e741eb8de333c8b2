/**
 * The language layer's entry: `.orch` text → typed AST + syntax diagnostics (`parse`, in
 * parse.ts), the formatter, incremental re-parsing, and the tokens editors colour.
 */
import type { IToken } from 'chevrotain';
import type { Range } from './diagnostic.js';
import { isRealToken } from './cst-access.js';
import { BlockComment, DocComment, K, R, lex, LineComment, UnterminatedBlockComment, StringTok, AnyNumber, DurationTok, MoneyTok, PercentTok, Identifier } from './lexer.js';
import { LineIndex } from './source.js';

export { parse, parseViaCst, RELEASE_TOKENS_FROM, type ParseInput, type ParseOutput } from './parse.js';
export { LineIndex, codeFrame } from './source.js';
export { classifyNumberSuffix } from './lexer.js';

// ───────────── tokens for editors ─────────────

export type SourceTokenType =
  | 'keyword' | 'operatorWord' | 'name' | 'string' | 'number' | 'duration' | 'money' | 'percent'
  | 'punctuation' | 'comment' | 'docComment';

export interface SourceToken {
  readonly type: SourceTokenType;
  /** For `keyword`: true when the word is a soft keyword that may also be used as a name. */
  readonly soft?: boolean;
  readonly image: string;
  readonly range: Range;
}

const SOFT = new Set(Object.values(K));
const RESERVED = new Set(Object.values(R));

/** Every token and comment in source order, with its range (for semantic highlighting). */
export function tokenize(text: string): SourceToken[] {
  const index = new LineIndex(text);
  const lexed = lex(text);
  const all = [...lexed.tokens, ...lexed.comments].filter(isRealToken).sort((a, b) => a.startOffset - b.startOffset);
  return all.map((t) => ({
    type: tokenClass(t),
    ...(SOFT.has(t.tokenType) ? { soft: true } : {}),
    image: t.image,
    range: index.range(t.startOffset, t.endOffset! + 1),
  }));
}

function tokenClass(t: IToken): SourceTokenType {
  const tt = t.tokenType;
  if (tt === DocComment) return t.image.startsWith('////') ? 'comment' : 'docComment';
  if (tt === LineComment || tt === BlockComment || tt === UnterminatedBlockComment) return 'comment';
  if (SOFT.has(tt)) return 'keyword';
  if (RESERVED.has(tt)) return ['true', 'false', 'null'].includes(t.image) ? 'keyword' : 'operatorWord';
  if (tt === Identifier) return 'name';
  if (tt === StringTok) return 'string';
  if (tt === DurationTok) return 'duration';
  if (tt === MoneyTok) return 'money';
  if (tt === PercentTok) return 'percent';
  if (tt.CATEGORIES?.includes(AnyNumber)) return 'number';
  return 'punctuation';
}

// What the layers above use of this one. The AST and the Diagnostic type are contracts: all of them.
export * from './ast.js';
export * from './diagnostic.js';
export { checkFormatted, format, printWithChunks } from './format.js';
export { parsePiece, pieceBounds, PIECE_CHARS } from './format-pieces.js';
export type { FormatCheck, FormatResult, PrintedWhole } from './format.js';
export { reparse } from './incremental.js';
export type { ModuleEdit, ParsedText } from './incremental.js';
export { escapeStringText, formatNumber, print, printExpr, recordKeyText, stringLiteral } from './printer.js';
export { formatMoneyAmount } from './print-literals.js';
