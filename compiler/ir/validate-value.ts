/**
 * Validates run-time values (plan inputs, capability arguments and outputs) against the JSON
 * Schemas the compiler emits for them. Compiled validators are cached per schema object.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ajv, toPathErrors, type PathError } from './ajv.js';
import type { JsonSchema } from './types.js';

export type ValueValidation = { ok: true } | { ok: false; errors: PathError[] };

const cache = new WeakMap<object, ValidateFunction>();

export function valueValidator(schema: JsonSchema): (value: unknown) => ValueValidation {
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv().compile(schema as Record<string, unknown>);
    cache.set(schema, validate);
  }
  const fn = validate;
  return (value) => (fn(value) ? { ok: true } : { ok: false, errors: toPathErrors(fn.errors) });
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
