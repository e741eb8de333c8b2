/**
 * JSON schemas (checked by Fastify's ajv) for the API's bodies, parameters and query strings, and
 * the one-line messages a failed check answers with: the API's error texts predate the schemas
 * and scripts match on them, so each route names its own message per field.
 */
import type { FastifySchemaValidationError } from 'fastify';
import { RUN_STATUSES } from '../../runtime/index.js';

export const MAX_EVENT_TYPE = 200;

export type Messages = { readonly root: string } & { readonly [field: string]: string };

/** A `schemaErrorFormatter`: the message of the first failing field, else the one for the body. */
export function messagesFor(messages: Messages | (() => Messages)) {
  return (errors: FastifySchemaValidationError[]): Error => {
    const m = typeof messages === 'function' ? messages() : messages;
    const e = errors[0];
    const params = (e?.params ?? {}) as { missingProperty?: string };
    const field = e?.instancePath ? e.instancePath.split('/')[1]! : (params.missingProperty ?? '');
    const err = new Error(m[field] ?? m.root) as Error & { statusCode: number };
    err.statusCode = 400;
    return err;
  };
}

export const objectBody = { type: 'object' } as const;

export const eventBody = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: MAX_EVENT_TYPE } },
} as const;

export const signalsBody = { type: 'object', minProperties: 1 } as const;

export const runRequestBody = {
  type: 'object',
  required: ['plan'],
  properties: {
    plan: { type: 'string', minLength: 1 },
    input: { type: 'object' },
    // Consent scopes granted to the run (LANGUAGE.md §7.2), checked before any step starts.
    consent: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 256 },
  },
} as const;

export const runsQuery = {
  type: 'object',
  properties: {
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' },
    // A misspelt status would otherwise list no runs, which reads as "there are none".
    status: { type: 'string', enum: RUN_STATUSES },
    plan: { type: 'string' },
    trigger: { type: 'string' },
  },
} as const;

export const decisionBody = {
  type: 'object',
  properties: { comment: { type: 'string', maxLength: 2000 } },
} as const;

const id = { type: 'string', minLength: 1, maxLength: 300 } as const;
export const runParams = { type: 'object', required: ['id'], properties: { id } } as const;
export const stepParams = { type: 'object', required: ['id', 'step'], properties: { id, step: id } } as const;
export const triggerParams = { type: 'object', required: ['name'], properties: { name: id } } as const;
