/**
 * The grammar's blocks (a layer over parser-recovery.ts): a declaration's `{ … }` is a list of
 * keyword-led items, each its own sub-rule, so an error inside one property or step
 * re-synchronises at the next item and the rest of the file still parses. What is not an item —
 * a stray token, a stray `{ … }` group — is consumed as junk, which the CST path reports and the
 * AST build gives up on. Each block's items are collected here for the AST build, and a large
 * file's consumed tokens are released after each item.
 */
import type { IOrAlt, IToken } from 'chevrotain';
import type { Prop } from './ast-actions.js';
import { tokenMatcher } from './chevrotain.js';
import { MISSING } from './cst-access.js';
import { LABEL } from './grammar-labels.js';
import { Assign, DeclWord, Dot, Junk, K, LCurly, Name, RCurly, StringTok } from './lexer.js';
import type { ParserRecovery } from './parser-recovery.js';

export function blockRules(Base: ParserRecovery) {
  return class BlockRules extends Base {
    /** A block property keyed by its keyword. */
    protected prop(key: IToken, value: unknown): Prop | undefined {
      return this.live ? [key.image, value] : undefined;
    }

    /** A block property keyed by a sub-rule name. */
    protected item(key: string, value: unknown): Prop | undefined {
      return this.live ? [key, value] : undefined;
    }

    /** Set when the parse consumed junk (so the junk walk can be skipped when it did not). */
    junkSeen = false;

    /** Junk is reported by the CST path: the AST build gives up on the file. */
    protected sawJunk(): void {
      this.junkSeen = true;
      if (this.live) throw MISSING;
    }

    /**
     * The options of each block's item loop, built once per block kind: Chevrotain's DSL takes
     * plain objects and closures, and rebuilding them for every item of a 10,000-step plan was a
     * large share of the parser's allocations.
     */
    private readonly itemLoops = new Map<string, { MAX_LOOKAHEAD: number; GATE: () => boolean; DEF: () => void }>();
    /** The items of the innermost block being parsed (AST build). */
    private blockItems: unknown[] | undefined;

    override resetActions(): void {
      this.blockItems = undefined;
      super.resetActions();
    }

    /** Block items followed by recovery alternatives: a stray token or a stray `{ … }` group is
     *  consumed (labelled `junk`) and reported by the CST→AST phase, once per run. Returns the
     *  items' values in source order (AST build). */
    protected itemsOrJunk<T = Prop>(block: string, ...items: (() => unknown)[]): T[] {
      let loop = this.itemLoops.get(block);
      if (!loop) {
        const alternatives = {
          MAX_LOOKAHEAD: 1,
          IGNORE_AMBIGUITIES: true,
          DEF: [
            ...items.map((ALT) => ({ ALT })),
            {
              ALT: () => {
                this.CONSUME9(Junk, LABEL.junk);
                this.ACTION(() => this.sawJunk());
              },
            },
            {
              ALT: () => {
                this.CONSUME9(DeclWord, LABEL.junk);
                this.ACTION(() => this.sawJunk());
              },
            },
            {
              ALT: () => {
                this.SUBRULE9(this.junkBraces, LABEL.junkBraces);
                this.ACTION(() => this.sawJunk());
              },
            },
          ] as IOrAlt<unknown>[],
        };
        loop = {
          MAX_LOOKAHEAD: 1,
          // Stop at a real declaration (`plan p {`) so a missing `}` is reported as such and the
          // declaration is parsed; a declaration word used otherwise (`plan.cost`) is junk.
          GATE: () => !this.startsDeclaration(),
          DEF: () => {
            const x = this.OR9(alternatives);
            if (this.live) {
              this.blockItems!.push(x);
              if (this.releasing) this.releaseConsumed();
            }
          },
        };
        this.itemLoops.set(block, loop);
      }
      const outer = this.blockItems;
      const mine: unknown[] | undefined = this.live ? [] : undefined;
      this.blockItems = mine;
      this.MANY9(loop);
      this.blockItems = outer;
      return mine as T[];
    }

    private currentRuleName(): string | undefined {
      const stack = (this as unknown as { getHumanReadableRuleStack(): string[] }).getHumanReadableRuleStack();
      return stack[stack.length - 1];
    }

    /** Whether the next tokens start a top-level declaration the current block does not accept. */
    private startsDeclaration(): boolean {
      const t1 = this.LA(1).tokenType;
      if (!tokenMatcher(this.LA(1), DeclWord)) return false;
      const name2 = tokenMatcher(this.LA(2), Name);
      const t3 = this.LA(3).tokenType;
      switch (t1) {
        case K.invariant:
          // A plan accepts invariants; elsewhere `invariant x {` starts a top-level one.
          return this.currentRuleName() !== 'planDecl' && (name2 || this.LA(2).tokenType === StringTok) && t3 === LCurly;
        case K.context:
          // A test's `context { … }` is its starting context, not a declaration.
          return this.LA(2).tokenType === LCurly && this.currentRuleName() !== 'testDecl';
        case K.test:
          return (this.LA(2).tokenType === StringTok || name2) && t3 === LCurly;
        case K.type:
          return name2 && t3 === Assign;
        case K.module:
        case K.import:
          return true;
        case K.simulate:
          return name2 && (t3 === LCurly || t3 === Dot);
        default:
          return name2 && t3 === LCurly;
      }
    }

    junkBraces = this.RULE('junkBraces', () => {
      this.CONSUME(LCurly);
      this.MANY(() => {
        this.OR([
          { ALT: () => this.CONSUME(Junk) },
          { ALT: () => this.SUBRULE(this.junkBraces) },
        ]);
      });
      this.CONSUME(RCurly);
    });
  };
}

export type BlockRules = ReturnType<typeof blockRules>;
