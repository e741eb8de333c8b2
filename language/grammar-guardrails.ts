/**
 * The grammar's guardrails (a layer over grammar-policies.ts): the rules a plan's steps are held
 * to — `forbid step where`, `require … before/after …`, `assert`, `check … where` — and the
 * selectors that name the steps a rule is about.
 */
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { PolicyRules } from './grammar-policies.js';
import { K, LCurly, Name, RCurly, StringTok } from './lexer.js';

export function guardrailRules(Base: PolicyRules) {
  return class GuardrailRules extends Base {
    guardrailDecl = this.RULE('guardrailDecl', () => {
      const kw = this.CONSUME(K.guardrail);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      const props = this.itemsOrJunk('guardrailDecl', () => this.SUBRULE(this.guardrailProp));
      this.CONSUME(RCurly);
      if (this.live) return this.b.guardrailOf(name, props, kw.startOffset, this.end());
    });

    guardrailProp = this.RULE('guardrailProp', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.severity, LABEL.key); const w = this.CONSUME(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.category, LABEL.key); const w = this.CONSUME2(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.message, LABEL.key); const s = this.CONSUME(StringTok); return this.prop(k, s); } },
        { ALT: () => { const r = this.SUBRULE(this.forbidRule); return this.item('forbidRule', r); } },
        { ALT: () => { const r = this.SUBRULE(this.requireRule); return this.item('requireRule', r); } },
        { ALT: () => { const r = this.SUBRULE(this.assertRule); return this.item('assertRule', r); } },
        { ALT: () => { const r = this.SUBRULE(this.checkRule); return this.item('checkRule', r); } },
      ]);
    });

    forbidRule = this.RULE('forbidRule', () => {
      const kw = this.CONSUME(K.forbid);
      this.CONSUME(K.step);
      this.CONSUME(K.where);
      const condition = this.SUBRULE(this.expression);
      if (this.live) return { kind: 'ForbidRule', condition: v<A.Expr>(condition), range: this.b.span(kw.startOffset, this.end()) } satisfies A.ForbidRule;
    });

    requireRule = this.RULE('requireRule', () => {
      const kw = this.CONSUME(K.require);
      const subject = this.SUBRULE(this.selector, LABEL.subject);
      const order = this.OR([
        { ALT: () => this.CONSUME(K.before, LABEL.order) },
        { ALT: () => this.CONSUME(K.after, LABEL.order) },
      ]);
      const object = this.SUBRULE2(this.selector, LABEL.object);
      if (this.live) {
        const r: A.RequireRule = {
          kind: 'RequireRule',
          subject: v(subject),
          order: order.image as 'before' | 'after',
          object: v(object),
          range: this.b.span(kw.startOffset, this.end()),
        };
        return r;
      }
    });

    assertRule = this.RULE('assertRule', () => {
      const kw = this.CONSUME(K.assert);
      const condition = this.SUBRULE(this.expression);
      if (this.live) return { kind: 'AssertRule', condition: v<A.Expr>(condition), range: this.b.span(kw.startOffset, this.end()) } satisfies A.AssertRule;
    });

    checkRule = this.RULE('checkRule', () => {
      const kw = this.CONSUME(K.check);
      const target = this.SUBRULE(this.selector);
      this.CONSUME(K.where);
      const condition = this.SUBRULE(this.expression);
      if (this.live) {
        const r: A.CheckRule = { kind: 'CheckRule', target: v(target), condition: v(condition), range: this.b.span(kw.startOffset, this.end()) };
        return r;
      }
    });

    selector = this.RULE('selector', () => {
      const start = this.live ? this.at() : 0;
      return this.OR({
        IGNORE_AMBIGUITIES: true,
        DEF: [
          {
            GATE: () => this.LA(2).tokenType !== K.before && this.LA(2).tokenType !== K.after && this.LA(2).tokenType !== K.where,
            ALT: () => {
              this.CONSUME(K.kind);
              const w = this.CONSUME(Name, LABEL.kindWord);
              if (this.live) return this.b.kindSelector(w, this.b.span(start, this.end()));
            },
          },
          {
            GATE: () => this.LA(2).tokenType !== K.before && this.LA(2).tokenType !== K.after && this.LA(2).tokenType !== K.where,
            ALT: () => {
              this.CONSUME(K.capability);
              const q = this.SUBRULE(this.qualifiedName);
              if (this.live) return { kind: 'CapabilitySelector', capability: v<A.QualifiedName>(q), range: this.b.span(start, this.end()) } satisfies A.Selector;
            },
          },
          {
            ALT: () => {
              const s = this.CONSUME2(Name, LABEL.step);
              if (this.live) return { kind: 'StepSelector', step: this.b.ident(s), range: this.b.span(start, this.end()) } satisfies A.Selector;
            },
          },
        ],
      });
    });
  };
}

export type GuardrailRules = ReturnType<typeof guardrailRules>;
