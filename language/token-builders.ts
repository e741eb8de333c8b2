/**
 * The first layer of the shared builders (node-builders.ts): ranges, names, reported errors,
 * properties given twice, doc comments, and literals from their tokens (numbers, durations,
 * money, percentages, a quantity of the unit a property wants).
 */
import type { IToken, TokenType } from 'chevrotain';
import type * as A from './ast.js';
import { diagnostic, type Diagnostic, type Range } from './diagnostic.js';
import { isMissing, need, MISSING } from './cst-access.js';
import type { DocComments } from './doc-comments.js';
import { DurationTok, MoneyTok, NumberTok, PercentTok, StringTok } from './lexer.js';
import { endOffset, startOffset, type LineIndex } from './source.js';
import type { PropertyBag } from './builder-support.js';

/** What each number token is, for `unitLit`'s messages. */
const QUANTITY_WORDS = new Map<TokenType, { unit: 'number' | 'duration' | 'money' | 'percent'; what: string; example: string }>([
  [NumberTok, { unit: 'number', what: 'a number', example: 'a number' }],
  [DurationTok, { unit: 'duration', what: 'a duration', example: 'a duration (e.g. 30s)' }],
  [MoneyTok, { unit: 'money', what: 'an amount of money', example: 'an amount of money (e.g. 0.05usd)' }],
  [PercentTok, { unit: 'percent', what: 'a percentage', example: 'a percentage (e.g. 80%)' }],
]);

/** What continues an expression right after a word (`.g`, `(x)`, `[0]`), glued to it. */
const EXPRESSION_TAIL = /(?:\.[A-Za-z_]\w*|\([^()\n]*\)|\[[^[\]\n]*\])+/y;

export abstract class TokenBuilders {
  readonly diagnostics: Diagnostic[] = [];

  protected inSimulate = false;

  /**
   * The file's words, from its lex (parse.ts sets them): a name in a `${…}` interpolation is then
   * the string its other occurrences are, not a copy per string of a large plan.
   */
  words: Map<string, string> | undefined;

  /** `word` as the file's one string for it. */
  protected shared(word: string): string {
    const words = this.words;
    if (words === undefined) return word;
    const seen = words.get(word);
    if (seen !== undefined) return seen;
    words.set(word, word);
    return word;
  }

