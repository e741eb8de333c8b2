/**
 * Limits on nesting, so that no input can exhaust the call stack of the recursive phases (the
 * parser, the AST builders, and every later walker of expressions). Flat chains — `a + b + …`,
 * `a ?? b ?? …`, `a.b.c…` — are not nesting: they are built and walked in loops and have no limit.
 * What nests is capped with one E0001 at the construct that goes too deep.
 */
import type { IToken, TokenType } from 'chevrotain';
import { ALL_TOKENS, Identifier, K, LBracket, LCurly, LParen, Lt, Gt, RBracket, RCurly, RParen, StringTok, Dot, Comma, Question, Pipe, PrefixOp, R } from './lexer.js';

/** Brackets `( [ {` and type arguments `list<…>` open at once; no real plan comes close. */
export const MAX_NESTING = 100;

/**
 * Operators nested inside one another in an expression, counted across brackets: `not not …`,
 * `- - …`, `a implies b implies …` (right-associative), operands of ever-higher precedence.
 */
export const MAX_EXPRESSION_DEPTH = 200;

/** Strings inside `${…}` inside strings. */
export const MAX_INTERPOLATION_DEPTH = 16;

export interface NestingLimit {
  /** Index of the token that opens one level too many. */
  readonly index: number;
  readonly message: string;
}

/** The first token that opens bracket or type-argument level MAX_NESTING + 1, if any. */
export function nestingLimit(tokens: readonly IToken[]): NestingLimit | undefined {
  return new BracketScan().scan(tokens);
}

/**
 * `nestingLimit` over a token list that comes in parts (parse.ts lexes a large file a chunk at a
 * time): `scan` carries its state from one part to the next, so the parts give the answer the
 * whole list would; the index it reports counts from the first token of the first part.
 */
export class BracketScan {
  private depth = 0;
  // Type arguments: a `<` right after a name (`list<`), until a token that cannot be part of a
  // type; comparisons (`a < b`) end there too, so they never add up.
  private angles = 0;
  private afterName = false;
  /** Tokens scanned in the parts before. */
  private before = 0;

  scan(tokens: readonly IToken[]): NestingLimit | undefined {
    const cls = classes();
    let { depth, angles, afterName } = this;
    const before = this.before;
    this.before += tokens.length;
    for (let i = 0; i < tokens.length; i++) {
      const c = cls[tokens[i]!.tokenType.tokenTypeIdx!]!;
      if (c & OPEN) {
        if (++depth + angles > MAX_NESTING) return { index: before + i, message: `brackets nested more than ${MAX_NESTING} levels deep; the rest of the file is not parsed` };
      } else if (c & CLOSE) {
        depth = Math.max(0, depth - 1);
      } else if (c & LT && afterName) {
        if (depth + ++angles > MAX_NESTING) return { index: before + i, message: `type arguments nested more than ${MAX_NESTING} levels deep; the rest of the file is not parsed` };
      } else if (c & GT) {
        angles = Math.max(0, angles - 1);
      } else if (!(c & (NAME | IN_TYPE | LT))) {
        angles = 0;
      }
      afterName = (c & NAME) !== 0;
    }
    this.depth = depth;
    this.angles = angles;
    this.afterName = afterName;
    return undefined;
  }
}

/**
 * A bound on how deep the expressions of a token list can nest: each bracket level allows a few
 * precedence levels, each prefix operator and `implies` one more, each interpolation a bracket's
 * worth. Only files over MAX_EXPRESSION_DEPTH by this bound need the exact (top-down) count.
 *
 * What adds nesting is counted per bracket level and dropped when that bracket closes: a closed
 * bracket is one operand, so what nested inside it never nests what follows it (the exact count
 * is a depth too). Summed over the whole file instead, every `"${…}"` of a large plan added up
 * and sent each such file down the slower CST path.
 */
export function mayNestTooDeep(tokens: readonly IToken[]): boolean {
  return new ExpressionScan().scan(tokens);
}

/** `mayNestTooDeep` over a token list that comes in parts, like `BracketScan`. */
export class ExpressionScan {
  // extras[d]: what the tokens at bracket level d added since that level opened.
  private readonly extras: number[] = [0];
  private depth = 0;
  private onPath = 0;
  private prefixRun = 0;

  /** Whether the tokens so far may nest too deep (once true, the later parts are not looked at). */
  scan(tokens: readonly IToken[]): boolean {
    const extras = this.extras;
    let { depth, onPath, prefixRun } = this;
    const over = () => (depth + 1) * PER_LEVEL + onPath > MAX_EXPRESSION_DEPTH;
    const add = (n: number) => {
      extras[depth]! += n;
      onPath += n;
    };
    // An indexed loop: this runs once per token, mostly before V8 optimises it, and an
    // unoptimised for…of allocates an iterator result per token (a tenth of a large file's parse).
    const cls = classes();
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const c = cls[t.tokenType.tokenTypeIdx!]!;
      // `-` after an operand is binary: only a run of prefix operators nests.
      if (c & PREFIX) {
        if (prefixRun++ > 0) add(1);
        continue;
      }
      prefixRun = 0;
      if (c & OPEN) extras[++depth] = 0;
      else if (c & CLOSE) {
        if (depth > 0) onPath -= extras[depth--]!;
        continue;
      } else if (c & IMPLIES) add(1);
      else if (c & STRING && t.image.includes('${')) add(PER_LEVEL * countOf(t.image, '${'));
      else continue;
      if (over()) return true;
    }
    this.depth = depth;
    this.onPath = onPath;
    this.prefixRun = prefixRun;
    return false;
  }
}

// What the two scans need to know of a token, by its type: one table lookup per token instead of
// comparisons with a dozen types (and a category search) — both scans run over every token.
const OPEN = 1;
const CLOSE = 2;
const LT = 4;
const GT = 8;
/** An identifier or a soft keyword (a word, not reserved). */
const NAME = 16;
/** Other tokens a type's arguments may hold: `.` `,` `?` `|` and strings. */
const IN_TYPE = 32;
const PREFIX = 64;
const IMPLIES = 128;
const STRING = 256;

let table: Uint16Array | undefined;

/** The class bits of every token type, by `tokenTypeIdx` (built on first use). */
function classes(): Uint16Array {
  if (table) return table;
  const t = new Uint16Array(Math.max(...ALL_TOKENS.map((tt) => tt.tokenTypeIdx!)) + 1);
  const set = (types: readonly TokenType[], bits: number) => {
    for (const tt of types) t[tt.tokenTypeIdx!]! |= bits;
  };
  set([LCurly, LParen, LBracket], OPEN);
  set([RCurly, RParen, RBracket], CLOSE);
  set([Lt], LT);
  set([Gt], GT);
  set([Identifier, ...Object.values(K)], NAME);
  set([Dot, Comma, Question, Pipe, StringTok], IN_TYPE);
  set(ALL_TOKENS.filter((tt) => tt.CATEGORIES?.includes(PrefixOp)), PREFIX);
  set([R.implies], IMPLIES);
  set([StringTok], STRING);
  return (table = t);
}

/** Nesting one bracket level can add without a run of prefix operators: the precedence levels, a prefix, the bracket. */
const PER_LEVEL = 12;

function countOf(text: string, part: string): number {
  let n = 0;
  for (let i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length)) n++;
  return n;
}
