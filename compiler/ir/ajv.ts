/**
 * One shared Ajv instance (draft 2020-12) for the IR schema and for capability input/output
 * schemas. `x-orch-*` annotations are declared as known keywords so strict mode accepts them.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';

let instance: Ajv2020 | undefined;

export function ajv(): Ajv2020 {
  if (!instance) {
    instance = new Ajv2020({ allErrors: true, discriminator: true, strict: false });
    instance.addKeyword({ keyword: 'x-orch-data', schemaType: 'string' });
    instance.addKeyword({ keyword: 'x-orch-unit', schemaType: 'string' });
    // ajv's `integer` accepts 1e300 (and Infinity); an `int` must survive arithmetic exactly.
    instance.addKeyword({
      keyword: 'x-orch-safe-integer',
      type: 'number',
      schemaType: 'boolean',
      error: { message: 'must be an integer between -(2^53-1) and 2^53-1' },
      validate: (on: boolean, data: number) => !on || Number.isSafeInteger(data),
    });
  }
  return instance;
}

let strictInstance: Ajv2020 | undefined;

/**
 * An Ajv with the default options (strict mode on) plus `allErrors`: the `orch.plan/v3` (and v2) schema is
 * published to compile under them, and compiling it here keeps it so.
 */
export function strictAjv(): Ajv2020 {
  strictInstance ??= new Ajv2020({ allErrors: true });
  return strictInstance;
}

export interface PathError {
  /** JSON pointer into the validated value, e.g. `/steps/3/retry/max`; `` for the root. */
  readonly path: string;
  readonly message: string;
}

interface AjvErrorLike {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Turns ajv errors into path + message pairs; a missing property points at the property itself. */
export function toPathErrors(errors: readonly AjvErrorLike[] | null | undefined): PathError[] {
  const out: PathError[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path = `${path}/${String(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path = `${path}/${String(e.params.additionalProperty)}`;
      message = 'is not allowed here';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${JSON.stringify(e.params.allowedValues)}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify(e.params.allowedValue)}`;
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}
