/**
 * Limits on nesting, so that no input can exhaust the call stack of the recursive phases (the
 * parser, the AST builders, and every later walker of expressions). Flat chains — `a + b + …`,
 * `a ?? b ?? …`, `a.b.c…` — are not nesting: they are built and walked in loops and have no limit.
 * What nests is capped with one E0001 at the construct that goes too deep.
 */
import type { IToken } from 'chevrotain';
import { Identifier, LBracket, LCurly, LParen, Lt, Gt, RBracket, RCurly, RParen, StringTok, Dot, Comma, Question, Pipe, PrefixOp, R } from './lexer.js';

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
  let depth = 0;
  // Type arguments: a `<` right after a name (`list<`), until a token that cannot be part of a
  // type; comparisons (`a < b`) end there too, so they never add up.
  let angles = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tt = tokens[i]!.tokenType;
    if (tt === LCurly || tt === LParen || tt === LBracket) {
      if (++depth + angles > MAX_NESTING) return { index: i, message: `brackets nested more than ${MAX_NESTING} levels deep; the rest of the file is not parsed` };
    } else if (tt === RCurly || tt === RParen || tt === RBracket) {
      depth = Math.max(0, depth - 1);
    } else if (tt === Lt && i > 0 && isName(tokens[i - 1]!)) {
      if (depth + ++angles > MAX_NESTING) return { index: i, message: `type arguments nested more than ${MAX_NESTING} levels deep; the rest of the file is not parsed` };
    } else if (tt === Gt) {
      angles = Math.max(0, angles - 1);
    } else if (!isName(tokens[i]!) && tt !== Dot && tt !== Comma && tt !== Question && tt !== Pipe && tt !== StringTok && tt !== Lt) {
      angles = 0;
    }
  }
  return undefined;
}

function isName(t: IToken): boolean {
  if (t.tokenType === Identifier) return true;
  // A keyword (a word, not reserved). Char codes, not a regular expression: this runs for most
  // tokens of a file, and the test allocated on every call.
  const c = t.image.charCodeAt(0);
  return ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) && !RESERVED.has(t.tokenType);
}

const RESERVED = new Set(Object.values(R));

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
  // extras[d]: what the tokens at bracket level d added since that level opened.
  const extras: number[] = [0];
  let depth = 0;
  let onPath = 0;
  let prefixRun = 0;
  const over = () => (depth + 1) * PER_LEVEL + onPath > MAX_EXPRESSION_DEPTH;
  const add = (n: number) => {
    extras[depth]! += n;
    onPath += n;
  };
  // An indexed loop: this runs once per token, mostly before V8 optimises it, and an
  // unoptimised for…of allocates an iterator result per token (a tenth of a large file's parse).
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const tt = t.tokenType;
    // `-` after an operand is binary: only a run of prefix operators nests.
    if (tt.CATEGORIES?.includes(PrefixOp)) {
      if (prefixRun++ > 0) add(1);
      continue;
    }
    prefixRun = 0;
    if (tt === LCurly || tt === LParen || tt === LBracket) extras[++depth] = 0;
    else if (tt === RCurly || tt === RParen || tt === RBracket) {
      if (depth > 0) onPath -= extras[depth--]!;
      continue;
    } else if (tt === R.implies) add(1);
    else if (tt === StringTok && t.image.includes('${')) add(PER_LEVEL * countOf(t.image, '${'));
    else continue;
    if (over()) return true;
  }
  return false;
}

/** Nesting one bracket level can add without a run of prefix operators: the precedence levels, a prefix, the bracket. */
const PER_LEVEL = 12;

function countOf(text: string, part: string): number {
  let n = 0;
  for (let i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length)) n++;
  return n;
}
