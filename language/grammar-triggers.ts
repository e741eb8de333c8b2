/**
 * The grammar's triggers (a layer over grammar-plans.ts): what starts a plan — a schedule, an
 * event, an API call, a condition, another plan's outcome — and with what input. Each source is
 * made here with the range of its item (the CST path's node range), so both paths agree.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { PlanRules } from './grammar-plans.js';
import { AnyNumber, K, LCurly, Name, RCurly, StringTok } from './lexer.js';

export function triggerRules(Base: PlanRules) {
  return class TriggerRules extends Base {
    triggerDecl = this.RULE('triggerDecl', () => {
      const kw = this.CONSUME(K.trigger);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      const props = this.itemsOrJunk('triggerDecl', () => this.SUBRULE(this.triggerItem));
      this.CONSUME(RCurly);
      if (this.live) return this.b.triggerOf(name, props, kw.startOffset, this.end());
    });

    triggerItem = this.RULE('triggerItem', () => {
      // Sources carry the item's range (the CST path's node range of the item).
      const b = this.live ? this.b : undefined;
      const r = (k: IToken): A.Range => b!.span(k.startOffset, this.end());
      return this.OR([
        {
          ALT: () => {
            const k = this.CONSUME(K.schedule, LABEL.key);
            const s = this.CONSUME(StringTok);
            if (b) return this.prop(k, { kind: 'ScheduleSource', cron: b.stringLit(s, false), range: r(k) } satisfies A.ScheduleSource);
          },
        },
        { ALT: () => { const k = this.CONSUME(K.timezone, LABEL.key); const s = this.CONSUME2(StringTok); return this.prop(k, s); } },
        {
          ALT: () => {
            const k = this.CONSUME(K.event, LABEL.key);
            const s = this.CONSUME3(StringTok);
            if (b) return this.prop(k, { kind: 'EventSource', eventType: b.stringLit(s, false), range: r(k) } satisfies A.EventSource);
          },
        },
        {
          ALT: () => {
            const k = this.CONSUME(K.where, LABEL.key);
            const e = this.SUBRULE(this.expression);
            if (b) return this.prop(k, { expr: v<A.Expr>(e), range: r(k) });
          },
        },
        {
          ALT: () => {
            const k = this.CONSUME(K.manual, LABEL.key);
            if (b) return this.prop(k, { kind: 'ManualSource', range: r(k) } satisfies A.ManualSource);
          },
        },
        {
          ALT: () => {
            const k = this.CONSUME(K.api, LABEL.key);
            const s = this.CONSUME4(StringTok);
            if (b) return this.prop(k, { kind: 'ApiSource', path: b.stringLit(s, false), range: r(k) } satisfies A.ApiSource);
          },
        },
        {
          ALT: () => {
            const k = this.CONSUME(K.when, LABEL.key);
            const e = this.SUBRULE2(this.expression);
            if (b) return this.prop(k, { kind: 'ConditionSource', condition: v<A.Expr>(e), range: r(k) } satisfies A.ConditionSource);
          },
        },
        {
          ALT: () => {
            const k = this.CONSUME(K.after, LABEL.key);
            const plan = this.SUBRULE(this.qualifiedName);
            const w = this.CONSUME(Name, LABEL.word);
            if (b) {
              const outcome = b.word(w, ['completed', 'failed', 'finished'] as const, 'plan outcome');
              const s: A.ChainSource | undefined = outcome ? { kind: 'ChainSource', plan: v(plan), outcome, range: r(k) } : undefined;
              return this.prop(k, s);
            }
          },
        },
        { ALT: () => { const k = this.CONSUME(K.run, LABEL.key); const q = this.SUBRULE2(this.qualifiedName); return this.prop(k, q); } },
        { ALT: () => { const k = this.CONSUME(K.with, LABEL.key); const l = this.SUBRULE(this.recordLit); return this.prop(k, l); } },
        { ALT: () => { const k = this.CONSUME(K.debounce, LABEL.key); const d = this.CONSUME(AnyNumber); return this.prop(k, d); } },
        // Consent scopes the trigger grants to the runs it starts (LANGUAGE.md §7.2).
        { ALT: () => { const k = this.CONSUME(K.consent, LABEL.key); const l = this.SUBRULE(this.stringList); return this.prop(k, l); } },
      ]);
    });
  };
}

export type TriggerRules = ReturnType<typeof triggerRules>;
