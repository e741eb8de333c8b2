/**
 * The grammar's policies (a layer over grammar-capabilities.ts): how a plan's resources are
 * chosen — strategy, weights, preferences — and what bounds a run: budgets and rate limits.
 */
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { CapabilityRules } from './grammar-capabilities.js';
import { AnyNumber, Colon, Comma, K, LCurly, Lt, LtEq, Name, RCurly } from './lexer.js';

export function policyRules(Base: CapabilityRules) {
  return class PolicyRules extends Base {
    policyDecl = this.RULE('policyDecl', () => {
      const kw = this.CONSUME(K.policy);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      const props = this.itemsOrJunk('policyDecl', () => this.SUBRULE(this.policyProp));
      this.CONSUME(RCurly);
      if (this.live) return this.b.policyOf(name, props, kw.startOffset, this.end());
    });

    policyProp = this.RULE('policyProp', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.strategy, LABEL.key); const w = this.CONSUME(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.weights, LABEL.key); const w = this.SUBRULE(this.weightsBlock); return this.prop(k, w); } },
        { ALT: () => { const b = this.SUBRULE(this.budgetDecl); return this.item('budgetDecl', b); } },
        { ALT: () => { const k = this.CONSUME(K.prefer, LABEL.key); const w = this.CONSUME2(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.max_fallbacks, LABEL.key); const n = this.CONSUME(AnyNumber); return this.prop(k, n); } },
        { ALT: () => { const k = this.CONSUME(K.require_consent, LABEL.key); const b = this.SUBRULE(this.boolLit); return this.prop(k, b); } },
        { ALT: () => { const r = this.SUBRULE(this.rateLimitDecl); return this.item('rateLimitDecl', r); } },
      ]);
    });

    weightsBlock = this.RULE('weightsBlock', () => {
      this.CONSUME(LCurly);
      const entries: unknown[] | undefined = this.live ? [] : undefined;
      this.MANY(() => {
        const e = this.SUBRULE(this.weightEntry);
        entries?.push(e);
        this.OPTION(() => this.CONSUME(Comma));
      });
      this.CONSUME(RCurly);
      return entries;
    });

    weightEntry = this.RULE('weightEntry', () => {
      const key = this.CONSUME(Name, LABEL.key);
      this.CONSUME(Colon);
      const n = this.CONSUME(AnyNumber);
      if (this.live) return this.b.weight(key, n, this.b.span(key.startOffset, this.end()));
    });

    budgetDecl = this.RULE('budgetDecl', () => {
      const kw = this.CONSUME(K.budget);
      const metric = this.CONSUME(Name, LABEL.metric);
      const op = this.OR([
        { ALT: () => this.CONSUME(LtEq, LABEL.op) },
        { ALT: () => this.CONSUME(Lt, LABEL.op) },
      ]);
      // Any number: one of another unit is the builder's E0203, as for every quantity property.
      const limit = this.CONSUME2(AnyNumber, LABEL.limit);
      // `warn`: record the event and go on instead of failing the run (LANGUAGE.md §7.2).
      const warn = this.OPTION({ GATE: () => this.LA(1).image === 'warn', DEF: () => this.CONSUME2(Name, LABEL.warn) });
      if (this.live) return this.b.budgetOf(metric, op, limit, kw.startOffset, this.end(), warn !== undefined);
    });

    rateLimitDecl = this.RULE('rateLimitDecl', () => {
      const kw = this.CONSUME(K.rate_limit);
      const capability = this.SUBRULE(this.qualifiedName);
      const count = this.CONSUME2(AnyNumber, LABEL.count);
      this.CONSUME(K.per);
      const per = this.CONSUME(AnyNumber, LABEL.per);
      if (this.live) {
        const b = this.b;
        const r: A.RateLimitDecl = {
          kind: 'RateLimitDecl',
          capability: v(capability),
          count: b.integer(count, 'the rate limit count').value,
          per: b.unitLit(per, 'per', 'duration'),
          range: b.span(kw.startOffset, this.end()),
        };
        return r;
      }
    });
  };
}

export type PolicyRules = ReturnType<typeof policyRules>;
