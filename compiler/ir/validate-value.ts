/**
 * Validates run-time values (plan inputs, capability arguments and outputs) against the JSON
 * Schemas the compiler emits for them. Compiled validators are cached per schema object, and per
 * schema text: an `orch worker` receives each job's capability as fresh JSON, so the same schema
 * arrives as a new object every time — compiling it again per job cost a worker more CPU than
 * the rest of the step, and ajv, which keeps every schema object it compiled, grew without bound.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ajv, toPathErrors, type PathError } from './ajv.js';
import type { JsonSchema } from './types.js';

export type ValueValidation = { ok: true } | { ok: false; errors: PathError[] };

const byObject = new WeakMap<object, ValidateFunction>();

/** Compiled schemas by their JSON text, oldest first; the schema object ajv was given, to remove it on eviction. */
const byText = new Map<string, { readonly validate: ValidateFunction; readonly compiledFrom: object }>();
const MAX_BY_TEXT = 1000;

function compiled(schema: JsonSchema): ValidateFunction {
  const known = byObject.get(schema);
  if (known) return known;
  const text = JSON.stringify(schema);
  let entry = byText.get(text);
  if (!entry) {
    const compiledFrom = withSafeIntegers(schema) as Record<string, unknown>;
    entry = { validate: ajv().compile(compiledFrom), compiledFrom };
    if (byText.size >= MAX_BY_TEXT) {
      const [oldest, evicted] = byText.entries().next().value!;
      byText.delete(oldest);
      // Validators already handed out keep working; ajv only forgets the schema.
      ajv().removeSchema(evicted.compiledFrom);
    }
    byText.set(text, entry);
  }
  byObject.set(schema, entry.validate);
  return entry.validate;
}

export function valueValidator(schema: JsonSchema): (value: unknown) => ValueValidation {
  const fn = compiled(schema);
  return (value) => {
    const infinite = firstNonFinite(value);
    if (infinite !== null) return { ok: false, errors: [{ path: infinite, message: 'must be a finite number' }] };
    return fn(value) ? { ok: true } : { ok: false, errors: toPathErrors(fn.errors) };
  };
}

/** The JSON pointer of the first NaN/Infinity in a value (`1e400` parses to Infinity), or null. */
export function firstNonFinite(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, p] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return p;
    } else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${p}/${i}`]);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v).reverse()) stack.push([x, `${p}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`]);
  }
  return null;
}

/** Marks every `type: integer` subschema with `x-orch-safe-integer` (see ajv.ts). */
function withSafeIntegers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withSafeIntegers);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'default' || k === 'enum' || k === 'const' ? v : withSafeIntegers(v);
  const t = out.type;
  if (t === 'integer' || (Array.isArray(t) && t.includes('integer'))) out['x-orch-safe-integer'] = true;
  return out;
}

/** Validates `value` against `schema`; a schema ajv cannot compile is reported as an error at `/`. */
export function validateValue(schema: JsonSchema, value: unknown): ValueValidation {
  try {
    return valueValidator(schema)(value);
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `invalid schema: ${(err as Error).message}` }] };
  }
}

/** `/recipients/0/email: must be string; /id: is required` */
export function describeValueErrors(errors: readonly PathError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ');
}
