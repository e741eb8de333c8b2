/**
 * The data of an event read back from a journal, checked against its type's schema — the one
 * the events table generates (journal-events.ts `fieldsSchema`, what `orch.events/v2` publishes
 * per type) — so a row edited by hand into the wrong types is the journal's fault where it is
 * read (JournalCorrupt, naming run and seq), never a crash later in a fold, a view or a result.
 *
 * Each type's schema is compiled once, when an event of that type is first read (a process reads
 * a few of the ~40 types), and checks only the first error: a conforming event — every one but a
 * damaged one — costs one call of generated code. It checks the type of each field this version
 * knows that the event has; a field it does not know is let through (a newer v2 writer may add
 * optional ones, journal-events.ts), and a missing one is left to the fold that needs it (replay.ts
 * names the event then), as journals and tests that leave optional-looking fields out have
 * always been read.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { EVENTS, fieldsSchema, type EventType } from './journal-events.js';

let ajv: Ajv | undefined;
const validators = new Map<EventType, ValidateFunction>();

function validator(type: EventType): ValidateFunction {
  let v = validators.get(type);
  if (!v) {
    // Strict, first error only. Not checked against the meta-schema (a test compiles the published
    // schema under ajv's defaults): that and its 2020-12 vocabulary tripled a resume's compile time.
    ajv ??= new Ajv({ meta: false, validateSchema: false });
    v = ajv.compile({ ...fieldsSchema(EVENTS[type]), required: [], additionalProperties: true });
    validators.set(type, v);
  }
  return v;
}

/**
 * Why `data` is not the data of a `type` event (`/attempt must be integer`), or null when it is.
 * Never quotes a value: the data may hold one not to be printed.
 */
export function eventDataError(type: EventType, data: object): string | null {
  const v = validator(type);
  if (v(data)) return null;
  const e = v.errors?.[0];
  if (!e) return 'does not match its type';
  // Inside a nested object of a known field (a person, a usage): its own fields.
  if (e.keyword === 'required') return `${e.instancePath}/${String((e.params as { missingProperty?: unknown }).missingProperty)} is required`;
  if (e.keyword === 'additionalProperties') return `${e.instancePath}/${String((e.params as { additionalProperty?: unknown }).additionalProperty)} is not allowed`;
  return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`;
}
