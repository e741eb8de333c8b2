/** LANGUAGE.md §9.4: three-valued (Kleene) logic over context signals that are not known. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExprIR } from '../../compiler/index.js';
import { condition, evaluate, unknownReason, UNKNOWN, type EvalEnv, type SignalRead, type Truth } from '../evaluate.js';
import { ContextStore } from '../context/store.js';
import { VirtualClock } from '../index.js';

type T3 = true | false | 'u';
type Tree = { readonly k: 'leaf'; readonly v: T3 } | { readonly k: 'not'; readonly a: Tree } | { readonly k: 'and' | 'or' | 'implies'; readonly a: Tree; readonly b: Tree };

/** The reference: Kleene's strong logic as truth tables over {F, U, T} ordered F < U < T. */
const RANK: Record<string, number> = { false: 0, u: 1, true: 2 };
const OF = [false, 'u', true] as const;
function reference(t: Tree): T3 {
  switch (t.k) {
    case 'leaf':
      return t.v;
    case 'not':
      return OF[2 - RANK[String(reference(t.a))]!]!;
    case 'and':
      return OF[Math.min(RANK[String(reference(t.a))]!, RANK[String(reference(t.b))]!)]!;
    case 'or':
      return OF[Math.max(RANK[String(reference(t.a))]!, RANK[String(reference(t.b))]!)]!;
    case 'implies':
      return OF[Math.max(2 - RANK[String(reference(t.a))]!, RANK[String(reference(t.b))]!)]!;
  }
}

/** A leaf is a context signal: true/false set and fresh, unknown when stale. */
let next = 0;
function toIR(t: Tree, signals: Map<string, T3>): ExprIR {
  switch (t.k) {
    case 'leaf': {
      const name = `s${next++}`;
      signals.set(name, t.v);
      return { op: 'get', object: { op: 'var', name: 'context' }, key: name };
    }
    case 'not':
      return { op: 'not', arg: toIR(t.a, signals) };
    default:
      return { op: t.k, left: toIR(t.a, signals), right: toIR(t.b, signals) };
  }
}

function envOf(signals: Map<string, T3>): EvalEnv {
  return {
    vars: {},
    signal: (name): SignalRead => {
      const v = signals.get(name);
      return v === 'u' || v === undefined ? { value: null, state: 'stale', age_ms: 180_000, max_age_ms: 120_000 } : { value: v, state: 'fresh', age_ms: 1, max_age_ms: 120_000 };
    },
  };
}

const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ k: fc.constant('leaf' as const), v: fc.constantFrom<T3>(true, false, 'u') }),
    fc.record({ k: fc.constant('not' as const), a: tie('t') }),
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const, 'implies' as const), a: tie('t'), b: tie('t') }),
  ),
})).t;

const asT3 = (t: Truth): T3 => (t === UNKNOWN ? 'u' : t);

