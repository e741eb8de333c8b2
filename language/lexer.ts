/**
 * The `.orch` lexer (Chevrotain). Keywords are "soft": every keyword token also belongs to the
 * `Name` category, so wherever the grammar accepts a name (record keys, field names, member
 * access, argument names, step names) a keyword is accepted too — `cost`, `input`, `kind`, `step`
 * stay usable as names. Only the expression operators `and or not in implies` and the literals
 * `true false null` are fully reserved.
 *
 * Numbers with a suffix (`30s`, `0.05usd`, `80%`) are single tokens so the grammar can demand a
 * duration or an amount of money where the AST needs one. `1..800` lexes as `1` `..` `800`.
 */
import type { CustomPatternMatcherFunc, ILexingResult, IToken, TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

// ───────────── categories ─────────────

/** Anything usable as a name: identifiers and every soft keyword. */
export const Name = createToken({ name: 'Name', pattern: Lexer.NA, label: 'a name' });
/**
 * Anything usable as a field name (LANGUAGE.md §2): every name and every keyword, reserved words
 * included — after a `.`, as a field of a record type or literal and as an argument name
 * (`output { in: string }`, `x.output.not`, `f(true: 1)`).
 */
export const FieldName = createToken({ name: 'FieldName', pattern: Lexer.NA, label: 'a name' });
/** Every numeric literal (plain, duration, money, percent), for expression position. */
export const AnyNumber = createToken({ name: 'AnyNumber', pattern: Lexer.NA, label: 'a number' });

export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [Name, FieldName],
  label: 'a name',
});

// ───────────── keywords ─────────────

export const SOFT_KEYWORDS = [
  'module', 'import', 'as', 'type', 'capability', 'resource', 'policy', 'guardrail', 'context',
  'plan', 'trigger', 'invariant', 'simulate',
  'kind', 'input', 'output', 'handler', 'timeout', 'retry', 'backoff', 'max', 'cost', 'latency',
  'data', 'consent', 'requires', 'idempotent', 'destructive', 'from', 'mcp',
  'system', 'prompt', 'model', 'temperature', 'max_tokens', 'endpoint',
  'provides', 'concurrency', 'reliability', 'location', 'energy',
  'strategy', 'weights', 'budget', 'prefer', 'max_fallbacks', 'require_consent', 'rate_limit', 'per',
  'severity', 'category', 'message', 'forbid', 'step', 'where', 'require', 'before', 'after',
  'assert', 'check',
  'goal', 'guardrails', 'priority', 'deadline', 'on_failure', 'for', 'each', 'parallel', 'wait',
  'until', 'run', 'success', 'on', 'fallback', 'compensate', 'join', 'race', 'repeat',
  'schedule', 'timezone', 'event', 'manual', 'api', 'when', 'with', 'debounce',
  'always', 'never', 'eventually', 'fail',
  // v0.4: tests of plans (§9.2), integrity (§9.3), an always-fresh context (§9.4).
  'test', 'captured_from', 'ir_hash', 'started_by', 'mock', 'returns', 'then', 'fails', 'times', 'usage',
  'approve', 'reject', 'by', 'at', 'signal', 'expect',
  'trust', 'endorses', 'accepts',
  'max_age', 'hold', 'source', 'topic', 'sets', 'available', 'stale',
] as const;
export type SoftKeyword = (typeof SOFT_KEYWORDS)[number];

export const RESERVED_WORDS = ['and', 'or', 'not', 'in', 'implies', 'true', 'false', 'null'] as const;
export type ReservedWord = (typeof RESERVED_WORDS)[number];

/**
 * Keywords are not matched by the lexer: `Identifier` matches every word and `lex` then looks
 * the word up (one regex + one map lookup per word, instead of trying ~100 keyword patterns).
 */
function keyword(word: string, categories: TokenType[]): TokenType {
  return createToken({ name: `Kw_${word}`, pattern: Lexer.NA, categories, label: `'${word}'` });
}

export const K = Object.fromEntries(SOFT_KEYWORDS.map((w) => [w, keyword(w, [Name, FieldName])])) as Record<
  SoftKeyword,
  TokenType
>;
export const R = Object.fromEntries(RESERVED_WORDS.map((w) => [w, keyword(w, [FieldName])])) as Record<
  ReservedWord,
  TokenType
