/**
 * Validation against the SARIF 2.1.0 JSON Schema vendored in test/schemas (its source is named in
 * test/schemas/README.md), with the formats the schema names checked as RFC 3986 has them.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { packagePath } from '../../compiler/index.js';

const SCHEMA = packagePath('test', 'schemas', 'sarif-schema-2.1.0.json');

export function readSarifSchema(): { id: string } & Record<string, unknown> {
  return JSON.parse(readFileSync(SCHEMA, 'utf8')) as { id: string } & Record<string, unknown>;
}

/** Characters a URI may hold (RFC 3986 §2), every `%` starting an escape. */
const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

let validator: ValidateFunction | undefined;

/** The schema's errors for `log`, one line each; empty when it is valid. */
export function validateSarif(log: unknown): string[] {
  if (!validator) {
    // A draft-04 schema: Ajv compiles it as draft-07, which reads every keyword it uses alike.
    const { $schema: _draft, id: _id, ...schema } = readSarifSchema();
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('uri', (s: string) => URI_CHARS.test(s) && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s));
    ajv.addFormat('uri-reference', (s: string) => URI_CHARS.test(s));
    ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
    validator = ajv.compile(schema);
  }
  return validator(log) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
