/**
 * `fillDefaults` (runtime/executor/worker-executor.ts), which gives handlers and plans the
 * defaults of their input types at every depth: it never changes the value it is given, filling
 * twice is filling once, what was given stays as given, and every missing field with a default
 * has it afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../compiler/index.js';
import { fillDefaults } from '../executor/value-defaults.js';

/** A record schema whose fields may have defaults, nested records, lists, maps and optionals. */
const schemaArb: fc.Arbitrary<JsonSchema> = fc.letrec<{ schema: JsonSchema; record: JsonSchema }>((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({ type: 'integer' } as JsonSchema),
    fc.constant({ type: 'string' } as JsonSchema),
    tie('record'),
    tie('record').map((r) => ({ type: 'array', items: r }) as JsonSchema),
    tie('record').map((r) => ({ type: 'object', additionalProperties: r }) as JsonSchema),
    tie('record').map((r) => ({ anyOf: [r, { type: 'null' }] }) as JsonSchema),
  ),
  record: fc
    .dictionary(fc.constantFrom('a', 'b', 'c', '__proto__'), fc.tuple(tie('schema'), fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined })), { maxKeys: 3 })
    .map((fields) => {
      const properties: Record<string, JsonSchema> = {};
      for (const [k, [s, d]] of Object.entries(fields)) Object.defineProperty(properties, k, { value: d === undefined ? s : { ...s, default: d }, enumerable: true });
      return { type: 'object', properties } as JsonSchema;
    }),
})).record;

/** Any JSON value: fillDefaults must cope with values that do not fit the schema too. */
const valueArb = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('fillDefaults', () => {
  it('never changes its argument, is idempotent, and keeps every value that was given', () => {
    fc.assert(
      fc.property(schemaArb, valueArb, (schema, value) => {
        const before = structuredClone(value);
        const once = fillDefaults(schema, value);
        expect(value).toEqual(before);
        expect(fillDefaults(schema, once)).toEqual(once);
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && once !== null && typeof once === 'object')
          for (const [k, v] of Object.entries(value)) expect((once as Record<string, unknown>)[k] === v || typeof v === 'object').toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fills every missing field that has a default, at every depth, with a copy of the default', () => {
    const tags: JsonSchema = { type: 'array', items: { type: 'string' }, default: [] };
    const person: JsonSchema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', default: 30 }, tags } };
    const schema: JsonSchema = {
      type: 'object',
      properties: { lead: person, crew: { type: 'array', items: person }, who: { anyOf: [person, { type: 'null' }] }, n: { type: 'integer', default: 5 } },
    };
    const filled = fillDefaults(schema, { lead: { name: 'a' }, crew: [{ name: 'b', age: 1 }, { name: 'c' }], who: null }) as Record<string, unknown>;
    expect(filled).toEqual({
      lead: { name: 'a', age: 30, tags: [] },
      crew: [
        { name: 'b', age: 1, tags: [] },
        { name: 'c', age: 30, tags: [] },
      ],
      who: null,
      n: 5,
    });
    // Two fills never share a default's value.
    const other = fillDefaults(schema, { lead: { name: 'x' } }) as { lead: { tags: unknown[] } };
    expect(other.lead.tags).not.toBe((filled.lead as { tags: unknown[] }).tags);
    // A field named __proto__ is a field of the copy, not its prototype.
    const proto = fillDefaults({ type: 'object', properties: { ['__proto__']: { type: 'integer', default: 1 } } }, {}) as object;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toBe(1);
  });
});