>;

// ───────────── literals ─────────────

const NUMBER_WITH_SUFFIX = /\d+(?:\.\d+)?(?:[A-Za-z_][A-Za-z0-9_]*|%)?/y;
const DURATION_UNITS = new Set(['ms', 's', 'm', 'h', 'd']);
/** Three-letter words that look like a currency but are almost certainly a mistyped time unit. */
const NOT_CURRENCIES = new Set(['min', 'sec', 'day', 'hrs', 'yrs']);

export type NumberClass = 'number' | 'duration' | 'money' | 'percent' | 'bad';

export function classifyNumberSuffix(suffix: string): NumberClass {
  if (suffix === '') return 'number';
  if (suffix === '%') return 'percent';
  if (DURATION_UNITS.has(suffix)) return 'duration';
  if (/^[a-z]{3}$/.test(suffix) && !NOT_CURRENCIES.has(suffix)) return 'money';
  return 'bad';
}

/** The five numeric token types try the same text in turn; classify each position once. */
let memoText = '';
let memoOffset = -1;
let memoMatch: RegExpExecArray | null = null;
let memoClass: NumberClass = 'number';

function numberMatcher(wanted: NumberClass): CustomPatternMatcherFunc {
  return (text, offset) => {
    if (offset !== memoOffset || text !== memoText) {
      memoText = text;
      memoOffset = offset;
      NUMBER_WITH_SUFFIX.lastIndex = offset;
      memoMatch = NUMBER_WITH_SUFFIX.exec(text);
      if (memoMatch) {
        let i = 0;
        const s = memoMatch[0];
        while (i < s.length && ((s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) || (s[i] === '.' && i + 1 < s.length && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57))) i++;
        memoClass = classifyNumberSuffix(s.slice(i));
      }
    }
    if (memoMatch === null || memoClass !== wanted) return null;
    // The five matchers' classes exclude each other: this one's match is the token.
    if (wanted === 'bad') flagged?.push(offset);
    return memoMatch;
  };
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

function numberToken(name: string, wanted: NumberClass, label: string): TokenType {
  return createToken({
    name,
    pattern: numberMatcher(wanted),
    start_chars_hint: DIGITS,
    line_breaks: false,
    categories: [AnyNumber],
    label,
  });
}

export const NumberTok = numberToken('Number', 'number', 'a number');
export const DurationTok = numberToken('Duration', 'duration', 'a duration (e.g. 30s)');
export const MoneyTok = numberToken('Money', 'money', 'an amount of money (e.g. 0.05usd)');
export const PercentTok = numberToken('Percent', 'percent', 'a percentage (e.g. 80%)');
/** `5min`, `3days`: lexed as one token so the error names the unit; reported by `lex`. */
export const BadNumberTok = numberToken('BadNumber', 'bad', 'a number');

/**
 * Matches a whole string literal including any `${ … }` interpolations (which may themselves
 * contain strings and braces). An unterminated string ends at the line end; `lex` reports it
 * from `flagged`, so the post-pass does not scan every string a second time.
 */
const matchString: CustomPatternMatcherFunc = (text, offset) => {
  const q = text.charCodeAt(offset);
  if (q === 39 /* ' */ || q === 96 /* ` */) return singleQuoted(text, offset, q);
  if (q !== 34 /* " */) return null;
  const end = scanNested(text, offset + 1, false);
  if (!scanClosed) flagged?.push(offset);
  const m = [text.slice(offset, end)] as unknown as RegExpExecArray;
  return m;
};

/**
 * `'text'` or `` `text` ``, as other languages write a string, closed on its line: one string
 * token, reported once (`lex` says to write double quotes) and read as the string it means, so its
 * text is not also a name to resolve. An unclosed one is no token (an unexpected character).
 */
function singleQuoted(text: string, offset: number, quote: number): RegExpExecArray | null {
  let i = offset + 1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) break;
    if (c === 10 || c === 13) return null;
  }
  if (i >= text.length) return null;
  flagged?.push(offset);
  return [text.slice(offset, i + 1)] as unknown as RegExpExecArray;
}

/** Whether a string token is written in other quotes than `"` (`'text'`, reported by `lex`). */
export function isSingleQuoted(image: string): boolean {
  return image.charCodeAt(0) !== 34;
}

