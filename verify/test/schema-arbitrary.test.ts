/**
 * The verifier generates values from any schema the IR schema accepts — boolean sub-schemas
 * (`true`: anything, as MCP tools' schemas have) included — instead of throwing out of `verify`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../compiler/index.js';
import { schemaArbitrary } from '../schema-arbitrary.js';

describe('schemaArbitrary', () => {
  it('takes boolean property schemas: the object keeps its other fields', () => {
    const schema = { type: 'object', properties: { any: true, n: { type: 'integer', default: 2 } }, required: ['any'] } as unknown as JsonSchema;
    const values = fc.sample(schemaArbitrary(schema, { maxListSize: 3 }), { seed: 7, numRuns: 20 });
    for (const v of values) expect(Object.keys(v as object).sort()).toEqual(['any', 'n']);
  });
});