describe('Kleene logic over unknown signals', () => {
  it('agrees with the truth tables of strong Kleene logic on every expression', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const signals = new Map<string, T3>();
        const ir = toIR(t, signals);
        expect(asT3(condition(ir, envOf(signals)))).toBe(reference(t));
      }),
      { numRuns: 500 },
    );
  });

  const sig = (name: string): ExprIR => ({ op: 'get', object: { op: 'var', name: 'context' }, key: name });
  const env = envOf(new Map<string, T3>([['t', true], ['f', false], ['u', 'u']]));

  it('a comparison or computation with unknown is unknown; ?? gives its default', () => {
    expect(condition({ op: '>', left: sig('u'), right: { op: 'lit', value: 3 } }, env)).toBe(UNKNOWN);
    expect(condition({ op: '==', left: { op: '+', left: sig('u'), right: { op: 'lit', value: 1 } }, right: { op: 'lit', value: 2 } }, env)).toBe(UNKNOWN);
    expect(evaluate({ op: '??', left: sig('u'), right: { op: 'lit', value: 20 } }, env)).toBe(20);
    expect(evaluate({ op: '??', left: sig('t'), right: { op: 'lit', value: 20 } }, env)).toBe(true);
    // A value never carries the third truth value out of the evaluator.
    expect(evaluate(sig('u'), env)).toBeNull();
    expect(evaluate({ op: 'list', items: [sig('u')] }, env)).toEqual([null]);
  });

  it('membership in a list written out is the or of its comparisons: an unknown item leaves it unknown unless another matches', () => {
    const lit = (value: string | number | boolean | null): ExprIR => ({ op: 'lit', value });
    const inList = (l: ExprIR, items: ExprIR[]): ExprIR => ({ op: 'in', left: l, right: { op: 'list', items } });
    expect(condition(inList(lit(false), [sig('u')]), env)).toBe(UNKNOWN);
    expect(condition(inList(lit(null), [sig('u')]), env)).toBe(UNKNOWN); // unknown is not null
    expect(condition(inList(lit(true), [sig('u'), sig('t')]), env)).toBe(true);
    expect(condition(inList(lit(3), [lit(1), lit(2)]), env)).toBe(false);
    expect(condition(inList(sig('u'), [lit(1)]), env)).toBe(UNKNOWN);
    expect(condition({ op: 'not', arg: inList(lit(false), [sig('u'), lit(true)]) }, env)).toBe(UNKNOWN);
    // contains() over a list written out is the same membership.
    const contains = (items: ExprIR[], x: ExprIR): ExprIR => ({ op: 'call', fn: 'contains', args: [{ op: 'list', items }, x] });
    expect(condition(contains([sig('u'), lit(3)], lit(3)), env)).toBe(true);
    expect(condition(contains([sig('u'), lit(3)], lit(4)), env)).toBe(UNKNOWN);
  });

  it('an interpolated string with an unknown part is unknown inside a condition, and prints it as unknown when it leaves', () => {
    const text: ExprIR = { op: 'concat', parts: [{ op: 'lit', value: 'mode=' }, sig('u')] };
    expect(condition({ op: '==', left: text, right: { op: 'lit', value: 'mode=unknown' } }, env)).toBe(UNKNOWN);
    expect(evaluate(text, env)).toBe('mode=unknown');
    expect(evaluate({ op: 'record', fields: [{ key: 'm', value: text }] }, env)).toEqual({ m: 'mode=unknown' });
    expect(evaluate({ op: 'concat', parts: [{ op: 'lit', value: 'x=' }, sig('t')] }, env)).toBe('x=true');
  });

  it('a built-in over a list written out with an unknown item is unknown, not an error over null', () => {
    const lit = (value: number): ExprIR => ({ op: 'lit', value });
    const max: ExprIR = { op: 'call', fn: 'max', args: [{ op: 'list', items: [sig('u'), lit(0)] }] };
    expect(condition({ op: '>', left: max, right: lit(20) }, env)).toBe(UNKNOWN);
    expect(evaluate({ op: 'call', fn: 'sum', args: [{ op: 'list', items: [lit(1), lit(2)] }] }, env)).toBe(3);
  });

  it('known() and age() read the state, and the reason names the stale signal with its age', () => {
    expect(evaluate({ op: 'call', fn: 'known', args: [sig('u')] }, env)).toBe(false);
    expect(evaluate({ op: 'call', fn: 'known', args: [sig('t')] }, env)).toBe(true);
    expect(evaluate({ op: 'call', fn: 'age', args: [sig('u')] }, env)).toBe(180_000);
    expect(unknownReason({ op: 'and', left: sig('t'), right: sig('u') }, env)).toBe('context.u is stale: 3m > 2m');
    const never: EvalEnv = { vars: { context: {} } };
    expect(condition(sig('motion'), never)).toBe(UNKNOWN);
    expect(unknownReason(sig('motion'), never)).toBe('context.motion was never set');
    expect(evaluate({ op: 'call', fn: 'age', args: [sig('motion')] }, never)).toBeNull();
  });

  it('the reason names the signal that makes the condition unknown, not one a ?? replaced, a known() read or a decided side left aside', () => {
    const never: EvalEnv = { vars: { context: {} }, signal: (n) => (n === 'u' ? env.signal!(n) : n === 't' ? env.signal!(n) : { value: null, state: 'never_set', age_ms: null, max_age_ms: null }) };
    const lit = (value: number | boolean): ExprIR => ({ op: 'lit', value });
    // context.u and (context.x ?? 20) > 18: x was never set, but the ?? covers it; u is stale.
    const cond: ExprIR = { op: 'and', left: sig('u'), right: { op: '>', left: { op: '??', left: sig('x'), right: lit(20) }, right: lit(18) } };
    expect(condition(cond, never)).toBe(UNKNOWN);
    expect(unknownReason(cond, never)).toBe('context.u is stale: 3m > 2m');
    // context.u or known(context.x): x is read by known() (false), u decides.
    const viaKnown: ExprIR = { op: 'or', left: sig('u'), right: { op: 'call', fn: 'known', args: [sig('x')] } };
    // Both stale: the first in the order they are read.
    expect(unknownReason({ op: 'and', left: sig('u'), right: sig('x') }, never)).toBe('context.u is stale: 3m > 2m');
    expect(unknownReason(viaKnown, never)).toBe('context.u is stale: 3m > 2m');
    // Inside a list written out, too.
    expect(unknownReason({ op: 'in', left: lit(3), right: { op: 'list', items: [sig('t'), sig('u')] } }, never)).toBe('context.u is stale: 3m > 2m');
  });

  it('the reason for a derived signal that turned unknown says so, with no max_age it does not have', () => {
    const clock = new VirtualClock(0);
    const store = new ContextStore({ clock, signals: { motion: { max_age_ms: 120_000, derived: null, hold_ms: null }, occupied: { max_age_ms: null, derived: sig('motion'), hold_ms: null } } });
    store.set('motion', true, { source: 'api' });
    clock.step(); // motion goes stale, and occupied with it
    const env: EvalEnv = { vars: {}, signal: (n) => store.read(n) };
    expect(condition(sig('occupied'), env)).toBe(UNKNOWN);
    expect(unknownReason(sig('occupied'), env)).toBe('context.occupied is unknown: a signal it is derived from is not known');
    // Read the moment it passed max_age: the age does not print as max_age itself.
    expect(unknownReason(sig('motion'), env)).toBe('context.motion is stale: 2m1ms > 2m');
    store.close();
  });
});
