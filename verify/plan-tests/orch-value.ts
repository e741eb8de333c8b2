/**
 * A JSON value as Orch source text (what `orch test --capture` writes): records, lists, strings,
 * numbers, booleans and null, with the unit its JSON Schema says (`x-orch-unit`: a duration in
 * milliseconds is written `Nms`, money `N` + the plan's currency, a percent as `N%`), and values of
 * a class that must not be written (`x-orch-data` personal, sensitive, secret) replaced as
 * `Placeholders` says.
 */
import { formatNumber, recordKeyText, stringLiteral } from '../../language/index.js';
import { mapClassed, SUBSTRING_MIN } from '../../runtime/index.js';

type Schema = { readonly [key: string]: unknown };

const PRIVATE = new Set(['personal', 'sensitive']);

/** Stable placeholders of the same type: the same value gets the same one everywhere in a capture. */
export class Placeholders {
  private readonly strings = new Map<string, string>();
  private readonly numbers = new Map<number, number>();
  /** Personal and sensitive values kept as they are (`--keep-personal`). */
  constructor(readonly keep: boolean) {}

  /** A private value's stand-in (a secret is always the redaction marker; a bool, an empty string and a zero keep their value: another would change the path). */
  of(value: unknown, cls: string): unknown {
    if (cls === 'secret') return typeof value === 'string' ? '***' : value;
    if (this.keep || !PRIVATE.has(cls)) return value;
    // An empty string and a zero say nothing about anyone, and a stand-in for them would turn
    // a `when input.email != ""` of the captured run around.
    if (value === '' || value === 0) return value;
    if (typeof value === 'string') {
      let p = this.strings.get(value);
      if (p === undefined) this.strings.set(value, (p = `${cls}-${this.strings.size + 1}`));
      return p;
    }
    if (typeof value === 'number') {
      let p = this.numbers.get(value);
      if (p === undefined) this.numbers.set(value, (p = this.numbers.size + 1));
      return p;
    }
    return value;
  }

  /**
   * `value` with every copy of a private string seen so far (an error quoting an email, an answer
   * of another class echoing it) replaced by its placeholder, by the rules copies of a secret are
   * blanked by (runtime/redact.ts): a short one only as a whole string.
   */
  copies<T>(value: T): T {
    if (this.keep || this.strings.size === 0) return value;
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.copies(v)) as T;
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.copies(v)])) as T;
    return value;
  }

  private text(s: string): string {
    const whole = this.strings.get(s);
    if (whole !== undefined) return whole;
    let out = s;
    // Longest first: a value that holds another (`ada@example.com`, `ada`) is replaced whole.
    for (const [v, p] of [...this.strings].sort((a, b) => b[0].length - a[0].length)) if (v.length >= SUBSTRING_MIN && out.includes(v)) out = out.split(v).join(p);
    return out;
  }
}

const SCRUBBED: ReadonlySet<string> = new Set([...PRIVATE, 'secret']);

/** `value` with every private field (by `schema`'s `x-orch-data`) replaced: the schema walk what `orch timeline` shows secrets by. */
export function scrub(value: unknown, schema: Schema | undefined, ph: Placeholders): unknown {
  return mapClassed(value, schema, SCRUBBED, (v, cls, s) => deepScrub(v, cls, ph, s));
}

/**
 * A private part replaced leaf by leaf, its schema followed so that a leaf of a closed type (a
 * string enum, a literal) keeps its value: §9.2 wants a placeholder "of the same type", and the
 * only values of that type are the members the program itself declares, which say nothing about
 * anyone (as a bool does) — another member would turn a `when` of the captured run around.
 */
function deepScrub(value: unknown, cls: string, ph: Placeholders, schema: Schema | undefined): unknown {
  if (cls !== 'secret' && closed(schema)) return value;
  if (Array.isArray(value)) return value.map((v) => deepScrub(v, cls, ph, itemsOf(schema)));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepScrub(v, cls, ph, propertyOf(schema, k))]));
  return ph.of(value, cls);
}

/** A type with a fixed set of values: `enum`, `const`, or a union (an optional) of such. */
function closed(schema: Schema | undefined): boolean {
  if (schema === undefined) return false;
  if (Array.isArray(schema.enum) || 'const' in schema) return true;
  const alts = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (!Array.isArray(alts)) return false;
  const values = alts.filter((a) => a.type !== 'null');
  return values.length > 0 && values.every(closed);
}


/**
 * `value` as its type can say it: the fields a record's type lacks dropped, at any depth. A
 * handler may answer more than its output type (the runtime checks what the type names and keeps
 * the rest, which no step can read by name), but a mock's answer with such a field is E0201.
 */
export function fitted(value: unknown, schema: Schema | undefined): unknown {
  if (schema === undefined || value === null || typeof value !== 'object') return value;
  const alts = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts)) {
    const values = alts.filter((a) => a.type !== 'null');
    return values.length === 1 ? fitted(value, values[0]) : value;
  }
  if (Array.isArray(value)) return value.map((v) => fitted(v, itemsOf(schema)));
  const props = schema.properties;
  // A map or `any` names no fields: everything stays.
  if (props === undefined || props === null || typeof props !== 'object') return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (Object.hasOwn(props, k) ? [[k, fitted(v, propertyOf(schema, k))]] : [])));
}

/** Orch text of `value` (one line), units as `schema` says. */
export function orchValue(value: unknown, schema: Schema | undefined, currency: string | null): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    // Never with an exponent (`1e+21`, `1e-7`): Orch's numbers have none.
    const unit = schema?.['x-orch-unit'];
    if (unit === 'duration') return `${formatNumber(value)}ms`;
    if (unit === 'money' && currency) return `${formatNumber(value)}${currency}`;
    if (unit === 'percent') return `${formatNumber(+(value * 100).toFixed(10))}%`;
    return formatNumber(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => orchValue(v, itemsOf(schema), currency)).join(', ')}]`;
  const fields = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${recordKeyText(k)}: ${orchValue(v, propertyOf(schema, k), currency)}`);
  return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
}

function itemsOf(schema: Schema | undefined): Schema | undefined {
  const items = schema?.items;
  return items && typeof items === 'object' ? (items as Schema) : undefined;
}

function propertyOf(schema: Schema | undefined, key: string): Schema | undefined {
  const props = schema?.properties as { [k: string]: Schema } | undefined;
  return props && Object.hasOwn(props, key) ? props[key] : undefined;
}

/**
 * The plainest value of `schema`'s type — null where it allows null, else `""`, its minimum or 0,
 * false, `[]`, a record of its required fields — for an answer the journal does not record (a
 * compensation's output: nothing reads it).
 */
export function leastValue(schema: Schema | undefined): unknown {
  if (!schema) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const alts = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts) && alts.length > 0) return alts.some((a) => a.type === 'null') ? null : leastValue(alts[0]);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  if (types.includes('null')) return null;
  switch (types[0]) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object': {
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      return Object.fromEntries(required.map((k) => [k, leastValue(propertyOf(schema, k))]));
    }
    default:
      return null;
  }
}
