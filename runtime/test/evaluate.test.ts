import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExprIR, StepView } from '../../compiler/index.js';
import { evaluate, EvalError, REDACTED } from '../evaluate.js';
import { bin, lit } from './ir-builder.js';

const v = (name: 'input' | 'context' | 'run' | 'plan' | 'step' | 'output' | 'event'): ExprIR => ({ op: 'var', name });
const get = (object: ExprIR, key: string): ExprIR => ({ op: 'get', object, key });
const call = (fn: Extract<ExprIR, { op: 'call' }>['fn'], ...args: ExprIR[]): ExprIR => ({ op: 'call', fn, args });
const list = (...items: ExprIR[]): ExprIR => ({ op: 'list', items });

const skipped: StepView = {
  output: null,
  status: 'skipped',
  started: false,
  completed: false,
  failed: false,
  skipped: true,
  attempts: 0,
  duration: 0,
  cost: 0,
  resource: null,
};

describe('evaluate', () => {
  it('a record field keyed "__proto__" (a string key of a map) is a field, not the prototype', () => {
    const out = evaluate({ op: 'record', fields: [{ key: '__proto__', value: lit(5) }, { key: 'b', value: lit(1) }] }, { vars: {} }) as object;
    expect(JSON.stringify(out)).toBe('{"__proto__":5,"b":1}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  const env = { vars: { input: { n: 3, names: ['a', 'b'], s: 'Hello' }, context: { t: 30 } } };

  it('arithmetic, comparisons, logic, implies, in', () => {
    expect(evaluate(bin('+', lit(1), bin('*', lit(2), lit(3))), env)).toBe(7);
    expect(evaluate(bin('%', lit(7), lit(4)), env)).toBe(3);
    expect(evaluate(bin('<', get(v('input'), 'n'), lit(4)), env)).toBe(true);
    expect(evaluate(bin('implies', lit(false), lit(false)), env)).toBe(true);
    expect(evaluate(bin('implies', lit(true), lit(false)), env)).toBe(false);
    expect(evaluate(bin('in', lit('b'), get(v('input'), 'names')), env)).toBe(true);
    expect(evaluate({ op: 'not', arg: lit(true) }, env)).toBe(false);
    expect(evaluate(bin('==', list(lit(1), lit(2)), list(lit(1), lit(2))), env)).toBe(true);
  });

  it('`in` and contains() of a record or map look at its own keys only, not at Object.prototype', () => {
    const m = { vars: { input: { m: { k: 1 } } } };
    const hay = get(v('input'), 'm');
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(evaluate(bin('in', lit(key), hay), m), key).toBe(false);
      expect(evaluate(call('contains', hay, lit(key)), m), key).toBe(false);
    }
    expect(evaluate(bin('in', lit('k'), hay), m)).toBe(true);
    expect(evaluate(call('contains', hay, lit('k')), m)).toBe(true);
  });

  it('units are plain numbers: durations in ms, money amounts, percents as fractions', () => {
    expect(evaluate(bin('*', { op: 'lit', value: 30000, unit: 'duration' }, lit(2)), env)).toBe(60000);
    expect(evaluate(bin('<=', { op: 'lit', value: 0.05, unit: 'money' }, { op: 'lit', value: 0.5, unit: 'money' }), env)).toBe(true);
    expect(evaluate(bin('>', lit(0.9), { op: 'lit', value: 0.8, unit: 'percent' }), env)).toBe(true);
  });

  it('data classes compare by rank', () => {
    const cmp = (l: string, op: '<' | '>=', r: string): ExprIR => ({ op, left: lit(l), right: lit(r), compare: 'data_class' });
    expect(evaluate(cmp('personal', '>=', 'internal'), env)).toBe(true);
    expect(evaluate(cmp('public', '>=', 'personal'), env)).toBe(false);
    expect(evaluate(cmp('secret', '<', 'sensitive'), env)).toBe(false);
  });

  it('?? replaces a skipped step output; member access on null is null', () => {
    const e = { ...env, step: () => skipped };
    const out = get(get({ op: 'step', id: 'x' }, 'output'), 'f');
    expect(evaluate(out, e)).toBe(null);
    expect(evaluate(bin('??', out, lit('dflt')), e)).toBe('dflt');
  });

  it('built-ins', () => {
    expect(evaluate(call('len', get(v('input'), 'names')), env)).toBe(2);
    expect(evaluate(call('contains', get(v('input'), 's'), lit('ell')), env)).toBe(true);
    expect(evaluate(call('lower', get(v('input'), 's')), env)).toBe('hello');
    expect(evaluate(call('upper', lit('x')), env)).toBe('X');
    expect(evaluate(call('min', lit(3), lit(1), lit(2)), env)).toBe(1);
    expect(evaluate(call('max', list(lit(3), lit(9))), env)).toBe(9);
    expect(evaluate(call('sum', list(lit(1), lit(2), lit(3))), env)).toBe(6);
    expect(evaluate(call('round', lit(2.456), lit(2)), env)).toBe(2.46);
    expect(evaluate(call('now'), { ...env, now: () => 42 })).toBe(42);
    expect(evaluate(call('format', lit('{} of {}'), lit(1), lit(2)), env)).toBe('1 of 2');
    expect(evaluate({ op: 'concat', parts: [lit('n='), get(v('input'), 'n')] }, env)).toBe('n=3');
  });

  it('secrets resolve only through the injected resolver', () => {
    const s: ExprIR = { op: 'secret', name: 'TOKEN' };
    expect(evaluate(s, env)).toBe(REDACTED);
    expect(evaluate(s, { ...env, secret: (n) => `value-of-${n}` })).toBe('value-of-TOKEN');
  });

  it('type errors are EvalErrors, never crashes', () => {
    expect(() => evaluate(call('len', lit(3)), env)).toThrow(EvalError);
    expect(() => evaluate(bin('-', lit('a'), lit(1)), env)).toThrow(/needs numbers/);
    expect(() => evaluate(bin('/', lit(1), lit(0)), env)).toThrow(/division by zero/);
    expect(() => evaluate({ op: 'item', name: 'r' }, env)).toThrow(/not in scope/);
  });

  it('comparison of numbers agrees with JS on any inputs (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        expect(evaluate(bin('<', lit(a), lit(b)), env)).toBe(a < b);
        expect(evaluate(bin('>=', lit(a), lit(b)), env)).toBe(a >= b);
      }),
    );
  });
});
