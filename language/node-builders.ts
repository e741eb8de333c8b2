/**
 * The builders both parse paths share: everything that turns tokens (or already built child
 * nodes) into an AST node, and every message those builders report. The two paths differ only in
 * how they find the tokens: the direct path (ast-actions.ts) gets them as rule arguments, the CST
 * path (cst-to-ast.ts) reads them out of CST nodes. Both hand them here, so that a node, its
 * field order, its range and its diagnostics are written once.
 *
 * A property value comes as the direct path sees it: its token, or its sub-rule already built.
 * A value the builder requires but finds missing (only after the CST path's error recovery)
 * throws MISSING, which drops just that item.
 *
 * The builders are one class in layers, each in a module of its own: `token-builders.ts` (ranges,
 * names, errors, literals), `expression-builders.ts` (expressions, types), `declaration-builders.ts`
 * (the module, declarations, plans, steps, triggers, sources); here the declarations that check
 * plans: invariants, simulations and tests. `builder-support.ts` holds what they and both paths share.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Range } from './diagnostic.js';
import { need, MISSING } from './cst-access.js';
import { fitted, isLitOrRange, type Mutable } from './builder-support.js';
import { StringTok } from './lexer.js';
import { endOffset, startOffset } from './source.js';
import { DeclarationBuilders } from './declaration-builders.js';

export {
  fitted, isLitOrRange, keyName, MAX_REPEAT, NONE, PRIMITIVES, REPEATABLE, STEP_OPTION_KEYS,
  type KeyedValue, type Mutable, type PropertyBag, type StepOptionKey, type TriggerParts,
} from './builder-support.js';

export abstract class NodeBuilders extends DeclarationBuilders {
  /** An invariant is named by a word or by a string without interpolation. */
  invariantName(nameTok: IToken): A.Ident | A.StringLit {
    return nameTok.tokenType === StringTok ? this.stringLit(nameTok, false) : this.ident(nameTok);
  }

  invariantDecl(name: A.Ident | A.StringLit, modality: IToken, condition: A.Expr, range: Range): A.InvariantDecl {
    const d: Mutable<A.InvariantDecl> = { kind: 'InvariantDecl', name, modality: modality.image as A.Modality, condition, range };
    return this.withDoc(d, startOffset(range));
  }

  /** `simulate context { … }`: a signal named twice is E0102. */
  simulateContext(signals: readonly A.StaleSignal[], range: Range): A.SimulateContextDecl {
    return { kind: 'SimulateContextDecl', signals: this.firstOfEach(signals, 'simulate context', (s) => s.signal), range };
  }

  staleSignal(name: IToken | undefined, share: IToken | undefined, range: Range): A.StaleSignal {
    return { kind: 'StaleSignal', signal: this.ident(name), share: this.unitLit(share, 'stale', 'percent'), range };
  }

  /** A test before its items; `testItem` fills it, `testDone` checks it has a plan. */
  testStart(name: IToken | undefined, range: Range): Mutable<A.TestDecl> {
    const tok = need(name);
    let title: A.StringLit;
    if (tok.tokenType === StringTok) title = this.stringLit(tok, false);
    else {
      this.error(`a test is named by a string: test "${tok.image}" { … }`, this.tokRange(tok));
      title = { kind: 'StringLit', parts: [tok.image], range: this.tokRange(tok) };
    }
    const d = { kind: 'TestDecl', name: title, range, mocks: [], decisions: [], signals: [], expects: [] };
    return d as unknown as Mutable<A.TestDecl>;
  }

  testItem(d: Mutable<A.TestDecl>, key: string, v: unknown): void {
    switch (key) {
      case 'plan': d.plan = v as A.QualifiedName; break;
      case 'input': d.input = v as A.RecordLit; break;
      case 'context': d.context = v as A.RecordLit; break;
      case 'started_by': d.startedBy = this.stringLit(v as IToken, false); break;
      case 'testOrigin': d.origin = v as A.TestOrigin; break;
      case 'mockDecl': (d.mocks as A.MockDecl[]).push(v as A.MockDecl); break;
      case 'decisionDecl': (d.decisions as A.DecisionDecl[]).push(v as A.DecisionDecl); break;
      case 'signalDecl': (d.signals as A.SignalDecl[]).push(v as A.SignalDecl); break;
      case 'expectDecl': (d.expects as A.ExpectDecl[]).push(v as A.ExpectDecl); break;
    }
  }

  /** A test names the plan it runs; without `plan P` it is an E0001 and left out. */
  testDone(d: Mutable<A.TestDecl>): A.TestDecl {
    if (!d.plan) {
      const range = d.range;
      if (!this.hasSyntaxErrorIn(startOffset(range), endOffset(range) + 1)) this.error(`test "${this.plainText(d.name)}" needs 'plan P' (the plan it runs)`, d.name.range);
      throw MISSING;
    }
    return d;
  }

  protected plainText(s: A.StringLit): string {
    return s.parts.filter((p): p is string => typeof p === 'string').join('');
  }

  testOrigin(run: IToken | undefined, hash: IToken | undefined, range: Range): A.TestOrigin {
    return { kind: 'TestOrigin', run: this.stringLit(run, false), irHash: this.stringLit(hash, false), range };
  }

  /** A mock before its options (`mockOption` adds them). */
  mock(capability: A.QualifiedName, where: A.Expr | undefined, fails: IToken | undefined, times: IToken | undefined, returns: A.Expr[], range: Range): Mutable<A.MockDecl> {
    const m: Mutable<A.MockDecl> = { kind: 'MockDecl', capability, returns: fitted(returns), range };
    if (where) m.where = where;
    if (fails) m.fails = this.stringLit(fails, false);
    if (times) m.times = this.integer(times, 'times', 'times');
    return m;
  }

  /** `latency D`, `cost M`, `usage { … }`; `cost` and `usage` exclude each other. */
  mockOption(m: Mutable<A.MockDecl>, key: string, v: unknown): void {
    switch (key) {
      case 'latency': m.latency = this.unitLit(v as IToken, key, 'duration'); break;
      case 'cost':
      case 'usage': {
        const other = key === 'cost' ? m.usage : m.cost;
        const value = key === 'cost' ? this.unitLit(v as IToken, key, 'money') : (v as A.RecordLit);
        if (other) {
          this.error(`a mock gives 'cost' or 'usage', not both (usage is priced as a model call is)`, value.range);
          break;
        }
        if (key === 'cost') m.cost = value as A.MoneyLit;
        else m.usage = value as A.RecordLit;
        break;
      }
    }
  }

  decision(kw: IToken | undefined, step: IToken | undefined, people: readonly IToken[] | undefined, at: A.DurationLit | undefined, range: Range): A.DecisionDecl {
    const d: Mutable<A.DecisionDecl> = {
      kind: 'DecisionDecl',
      decision: need(kw).image as 'approve' | 'reject',
      step: this.ident(step),
      by: need(people).map((p) => this.stringLit(p, false)),
      range,
    };
    if (at) d.at = at;
    return d;
  }

  signal(name: IToken | undefined, value: A.Expr, at: A.DurationLit, range: Range): A.SignalDecl {
    return { kind: 'SignalDecl', signal: this.ident(name), value, at, range };
  }

  /** `at D` / `at -D` in a test: a duration, negative when signed (the checker reports that, E0901). */
  virtualTime(minus: IToken | undefined, t: IToken | undefined): A.DurationLit {
    const d = this.unitLit(t, 'at', 'duration');
    if (!minus) return d;
    return { kind: 'DurationLit', value: d.value === 0 ? 0 : -d.value, unit: d.unit, range: this.range(minus.startOffset, endOffset(d.range)) };
  }

  expect(always: boolean, condition: A.Expr, range: Range): A.ExpectDecl {
    return always ? { kind: 'ExpectDecl', always: true, condition, range } : { kind: 'ExpectDecl', condition, range };
  }

  simulateProp(d: Mutable<A.SimulateDecl>, key: string, v: unknown): void {
    switch (key) {
      case 'output': d.output = v as A.RecordLit; break;
      case 'fail': d.fail = this.unitLit(v as IToken, key, 'percent'); break;
      case 'latency': {
        const e = v as A.Expr;
        if (isLitOrRange(e, 'DurationLit')) d.latency = e as A.DurationLit | A.RangeExpr;
        else this.quantityError(e, "'latency' needs a duration or a duration range such as 1s..5s", 'expected a duration or a duration range such as 1s..5s');
        break;
      }
      case 'cost': {
        const e = v as A.Expr;
        if (isLitOrRange(e, 'MoneyLit')) d.cost = e as A.MoneyLit | A.RangeExpr;
        else this.quantityError(e, "'cost' needs an amount of money or a range such as 0.01usd..0.05usd", 'expected an amount of money or a range such as 0.01usd..0.05usd');
        break;
      }
    }
  }
}
