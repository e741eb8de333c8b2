/**
 * The parse phase: `.orch` text → typed AST + syntax diagnostics. Never throws; always returns
 * a (possibly partial) Module.
 */
import type { IToken } from 'chevrotain';
import type { Comment, Module } from './ast.js';
import { capDiagnostics, compareDiagnostics, diagnostic, type Diagnostic } from './diagnostic.js';
import { AstBuilder } from './cst-to-ast.js';
import { DocComments } from './doc-comments.js';
import { setCstClean } from './cst-access.js';
import { junkDiagnostics } from './junk.js';
import { BlockComment, DocComment, lex, UnterminatedBlockComment, type LexOutput } from './lexer.js';
import { parseExpressionTokens, parseModuleAst, parseTokens, type AstParseFailure } from './parser.js';
import { AstActions } from './ast-actions.js';
import { compactModules, issuedPositions, LineIndex, wholeTreeModules } from './source.js';
import { syntaxErrorsToDiagnostics } from './syntax-errors.js';
import { BracketScan, ExpressionScan, mayNestTooDeep, nestingLimit } from './nesting.js';

export interface ParseInput {
  readonly file: string;
  readonly text: string;
  /**
   * Compact ranges (`LineIndex`): for a parse nothing will edit (`orch check` and `orch run`).
   * The incremental parser parses such a module's next text in full. `'nodes'`: also the
   * commonest nodes are their own range (compact-nodes.ts), one object where a node and a range
   * were two — for a check, whose tree lives to its end; the formatter's short-lived trees read
   * faster as literals.
   */
  readonly compact?: 'nodes' | boolean;
  /**
   * Handed the text's tokens when a clean parse is done with them and has kept them whole (not on
   * the CST path, nor when a large file's were released): the formatter looks in them for a `///`
   * doc comment of a piece that has one, instead of lexing the piece a second time.
   */
  readonly lexed?: (lexed: LexOutput) => void;
}

export interface ParseOutput {
  readonly module: Module;
  readonly diagnostics: Diagnostic[];
}

export function parse(input: ParseInput): ParseOutput {
  return parseWith(input, true);
}

/**
 * `parse` without the direct-to-AST path: always the CST parser and the CST→AST phase. The
 * result is the same as `parse`'s (tests hold the two paths to that); for tests and measuring.
 */
export function parseViaCst(input: ParseInput): ParseOutput {
  return parseWith(input, false);
}

function parseWith(input: ParseInput, direct: boolean): ParseOutput {
  const file = input.file;
  const text = typeof input.text === 'string' ? input.text : String(input.text ?? '');
  const index = new LineIndex(text, input.compact === true || input.compact === 'nodes', input.compact === 'nodes');
  try {
    const out = parseUnsafe(file, text, index, direct, input.lexed);
    if (index.compact) compactModules.add(out.module);
    else issuedPositions.set(out.module, index.issued);
    return out;
  } catch (err) {
    // A bug in the front end must not take down the CLI or the language server.
    const message = err instanceof Error ? err.message : String(err);
    return {
      module: { kind: 'Module', file, imports: [], declarations: [], comments: [], range: index.range(0, text.length) },
      diagnostics: [diagnostic('E0001', `internal parser error: ${message}`, file, index.range(0, 0))],
    };
  }
}

/**
 * From this many tokens on, the AST parse releases the tokens it has consumed (parser-input.ts,
 * `releasing`): a file that big is mostly a batch `orch check` or `orch run`, and holding its
 * tokens beside its AST is the peak of their memory. A file that then fails the direct path is
 * lexed again for the CST path, which costs little next to the failure's recovery parse.
 */
export const RELEASE_TOKENS_FROM = 50_000;

/**
 * From this many characters on (and when no caller wants the tokens), a file is lexed a chunk at
 * a time as the AST parse reads it (`parseChunked`): a 10 MB file of small plans otherwise makes
 * its 3 million tokens first, and every one of them survives the young generation's collections
 * (copied, then marked by the full ones) only to be released by the parse. Below it (the 10k-step
 * plan: 0.6 MB) the whole lex's tokens cost the collector little, and the chunked parse read a
 * few percent slower.
 */