  /** Building the fields of a `context` block (`max_age` and `hold` are allowed). */
  protected inContext = false;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly index: LineIndex,
    protected readonly docs: DocComments,
    /** Offsets of the syntax errors already reported, sorted (to avoid piling on). */
    protected readonly syntaxErrorOffsets: readonly number[] = [],
  ) {}

  /** A string literal; `${…}` parts are parsed as expressions (that takes the expression parser). */
  abstract stringLit(t: IToken | undefined, allowInterpolation?: boolean): A.StringLit;

  /** Whether a syntax error was reported inside [start, end). */
  protected hasSyntaxErrorIn(start: number, end: number): boolean {
    return this.syntaxErrorOffsets.some((o) => o >= start && o < end);
  }

  range(start: number, end: number): Range {
    return this.index.range(start, end);
  }

  tokRange(t: IToken): Range {
    return this.range(t.startOffset, t.endOffset! + 1);
  }

  join(a: { range: Range }, b: { range: Range }): Range {
    return this.index.join(a.range, b.range);
  }

  error(message: string, range: Range): void {
    this.diagnostics.push(diagnostic('E0001', message, this.file, range));
  }

  ident(t: IToken | undefined): A.Ident {
    const tok = need(t);
    return this.index.named('Ident', tok.image, tok.startOffset, tok.endOffset! + 1);
  }

  /** A record literal's key: a name, or a string for a key that is none (`"content-type"`). */
  fieldKey(t: IToken | undefined): A.Ident {
    const tok = need(t);
    if (tok.tokenType !== StringTok) return this.ident(tok);
    return this.index.named('Ident', this.plainString(tok), tok.startOffset, tok.endOffset! + 1);
  }

  qualified(parts: readonly IToken[]): A.QualifiedName {
    if (parts.length === 0) throw MISSING;
    const ids = parts.map((t) => this.ident(t));
    // A one-part name's range is its part's (the same object): one range less per call of a large plan.
    return { kind: 'QualifiedName', parts: ids, range: ids.length === 1 ? ids[0]!.range : this.join(ids[0]!, ids[ids.length - 1]!) };
  }

  /** An enum word such as `kind agent`; an unknown word is an E0001 listing the allowed ones. */
  word<T extends string>(t: IToken | undefined, allowed: readonly T[], what: string): T | undefined {
    const tok = need(t);
    if ((allowed as readonly string[]).includes(tok.image)) return tok.image as T;
    const after = tok.endOffset! + 1;
    EXPRESSION_TAIL.lastIndex = after;
    const tail = EXPRESSION_TAIL.exec(this.text)?.[0];
    if (tail === undefined) {
      this.error(`unknown ${what} '${tok.image}' (expected one of: ${allowed.join(', ')})`, this.tokRange(tok));
      return undefined;
    }
    // `priority input.g`: an expression where only a word goes. The parser stops after the word and
    // takes the rest for junk; said once here, over the whole expression, and the junk not again.
    this.error(`a ${what} is a word (one of: ${allowed.join(', ')}), not an expression such as '${tok.image}${tail}'`, this.range(tok.startOffset, after + tail.length));
    this.absorbedJunk.push(after);
    return undefined;
  }

  /** Where junk starts that a diagnostic of this builder already covers (parse.ts drops its own report). */
  readonly absorbedJunk: number[] = [];

  /** Sets `d[field]` to an enum word; an unknown word is reported and leaves the field unset. */
  setWord<D, K extends keyof D>(d: D, field: K, t: IToken | undefined, allowed: readonly Extract<D[K], string>[], what: string): void {
    const w = this.word(t, allowed, what);
    if (w !== undefined) d[field] = w;
  }

  newBag(owner: string): PropertyBag {
    return { owner, seen: new Map() };
  }

  /** Records that property `key` was given at [start, end); false (and an E0102) when given before. */
  firstTime(bag: PropertyBag, key: string, start: number, end: number): boolean {
    const seen = bag.seen.get(key);
    if (seen) {
      const first = this.range(seen[0], seen[1]);
      this.diagnostics.push(
        diagnostic('E0102', `'${key}' is given twice in ${bag.owner} (first on line ${first.start.line})`, this.file, this.range(start, end), {
          related: [{ message: `first '${key}' here`, file: this.file, range: first }],
        }),
      );
      return false;
    }
    bag.seen.set(key, [start, end]);
    return true;
  }

  firstTimeAt(bag: PropertyBag, key: string, r: Range): boolean {
    return this.firstTime(bag, key, startOffset(r), endOffset(r));
  }

  /** Runs `f`; a missing part drops just this item. */
  attempt<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  doc(startOffset: number): string | undefined {
    return this.docs.take(startOffset, this.text);
  }

  /** Gives `d` the doc comment before `start`, if any. */
  withDoc<T extends { doc?: string }>(d: T, start: number): T {
    const doc = this.doc(start);
    if (doc !== undefined) d.doc = doc;
    return d;
  }

  /** A top-level declaration takes the doc comment before it (spread last). */
  declarationOf(d: A.Declaration, start: number): A.Declaration {
    const doc = this.doc(start);
    return doc === undefined ? d : { ...d, doc };
  }

  /** A whole number ≥ 0; with `key`, a value of another unit is E0203 first (see `plainNumber`). */
  integer(t: IToken | undefined, what: string, key?: string): A.NumberLit {
    if (key !== undefined && this.otherUnit(t)) return this.plainNumber(t, key);
    const lit = this.numberLit(t);
    if (!lit.integer || lit.value < 0) this.error(`${what} must be a whole number, found '${need(t).image}'`, lit.range);
    return lit;
  }

  /**
   * A property or clause that takes a plain number (`retry 3`, `max 4`, `temperature 0.2`). The
   * grammar takes any number there, so that a duration, an amount of money or a percentage is a
   * unit mismatch, E0203 at the value (LANGUAGE.md §5, "number" is a unit), as `unitLit` makes
   * one of the other units. Its digits are kept, so that nothing else is reported for the value
   * (a loop's missing bound) and the block around it stays.
   */
  plainNumber(t: IToken | undefined, key: string): A.NumberLit {
    const tok = need(t);
    const found = this.otherUnit(tok);
    if (!found) return this.numberLit(tok);
    this.diagnostics.push(diagnostic('E0203', `'${key}' needs a number, found ${found.what} '${tok.image}'`, this.file, this.tokRange(tok)));
    const digits = /^-?\d+(?:\.\d+)?/.exec(tok.image)?.[0] ?? '0';
    return { kind: 'NumberLit', value: Number(digits), integer: !digits.includes('.'), range: this.tokRange(tok) };
  }

  /** The unit of a quantity token that is not a plain number (`2s`, `1usd`, `5%`), if it is one. */
  private otherUnit(t: IToken | undefined): { what: string } | undefined {
    const found = t && QUANTITY_WORDS.get(t.tokenType);
    return found && found.unit !== 'number' ? found : undefined;
  }

  numberLit(t: IToken | undefined): A.NumberLit {
    const tok = need(t);
    const digits = tok.image.startsWith('-') ? tok.image.slice(1) : tok.image;
    this.checkMagnitude(digits, tok);
    return { kind: 'NumberLit', value: numberValue(tok.image), integer: !tok.image.includes('.'), range: this.tokRange(tok) };
  }

  /** `-` and a number as one number token spanning both (a signed property value: `temperature -0.1`). */
  signed(minus: IToken | undefined, n: IToken): IToken {
    if (!minus) return n;
    // Named, not spread: a lexer token's end offset and type index are getters on its class,
    // which a spread would leave behind (the range then ran to the end of the file).
    return {
      ...n,
      image: `-${n.image}`,
      startOffset: minus.startOffset,
      endOffset: n.endOffset,
      tokenTypeIdx: n.tokenTypeIdx,
      startLine: minus.startLine,
      startColumn: minus.startColumn,
    };
  }

  /**
   * Numbers are IEEE doubles: a whole part beyond 2^53 − 1 would silently change (and `orch fmt`
   * would rewrite it), so it is an E0001 rather than a different number.
   */
  protected checkMagnitude(digits: string, tok: IToken): void {
    // The whole part's significant digits, counted in place: every number literal of a file
    // passes here, and a match and a stripped copy of it were two strings each.
    let end = 0;
    while (end < digits.length && isDigit(digits.charCodeAt(end))) end++;
    let from = 0;
    while (from < end && digits.charCodeAt(from) === 48 /* 0 */) from++;
    const length = end - from;
    if (length > 16 || (length === 16 && Number(digits.slice(from, end)) > Number.MAX_SAFE_INTEGER)) {
      this.error(`number '${tok.image.length > 40 ? `${tok.image.slice(0, 40)}…` : tok.image}' is too large: whole parts above 9007199254740991 (2^53 - 1) cannot be represented exactly`, this.tokRange(tok));
    }
  }

  durationLit(t: IToken | undefined): A.DurationLit {
    const tok = need(t);
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(tok.image);
    if (!m) throw MISSING;
    this.checkMagnitude(m[1]!, tok);
    return { kind: 'DurationLit', value: Number(m[1]), unit: m[2] as A.DurationUnit, range: this.tokRange(tok) };
  }

  moneyLit(t: IToken | undefined): A.MoneyLit {
    const tok = need(t);
    const m = /^(\d+(?:\.\d+)?)([a-z]{3})$/.exec(tok.image);
    if (!m) throw MISSING;
    this.checkMagnitude(m[1]!, tok);
    return { kind: 'MoneyLit', amount: Number(m[1]), currency: m[2]!, range: this.tokRange(tok) };
  }

  percentLit(t: IToken | undefined): A.PercentLit {
    const tok = need(t);
    this.checkMagnitude(tok.image, tok);
    return { kind: 'PercentLit', value: Number(tok.image.slice(0, -1)), range: this.tokRange(tok) };
  }

  /**
   * A property's quantity (`timeout 30s`, `cost 0.01usd`, `reliability 99%`). The grammar takes
   * any number there, so that one of another unit (`timeout 3usd`, `deadline 10`) is a unit
   * mismatch, E0203 at the value naming the unit the property needs (LANGUAGE.md §5), rather
   * than a syntax error. The property is then left out, as after any error in its value.
   */
  unitLit(t: IToken | undefined, key: string, unit: 'duration'): A.DurationLit;

  unitLit(t: IToken | undefined, key: string, unit: 'money'): A.MoneyLit;

  unitLit(t: IToken | undefined, key: string, unit: 'percent'): A.PercentLit;

  unitLit(t: IToken | undefined, key: string, unit: 'duration' | 'money' | 'percent'): A.DurationLit | A.MoneyLit | A.PercentLit {
    const tok = need(t);
    const found = QUANTITY_WORDS.get(tok.tokenType);
    if (found?.unit === unit) return unit === 'duration' ? this.durationLit(tok) : unit === 'money' ? this.moneyLit(tok) : this.percentLit(tok);
    // Not a number of a known unit (`5min`): the lexer has said so.
    if (!found) throw MISSING;
    const wanted = [...QUANTITY_WORDS.values()].find((w) => w.unit === unit)!;
    this.diagnostics.push(diagnostic('E0203', `'${key}' needs ${wanted.example}, found ${found.what} '${tok.image}'`, this.file, this.tokRange(tok)));
    throw MISSING;
  }

  /**
   * A simulate `latency` or `cost` that is not a literal of its unit: one of another unit (or a
   * range of them) is a unit mismatch (E0203, `unit`), anything else a syntax error (`other`).
   */
  protected quantityError(e: A.Expr, unit: string, other: string): void {
    const quantity = (x: A.Expr) => x.kind === 'NumberLit' || x.kind === 'DurationLit' || x.kind === 'MoneyLit' || x.kind === 'PercentLit';
    if (quantity(e) || (e.kind === 'RangeExpr' && quantity(e.from) && quantity(e.to))) {
      const found = this.text.slice(startOffset(e.range), endOffset(e.range));
      this.diagnostics.push(diagnostic('E0203', `${unit}, found '${found}'`, this.file, e.range));
    } else this.error(other, e.range);
  }

  numericLiteral(t: IToken): A.Expr {
    switch (t.tokenType) {
      case NumberTok: return this.numberLit(t);
      case DurationTok: return this.durationLit(t);
      case MoneyTok: return this.moneyLit(t);
      case PercentTok: return this.percentLit(t);
      default: throw MISSING; // a bad unit, already reported by the lexer
    }
  }

  /** Plain text of a string that must not interpolate (enum values, invariant names, paths). */
  plainString(t: IToken | undefined): string {
    const lit = this.stringLit(t, false);
    return lit.parts.filter((p): p is string => typeof p === 'string').join('');
  }
}

/** An ASCII digit (what `\d` matches). */
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * A number token's value. One the lexer reported (`3A`: a unit it does not know, E0001) counts
 * as its digits, as `plainNumber` counts a value of another unit: a file with errors still
 * lowers to finite numbers (NaN would be a `null` in the IR, which its schema refuses).
 */
function numberValue(image: string): number {
  const v = Number(image);
  if (Number.isFinite(v)) return v;
  const digits = Number(/^-?\d+(?:\.\d+)?/.exec(image)?.[0] ?? '0');
  return Number.isFinite(digits) ? digits : 0;
}
