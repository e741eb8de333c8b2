/**
 * The grammar class's error recovery (a layer over parser-input.ts): how much of it a file gets,
 * and where the parser resumes after an error. What recovery leaves over inside a block is junk
 * (grammar-blocks.ts).
 */
import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF, MismatchedTokenException, tokenMatcher } from './chevrotain.js';
import {
  AnyNumber, BinaryOp, Dot, DurationTok, FieldName, LBracket, LCurly, LParen, MoneyTok, Name, NumberTok, PercentTok, PrefixOp,
  RBracket, RCurly, RParen, StringTok,
} from './lexer.js';
import { isReservedDeclarationName, orchErrorMessages } from './parse-messages.js';
import type { TokenInput } from './parser-input.js';

/** Syntax errors reported before the parser gives up on the rest of the file. */
const MAX_SYNTAX_ERRORS = 100;

/** Literal tokens a property or clause requires where a user may write an expression instead. */
const LITERALS: readonly TokenType[] = [AnyNumber, NumberTok, DurationTok, MoneyTok, PercentTok, StringTok];
/** An expression's operands and brackets, as far as recovery needs to know where one ends. */
const OPERANDS: readonly TokenType[] = [FieldName, AnyNumber, StringTok];
const OPENERS: readonly TokenType[] = [LParen, LBracket];
const CLOSERS: readonly TokenType[] = [RParen, RBracket];
/** Longest bracketed group skipped in place of a literal: bounds the scan on a file of garbage. */
const MAX_STRAY_TOKENS = 256;

const isAny = (tok: IToken, types: readonly TokenType[]) => types.some((t) => tokenMatcher(tok, t));

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
     * In-rule recovery for an expression written where a literal is required (`parallel input.n {`,
     * `deadline input.d`). Chevrotain would insert the literal before `input` (a plan item may
     * start with it) and resume there as if the plan's `input { … }` started: a false E0102 and a
     * stray "expected '{'" after the one real mistake. An expression on the line of the keyword,
     * followed by what may follow the literal or by the end of the line, is skipped instead and the
     * literal counts as absent (an inserted token): one mistake, one diagnostic. A lone name is
     * left to Chevrotain's own recovery first (`deadline` with its value missing before `step`).
     */
    tryInRuleRecovery(expected: TokenType, follows: TokenType[]): IToken {
      const base = Base.prototype as unknown as { tryInRuleRecovery(t: TokenType, f: TokenType[]): IToken };
      // `capability in {`: the reserved word (reported as such) is skipped and the name counts as
      // absent, so the declaration's block is read and checked as its own, not as junk.
      if (expected === Name && this.reservedDeclarationName()) return this.skipStray(1, expected);
      const stray = LITERALS.includes(expected) ? this.strayExpressionLength() : 0;
      if (stray > 1 && this.endsStray(stray, follows)) return this.skipStray(stray, expected);
      try {
        return base.tryInRuleRecovery.call(this, expected, follows);
      } catch (error) {
        if (stray === 1 && this.endsStray(stray, follows)) return this.skipStray(stray, expected);
        throw error;
      }
    }

    private reservedDeclarationName(): boolean {
      const stack = (this as unknown as { getHumanReadableRuleStack(): string[] }).getHumanReadableRuleStack();
      return isReservedDeclarationName(Name, this.LA(1), stack[stack.length - 1] ?? '');
    }

    /** Whether the token after a stray expression of `n` tokens may follow the literal it replaces. */
    private endsStray(n: number, follows: TokenType[]): boolean {
      const after = this.LA(n + 1);
      return after.tokenType === EOF || after.startLine !== this.LA(0).startLine || isAny(after, follows);
    }

    private skipStray(n: number, expected: TokenType): IToken {
      const self = this as unknown as { SKIP_TOKEN(): IToken; getTokenToInsert(t: TokenType): IToken };
      for (let i = 0; i < n; i++) self.SKIP_TOKEN();
      return self.getTokenToInsert(expected);
    }

    /**
     * How many tokens from LA(1) form an expression (operands joined by binary operators; an
     * operand a name, literal or bracketed group with `.name`, call and index suffixes) on the line
     * of the token before it: 0 when there is none. Bracketed groups may span lines.
     */
    private strayExpressionLength(): number {
      const line = this.LA(0).startLine;
      let k = 1;
      const here = () => {
        const tok = this.LA(k);
        return tok.tokenType !== EOF && tok.startLine === line ? tok : undefined;
      };
      for (;;) {
        while (here() && tokenMatcher(here()!, PrefixOp)) k++;
        const atom = here();
        if (!atom) return 0;
        if (isAny(atom, OPENERS)) k = this.afterGroup(k);
        else if (isAny(atom, OPERANDS)) k++;
        else return 0;
        if (k === 0) return 0;
        for (;;) {
          const next = here();
          if (next && tokenMatcher(next, Dot) && this.LA(k + 1).startLine === line && tokenMatcher(this.LA(k + 1), FieldName)) k += 2;
          else if (next && isAny(next, OPENERS)) k = this.afterGroup(k);
          else break;
          if (k === 0) return 0;
        }
        const op = here();
        if (!op || !tokenMatcher(op, BinaryOp)) return k - 1;
        k++;
      }
    }

    /** The index after the bracketed group opening at LA(k), or 0 when it does not close. */
    private afterGroup(k: number): number {
      let depth = 0;
      for (let i = k; i < k + MAX_STRAY_TOKENS; i++) {
        const tok = this.LA(i);
        if (tok.tokenType === EOF || tokenMatcher(tok, LCurly) || tokenMatcher(tok, RCurly)) return 0;
        if (isAny(tok, OPENERS)) depth++;
        else if (isAny(tok, CLOSERS) && --depth === 0) return i + 1;
      }
      return 0;
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
