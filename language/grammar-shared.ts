/**
 * The small pieces of the grammar several areas share (a layer over grammar-blocks.ts): dotted
 * names, lists of names and strings, booleans, and the retry spec of capabilities and steps.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { tokenMatcher } from './chevrotain.js';
import { LABEL } from './grammar-labels.js';
import type { BlockRules } from './grammar-blocks.js';
import { AnyNumber, Comma, Dot, Identifier, K, Name, R, RCurly, StringTok } from './lexer.js';

export function sharedRules(Base: BlockRules) {
  return class SharedRules extends Base {
    /**
     * A list of names ends with a trailing comma when what follows the comma starts the block's
     * next property: a keyword followed by a plain name or a literal (`guardrails g1, g2, step a = …`,
     * `requires llm, idempotent true`). An item is followed by `,` `.` `}` or the next property's
     * keyword, so a keyword-named last item (`provides http, output` then `location "x"`) stays one.
     */
    private propertyAfterComma(): boolean {
      if (this.LA(1).tokenType !== Comma) return false;
      const next = this.LA(2);
      if (next.tokenType === Identifier || !tokenMatcher(next, Name)) return false;
      const after = this.LA(3);
      if (after.tokenType === Comma || after.tokenType === Dot || after.tokenType === RCurly) return false;
      return after.tokenType === Identifier || !tokenMatcher(after, Name);
    }

    qualifiedName = this.RULE('qualifiedName', () => {
      const first = this.CONSUME(Name, LABEL.part);
      const parts: IToken[] | undefined = this.live ? [first] : undefined;
      this.MANY(() => {
        this.CONSUME(Dot);
        const p = this.CONSUME2(Name, LABEL.part);
        parts?.push(p);
      });
      if (this.live) return this.b.qualified(parts!);
    });

    // Lists allow a trailing comma; it is consumed inside the list rule so LL(2) lookahead can
    // tell `, name` (continue) from `, }` (end).
    nameList = this.RULE('nameList', () => {
      const first = this.CONSUME(Name, LABEL.name);
      const names: A.Ident[] | undefined = this.live ? [this.b.ident(first)] : undefined;
      this.MANY({
        GATE: () => !this.propertyAfterComma(),
        DEF: () => {
          this.CONSUME(Comma);
          const n = this.CONSUME2(Name, LABEL.name);
          names?.push(this.b.ident(n));
        },
      });
      this.OPTION(() => this.CONSUME2(Comma));
      return names;
    });

    qualifiedNameList = this.RULE('qualifiedNameList', () => {
      const first = this.SUBRULE(this.qualifiedName, LABEL.name);
      const names: unknown[] | undefined = this.live ? [first] : undefined;
      this.MANY({
        GATE: () => !this.propertyAfterComma(),
        DEF: () => {
          this.CONSUME(Comma);
          const n = this.SUBRULE2(this.qualifiedName, LABEL.name);
          names?.push(n);
        },
      });
      this.OPTION(() => this.CONSUME2(Comma));
      return names;
    });

    retrySpec = this.RULE('retrySpec', () => {
      const kw = this.CONSUME(K.retry);
      const attempts = this.CONSUME3(AnyNumber, LABEL.attempts);
      let kind: IToken | undefined;
      let delay: IToken | undefined;
      let max: IToken | undefined;
      this.OPTION(() => {
        this.CONSUME(K.backoff);
        kind = this.CONSUME(Name, LABEL.backoffKind);
        delay = this.CONSUME(AnyNumber, LABEL.delay);
        this.OPTION2(() => {
          this.CONSUME(K.max);
          max = this.CONSUME2(AnyNumber, LABEL.max);
        });
      });
      if (this.live) return this.b.retrySpecOf(attempts, kind, delay, max, kw.startOffset, this.end());
    });

    boolLit = this.RULE('boolLit', () => {
      const t = this.OR([{ ALT: () => this.CONSUME(R.true) }, { ALT: () => this.CONSUME(R.false) }]);
      if (this.live) return t.tokenType === R.true;
    });

    stringList = this.RULE('stringList', () => {
      const first = this.CONSUME(StringTok, LABEL.value);
      const values: IToken[] | undefined = this.live ? [first] : undefined;
      this.MANY(() => {
        this.CONSUME(Comma);
        const s = this.CONSUME2(StringTok, LABEL.value);
        values?.push(s);
      });
      this.OPTION(() => this.CONSUME2(Comma));
      return values;
    });
  };
}

export type SharedRules = ReturnType<typeof sharedRules>;
