/** Evaluation of long left-nested IR chains runs in a loop (issue 15): no stack overflow, same results. */
import { describe, expect, it } from 'vitest';
import type { ExprIR } from '../../compiler/index.js';
import { evaluate } from '../evaluate.js';

const env = { vars: { input: { a: { a: 7 } } } } as unknown as Parameters<typeof evaluate>[1];

describe('evaluate on chains 100,000 links long', () => {
  it('sums, short-circuits and coalesces like the recursive definition', () => {
    let sum: ExprIR = { op: 'lit', value: 0 };
    for (let i = 0; i < 100_000; i++) sum = { op: '+', left: sum, right: { op: 'lit', value: 1 } };
    expect(evaluate(sum, env)).toBe(100_000);
    let and: ExprIR = { op: 'lit', value: false };
    // A right side that would throw: never evaluated after a false left side.
    for (let i = 0; i < 100_000; i++) and = { op: 'and', left: and, right: { op: 'item', name: 'nope' } };
    expect(evaluate(and, env)).toBe(false);
    let coalesce: ExprIR = { op: 'lit', value: null };
    for (let i = 0; i < 100_000; i++) coalesce = { op: '??', left: coalesce, right: { op: 'lit', value: i === 50_000 ? 'first' : null } };
    expect(evaluate(coalesce, env)).toBe('first');
  });

  it('reads member chains', () => {
    let g: ExprIR = { op: 'var', name: 'input' };
    for (let i = 0; i < 100_000; i++) g = { op: 'get', object: g, key: 'a' };
    expect(evaluate(g, env)).toBe(null);
    const two: ExprIR = { op: 'get', object: { op: 'get', object: { op: 'var', name: 'input' }, key: 'a' }, key: 'a' };
    expect(evaluate(two, env)).toBe(7);
  });
});
