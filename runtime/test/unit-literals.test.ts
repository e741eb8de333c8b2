/** Plan inputs given as JSON may write durations, money and percentages as Orch literals (docs/language.md, "Unit literals in an input"). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../compiler/index.js';
import { readUnitLiterals } from '../executor/unit-literals.js';

const unit = (u: string) => ({ type: 'number', 'x-orch-unit': u }) as JsonSchema;
const record = (properties: Record<string, JsonSchema>) => ({ type: 'object', properties }) as JsonSchema;

describe('unit literals in a plan input', () => {
  it('reads each where the type has that unit: ms, the amount, a fraction', () => {
    const schema = record({
      wait: unit('duration'),
      price: unit('money'),
      share: unit('percent'),
      label: { type: 'string' } as JsonSchema,
      later: { anyOf: [unit('duration'), { type: 'null' }] } as JsonSchema,
      steps: { type: 'array', items: unit('duration') } as JsonSchema,
      caps: { type: 'object', additionalProperties: unit('money') } as JsonSchema,
    });
    const value = { wait: '5m', price: '12.50 USD', share: '80%', label: '5m', later: '250ms', steps: ['1s', 2000], caps: { a: '3eur' } };
    expect(readUnitLiterals(schema, value)).toEqual({ wait: 300_000, price: 12.5, share: 0.8, label: '5m', later: 250, steps: [1000, 2000], caps: { a: 3 } });
    // The given value is never changed in place.
    expect(value.wait).toBe('5m');
  });

  it('leaves a literal of another unit, another currency or no literal at all for the type check to refuse', () => {
    const schema = record({ wait: unit('duration'), price: unit('money') });
    expect(readUnitLiterals(schema, { wait: '12usd', price: '5m' })).toEqual({ wait: '12usd', price: '5m' });
    expect(readUnitLiterals(schema, { wait: 'soon', price: '5min' })).toEqual({ wait: 'soon', price: '5min' });
    expect(readUnitLiterals(schema, { price: '3eur' }, 'usd')).toEqual({ price: '3eur' });
    expect(readUnitLiterals(schema, { price: '3usd' }, 'usd')).toEqual({ price: 3 });
  });

  it('reads a percentage with decimals as the fraction written (12.3% is 0.123, not 0.12300000000000001)', () => {
    expect(readUnitLiterals(unit('percent'), '12.3%')).toBe(0.123);
    expect(readUnitLiterals(unit('duration'), '2.3h')).toBe(8_280_000);
  });

  it('reads a duration as the language does, whatever the amount and unit', () => {
    const ms: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...Object.keys(ms)), (n, u) => {
        expect(readUnitLiterals(unit('duration'), `${n}${u}`)).toBe(n * ms[u]!);
      }),
    );
  });
});
