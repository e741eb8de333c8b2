/**
 * The parse phase: `.orch` text → typed AST + syntax diagnostics. Never throws; always returns
 * a (possibly partial) Module.
 */
import type { IToken } from 'chevrotain';
import type { Comment, Module } from './ast.js';
import { compareDiagnostics, diagnostic, type Diagnostic, type Range } from './diagnostic.js';
import { AstBuilder, DocComments } from './cst-to-ast.js';
import { isRealToken, setCstClean } from './cst-access.js';
import { junkDiagnostics } from './junk.js';
import {
  BlockComment, DocComment, K, R, lex, LineComment, UnterminatedBlockComment, StringTok, AnyNumber,
  DurationTok, MoneyTok, PercentTok, Identifier, LCurly, LParen, LBracket, RCurly, RParen, RBracket,
} from './lexer.js';
import { parseTokens } from './parser.js';
import { LineIndex } from './source.js';
import { syntaxErrorsToDiagnostics } from './syntax-errors.js';

export interface ParseInput {
  readonly file: string;
  readonly text: string;
}

export interface ParseOutput {
  readonly module: Module;
  readonly diagnostics: Diagnostic[];
}

export { LineIndex, codeFrame } from './source.js';

export function parse(input: ParseInput): ParseOutput {
  const file = input.file;
  const text = typeof input.text === 'string' ? input.text : String(input.text ?? '');
  const index = new LineIndex(text);
  try {
    return parseUnsafe(file, text, index);
  } catch (err) {
    // A bug in the front end must not take down the CLI or the language server.
    const message = err instanceof Error ? err.message : String(err);
    return {
      module: { kind: 'Module', file, imports: [], declarations: [], comments: [], range: index.range(0, text.length) },
      diagnostics: [diagnostic('E0001', `internal parser error: ${message}`, file, index.range(0, 0))],
    };
  }
}

function parseUnsafe(file: string, text: string, index: LineIndex): ParseOutput {
  const lexed = lex(text);
  const diagnostics: Diagnostic[] = lexed.problems.map((p) =>
    diagnostic('E0001', p.message, file, index.range(p.offset, p.offset + p.length)),
  );
  const lexOffsets = new Set(lexed.problems.map((p) => p.offset));
  const tooDeep = nestingLimit(lexed.tokens);
  if (tooDeep !== undefined) {
    const t = lexed.tokens[tooDeep]!;
    diagnostics.push(
      diagnostic('E0001', `brackets nested more than ${MAX_NESTING} levels deep; the rest of the file is not parsed`, file, index.range(t.startOffset, t.endOffset! + 1)),
    );
    lexed.tokens.length = tooDeep;
  }
  const { cst, errors, junkSeen } = parseTokens(lexed.tokens);
  const syntax = syntaxErrorsToDiagnostics([...errors], file, index, text.length).filter(
    (d) => !lexOffsets.has(d.range.start.offset),
  );
  diagnostics.push(...syntax);
  if (junkSeen) diagnostics.push(...junkDiagnostics(cst, file, index, syntax.map((d) => d.range.start.offset)));

  const docTokens = lexed.comments.filter((c) => c.tokenType === DocComment && !c.image.startsWith('////'));
  const docs = new DocComments(docTokens);
  const builder = new AstBuilder(file, text, index, docs, diagnostics.map((d) => d.range.start.offset));
  setCstClean(errors.length === 0);
  const partial = builder.module(cst);
  diagnostics.push(...builder.diagnostics);

  const comments: Comment[] = lexed.comments
    .filter((c) => !(c.tokenType === DocComment && docs.isTaken(c)))
    .map((c) => ({
      kind: 'Comment',
      style: c.tokenType === BlockComment || c.tokenType === UnterminatedBlockComment ? 'block' : 'line',
      text: c.image,
      range: index.range(c.startOffset, c.endOffset! + 1),
    }));
  diagnostics.sort(compareDiagnostics);
  return { module: { ...partial, comments }, diagnostics };
}

/** Deeper nesting would exhaust the recursive-descent parser's stack; no real plan comes close. */
const MAX_NESTING = 100;

/** Index of the first token that opens bracket level MAX_NESTING + 1, if any. */
function nestingLimit(tokens: readonly IToken[]): number | undefined {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tt = tokens[i]!.tokenType;
    if (tt === LCurly || tt === LParen || tt === LBracket) {
      if (++depth > MAX_NESTING) return i;
    } else if (tt === RCurly || tt === RParen || tt === RBracket) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

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