/**
 * Start offsets, in order, of the tokens of the current `lex` it must report: unterminated
 * strings, single-quoted ones and numbers with an unknown unit. The matchers note them, so that a clean file's
 * tokens are not walked again to find none.
 */
let flagged: number[] | undefined;

/** Returns the offset just past the string starting at `start` (a `"`). */
export function scanString(text: string, start: number): number {
  return scanNested(text, start + 1, false);
}

/** Whether a string token's image ends with its (unescaped) closing quote. */
export function isTerminatedString(image: string): boolean {
  const end = scanNested(image, 1, false);
  return scanClosed && end === image.length;
}

/** Skips an interpolation body starting just after `${`; returns the offset after its `}`. */
export function scanInterpolation(text: string, start: number): number {
  return scanNested(text, start, true);
}

/**
 * Whether the last `scanNested` ended at a closing quote. A module flag rather than a returned
 * `{ end, closed }`: every string of a file is scanned, and the pair was an allocation each time.
 */
let scanClosed = false;

/**
 * Scans a string body (or, with `inInterpolation`, an interpolation body) from `i` to where it
 * ends; returns that offset and sets `scanClosed`. Iterative, with an explicit stack of open
 * interpolations (their brace depths), so that strings nested in `${…}` thousands deep cannot
 * exhaust the call stack. Char codes throughout: this runs over every character of every string.
 */
function scanNested(text: string, i: number, inInterpolation: boolean): number {
  // Open interpolations' brace depths; allocated only when a string has one.
  let braces: number[] | undefined;
  // The opening quotes of the strings open inside interpolations; allocated only when there are.
  let quotes: number[] | undefined;
  // Per open interpolation (by depth), its first quote (-1: none yet) and how many quotes had been
  // scanned before it (`seen`); allocated with `quotes`. See `closesAtFirst`.
  let firsts: number[] | undefined;
  let counts: number[] | undefined;
  let seen = 0;
  let inString = !inInterpolation;
  if (inInterpolation) braces = [1];
  const base = inInterpolation ? 1 : 0;
  const n = text.length;
  for (;;) {
    if (inString) {
      let end = -1;
      let closed = false;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 34 /* " */) {
          end = i + 1;
          closed = true;
          break;
        }
        if (c === 10 /* \n */ || c === 13 /* \r */) {
          end = i;
          break;
        }
        if (c === 92 /* \\ */) {
          const d = text.charCodeAt(i + 1);
          if (d === 10 || d === 13) {
            end = i + 1;
            break;
          }
          i += 2;
          continue;
        }
        if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 123 /* { */) break;
        i++;
      }
      if (end < 0 && i >= n) end = Math.min(i, n);
      if (end < 0) {
        // `${`: into an interpolation. A first one makes the stack of its one depth, exactly
        // (an empty list pushed to reserves 17 slots, and most strings open one).
        if (braces === undefined) braces = [1];
        else braces.push(1);
        if (firsts !== undefined) firsts[braces.length - 1] = -1;
        i += 2;
        inString = false;
        continue;
      }
      if (braces === undefined || braces.length === 0) {
        scanClosed = closed;
        return end;
      }
      let quote = quotes!.pop()!;
      // Back in the interpolation around the string; an unterminated string ends it too.
      i = end;
      inString = false;
      if (closed) {
        seen++;
        continue;
      }
      // `"a ${x", n: {a: 1})`: the string opened in the interpolation runs to the line end. When the
      // quotes after the interpolation's first one pair up, that first quote is the one that ends
      // the string around it (its `}` forgotten): one mistake, one diagnostic, and what follows
      // parses. Otherwise `"x ${"`: no `}` after the quote on its line, so the interpolation can
      // never close there; the quote is the one that ends the string around it.
      const top = braces.length - 1;
      const first = firsts![top]!;
      const closesAtFirst = first >= 0 && (seen - counts![top]!) % 2 === 1;
      if (closesAtFirst) quote = first;
      const brace = closesAtFirst ? -1 : text.indexOf('}', quote + 1);
      if (brace < 0 || brace >= end) {
        braces!.pop();
        if (braces!.length < base) {
          scanClosed = false;
          return quote;
        }
        if (braces!.length === 0) {
          scanClosed = true;
          return quote + 1;
        }
        quotes!.pop();
        i = quote + 1;
        continue;
      }
    } else {
      let nested = false;
      const top = braces!.length - 1;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 10 || c === 13) break;
        if (c === 34) {
          nested = true;
          break;
        }
        if (c === 123 /* { */) braces![top]!++;
        if (c === 125 /* } */ && --braces![top]! === 0) {
          i++;
          break;
        }
        i++;
      }
      if (nested) {
        if (quotes === undefined) {
          quotes = [i];
          firsts = [];
          counts = [];
        } else quotes.push(i);
        if (!(firsts![top]! >= 0)) {
          firsts![top] = i;
          counts![top] = seen;
        }
        seen++;
        i++; // past the quote: scan the nested string
        inString = true;
        continue;
      }
    }
    // The innermost interpolation ends at i (its `}`, a line end or the end of the text).
    braces!.pop();
    if (braces!.length < base) {
      scanClosed = false;
      return i;
    }
    inString = true;
  }
}