export const CHUNKED_FROM = 1024 * 1024;

/** About how many characters each chunk holds (it ends at the first line end from there). */
const CHUNK_CHARS = 64 * 1024;

function parseUnsafe(file: string, text: string, index: LineIndex, direct: boolean, onLexed?: (lexed: LexOutput) => void): ParseOutput {
  // What the direct parse of a chunked lex found when it could not finish: the whole lex below
  // gives the same tokens, so the direct parse of those would end the same way.
  let chunked: AstParseFailure | undefined;
  if (direct && onLexed === undefined && text.length >= CHUNKED_FROM) {
    const out = parseChunked(file, text, index);
    if (typeof out === 'object') return out;
    if (out !== 'unlexed') chunked = out;
  }
  let lexed = lex(text);
  const docTokensOf = (l: LexOutput) => l.comments.filter(isDocToken);
  let docTokens = docTokensOf(lexed);
  // A clean file is parsed straight to the AST. Anything the file must be told about (a syntax
  // error, junk, a property given twice…) is left to the CST path, which reports it and builds
  // the partial tree, so both paths agree on every file — except what the builders report with
  // the tree left whole (`wholeTree`), which both paths report and build alike.
  let knownBad = false;
  const directable = direct && lexed.problems.length === 0 && nestingLimit(lexed.tokens) === undefined && !mayNestTooDeep(lexed.tokens);
  if (chunked !== undefined) knownBad = directable && chunked === 'syntax';
  else if (directable) {
    const docs = new DocComments(docTokens);
    const builder = new AstActions(file, text, index, docs, parseExpressionTokens);
    builder.words = lexed.words;
    builder.stringsClosed = true;
    const releaseTokens = lexed.tokens.length >= RELEASE_TOKENS_FROM;
    const module = parseModuleAst(lexed.tokens, builder, { releaseTokens });
    if (typeof module !== 'string' && builder.diagnostics.every((d) => builder.wholeTree.has(d))) {
      const diagnostics = capDiagnostics([...builder.diagnostics].sort(compareDiagnostics));
      const whole = { ...module, comments: commentsOf(lexed.comments, docs, index) };
      if (diagnostics.length > 0) wholeTreeModules.add(whole);
      if (!releaseTokens) onLexed?.(lexed);
      return { module: whole, diagnostics };
    }
    knownBad = module === 'syntax';
    if (releaseTokens) {
      // Docs are matched to their comment tokens by identity: take both from the new lex.
      lexed = lex(text);
      docTokens = docTokensOf(lexed);
    }
  }

  const diagnostics: Diagnostic[] = lexed.problems.map((p) =>
    diagnostic('E0001', p.message, file, index.range(p.offset, p.offset + p.length)),
  );
  const lexOffsets = new Set(lexed.problems.map((p) => p.offset));
  const tooDeep = nestingLimit(lexed.tokens);
  if (tooDeep !== undefined) {
    const t = lexed.tokens[tooDeep.index]!;
    diagnostics.push(diagnostic('E0001', tooDeep.message, file, index.range(t.startOffset, t.endOffset! + 1)));
    lexed.tokens.length = tooDeep.index;
  }
  const { cst, errors, junkSeen } = parseTokens(lexed.tokens, knownBad);
  const syntax = syntaxErrorsToDiagnostics([...errors], file, index, text.length).filter(
    (d) => !lexOffsets.has(d.range.start.offset),
  );
  diagnostics.push(...syntax);
  // A bad unit (`12EUR`) the lexer reported is junk to the parser too: said once.
  const junk = junkSeen ? junkDiagnostics(cst, file, index, [...syntax.map((d) => d.range.start.offset), ...lexOffsets]) : [];

  const docs = new DocComments(docTokens);
  const builder = new AstBuilder(file, text, index, docs, parseExpressionTokens, [...diagnostics, ...junk].map((d) => d.range.start.offset));
  builder.words = lexed.words;
  setCstClean(errors.length === 0);
  const partial = builder.module(cst);
  // Junk the builder reported as part of its own diagnostic (`priority input.g`) is not said twice.
  diagnostics.push(...junk.filter((d) => !builder.absorbedJunk.includes(d.range.start.offset)), ...builder.diagnostics);
  diagnostics.sort(compareDiagnostics);
  return { module: { ...partial, comments: commentsOf(lexed.comments, docs, index) }, diagnostics: capDiagnostics(diagnostics) };
}

