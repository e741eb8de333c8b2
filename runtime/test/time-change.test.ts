/** §9.4: the next instant a condition can change with time alone (`age()`, `now()`), beside the evaluator. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExprIR } from '../../compiler/index.js';
import { condition, type EvalEnv } from '../evaluate.js';
import { nextTimeChange, RECHECK_MS } from '../time-change.js';

const ctx = (key: string): ExprIR => ({ op: 'get', object: { op: 'var', name: 'context' }, key });
const age = (key: string): ExprIR => ({ op: 'call', fn: 'age', args: [ctx(key)] });
const now: ExprIR = { op: 'call', fn: 'now', args: [] };
const lit = (value: number | boolean): ExprIR => ({ op: 'lit', value });
type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
const cmp = (op: Op, left: ExprIR, right: ExprIR): ExprIR => ({ op, left, right });

/** Signals set at the given instants (fresh, no max_age), read at `t`. */
function envAt(t: number, setAt: Record<string, number>): EvalEnv {
  return {
    vars: {},
    now: () => t,
    signal: (n) => (n in setAt ? { value: true, state: 'fresh', age_ms: t - setAt[n]!, max_age_ms: null, set_at: setAt[n]! } : { value: null, state: 'never_set', age_ms: null, max_age_ms: null }),
  };
}

describe('nextTimeChange', () => {
  it('age(context.X) > D changes at X set time + D, one ms past it', () => {
    const e = cmp('>', age('hb'), lit(300_000));
    // At 301000 the age is exactly D, not yet past it: it turns true one ms later.
    expect(nextTimeChange(e, envAt(1_000, { hb: 1_000 }), 1_000)).toBe(301_001);
    expect(condition(e, envAt(301_000, { hb: 1_000 }))).toBe(false);
    expect(condition(e, envAt(301_001, { hb: 1_000 }))).toBe(true);
    // Once past, time alone never turns it back.
    expect(nextTimeChange(e, envAt(301_001, { hb: 1_000 }), 301_001)).toBeNull();
  });

  it('reads either side, ± a constant, and now() against a time', () => {
    expect(nextTimeChange(cmp('<', lit(60_000), age('d')), envAt(0, { d: 0 }), 0)).toBe(60_001);
    const shifted: ExprIR = { op: '+', left: age('d'), right: lit(1_000) };
    expect(nextTimeChange(cmp('>=', shifted, lit(5_000)), envAt(0, { d: 0 }), 0)).toBe(4_000);
    expect(nextTimeChange(cmp('>', now, lit(10_000)), envAt(2_000, {}), 2_000)).toBe(10_001);
  });

  it('nothing to wait for: a signal never set, no clock read, two clocks compared', () => {
    expect(nextTimeChange(cmp('>', age('x'), lit(5)), envAt(0, {}), 0)).toBeNull();
    expect(nextTimeChange(cmp('==', ctx('x'), lit(true)), envAt(0, { x: 0 }), 0)).toBeNull();
    expect(nextTimeChange(cmp('>', age('a'), age('b')), envAt(0, { a: 0, b: 0 }), 0)).toBeNull();
  });

  it('an age that does not grow with the clock (no set time: verify reports a fresh signal at age 0) never changes', () => {
    const env: EvalEnv = { vars: {}, now: () => 0, signal: () => ({ value: true, state: 'fresh', age_ms: 0, max_age_ms: null }) };
    expect(nextTimeChange(cmp('>', age('x'), lit(5)), env, 0)).toBeNull();
    expect(nextTimeChange(cmp('>', { op: '*', left: age('x'), right: lit(2) }, lit(5)), env, 0)).toBeNull();
  });

  it('a value that cannot be computed gives no instant (the evaluator reports the error, not this)', () => {
    const bad: ExprIR = { op: 'call', fn: 'len', args: [lit(3)] };
    expect(nextTimeChange(cmp('>', age('x'), bad), envAt(0, { x: 0 }), 0)).toBeNull();
  });

  it('a clock read it cannot bound is looked at again every RECHECK_MS', () => {
    const scaled: ExprIR = { op: '*', left: age('x'), right: lit(2) };
    expect(nextTimeChange(cmp('>', scaled, lit(100_000)), envAt(0, { x: 0 }), 0)).toBe(RECHECK_MS);
  });

  it('finds inside and/or/not, the earliest of several', () => {
    const e: ExprIR = { op: 'and', left: { op: 'not', arg: cmp('<', age('a'), lit(9_000)) }, right: cmp('>', age('b'), lit(2_000)) };
    expect(nextTimeChange(e, envAt(0, { a: 0, b: 0 }), 0)).toBe(2_001);
  });

  it('property: time alone changes nothing before the instant, and a change is never after it', () => {
    const ops: Op[] = ['<', '<=', '>', '>=', '==', '!='];
    fc.assert(
      fc.property(fc.constantFrom(...ops), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.boolean(), (op, d, setAt, later, flip) => {
        const e = flip ? cmp(op, lit(d), age('x')) : cmp(op, age('x'), lit(d));
        const t = setAt + later;
        const value = (u: number) => condition(e, envAt(u, { x: setAt }));
        const next = nextTimeChange(e, envAt(t, { x: setAt }), t);
        let firstChange: number | null = null;
        for (let u = t + 1; u <= t + 600 && firstChange === null; u++) if (value(u) !== value(t)) firstChange = u;
        if (firstChange !== null) expect(next).not.toBeNull();
        if (next !== null) {
          expect(next).toBeGreaterThan(t);
          for (let u = t; u < next; u++) expect(value(u)).toBe(value(t));
        }
        // Exact: the instant is the change itself, not a look before it.
        if (firstChange !== null) expect(next).toBe(firstChange);
      }),
    );
  });
});