export const StringTok = createToken({
  name: 'String',
  pattern: matchString,
  start_chars_hint: ['"', "'", '`'],
  line_breaks: false,
  label: 'a string',
});

// ───────────── comments and whitespace ─────────────

export const DocComment = createToken({
  name: 'DocComment',
  pattern: /\/\/\/[^\n\r]*/,
  group: 'comments',
});
export const LineComment = createToken({
  name: 'LineComment',
  pattern: /\/\/[^\n\r]*/,
  group: 'comments',
});
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  line_breaks: true,
  group: 'comments',
});
export const UnterminatedBlockComment = createToken({
  name: 'UnterminatedBlockComment',
  pattern: /\/\*[\s\S]*/,
  line_breaks: true,
  group: 'comments',
});
export const Whitespace = createToken({
  name: 'Whitespace',
  pattern: /[ \t\r\n\f\v\uFEFF]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

// ───────────── punctuation and operators ─────────────

function punct(name: string, pattern: string | RegExp, label: string): TokenType {
  return createToken({ name, pattern, label: `'${label}'` });
}

export const LCurly = punct('LCurly', '{', '{');
export const RCurly = punct('RCurly', '}', '}');
export const LParen = punct('LParen', '(', '(');
export const RParen = punct('RParen', ')', ')');
export const LBracket = punct('LBracket', '[', '[');
export const RBracket = punct('RBracket', ']', ']');
export const Comma = punct('Comma', ',', ',');
export const Colon = punct('Colon', ':', ':');
export const DotDot = punct('DotDot', '..', '..');
export const Dot = punct('Dot', '.', '.');
export const EqEq = punct('EqEq', '==', '==');
export const NotEq = punct('NotEq', '!=', '!=');
export const LtEq = punct('LtEq', '<=', '<=');
export const GtEq = punct('GtEq', '>=', '>=');
export const Lt = punct('Lt', '<', '<');
export const Gt = punct('Gt', '>', '>');
export const Assign = punct('Assign', '=', '=');
export const Plus = punct('Plus', '+', '+');
export const Minus = punct('Minus', '-', '-');
export const Star = punct('Star', '*', '*');
export const Slash = punct('Slash', '/', '/');
export const PercentOp = punct('PercentOp', '%', '%');
export const QuestionQuestion = punct('QuestionQuestion', '??', '??');
export const Question = punct('Question', '?', '?');
export const At = punct('At', '@', '@');
export const Pipe = punct('Pipe', '|', '|');

const keywordTokens = [...Object.values(K), ...Object.values(R)];
const KEYWORD_BY_WORD = new Map<string, TokenType>([
  ...SOFT_KEYWORDS.map((w) => [w, K[w]] as const),
  ...RESERVED_WORDS.map((w) => [w, R[w]] as const),
]);

export const ALL_TOKENS: TokenType[] = [
  Whitespace,
  DocComment,
  LineComment,
  BlockComment,
  UnterminatedBlockComment,
  StringTok,
  PercentTok,
  DurationTok,
  MoneyTok,
  BadNumberTok,
  NumberTok,
  ...keywordTokens,
  Identifier,
  LCurly, RCurly, LParen, RParen, LBracket, RBracket, Comma, Colon,
  DotDot, Dot, EqEq, NotEq, LtEq, GtEq, Lt, Gt, Assign, Plus, Minus, Star, Slash, PercentOp,
  QuestionQuestion, Question, At, Pipe,
  // Categories last: they never match text themselves.
  Name,
  FieldName,
  AnyNumber,
];

/** Keywords that start a top-level declaration. */
export const DECLARATION_KEYWORDS: readonly SoftKeyword[] = [
  'module', 'import', 'type', 'capability', 'resource', 'policy', 'guardrail', 'context', 'plan',
  'trigger', 'invariant', 'simulate', 'test', 'source',
];
/**
 * Recovery categories. `TopJunk`: any token that cannot start a declaration (consumed at the
 * top level so a stray token does not end the parse). `Junk`: the same minus braces (consumed
 * inside blocks, so an unknown property does not hide the rest of its block).
 */
export const TopJunk = createToken({ name: 'TopJunk', pattern: Lexer.NA, label: 'a declaration' });
export const Junk = createToken({ name: 'Junk', pattern: Lexer.NA, label: 'a property' });
/** Declaration keywords; inside a block they are junk unless a declaration really starts there. */
export const DeclWord = createToken({ name: 'DeclWord', pattern: Lexer.NA, label: 'a declaration keyword' });
{
  const starters = new Set(DECLARATION_KEYWORDS.map((w) => K[w]));
  for (const t of starters) t.CATEGORIES!.push(DeclWord);
  ALL_TOKENS.push(DeclWord);
  for (const t of ALL_TOKENS) {
    // Skip comments, whitespace and the categories (keywords have no pattern but are real tokens).
    if (t.GROUP !== undefined || t === Name || t === FieldName || t === AnyNumber || starters.has(t)) continue;
    (t.CATEGORIES ??= []).push(TopJunk);
    if (t !== LCurly && t !== RCurly) t.CATEGORIES.push(Junk);
  }
  ALL_TOKENS.push(TopJunk, Junk);
}

/** Operator categories for the flat expression rule (`-` is both). */
export const BinaryOp = createToken({ name: 'BinaryOp', pattern: Lexer.NA, label: 'an operator' });
export const PrefixOp = createToken({ name: 'PrefixOp', pattern: Lexer.NA, label: "'not' or '-'" });
{
  const binary = [R.implies, R.or, R.and, EqEq, NotEq, LtEq, GtEq, Lt, Gt, R.in, QuestionQuestion, Plus, Minus, Star, Slash, PercentOp];
  for (const t of binary) (t.CATEGORIES ??= []).push(BinaryOp);
  for (const t of [R.not, Minus]) (t.CATEGORIES ??= []).push(PrefixOp);
  ALL_TOKENS.push(BinaryOp, PrefixOp);
}

export const orchLexer = new Lexer(ALL_TOKENS, {
  positionTracking: 'onlyOffset',
  ensureOptimizations: false,
  skipValidations: !process.env.ORCH_VALIDATE_GRAMMAR,
});

/**
 * One string per distinct word during a `lex`: every occurrence of a name (`output`, a step's
 * name) is otherwise its own copy, in the tokens and then in the AST's names — tens of MB on a
 * 100,000-step file.
 */
let words: Map<string, string> | undefined;

/** The offset in its file of the text being lexed (`lex`'s `base`): added to every token's start. */
let shift = 0;

/**
 * A token of three fields: its end offset follows from its image and its type's index from its
 * type, so neither is stored — 48 bytes instead of 64, for the 1.5 million tokens of a
 * 100,000-step file (the largest part of the parse's peak, before the tokens are released).
 */
class Token implements IToken {
  constructor(
    public image: string,
    public startOffset: number,
    public tokenType: TokenType,
  ) {}

  get tokenTypeIdx(): number {
    return this.tokenType.tokenTypeIdx!;
  }

  get endOffset(): number {
    return this.startOffset + this.image.length - 1;
  }

  /** An end that no longer follows from the image (none of the lexer's own do) is kept as given. */
  set endOffset(end: number) {
    Object.defineProperty(this, 'endOffset', { value: end, writable: true, enumerable: true, configurable: true });
  }
}

/**
 * Tokens are created complete: with their end offset, and a word that is a keyword with its
 * keyword type. Chevrotain's 'onlyOffset' tokens have neither, and adding a property to 150,000
 * objects after the fact gives each one a second allocation (a property backing store) — a
 * large share of the lexer's memory and of the GC work on a big file. `createTokenInstance` is
 * Chevrotain 11's per-instance token factory; if a later version drops it, `lex` completes the
 * tokens itself as before.
 */
const completeTokens = (() => {
  const lexer = orchLexer as unknown as { createTokenInstance?: unknown };
  if (typeof lexer.createTokenInstance !== 'function') return false;
  lexer.createTokenInstance = (image: string, startOffset: number, tokenTypeIdx: number, tokenType: TokenType): IToken => {
    let kw: TokenType | undefined;
    if (tokenType === Identifier) {
      const seen = words?.get(image);
      if (seen !== undefined) image = seen;
      else words?.set(image, image);
      kw = KEYWORD_BY_WORD.get(image);
    }
    return new Token(image, startOffset + shift, kw ?? tokenType);
  };
  return true;
})();

export interface LexProblem {
  readonly offset: number;
  readonly length: number;
  readonly message: string;
}

export interface LexOutput {
  readonly tokens: IToken[];
  /** Comment tokens (line, block and doc) in source order. */
  readonly comments: IToken[];
  readonly problems: LexProblem[];
  /** Each distinct word of the text, once (the tokens' images are these strings). */
  readonly words: Map<string, string>;
}

/**
 * Tokenizes `text`; never throws. Lexical problems are returned, not raised. `shared`: the words
 * of the text this one is part of (a `${…}` interpolation's, or the file's when it is lexed in
 * chunks), so its names are the same strings. `base`: where `text` starts in its file, when it is
 * a chunk of it: the tokens' and problems' offsets are the file's.
 */
export function lex(text: string, shared?: Map<string, string>, base = 0): LexOutput {
  const seen = (words = shared ?? new Map());
  const marks: number[] = (flagged = []);
  let result: ILexingResult;
  try {
    shift = base;
    result = orchLexer.tokenize(text);
  } finally {
    words = undefined;
    flagged = undefined;
    shift = 0;
  }
  memoText = ''; // release the text held by the number matcher's memo
  memoOffset = -1;
  // 'onlyOffset' tracking records start offsets only; the end is implied by the image.
  // Indexed loops: this runs once per token of the file, mostly before V8 has optimised it, and
  // an unoptimised for…of allocates an iterator result per element.
  const tokens = result.tokens;
  for (let i = 0; !completeTokens && i < tokens.length; i++) {
    const t = tokens[i]!;
    t.startOffset += base;
    t.endOffset = t.startOffset + t.image.length - 1;
    if (t.tokenType === Identifier) {
      const kw = KEYWORD_BY_WORD.get(t.image);
      if (kw) {
        t.tokenType = kw;
        t.tokenTypeIdx = kw.tokenTypeIdx!;
      }
    }
  }
  if (!completeTokens) for (const group of Object.values(result.groups)) {
    for (const t of group) {
      t.startOffset += base;
      t.endOffset = t.startOffset + t.image.length - 1;
    }
  }
  const problems: LexProblem[] = [];
  for (const e of result.errors) {
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length));
    const shown = ch.length > 20 ? `${ch.slice(0, 20)}…` : ch;
    const invisible = invisibleHint(ch);
    problems.push({
      offset: base + e.offset,
      length: Math.max(1, e.length),
      message: invisible ?? `unexpected character${ch.length > 1 ? 's' : ''} '${shown}'${unexpectedHint(ch)}`,
    });
  }
  // The tokens the matchers flagged, found by their offsets (the flags are in token order; a flag
  // at an offset where no token was made is passed over).
  for (let i = 0, k = 0; k < marks.length && i < tokens.length; i++) {
    const t = tokens[i]!;
    while (k < marks.length && base + marks[k]! < t.startOffset) k++;
    if (k === marks.length || t.startOffset !== base + marks[k]!) continue;
    if (t.tokenType === StringTok && isSingleQuoted(t.image)) {
      problems.push({ offset: t.startOffset, length: t.image.length, message: `strings are written in double quotes: ${JSON.stringify(t.image.slice(1, -1))}` });
    } else if (t.tokenType === StringTok) {
      problems.push({ offset: t.startOffset, length: t.image.length, message: 'unterminated string (missing closing ")' });
    } else if (t.tokenType === BadNumberTok) {
      problems.push({ offset: t.startOffset, length: t.image.length, message: badNumberMessage(t.image) });
    }
  }
  // `__proto__` matches the name pattern, but JavaScript objects give it a meaning of their own:
  // a field, input or argument of that name would be dropped from schemas and records unseen.
  // Read after a `.` it is a member of a value (`payload.__proto__`, an absent key: null), fine.
  if (text.includes('__proto__'))
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.image === '__proto__' && t.tokenType === Identifier && tokens[i - 1]?.image !== '.')
        problems.push({ offset: t.startOffset, length: t.image.length, message: "'__proto__' cannot be a name (JavaScript gives it a meaning of its own, so a value stored under it would be lost); rename it" });
    }
  const comments = (result.groups.comments ?? []) as IToken[];
  for (const c of comments) {
    if (c.tokenType === UnterminatedBlockComment) {
      problems.push({ offset: c.startOffset, length: 2, message: "unterminated block comment (missing '*/')" });
    }
  }
  problems.sort((a, b) => a.offset - b.offset);
  return { tokens: result.tokens, comments, problems, words: seen };
}

