/**
 * The grammar's literals that hold expressions (a layer over grammar-shared.ts): lists, records,
 * and the arguments of a built-in's call. Their expressions are the next layer's rule
 * (grammar-expressions.ts), which in turn takes these as operands.
 */
import type { CstNode, ParserMethod } from 'chevrotain';
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { SharedRules } from './grammar-shared.js';
import { Colon, Comma, FieldName, LBracket, LCurly, LParen, RBracket, RCurly, RParen, StringTok } from './lexer.js';

export function literalRules(Base: SharedRules) {
  return class LiteralRules extends Base {
    /**
     * An expression (grammar-expressions.ts): literals hold expressions and an expression may be
     * a literal, so this layer names the next one's rule ahead of it.
     */
    declare readonly expression: ParserMethod<[], CstNode>;

    /**
     * A built-in's arguments: positional ones, then named ones (`reason: "…"`, LANGUAGE.md §9.3).
     * Both kinds go to one list in source order (named: `Argument` nodes); the builder sorts them.
     */
    positionalArgs = this.RULE('positionalArgs', () => {
      const args: unknown[] | undefined = this.live ? [] : undefined;
      this.CONSUME(LParen);
      this.OPTION(() => {
        this.OR([
          {
            ALT: () => {
              const n = this.CONSUME(FieldName, LABEL.namedArg);
              this.CONSUME(Colon);
              const e = this.SUBRULE3(this.expression, LABEL.namedValue);
              if (this.live) args!.push(this.b.argument(n, v(e)));
            },
          },
          { ALT: () => { const a = this.SUBRULE(this.expression, LABEL.arg); args?.push(a); } },
        ]);
        this.MANY(() => {
          this.CONSUME(Comma);
          this.OR2([
            {
              ALT: () => {
                const n = this.CONSUME2(FieldName, LABEL.namedArg);
                this.CONSUME2(Colon);
                const e = this.SUBRULE4(this.expression, LABEL.namedValue);
                if (this.live) args!.push(this.b.argument(n, v(e)));
              },
            },
            { ALT: () => { const b = this.SUBRULE2(this.expression, LABEL.arg); args?.push(b); } },
          ]);
        });
        this.OPTION2(() => this.CONSUME3(Comma));
      });
      this.CONSUME(RParen);
      return args;
    });

    listLit = this.RULE('listLit', () => {
      const open = this.CONSUME(LBracket);
      const items: A.Expr[] | undefined = this.live ? [] : undefined;
      this.OPTION(() => {
        const a = this.SUBRULE(this.expression, LABEL.item);
        items?.push(v(a));
        this.MANY(() => {
          this.CONSUME(Comma);
          const b = this.SUBRULE2(this.expression, LABEL.item);
          items?.push(v(b));
        });
        this.OPTION2(() => this.CONSUME2(Comma));
      });
      this.CONSUME(RBracket);
      if (this.live) return { kind: 'ListLit', items: items!, range: this.b.span(open.startOffset, this.end()) } satisfies A.ListLit;
    });

    recordLit = this.RULE('recordLit', () => {
      const open = this.CONSUME(LCurly);
      const fields: A.RecordField[] | undefined = this.live ? [] : undefined;
      this.MANY(() => {
        const f = this.SUBRULE(this.recordField);
        fields?.push(v(f));
        this.OPTION(() => this.CONSUME(Comma));
      });
      this.CONSUME(RCurly);
      if (this.live) return this.b.recordLitOf(fields!, open.startOffset, this.end());
    });

    recordField = this.RULE('recordField', () => {
      // A key that is no name (`"content-type"`, a map's) is written as a string without `${…}`.
      const key = this.OR([{ ALT: () => this.CONSUME(FieldName, LABEL.key) }, { ALT: () => this.CONSUME(StringTok, LABEL.key) }]);
      this.CONSUME(Colon);
      const value = this.SUBRULE(this.expression);
      if (this.live) return { kind: 'RecordField', key: this.b.fieldKey(key), value: v<A.Expr>(value), range: this.b.span(key.startOffset, this.end()) } satisfies A.RecordField;
    });
  };
}

export type LiteralRules = ReturnType<typeof literalRules>;
