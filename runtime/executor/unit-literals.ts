/**
 * A plan input given as JSON (`--input`, an API body) may write a duration, an amount of money or
 * a percentage as Orch writes it (§2): `"5m"`, `"12.50usd"`, `"80%"` — JSON has no such literal,
 * and a person typing an input should not have to work out 300000 ms. Each string where the input
 * type says duration, money or percent is read as that literal into the run-time unit (ms, the
 * amount, a fraction); anything else is left as it is for the type check to report.
 */
import { classifyNumberSuffix } from '../../language/index.js';
import { durationMs, percentFraction, type JsonSchema } from '../../compiler/index.js';

type Unit = 'duration' | 'money' | 'percent';
type SchemaParts = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: unknown;
  anyOf?: JsonSchema[];
  'x-orch-unit'?: Unit;
};

/** `12.50usd`, `12.50 USD`, `5m`, `80%`: the amount and its unit word (spaces and case forgiven). */
const LITERAL = /^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]+|%)\s*$/;

/**
 * `value` with the unit literals `schema` allows read into numbers (a copy where one is read).
 * `currency`: the plan's money currency when it is known; an amount in another one is left as a
 * string (and so refused by the type check), never converted silently.
 */
export function readUnitLiterals(schema: JsonSchema, value: unknown, currency?: string): unknown {
  const s = schema as SchemaParts;
  if (value === null) return value;
  if (s.anyOf) {
    // `T?`: the alternative that is not null says what a present value is.
    const inner = s.anyOf.filter((a) => (a as { type?: unknown }).type !== 'null');
    return inner.length === 1 ? readUnitLiterals(inner[0]!, value, currency) : value;
  }
  if (typeof value === 'string') return s['x-orch-unit'] ? literal(s['x-orch-unit'], value, currency) : value;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (!s.items) return value;
    let out: unknown[] | null = null;
    value.forEach((v, i) => {
      const read = readUnitLiterals(s.items!, v, currency);
      if (read !== v) (out ??= [...value])[i] = read;
    });
    return out ?? value;
  }
  const src = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(src)) {
    const own = s.properties && Object.prototype.hasOwnProperty.call(s.properties, k) ? s.properties[k] : undefined;
    const field = own ?? (s.additionalProperties && typeof s.additionalProperties === 'object' ? (s.additionalProperties as JsonSchema) : undefined);
    if (!field) continue;
    const read = readUnitLiterals(field, v, currency);
    if (read === v) continue;
    out ??= { ...src };
    // A key `__proto__` stays a key (an assignment would set the copy's prototype).
    Object.defineProperty(out, k, { value: read, enumerable: true, writable: true, configurable: true });
  }
  return out ?? value;
}

function literal(unit: Unit, text: string, currency: string | undefined): unknown {
  const m = LITERAL.exec(text);
  if (!m) return text;
  const amount = Number(m[1]);
  const word = m[2]!.toLowerCase();
  if (classifyNumberSuffix(word) !== unit) return text;
  if (unit === 'duration') return durationMs(amount, word);
  if (unit === 'percent') return percentFraction(amount);
  return currency === undefined || currency === word ? amount : text;
}