/**
 * What a number with a suffix that is no unit says. Numbers are integers and decimals (§2):
 * `1_000` and `1e3`, usual elsewhere, are told apart from a misspelt unit and rewritten.
 */
function badNumberMessage(image: string): string {
  const amount = /^\d+(?:\.\d+)?/.exec(image)?.[0] ?? '';
  const suffix = image.slice(amount.length);
  const grouped = /^((?:_\d+)+)(.*)$/.exec(suffix);
  if (grouped) return `'${image}': digit separators are not allowed in numbers; write ${amount}${grouped[1]!.replace(/_/g, '')}${grouped[2]}`;
  const value = /^[eE]\d+$/.test(suffix) ? Number(image) : NaN;
  if (Number.isSafeInteger(value) || (Number.isFinite(value) && !/e/.test(String(value))))
    return `'${image}': exponents are not allowed in numbers; write ${String(value)}`;
  // `12EUR` is how currencies are usually written; Orch's units are lower case.
  const hint = /^[A-Z]{3}$/.test(suffix) ? `currencies are written in lower case: ${amount}${suffix.toLowerCase()}` : 'durations use ms, s, m, h, d; money a 3-letter currency such as usd; percentages %';
  return `unknown unit '${suffix}' in '${image}' (${hint})`;
}

