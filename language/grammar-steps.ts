/**
 * The grammar's steps (a layer over grammar-verification.ts): `step NAME = ACTION [when EXPR]
 * [{ options }]`, where the action is a capability call, a `wait`, or a `run` of another plan.
 * Steps are the bulk of a large plan, so their rules build no wrapper nodes and their DSL
 * closures are made once per parser.
 */
import type { IOrAlt, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Prop } from './ast-actions.js';
import { LABEL, v } from './grammar-labels.js';
import type { VerificationRules } from './grammar-verification.js';
import { AnyNumber, Assign, Colon, Comma, Dot, FieldName, K, LCurly, LParen, Name, RCurly, RParen } from './lexer.js';

export function stepRules(Base: VerificationRules) {
  return class StepRules extends Base {
    stepDecl = this.RULE('stepDecl', () => {
      const kw = this.CONSUME(K.step);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(Assign);
      // The action alternatives sit directly in the step node (no wrapper node: steps are the
      // bulk of large files).
      const action = this.OR((this.stepActions ??= {
        IGNORE_AMBIGUITIES: true,
        DEF: [
          { ALT: () => this.SUBRULE(this.waitUntilAction) },
          { ALT: () => this.SUBRULE(this.waitAction) },
          { GATE: () => this.LA(2).tokenType !== LParen && this.LA(2).tokenType !== Dot, ALT: () => this.SUBRULE(this.runAction) },
          { ALT: () => this.SUBRULE(this.capabilityCall) },
        ],
      }));
      const when = this.OPTION((this.inlineWhen ??= () => {
        const key = this.CONSUME(K.when);
        const expr = this.SUBRULE(this.expression, LABEL.when);
        if (this.live) return { key, expr: v<A.Expr>(expr) };
      }));
      // Options are direct children of the step, each with its own labels (`*Key`, `*Value`).
      let block: Prop[] | undefined;
      this.OPTION2(() => {
        this.CONSUME(LCurly);
        block = this.itemsOrJunk('stepDecl',
          () => { const k = this.CONSUME(K.after, LABEL.afterKey); const l = this.SUBRULE(this.nameList, LABEL.afterValue); return this.prop(k, l); },
          () => { const k = this.CONSUME(K.on, LABEL.onKey); const q = this.SUBRULE(this.qualifiedName, LABEL.onValue); return this.prop(k, q); },
          () => { const k = this.CONSUME(K.fallback, LABEL.fallbackKey); const c = this.SUBRULE2(this.capabilityCall, LABEL.fallbackValue); return this.prop(k, c); },
          () => { const k = this.CONSUME(K.compensate, LABEL.compensateKey); const c = this.SUBRULE3(this.capabilityCall, LABEL.compensateValue); return this.prop(k, c); },
          () => { const k = this.CONSUME(K.timeout, LABEL.timeoutKey); const d = this.CONSUME(AnyNumber, LABEL.timeoutValue); return this.prop(k, d); },
          () => { const r = this.SUBRULE(this.retrySpec, LABEL.retryValue); return this.item('retry', r); },
          () => { const k = this.CONSUME(K.join, LABEL.joinKey); const w = this.CONSUME2(Name, LABEL.joinValue); return this.prop(k, w); },
          () => { const k = this.CONSUME(K.on_failure, LABEL.on_failureKey); const w = this.CONSUME3(Name, LABEL.on_failureValue); return this.prop(k, w); },
          () => { const k = this.CONSUME(K.priority, LABEL.priorityKey); const w = this.CONSUME4(Name, LABEL.priorityValue); return this.prop(k, w); },
          () => { const k = this.CONSUME2(K.when, LABEL.whenKey); const e = this.SUBRULE2(this.expression, LABEL.whenValue); return this.prop(k, e); },
        );
        this.CONSUME(RCurly);
      });
      if (this.live) return this.b.stepOf(name, v(action), when, block, kw.startOffset, this.end());
    });

    waitUntilAction = this.RULE('waitUntilAction', () => {
      const kw = this.CONSUME(K.wait);
      this.CONSUME(K.until);
      const condition = this.SUBRULE(this.expression);
      const timeout = this.OPTION(() => {
        this.CONSUME(K.timeout);
        return this.CONSUME(AnyNumber);
      });
      if (this.live) {
        const a: { -readonly [P in keyof A.WaitUntilAction]: A.WaitUntilAction[P] } = {
          kind: 'WaitUntilAction', condition: v(condition), range: this.b.span(kw.startOffset, this.end()),
        };
        if (timeout) a.timeout = this.b.unitLit(timeout, 'timeout', 'duration');
        return a;
      }
    });

    waitAction = this.RULE('waitAction', () => {
      const kw = this.CONSUME(K.wait);
      const duration = this.SUBRULE(this.expression);
      if (this.live) return { kind: 'WaitAction', duration: v<A.Expr>(duration), range: this.b.span(kw.startOffset, this.end()) } satisfies A.WaitAction;
    });

    runAction = this.RULE('runAction', () => {
      const kw = this.CONSUME(K.run);
      const plan = this.SUBRULE(this.qualifiedName);
      const args = this.OPTION(() => this.SUBRULE(this.callArgs));
      if (this.live) {
        const a: A.RunAction = { kind: 'RunAction', plan: v(plan), args: args ? v(args) : [], range: this.b.span(kw.startOffset, this.end()) };
        return a;
      }
    });

    /** `name.part(arg: value, …)`; the name parts are inline (label `part`). */
    capabilityCall = this.RULE('capabilityCall', () => {
      const first = this.CONSUME(Name, LABEL.part);
      const outer = this.parts;
      this.parts = this.live ? [first] : undefined;
      this.MANY((this.callNameParts ??= () => {
        this.CONSUME(Dot);
        const p = this.CONSUME2(Name, LABEL.part);
        this.parts?.push(p);
      }));
      const parts = this.parts;
      this.parts = outer;
      const args = this.SUBRULE(this.callArgs);
      if (this.live) return this.b.capabilityCallOf(parts!, v(args), first.startOffset, this.end());
    });

    private stepActions?: { IGNORE_AMBIGUITIES: boolean; DEF: IOrAlt<unknown>[] };
    private inlineWhen?: () => { key: IToken; expr: A.Expr } | undefined;
    private callNameParts?: () => void;
    private namedArgs?: () => void;
    private moreNamedArgs?: () => void;
    private trailingComma?: () => void;
    /** Name parts of the capability call being parsed (AST build). */
    private parts: IToken[] | undefined;
    /** Arguments of the call being parsed (AST build). */
    private argList: A.Argument[] | undefined;

    override resetActions(): void {
      this.argList = undefined;
      this.parts = undefined;
      super.resetActions();
    }

    /** Named arguments, inline: `argName` tokens and `argValue` expressions in the same order. */
    callArgs = this.RULE('callArgs', () => {
      const outer = this.argList;
      // Made at the first argument, of its size: `[]` pushed to reserves 17 slots, and most
      // calls have one or two arguments (the tree keeps an exact copy either way).
      this.argList = undefined;
      this.CONSUME(LParen);
      this.OPTION((this.namedArgs ??= () => {
        const n = this.CONSUME(FieldName, LABEL.argName);
        this.CONSUME(Colon);
        const e = this.SUBRULE(this.expression, LABEL.argValue);
        if (this.live) this.argList = [this.b.argument(n, v(e))];
        this.MANY((this.moreNamedArgs ??= () => {
          this.CONSUME(Comma);
          const n2 = this.CONSUME2(FieldName, LABEL.argName);
          this.CONSUME2(Colon);
          const e2 = this.SUBRULE2(this.expression, LABEL.argValue);
          if (this.live) this.argList!.push(this.b.argument(n2, v(e2)));
        }));
        this.OPTION2((this.trailingComma ??= () => this.CONSUME2(Comma)));
      }));
      this.CONSUME(RParen);
      const args = this.live ? (this.argList ?? []) : undefined;
      this.argList = outer;
      return args;
    });
  };
}

export type StepRules = ReturnType<typeof stepRules>;
