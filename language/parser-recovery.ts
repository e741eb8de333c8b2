/**
 * The grammar class's error recovery (a layer over parser-input.ts): how much of it a file gets,
 * and where the parser resumes after an error. What recovery leaves over inside a block is junk
 * (grammar-blocks.ts).
 */
import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF, MismatchedTokenException, tokenMatcher } from './chevrotain.js';
import { orchErrorMessages } from './parse-messages.js';
import type { TokenInput } from './parser-input.js';

/** Syntax errors reported before the parser gives up on the rest of the file. */
const MAX_SYNTAX_ERRORS = 100;

export function parserRecovery(Base: TokenInput) {
  return class ParserRecovery extends Base {
    /**
     * Chevrotain's hook that records a syntax error. Past MAX_SYNTAX_ERRORS the rest of the input
     * is skipped (the parser sees the end of the file): a file of garbage — 50,000 stray `*` —
     * must not cost one recovery (and one error) per token. Only the first errors are shown anyway.
     */
    SAVE_ERROR(error: IRecognitionException): IRecognitionException {
      const base = Base.prototype as unknown as { SAVE_ERROR(e: IRecognitionException): IRecognitionException };
      const saved = base.SAVE_ERROR.call(this, error);
      if (this.errors.length >= MAX_SYNTAX_ERRORS) {
        const self = this as unknown as { currIdx: number; tokVectorLength: number };
        self.currIdx = Math.max(self.currIdx, self.tokVectorLength - 1);
      }
      return saved;
    }

    /**
     * A token `expected` that is missing before the next one, reported and recovered as Chevrotain
     * does for a `CONSUME` (the error at the next token; with recovery, a token inserted in its
     * place, which the AST build counts as absent). For an alternative of an `OR`, which Chevrotain
     * never recovers by insertion: `test { … }` must read its block as a test's, not as junk.
     */
    protected missingToken(expected: TokenType): IToken {
      const self = this as unknown as {
        RECORDING_PHASE: boolean;
        recoveryEnabled: boolean;
        getTokenToInsert(t: TokenType): IToken;
        getHumanReadableRuleStack(): string[];
      };
      const inserted = self.getTokenToInsert(expected);
      if (self.RECORDING_PHASE) return inserted;
      const stack = self.getHumanReadableRuleStack();
      const message = orchErrorMessages.buildMismatchTokenMessage({ expected, actual: this.LA(1), previous: this.LA(0), ruleName: stack[stack.length - 1] ?? '' });
      const error = this.SAVE_ERROR(new MismatchedTokenException(message, this.LA(1), this.LA(0)));
      if (!self.recoveryEnabled) throw error;
      return inserted;
    }

    /**
     * Re-synchronisation after an error, innermost rule first: Chevrotain's default searches the
     * follow sets outermost first, so the top-level `TopJunk` category (which matches nearly every
     * token) would always win and one error would swallow the rest of its declaration. Searching
     * from the innermost rule resumes at the closest place that can continue (the next argument,
     * the next property, the next step), and the junk alternatives of the enclosing block take
     * what is left. Relies on Chevrotain 11's recoverable trait (`buildFullFollowKeyStack`,
     * `getFollowSetFromFollowKey`).
     */
    findReSyncTokenType(): TokenType {
      const self = this as unknown as {
        buildFullFollowKeyStack(): unknown[];
        getFollowSetFromFollowKey(key: unknown): TokenType[] | undefined;
      };
      const sets = self.buildFullFollowKeyStack().map((k) => self.getFollowSetFromFollowKey(k) ?? []);
      for (let k = 1; ; k++) {
        const tok = this.LA(k);
        for (let i = sets.length - 1; i >= 0; i--) {
          for (const tt of sets[i]!) if (tokenMatcher(tok, tt)) return tt;
        }
        if (tok.tokenType === EOF) return EOF;
      }
    }
  };
}

export type ParserRecovery = ReturnType<typeof parserRecovery>;
