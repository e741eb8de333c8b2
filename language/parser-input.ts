/**
 * The grammar class's token input (a layer over parser-engine.ts): where the rules read their
 * tokens from, and where a rule's start and end offsets come from.
 *
 * The AST build of a large file does not hold all its tokens at once: the tokens can come a
 * chunk at a time as the parser reaches them (`setFeed`, parse.ts's chunked lex), and the tokens
 * already turned into nodes can be dropped (`releasing`, after each block item). Chevrotain reads
 * its input through `LA` and the lexer state, which this layer overrides to count from the file's
 * first token whatever has been dropped.
 */
import type { IToken } from 'chevrotain';
import type { ParserEngine } from './parser-engine.js';

/** Chevrotain's token input (its lexer adapter; not in its public types). */
interface LexerState {
  currIdx: number;
  tokVector: (IToken | undefined)[];
  tokVectorLength: number;
}

export function tokenInput(Base: ParserEngine) {
  return class TokenInput extends Base {
    /**
     * AST build of a large file: each block item drops the tokens consumed before it from the
     * input, so the tokens already turned into nodes can be collected while the rest is parsed.
     * Without it a 100,000-step file holds every token and the whole AST at once.
     */
    releasing = false;
    /** Tokens below this index are already released. */
    private releasedTo = 0;

    /**
     * AST build of a file lexed a chunk at a time (parse.ts): the next chunk's tokens, or
     * undefined at the end of the file. Asked when the parser looks at or past `feedAt`, the
     * first index not lexed yet (never, without a feed), so each chunk's tokens are made just
     * before they are parsed and die young.
     */
    private feed: (() => IToken[] | undefined) | undefined = undefined;
    private feedAt = Infinity;
    /**
     * Tokens dropped from the front of the input when a chunk was added (released ones): the
     * input holds only the tokens from the last release on, and the lexer positions Chevrotain
     * compares (`exportLexerState`) count from the file's first token.
     */
    private dropped = 0;

    /** Parses from `tokens` on, asking `feed` for the rest of the file's tokens as it reads them. */
    setFeed(feed: (() => IToken[] | undefined) | undefined): void {
      this.feed = feed;
      this.feedAt = feed === undefined ? Infinity : (this as unknown as LexerState).tokVectorLength;
      this.dropped = 0;
    }

    override LA(howMuch: number): IToken {
      if ((this as unknown as LexerState).currIdx + howMuch >= this.feedAt) this.fill((this as unknown as LexerState).currIdx + howMuch);
      return super.LA(howMuch);
    }

    /** Chevrotain's lookahead without bounds checks (it ends the input with EOF sentinels). */
    override LA_FAST(howMuch: number): IToken {
      const self = this as unknown as LexerState;
      const i = self.currIdx + howMuch;
      if (i >= this.feedAt) this.fill(i);
      return self.tokVector[i]!;
    }

    exportLexerState(): number {
      return (this as unknown as LexerState).currIdx + this.dropped;
    }

    importLexerState(state: number): void {
      (this as unknown as LexerState).currIdx = state - this.dropped;
    }

    /**
     * Adds chunks until index `i` is lexed or the file ends, keeping Chevrotain's EOF sentinels
     * last; the released tokens before them leave the input (so it never grows to the file's).
     */
    private fill(i: number): void {
      const self = this as unknown as LexerState;
      const old = self.tokVector;
      // The sentinels Chevrotain appends before a parse (`onBeforeParse`), past the input's length.
      const sentinels = old.slice(self.tokVectorLength);
      const drop = this.releasedTo;
      let v = old.slice(drop, self.tokVectorLength);
      this.dropped += drop;
      this.releasedTo = 0;
      self.currIdx -= drop;
      i -= drop;
      while (i >= v.length) {
        const more = this.feed!();
        if (more === undefined) {
          this.feed = undefined;
          break;
        }
        // The chunk's own array when nothing is kept before it (the parser's usual place: at
        // the start of an item), else one copy; never a push per token.
        v = v.length === 0 ? more : v.concat(more);
      }
      const end = v.length;
      this.feedAt = this.feed === undefined ? Infinity : end;
      self.tokVectorLength = end;
      for (const t of sentinels) v.push(t);
      self.tokVector = v;
    }

    /**
     * Without recovery, Chevrotain reads only forward of the last consumed token (`LA(0)`, which
     * `end()` reads); the nodes keep what they need of the tokens before it, never the tokens.
     */
    protected releaseConsumed(): void {
      const self = this as unknown as { currIdx: number; tokVector: (IToken | undefined)[] };
      const v = self.tokVector;
      for (let i = this.releasedTo; i < self.currIdx; i++) v[i] = undefined;
      this.releasedTo = Math.max(this.releasedTo, self.currIdx);
    }

    override resetActions(): void {
      this.releasedTo = 0;
      super.resetActions();
    }

    /** Offset of the next token (a rule's start, read before its first token). */
    protected at(): number {
      return this.LA(1).startOffset;
    }

    /** Offset just past the last consumed token (a rule's end, read after its last token). */
    protected end(): number {
      return this.LA(0).endOffset! + 1;
    }
  };
}

export type TokenInput = ReturnType<typeof tokenInput>;
