/**
 * The journal's events as a published contract (LANGUAGE.md §8.6): the schema file is what
 * runtime/scheduler/journal-events.ts generates and compiles under ajv's default options; every
 * event real runs write matches it, on SQLite and on Postgres; and journals written by Orch v0.2
 * (fixtures/v02-journals: a SQLite file and a pg_dump) match it too, replay to what they recorded
 * and are resumed to their end by this version.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS_VERSION, eventsJsonSchema } from '../scheduler/journal-events.js';
import { EVENTS_SCHEMA_PATH, EVENTS_V1_SCHEMA_PATH, eventSchemaErrors, publishedEventsSchema } from '../scheduler/event-schema.js';
import { Ajv } from 'ajv';

type Def = { properties: Record<string, unknown>; required: string[] };
const defsOf = (schema: Record<string, unknown>) => schema.$defs as Record<string, Def>;

describe('orch.events/v2', () => {
  it('is the version the table and the published file name', () => {
    expect(EVENTS_VERSION).toBe('orch.events/v2');
    expect(publishedEventsSchema().title).toBe('orch.events/v2');
    expect(EVENTS_SCHEMA_PATH).toMatch(/orch\.events\.v2\.schema\.json$/);
  });

  it('reads every v1 event: v1 types and fields are all still there, and nothing v1 left out is required', () => {
    const v1 = defsOf(JSON.parse(readFileSync(EVENTS_V1_SCHEMA_PATH, 'utf8')) as Record<string, unknown>);
    const v2 = defsOf(publishedEventsSchema());
    for (const [type, def] of Object.entries(v1)) {
      const now = v2[type];
      expect(now, `v2 keeps the event type ${type}`).toBeDefined();
      for (const field of Object.keys(def.properties)) expect(Object.keys(now!.properties), `${type}.${field}`).toContain(field);
      for (const field of now!.required) expect(def.required, `${type}.${field} is required in v2 only if v1 required it`).toContain(field);
    }
  });

  it('is published as runtime/scheduler/journal-events.ts generates it (ORCH_WRITE_SCHEMA=1 rewrites the file)', () => {
    const generated = eventsJsonSchema();
    if (process.env.ORCH_WRITE_SCHEMA === '1') writeFileSync(EVENTS_SCHEMA_PATH, `${JSON.stringify(generated, null, 2)}\n`);
    expect(publishedEventsSchema()).toEqual(JSON.parse(JSON.stringify(generated)));
    // Draft-07 readers (`new Ajv()`, default options) compile it too.
    expect(() => new Ajv().compile(publishedEventsSchema())).not.toThrow();
  });

  it('accepts each event type with its data, refuses a renamed field, a wrong type and an unknown type', () => {
    const base = { runId: 'r', seq: 1, ts: 1, stepId: 'a' };
    expect(eventSchemaErrors({ ...base, type: 'step_started', data: { attempt: 1, phaseAttempt: 1, phase: 'main', resourceIndex: 0, resource: null, capability: 'c', cost: 0 } })).toEqual([]);
    expect(eventSchemaErrors({ ...base, type: 'step_completed', data: { output: { x: 1 }, attempt: 1, duration: 3, resource: 'gpu' } })).toEqual([]);
    expect(eventSchemaErrors({ ...base, type: 'step_completed', data: { output: 1, duration_ms: 3 } }).join('\n')).toMatch(/must NOT have additional properties/);
    expect(eventSchemaErrors({ ...base, type: 'step_started', data: { attempt: '1', phaseAttempt: 1, phase: 'main', resourceIndex: 0, resource: null, capability: null, cost: 0 } }).join('\n')).toMatch(/\/data\/attempt: must be integer/);
    expect(eventSchemaErrors({ ...base, type: 'step_exploded', data: {} }).join('\n')).toMatch(/\/type: must be equal to one of the allowed values/);
    expect(eventSchemaErrors({ ...base, type: 'plan_upgraded', data: { from_hash: 'a', to_hash: 'b', changes: [{ step: 'x', change: 'changed', what: ['arguments'] }] } })).toEqual([]);
  });
});
