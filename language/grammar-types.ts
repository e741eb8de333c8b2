/**
 * The grammar's types (a layer over grammar-expressions.ts): type aliases, enums, records and
 * their fields (a field's default is an expression), named and optional types.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { ExpressionRules } from './grammar-expressions.js';
import { AnyNumber, Assign, At, Colon, Comma, FieldName, Gt, K, LCurly, Lt, Name, Pipe, Question, RCurly, StringTok } from './lexer.js';

export function typeRules(Base: ExpressionRules) {
  return class TypeRules extends Base {
    typeAlias = this.RULE('typeAlias', () => {
      const kw = this.CONSUME(K.type);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(Assign);
      const type = this.SUBRULE(this.typeExpr);
      if (this.live) {
        const d: A.TypeAliasDecl = { kind: 'TypeAliasDecl', name: this.b.ident(name), type: v(type), range: this.b.span(kw.startOffset, this.end()) };
        return d;
      }
    });

    typeExpr = this.RULE('typeExpr', () => {
      const start = this.live ? this.at() : 0;
      const t = this.OR([
        { ALT: () => this.SUBRULE(this.enumType) },
        { ALT: () => this.SUBRULE(this.recordType) },
        { ALT: () => this.SUBRULE(this.namedType) },
      ]);
      const q = this.OPTION(() => this.CONSUME(Question));
      if (!this.live) return;
      if (q) return { kind: 'OptionalType', inner: v<A.TypeExpr>(t), range: this.b.span(start, this.end()) } satisfies A.OptionalType;
      return t;
    });

    enumType = this.RULE('enumType', () => {
      const first = this.CONSUME(StringTok, LABEL.value);
      const values: IToken[] | undefined = this.live ? [first] : undefined;
      this.MANY(() => {
        this.CONSUME(Pipe);
        const s = this.CONSUME2(StringTok, LABEL.value);
        values?.push(s);
      });
      if (this.live) {
        const t: A.EnumType = { kind: 'EnumType', values: values!.map((s) => this.b.plainString(s)), range: this.b.span(first.startOffset, this.end()) };
        return t;
      }
    });

    recordType = this.RULE('recordType', () => {
      const open = this.CONSUME(LCurly);
      const fields: A.FieldDecl[] | undefined = this.live ? [] : undefined;
      this.MANY(() => {
        const f = this.SUBRULE(this.fieldDecl);
        fields?.push(v(f));
        this.OPTION(() => this.CONSUME(Comma));
      });
      this.CONSUME(RCurly);
      if (this.live) return this.b.recordTypeOf(fields!, open.startOffset, this.end());
    });

    fieldDecl = this.RULE('fieldDecl', () => {
      const name = this.CONSUME(FieldName, LABEL.name);
      this.CONSUME(Colon);
      const type = this.SUBRULE(this.typeExpr);
      // Lists made only when there is something to put in them: fields are many, annotations few.
      let annotations: IToken[] | undefined;
      this.MANY(() => {
        this.CONSUME(At);
        const a = this.CONSUME2(Name, LABEL.annotation);
        if (this.live) (annotations ??= []).push(a);
      });
      const def = this.OPTION2(() => {
        this.CONSUME(Assign);
        return this.SUBRULE(this.expression, LABEL.default);
      });
      // §9.4, context fields: `max_age D`, `hold D` (key and value tokens, in pairs).
      let options: IToken[] | undefined;
      // The grammar's own lookahead stops at the rule's end: `hold: bool` after a field is the next field.
      this.MANY2({ GATE: () => this.LA(2).tokenType !== Colon, DEF: () => {
        const k = this.OR([
          { ALT: () => this.CONSUME(K.max_age, LABEL.fieldKey) },
          { ALT: () => this.CONSUME(K.hold, LABEL.fieldKey) },
        ]);
        const d = this.CONSUME(AnyNumber, LABEL.fieldValue);
        if (this.live) (options ??= []).push(k, d);
      } });
      if (this.live) return this.b.fieldDeclOf(name, v(type), annotations, v(def), options, name.startOffset, this.end());
    });

    namedType = this.RULE('namedType', () => {
      const start = this.live ? this.at() : 0;
      const name = this.SUBRULE(this.qualifiedName);
      const args: unknown[] | undefined = this.live ? [] : undefined;
      this.OPTION(() => {
        this.CONSUME(Lt);
        const a = this.SUBRULE(this.typeExpr, LABEL.arg);
        args?.push(a);
        this.MANY(() => {
          this.CONSUME(Comma);
          const b = this.SUBRULE2(this.typeExpr, LABEL.arg);
          args?.push(b);
        });
        this.CONSUME(Gt);
      });
      if (this.live) return this.b.namedTypeOf(v(name), v(args), start, this.end());
    });
  };
}

export type TypeRules = ReturnType<typeof typeRules>;
