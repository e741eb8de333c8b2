/**
 * The grammar's tests of plans (a layer over grammar-triggers.ts; LANGUAGE.md §9.2): which plan a
 * test runs and with what, the mocks of its capabilities, the people's decisions and the context
 * signals it replays at virtual times, and what it expects.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Prop } from './ast-actions.js';
import { EOF, tokenMatcher } from './chevrotain.js';
import { LABEL, v } from './grammar-labels.js';
import type { TriggerRules } from './grammar-triggers.js';
import { AnyNumber, Assign, BinaryOp, Dot, DotDot, FieldName, K, LCurly, Minus, Name, PrefixOp, RCurly, StringTok } from './lexer.js';

export function testRules(Base: TriggerRules) {
  return class TestRules extends Base {
    testDecl = this.RULE('testDecl', () => {
      const kw = this.CONSUME(K.test);
      // A bare word is taken too, so that the builder can say the name is a string.
      const name = this.OR([
        { ALT: () => this.CONSUME(StringTok, LABEL.name) },
        { ALT: () => this.CONSUME(Name, LABEL.name) },
        // `test { … }`: the name is missing, the block is still a test's (its errors reported).
        { GATE: () => this.LA(1).tokenType === LCurly, ALT: () => this.missingToken(StringTok) },
      ]);
      this.CONSUME(LCurly);
      const items = this.itemsOrJunk('testDecl', () => this.SUBRULE(this.testItem));
      this.CONSUME(RCurly);
      if (this.live) return this.b.testOf(name, items, kw.startOffset, this.end());
    });

    testItem = this.RULE('testItem', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.plan, LABEL.key); const q = this.SUBRULE(this.qualifiedName); return this.prop(k, q); } },
        { ALT: () => { const k = this.CONSUME(K.input, LABEL.key); const r = this.SUBRULE(this.recordLit); return this.prop(k, r); } },
        { ALT: () => { const k = this.CONSUME(K.context, LABEL.key); const r = this.SUBRULE2(this.recordLit); return this.prop(k, r); } },
        { ALT: () => { const k = this.CONSUME(K.started_by, LABEL.key); const s = this.CONSUME(StringTok); return this.prop(k, s); } },
        { ALT: () => { const o = this.SUBRULE(this.testOrigin); return this.item('testOrigin', o); } },
        { ALT: () => { const m = this.SUBRULE(this.mockDecl); return this.item('mockDecl', m); } },
        { ALT: () => { const d = this.SUBRULE(this.decisionDecl); return this.item('decisionDecl', d); } },
        { ALT: () => { const d = this.SUBRULE(this.signalDecl); return this.item('signalDecl', d); } },
        { ALT: () => { const e = this.SUBRULE(this.expectDecl); return this.item('expectDecl', e); } },
      ]);
    });

    /** `captured_from "RUN" ir_hash "HASH"`: the run and plan version a captured test came from. */
    testOrigin = this.RULE('testOrigin', () => {
      const kw = this.CONSUME(K.captured_from);
      const run = this.CONSUME(StringTok, LABEL.run);
      this.CONSUME(K.ir_hash);
      const hash = this.CONSUME2(StringTok, LABEL.hash);
      if (this.live) return this.b.testOriginOf(run, hash, kw.startOffset, this.end());
    });

    /** `mock CAP [where C] (returns V [then V]… | fails "M" [times N then returns V [then V]…]) [option]…` */
    mockDecl = this.RULE('mockDecl', () => {
      const kw = this.CONSUME(K.mock);
      const capability = this.SUBRULE(this.qualifiedName);
      const where = this.OPTION(() => {
        this.CONSUME(K.where);
        return this.SUBRULE(this.expression, LABEL.where);
      });
      let fails: IToken | undefined;
      let times: IToken | undefined;
      const returns: A.Expr[] | undefined = this.live ? [] : undefined;
      this.OR([
        {
          ALT: () => {
            this.CONSUME(K.returns);
            const a = this.SUBRULE2(this.expression, LABEL.returns);
            returns?.push(v(a));
            this.MANY(() => {
              this.CONSUME(K.then);
              const b = this.SUBRULE3(this.expression, LABEL.returns);
              returns?.push(v(b));
            });
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.fails);
            fails = this.CONSUME(StringTok, LABEL.fails);
            this.OPTION2(() => {
              this.CONSUME(K.times);
              times = this.CONSUME3(AnyNumber, LABEL.times);
              this.CONSUME2(K.then);
              this.CONSUME2(K.returns);
              const a = this.SUBRULE4(this.expression, LABEL.returns);
              returns?.push(v(a));
              this.MANY2(() => {
                this.CONSUME3(K.then);
                const b = this.SUBRULE5(this.expression, LABEL.returns);
                returns?.push(v(b));
              });
            });
          },
        },
      ]);
      let options: Prop[] | undefined;
      this.MANY3(() => {
        const o = this.SUBRULE(this.mockOption);
        if (this.live) (options ??= []).push(v(o));
      });
      if (this.live) return this.b.mockOf(v(capability), v(where), fails, times, returns!, options, kw.startOffset, this.end());
    });

    mockOption = this.RULE('mockOption', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.latency, LABEL.key); const d = this.CONSUME(AnyNumber); return this.prop(k, d); } },
        { ALT: () => { const k = this.CONSUME(K.cost, LABEL.key); const m = this.CONSUME2(AnyNumber); return this.prop(k, m); } },
        { ALT: () => { const k = this.CONSUME(K.usage, LABEL.key); const r = this.SUBRULE(this.recordLit); return this.prop(k, r); } },
      ]);
    });

    /** `approve STEP by "a", "b" [at D]` / `reject STEP by "c" [at D]` */
    decisionDecl = this.RULE('decisionDecl', () => {
      const kw = this.OR([
        { ALT: () => this.CONSUME(K.approve, LABEL.decision) },
        { ALT: () => this.CONSUME(K.reject, LABEL.decision) },
      ]);
      const step = this.CONSUME(Name, LABEL.step);
      this.CONSUME(K.by);
      const people = this.SUBRULE(this.stringList, LABEL.people);
      const at = this.OPTION(() => this.SUBRULE(this.virtualTime));
      if (this.live) return this.b.decisionOf(kw, step, v(people), v(at), kw.startOffset, this.end());
    });

    /** `signal context.X = V at D` */
    signalDecl = this.RULE('signalDecl', () => {
      const kw = this.CONSUME(K.signal);
      this.CONSUME(K.context, LABEL.contextKw);
      this.CONSUME(Dot);
      const name = this.CONSUME(FieldName, LABEL.name);
      this.CONSUME(Assign);
      const value = this.SUBRULE(this.expression);
      const at = this.SUBRULE(this.virtualTime);
      if (this.live) return this.b.signalOf(name, v(value), v(at), kw.startOffset, this.end());
    });

    /** `at D` in a test: a virtual time, written with a sign when negative (E0901 is the checker's). */
    virtualTime = this.RULE('virtualTime', () => {
      this.CONSUME(K.at);
      const m = this.OPTION(() => this.CONSUME(Minus, LABEL.sign));
      const d = this.CONSUME(AnyNumber, LABEL.value);
      if (this.live) return this.b.virtualTime(m, d);
    });

    /** `expect P` / `expect always P`; `always` is the modality unless it reads as a name (`always.completed`, `always and x`). */
    expectDecl = this.RULE('expectDecl', () => {
      const kw = this.CONSUME(K.expect);
      const always = this.OPTION({ GATE: () => this.alwaysIsModality(), DEF: () => this.CONSUME(K.always, LABEL.modality) });
      const condition = this.SUBRULE(this.expression);
      if (this.live) return this.b.expectOf(always !== undefined, v(condition), kw.startOffset, this.end());
    });

    private alwaysIsModality(): boolean {
      if (this.LA(1).tokenType !== K.always) return false;
      const next = this.LA(2);
      if (tokenMatcher(next, PrefixOp)) return true;
      const t = next.tokenType;
      // `always (a or b)` and `always [..]` read as the modality: no step is called or indexed so.
      return !(tokenMatcher(next, BinaryOp) || t === Dot || t === RCurly || t === DotDot || t === EOF);
    }
  };
}

export type TestRules = ReturnType<typeof testRules>;
