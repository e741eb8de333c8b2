/**
 * JSON Schema (the subset the compiler emits for Orch types) → fast-check arbitrary.
 *
 * Values are kept small on purpose: the verifier explores orderings and outcomes, not string
 * contents, and every generated value must shrink towards the simplest one (empty string, 0,
 * the first enum member, the shortest list) so counterexamples come out minimal.
 */
import fc from 'fast-check';
import type { JsonSchema } from '../compiler/index.js';

export interface SchemaArbitraryOptions {
  /** Upper bound on generated list lengths (unless the schema's `minItems` needs more). */
  readonly maxListSize: number;
}

type Schema = { readonly [key: string]: unknown };

/** Lets a value shrink into an earlier alternative (a later type → the first, a value → the default). */
const CROSS = { withCrossShrink: true } as const;

const SIMPLE_STRING = fc.string({ unit: fc.constantFrom(...'abcdefghij'), maxLength: 6 });

export function schemaArbitrary(schema: JsonSchema, options: SchemaArbitraryOptions): fc.Arbitrary<unknown> {
  return build(schema, schema, options, 0);
}

function build(schema: Schema, root: Schema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  if (depth > 8) return fc.constant(null);
  if (typeof schema !== 'object' || schema === null) return fc.constant(null);

  const ref = schema['$ref'];
  if (typeof ref === 'string') return build(resolveRef(ref, root), root, options, depth + 1);

  if ('const' in schema) return fc.constant(schema['const']);
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && enumValues.length > 0) return fc.constantFrom(...enumValues);

  for (const key of ['anyOf', 'oneOf'] as const) {
    const alternatives = schema[key];
    if (Array.isArray(alternatives) && alternatives.length > 0) {
      return fc.oneof(CROSS, ...alternatives.map((alt) => build(alt as Schema, root, options, depth + 1)));
    }
  }

  const type = schema['type'];
  if (Array.isArray(type)) {
    // Non-null first so shrinking lands on a real value rather than on `null`.
    const ordered = [...type].sort((a, b) => (a === 'null' ? 1 : 0) - (b === 'null' ? 1 : 0));
    return fc.oneof(CROSS, ...ordered.map((t) => build({ ...schema, type: t }, root, options, depth + 1)));
  }

  switch (type) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return fc.integer({ min: bound(schema, 'minimum', unitMin(schema)), max: bound(schema, 'maximum', unitMax(schema, 1000)) });
    case 'number':
      return numberArbitrary(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return arrayArbitrary(schema, root, options, depth);
    case 'object':
      return objectArbitrary(schema, root, options, depth);
    default:
      // `any` (an empty schema): a small scalar is enough to exercise the plan.
      return fc.oneof(CROSS, fc.constant(null), fc.boolean(), fc.integer({ min: 0, max: 100 }), SIMPLE_STRING);
  }
}

function resolveRef(ref: string, root: Schema): Schema {
  if (!ref.startsWith('#/')) return {};
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    node = typeof node === 'object' && node !== null ? (node as Schema)[key] : undefined;
  }
  return typeof node === 'object' && node !== null ? (node as Schema) : {};
}

function bound(schema: Schema, key: string, fallback: number): number {
  const v = schema[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Durations, money and percents are never negative in a plan. */
function unitMin(schema: Schema): number {
  return schema['x-orch-unit'] ? 0 : -100;
}

function unitMax(schema: Schema, fallback: number): number {
  switch (schema['x-orch-unit']) {
    case 'percent':
      return 1;
    case 'duration':
      return 3_600_000;
    default:
      return fallback;
  }
}

function numberArbitrary(schema: Schema): fc.Arbitrary<number> {
  const min = bound(schema, 'minimum', unitMin(schema));
  const max = bound(schema, 'maximum', unitMax(schema, 1000));
  if (schema['x-orch-unit'] === 'duration') return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  // Two decimals keep generated money amounts readable in traces; shrinks towards `min`.
  const lo = Math.ceil(min * 100);
  const hi = Math.max(lo, Math.floor(max * 100));
  return fc.integer({ min: lo, max: hi }).map((n) => n / 100);
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = bound(schema, 'minLength', 0);
  const maxLength = Math.max(minLength, Math.min(bound(schema, 'maxLength', 6), minLength + 6));
  if (schema['format'] === 'email') {
    return fc.string({ unit: fc.constantFrom(...'abcdefghij'), minLength: 1, maxLength: 4 }).map((s) => `${s}@example.com`);
  }
  return fc.string({ unit: fc.constantFrom(...'abcdefghij'), minLength, maxLength });
}

function arrayArbitrary(schema: Schema, root: Schema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<unknown[]> {
  const items = (schema['items'] as Schema | undefined) ?? {};
  const minLength = bound(schema, 'minItems', 0);
  const maxLength = Math.max(minLength, Math.min(bound(schema, 'maxItems', options.maxListSize), options.maxListSize));
  return fc.array(build(items, root, options, depth + 1), { minLength, maxLength });
}

function objectArbitrary(schema: Schema, root: Schema, options: SchemaArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [key, prop] of Object.entries(properties)) {
    // A boolean schema (`true`: anything) has no default; `build` gives it null.
    const withDefault = typeof prop === 'object' && prop !== null && 'default' in prop;
    shape[key] = withDefault
      ? fc.oneof(CROSS, fc.constant(prop['default']), build(prop, root, options, depth + 1))
      : build(prop, root, options, depth + 1);
    // Fields with a default are always present: the runtime fills them in anyway, and a fixed
    // shape keeps traces comparable from run to run.
    if (required.has(key) || withDefault) requiredKeys.push(key);
  }
  if (Object.keys(shape).length === 0) {
    const additional = schema['additionalProperties'];
    if (typeof additional === 'object' && additional !== null) {
      return fc.dictionary(fc.constantFrom('a', 'b', 'c'), build(additional as Schema, root, options, depth + 1), { maxKeys: 3 });
    }
    return fc.constant({});
  }
  return fc.record(shape, { requiredKeys });
}
