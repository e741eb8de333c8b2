/**
 * Whether a formatted text is the same tokens and comments as its source, only laid out
 * differently — the formatter's cheap meaning check (format.ts) — lexing only the lines where the
 * two differ. Lexing both texts whole cost `orch fmt` of a 100,000-step plan ~1.8 s of its ~7: two
 * lexes of 1.5 million tokens each, all alive at once and so promoted out of the young generation,
 * for a file whose lines nearly all print exactly as written.
 *
 * Why lines may be skipped or lexed alone: no token but whitespace and block comments holds a line
 * break (strings, `//` comments and interpolations end at the line's end; names and numbers hold
 * no space), and every other token is found from the characters it spans (no pattern looks past
 * its match). So where both texts are at the start of a line outside any token, the same line in
 * both (but for its indentation) lexes to the same tokens and leaves both at the start of the next
 * line, outside any token — unless a block comment opens in it and runs on: a line with `/*` is
 * never skipped. A blank line, in either text, has no tokens. Lines that
 * differ are lexed a few at a time, from whichever text is behind, and their tokens matched one by
 * one; where both texts have matched everything they lexed, at line starts, they are in step again.
 */
import type { IToken } from 'chevrotain';
import { lex, UnterminatedBlockComment } from './lexer.js';

/**
 * Out of step this many lexes in a row, the texts differ throughout (a squashed file): each side
 * is then lexed some kilobytes at a time, not a line at a time.
 */
const LINE_LEXES = 64;
const BULK_CHARS = 16 * 1024;

/** One text's lexing state: where it is, and what it lexed that the other text has not matched yet. */
class Side {
  at = 0;
  /** Tokens and comments lexed but not yet matched; each list from `head` on. */
  tokens: IToken[] = [];
  comments: IToken[] = [];
  tokenHead = 0;
  commentHead = 0;

  constructor(readonly text: string) {}

  get done(): boolean {
    return this.at >= this.text.length;
  }

  get pending(): number {
    return this.tokens.length - this.tokenHead + this.comments.length - this.commentHead;
  }

  /** The end of the line starting at `from` (after its `\n`), or the text's end. */
  lineEnd(from: number): number {
    const nl = this.text.indexOf('\n', from);
    return nl < 0 ? this.text.length : nl + 1;
  }

  /** Where the line from `at` to `end` has more than whitespace (`end` when it has nothing else). */
  contentStart(end: number): number {
    let i = this.at;
    while (i < end && isSpace(this.text.charCodeAt(i))) i++;
    return i;
  }

  /**
   * Lexes whole lines from `at`, at least `chars` characters of them; false on a lexical problem.
   * A block comment left open at the end of the slice takes the next lines in until it closes.
   */
  lexLines(chars: number): boolean {
    let end = this.lineEnd(this.at);
    while (end < this.text.length && end - this.at < chars) end = this.lineEnd(end);
    for (;;) {
      const out = lex(this.text.slice(this.at, end));
      const last = out.comments[out.comments.length - 1];
      if (last?.tokenType === UnterminatedBlockComment && end < this.text.length) {
        end = this.lineEnd(end);
        continue;
      }
      if (out.problems.length > 0) return false;
      this.tokens = this.tokenHead < this.tokens.length ? [...this.tokens.slice(this.tokenHead), ...out.tokens] : out.tokens;
      this.comments = this.commentHead < this.comments.length ? [...this.comments.slice(this.commentHead), ...out.comments] : out.comments;
      this.tokenHead = 0;
      this.commentHead = 0;
      this.at = end;
      return true;
    }
  }
}

/** What the lexer skips as whitespace (its `Whitespace` token), the line break included. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xfeff;
}

/** Matches what both sides have lexed, token for token and comment for comment; false on a difference. */
function matchPending(a: Side, b: Side): boolean {
  while (a.tokenHead < a.tokens.length && b.tokenHead < b.tokens.length) {
    const x = a.tokens[a.tokenHead++]!;
    const y = b.tokens[b.tokenHead++]!;
    if (x.tokenType !== y.tokenType || x.image !== y.image) return false;
  }
  while (a.commentHead < a.comments.length && b.commentHead < b.comments.length) {
    const x = a.comments[a.commentHead++]!;
    const y = b.comments[b.commentHead++]!;
    if (x.tokenType !== y.tokenType || x.image !== y.image) return false;
  }
  return true;
}

/**
 * `lex(a)` and `lex(b)` have the same tokens and the same comments (types and images, each list in
 * order), and `b` lexes without problems. `a` must itself lex without problems (a text that parsed
 * without errors does): its lines that `b` repeats are not lexed.
 */
export function sameTokensOfClean(a: string, b: string): boolean {
  const x = new Side(a);
  const y = new Side(b);
  let outOfStep = 0;
  for (;;) {
    if (x.pending === 0 && y.pending === 0) {
      if (x.done && y.done) return true;
      outOfStep = 0;
      // In step: a blank line has no tokens, and a line the same in both after its indentation
      // has the same ones: no lexing.
      const ex = x.lineEnd(x.at);
      const ey = y.lineEnd(y.at);
      const cx = x.contentStart(ex);
      const cy = y.contentStart(ey);
      if ((!x.done && cx === ex) || (!y.done && cy === ey)) {
        if (cx === ex) x.at = ex;
        if (cy === ey) y.at = ey;
        continue;
      }
      if (ex - cx === ey - cy) {
        const line = a.slice(cx, ex);
        if (b.startsWith(line, cy) && !line.includes('/*')) {
          x.at = ex;
          y.at = ey;
          continue;
        }
      }
    }
    const chars = ++outOfStep > LINE_LEXES ? BULK_CHARS : 0;
    // Lex more of the side that is behind (both when neither is): its tokens are what the other's wait for.
    const lexX = !x.done && x.pending <= y.pending;
    const lexY = !y.done && y.pending <= x.pending;
    if (!lexX && !lexY) {
      // One side has run out with tokens of the other still unmatched; or both ran out unequal.
      if (x.done && y.done) return false;
      if (!(x.done ? y : x).lexLines(chars)) return false;
    } else {
      if (lexX && !x.lexLines(chars)) return false;
      if (lexY && !y.lexLines(chars)) return false;
    }
    if (!matchPending(x, y)) return false;
  }
}