/**
 * A character that shows as nothing or as a plain space — a no-break space pasted from a web page
 * or chat, a zero-width space, a control character — is named by its code point: quoting it would
 * print `' '` and leave the reader to guess.
 */
function invisibleHint(ch: string): string | undefined {
  const first = ch.codePointAt(0)!;
  const char = String.fromCodePoint(first);
  if (!/^[\p{Z}\p{C}]$/u.test(char)) return undefined;
  const code = `U+${first.toString(16).toUpperCase().padStart(4, '0')}`;
  const what =
    char === '\u00A0' || char === '\u202F' ? 'a no-break space; write a plain space'
    : char === '\u2028' || char === '\u2029' ? `a ${char === '\u2028' ? 'line' : 'paragraph'} separator; write a plain newline`
    : /^\p{Zs}$/u.test(char) ? 'a space of another kind; write a plain space'
    : 'an invisible character; delete it';
  return `unexpected character ${code} (${what})`;
}

/** Why a character is not Orch, for the two usual cases: quotes an editor curled, a letter outside ASCII. */
function unexpectedHint(ch: string): string {
  if (/^[\u201C\u201D\u201E\u2018\u2019]/.test(ch)) return ' (strings use straight double quotes: "…")';
  // `'text'` or a template literal, as other languages write strings.
  if (ch.startsWith("'") || ch.startsWith('`')) return ' (strings are written in double quotes: "…")';
  if (/^\p{L}/u.test(ch)) return ' (names are ASCII letters, digits and _; other text goes in a "string")';
  return '';
}
