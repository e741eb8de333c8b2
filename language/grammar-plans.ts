/**
 * The grammar's plans (a layer over grammar-steps.ts): a plan's properties and its body — steps
 * and the control-flow blocks that hold steps (`for each`, `race`, `repeat`), invariants and
 * success criteria.
 */
import type { IOrAlt } from 'chevrotain';
import type * as A from './ast.js';
import type { Prop } from './ast-actions.js';
import { LABEL, v } from './grammar-labels.js';
import type { StepRules } from './grammar-steps.js';
import { AnyNumber, Colon, K, LCurly, Name, R, RCurly, StringTok } from './lexer.js';

export function planRules(Base: StepRules) {
  return class PlanRules extends Base {
    planDecl = this.RULE('planDecl', () => {
      const kw = this.CONSUME(K.plan);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      // Steps are direct children (no `planItem` wrapper): they are the bulk of large plans.
      const props = this.itemsOrJunk<Prop | A.StepDecl>('planDecl', ...(this.planBlockItems ??= [
        () => this.SUBRULE(this.stepDecl),
        () => this.SUBRULE(this.planItem),
      ]));
      this.CONSUME(RCurly);
      if (this.live) return this.b.planOf(name, props, kw.startOffset, this.end());
    });

    planItem = this.RULE('planItem', () => {
      return this.OR((this.planItemAlts ??= [
        { ALT: () => { const k = this.CONSUME(K.goal, LABEL.key); const s = this.CONSUME(StringTok); return this.prop(k, s); } },
        { ALT: () => { const k = this.CONSUME(K.input, LABEL.key); const r = this.SUBRULE(this.recordType); return this.prop(k, r); } },
        { ALT: () => { const k = this.CONSUME(K.policy, LABEL.key); const q = this.SUBRULE(this.qualifiedName); return this.prop(k, q); } },
        { ALT: () => { const k = this.CONSUME(K.guardrails, LABEL.key); const l = this.SUBRULE(this.qualifiedNameList); return this.prop(k, l); } },
        { ALT: () => { const k = this.CONSUME(K.priority, LABEL.key); const w = this.CONSUME(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.deadline, LABEL.key); const d = this.CONSUME(AnyNumber); return this.prop(k, d); } },
        { ALT: () => { const k = this.CONSUME(K.concurrency, LABEL.key); const n = this.CONSUME2(AnyNumber); return this.prop(k, n); } },
        { ALT: () => { const k = this.CONSUME(K.on_failure, LABEL.key); const w = this.CONSUME2(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.output, LABEL.key); const r = this.SUBRULE(this.recordLit); return this.prop(k, r); } },
        { ALT: () => { const f = this.SUBRULE(this.forEach); return this.item('forEach', f); } },
        { ALT: () => { const r = this.SUBRULE(this.raceBlock); return this.item('raceBlock', r); } },
        { ALT: () => { const r = this.SUBRULE(this.repeatBlock); return this.item('repeatBlock', r); } },
        { ALT: () => { const i = this.SUBRULE(this.invariantDecl); return this.item('invariantDecl', i); } },
        { ALT: () => { const s = this.SUBRULE(this.successDecl); return this.item('successDecl', s); } },
      ]));
    });
    /**
     * The alternatives of the rules run once per plan property, built once per parser (like
     * `itemLoops`, grammar-blocks.ts): rebuilt on every use, these arrays of closures were the
     * largest share of what a 10 MB file of small plans allocated while parsing.
     */
    private planItemAlts?: IOrAlt<unknown>[];
    private planBlockItems?: (() => unknown)[];

    forEach = this.RULE('forEach', () => {
      const kw = this.CONSUME(K.for);
      this.CONSUME(K.each);
      const item = this.CONSUME(Name, LABEL.item);
      this.CONSUME(R.in);
      const list = this.SUBRULE(this.expression, LABEL.list);
      const parallel = this.OPTION(() => {
        this.CONSUME(K.parallel);
        return this.CONSUME(AnyNumber, LABEL.parallel);
      });
      this.CONSUME(LCurly);
      const body = this.itemsOrJunk<A.BlockItem>('forEach',
        () => this.SUBRULE(this.stepDecl),
        () => this.SUBRULE(this.forEach),
        () => this.SUBRULE(this.raceBlock),
        () => this.SUBRULE(this.repeatBlock),
      );
      this.CONSUME(RCurly);
      if (this.live) return this.b.forEachOf(item, v(list), parallel, body, kw.startOffset, this.end());
    });

    /** `race NAME { step … step … }`: the branches are steps. */
    raceBlock = this.RULE('raceBlock', () => {
      const kw = this.CONSUME(K.race);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      const body = this.itemsOrJunk<A.StepDecl>('raceBlock', () => this.SUBRULE(this.stepDecl));
      this.CONSUME(RCurly);
      if (this.live) return this.b.raceOf(name, body, kw.startOffset, this.end());
    });

    /** `repeat NAME max N until EXPR [on_failure W] { … }`; a missing `max` is reported by the builder, in words. */
    repeatBlock = this.RULE('repeatBlock', () => {
      const kw = this.CONSUME(K.repeat);
      const name = this.CONSUME(Name, LABEL.name);
      const max = this.OPTION(() => {
        this.CONSUME(K.max);
        return this.CONSUME(AnyNumber, LABEL.max);
      });
      this.CONSUME(K.until);
      const until = this.SUBRULE(this.expression, LABEL.until);
      const onFailure = this.OPTION2(() => {
        this.CONSUME(K.on_failure);
        return this.CONSUME2(Name, LABEL.on_failureValue);
      });
      this.CONSUME(LCurly);
      const body = this.itemsOrJunk<A.BlockItem>('repeatBlock',
        () => this.SUBRULE(this.stepDecl),
        () => this.SUBRULE(this.forEach),
        () => this.SUBRULE(this.raceBlock),
        () => this.SUBRULE(this.repeatBlock),
      );
      this.CONSUME(RCurly);
      if (this.live) return this.b.repeatOf(name, max, v(until), onFailure, body, kw.startOffset, this.end());
    });

    successDecl = this.RULE('successDecl', () => {
      const kw = this.CONSUME(K.success);
      const label = this.OPTION(() => {
        const l = this.CONSUME(StringTok, LABEL.label);
        this.CONSUME(Colon);
        return l;
      });
      const condition = this.SUBRULE(this.expression);
      if (this.live) return this.b.successOf(label, v(condition), kw.startOffset, this.end());
    });
  };
}

export type PlanRules = ReturnType<typeof planRules>;