/**
 * The direct parse of a clean file, lexed a chunk at a time as the parser reads it. A chunk ends
 * at a line end: no token but a block comment spans one, and a block comment cut there is
 * unterminated — a lexical problem — so chunks without problems have exactly the tokens of the
 * whole text. `'unlexed'` when a chunk had a problem or nests too deep (the caller lexes the
 * whole text and decides as before); the parse's failure when the file is not clean.
 */
function parseChunked(file: string, text: string, index: LineIndex): ParseOutput | AstParseFailure | 'unlexed' {
  const words = new Map<string, string>();
  const comments: IToken[] = [];
  const docTokens: IToken[] = [];
  const brackets = new BracketScan();
  const expressions = new ExpressionScan();
  let at = 0;
  let unlexed = false;
  const next = (): IToken[] | undefined => {
    if (at >= text.length) return undefined;
    const cut = text.indexOf('\n', at + CHUNK_CHARS);
    const end = cut < 0 ? text.length : cut + 1;
    const lexed = lex(at === 0 && end === text.length ? text : text.slice(at, end), words, at);
    at = end;
    if (lexed.problems.length > 0 || brackets.scan(lexed.tokens) !== undefined || expressions.scan(lexed.tokens)) {
      unlexed = true;
      throw UNLEXED;
    }
    for (const c of lexed.comments) {
      comments.push(c);
      // Docs are taken by the declarations that follow them: those are lexed after them.
      if (isDocToken(c)) docTokens.push(c);
    }
    return lexed.tokens;
  };
  let first: IToken[] | undefined;
  try {
    first = next();
  } catch {
    return 'unlexed';
  }
  const docs = new DocComments(docTokens);
  const builder = new AstActions(file, text, index, docs, parseExpressionTokens);
  builder.words = words;
  builder.stringsClosed = true;
  const module = parseModuleAst(first ?? [], builder, { releaseTokens: true, feed: next });
  if (unlexed) return 'unlexed';
  if (typeof module === 'string') return module;
  if (at < text.length) return 'unlexed'; // not expected: a parse that ends reads to the end of the file
  if (!builder.diagnostics.every((d) => builder.wholeTree.has(d))) return 'other';
  const diagnostics = capDiagnostics([...builder.diagnostics].sort(compareDiagnostics));
  const whole = { ...module, comments: commentsOf(comments, docs, index) };
  if (diagnostics.length > 0) wholeTreeModules.add(whole);
  return { module: whole, diagnostics };
}

/** A `///` comment (not `////`): one that may document what follows it. */
function isDocToken(c: IToken): boolean {
  return c.tokenType === DocComment && !c.image.startsWith('////');
}

/** Thrown by a chunked lex's feed to end the parse (parseModuleAst turns it into a failure). */
const UNLEXED = new Error('a chunk of the file has a lexical problem');

/** Comments of the module: every comment but the doc comments a declaration took. */
function commentsOf(all: readonly IToken[], docs: DocComments, index: LineIndex): Comment[] {
  return all
    .filter((c) => !(c.tokenType === DocComment && docs.isTaken(c)))
    .map((c) => ({
      kind: 'Comment',
      style: c.tokenType === BlockComment || c.tokenType === UnterminatedBlockComment ? 'block' : 'line',
      text: c.image,
      range: index.range(c.startOffset, c.endOffset! + 1),
    }));
}
