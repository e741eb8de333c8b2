/**
 * A value of a declared type as the run keeps it: the defaults its record types give are filled
 * in (a capability's input before its handler is called, the plan's input, a handler's output),
 * and an output is checked against its capability's output type.
 */
import type { CapabilityIR, JsonSchema } from '../../compiler/index.js';
import { describeValueErrors, validateValue } from '../../compiler/index.js';

/**
 * What a capability returned, as the run keeps it: checked against its output type, then given
 * that type's defaults — `output { n: int = 5 }` reads 5 when the handler left `n` out, as the
 * type says (decision: a default means the same in an output as in an input).
 */
export function typedOutput(cap: Pick<CapabilityIR, 'name' | 'output'>, value: unknown): { ok: true; output: unknown } | { ok: false; error: string } {
  const check = validateValue(cap.output, value);
  if (!check.ok) return { ok: false, error: `output of ${cap.name} does not match its output type: ${describeValueErrors(check.errors)}` };
  return { ok: true, output: fillDefaults(cap.output, value) };
}

/**
 * Fills in the `default`s the schema gives for missing properties, at every depth: records,
 * list items, map values and optional (`anyOf` with null) values. The value is copied where
 * something is filled in, never changed in place.
 */
export function fillDefaults(schema: JsonSchema, value: unknown): unknown {
  const s = schema as SchemaParts;
  if (value === null || typeof value !== 'object' || !givesDefaults(s)) return value;
  if (s.anyOf) {
    // `T?`: the one alternative that is not null says what a present value is.
    const inner = s.anyOf.filter((a) => (a as { type?: unknown }).type !== 'null');
    return inner.length === 1 ? fillDefaults(inner[0]!, value) : value;
  }
  if (Array.isArray(value)) {
    const items = s.items;
    if (!items) return value;
    let out: unknown[] | null = null;
    value.forEach((v, i) => {
      const filled = fillDefaults(items, v);
      if (filled !== v) (out ??= [...value])[i] = filled;
    });
    return out ?? value;
  }
  const src = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  const set = (k: string, v: unknown) => {
    out ??= { ...src };
    // A key `__proto__` stays a key (an assignment would set the copy's prototype).
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  };
  if (s.properties)
    for (const [k, p] of Object.entries(s.properties)) {
      // Own fields only: `src.__proto__` of a plain object is its prototype, not a field.
      const given = Object.prototype.hasOwnProperty.call(src, k) ? src[k] : undefined;
      if (given === undefined) {
        // A copy (one default value is never shared by two inputs), itself filled: a default
        // record `{}` of a type whose fields have defaults gets those too.
        if (p && 'default' in p) set(k, fillDefaults(p, structuredClone((p as { default: unknown }).default)));
      } else {
        const filled = fillDefaults(p, given);
        if (filled !== given) set(k, filled);
      }
    }
  else if (s.additionalProperties && typeof s.additionalProperties === 'object')
    for (const [k, v] of Object.entries(src)) {
      const filled = fillDefaults(s.additionalProperties as JsonSchema, v);
      if (filled !== v) set(k, filled);
    }
  return out ?? value;
}

type SchemaParts = { properties?: Record<string, JsonSchema>; items?: JsonSchema; additionalProperties?: unknown; anyOf?: JsonSchema[] };

/**
 * Whether a schema gives a default anywhere inside it. Most outputs and inputs give none: every
 * step's values then pass through as they are, without a walk (asked once per schema object).
 */
function givesDefaults(s: SchemaParts): boolean {
  let gives = defaultsIn.get(s);
  if (gives === undefined) {
    defaultsIn.set(s, false); // a recursive schema asks itself again: no default found on that path
    const inner = [...Object.values(s.properties ?? {}), s.items, s.additionalProperties, ...(s.anyOf ?? [])];
    gives = inner.some((x) => x !== null && typeof x === 'object' && ('default' in x || givesDefaults(x as SchemaParts)));
    defaultsIn.set(s, gives);
  }
  return gives;
}
const defaultsIn = new WeakMap<object, boolean>();
