/**
 * The published schema of journal events (`orch.events/v2`, compiler/schema/ beside the IR's):
 * a validator over it, for the journal contract tests and for anyone checking a journal export.
 * The file is generated from runtime/scheduler/journal-events.ts (`eventsJsonSchema()`); a test
 * keeps the two equal. `orch.events.v1.schema.json` stays as v0.3 published it, for reference: a
 * test holds that every v1 event is a v2 event.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { packagePath } from '../../compiler/index.js';

export const EVENTS_SCHEMA_PATH = packagePath('compiler', 'schema', 'orch.events.v2.schema.json');
/** The v1 schema as v0.3 published it (never regenerated). */
export const EVENTS_V1_SCHEMA_PATH = packagePath('compiler', 'schema', 'orch.events.v1.schema.json');

let validator: ValidateFunction | undefined;

/** The published schema, as a value. */
export function publishedEventsSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(EVENTS_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

/**
 * The errors of one event (as stored: `runId`, `seq`, `ts`, `type`, `stepId`, `data`) against
 * `orch.events/v2`, one line each (`/data/attempt: must be integer`); empty when it conforms.
 * Compiled under ajv's default (strict) options, as the schema is published to.
 */
export function eventSchemaErrors(event: unknown): string[] {
  validator ??= new Ajv2020({ allErrors: true }).compile(publishedEventsSchema());
  if (validator(event)) return [];
  return (validator.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`);
}
