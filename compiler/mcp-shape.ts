/**
 * What an MCP tool's JSON Schema says in Orch terms (LANGUAGE.md §8.3): the shape its Orch type is
 * rendered from (./mcp-module.ts), and the same shape walked at run time to rename properties
 * between the tool's names (`file-path`) and the Orch fields they became (`file_path`). One walk
 * for both, so a value is renamed exactly where the type has a record field.
 */
import { escapeStringText } from '../language/index.js';

const RESERVED = new Set(['and', 'or', 'not', 'in', 'implies', 'true', 'false', 'null']);

/**
 * `get-sum` → `get_sum`: every character an identifier cannot hold becomes `_`; a name that then
 * starts with a digit gets a leading `_` (`2nd` → `_2nd`), a reserved word a trailing one. Tool
 * names and property names alike.
 */
export function toolIdent(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(id)) id = `_${id}`;
  return RESERVED.has(id) ? `${id}_` : id;
}

type Schema = Readonly<Record<string, unknown>>;
export const asSchema = (v: unknown): Schema | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Schema) : undefined);

export interface ShapeField {
  /** The property's name in the schema, what the tool sends and expects. */
  readonly name: string;
  /** Its Orch field name. */
  readonly id: string;
  readonly required: boolean;
  readonly shape: Shape;
}

/** `nullable`: the schema allows null (`type: [T, "null"]`, an enum with null) — an optional Orch type. */
export type Shape =
  | { readonly k: 'leaf'; readonly text: string; readonly nullable: boolean }
  | { readonly k: 'list'; readonly item: Shape; readonly nullable: boolean }
  | { readonly k: 'map'; readonly value: Shape; readonly nullable: boolean }
  | { readonly k: 'record'; readonly fields: readonly ShapeField[]; readonly nullable: boolean };

const lit = (v: string): string => `"${escapeStringText(v)}"`;
const ANY: Shape = { k: 'leaf', text: 'any', nullable: false };

/** Properties of one object that map to one Orch name (E0802): the names, as the schema has them. */
export type Clash = readonly string[];

/** The shape of a schema; `clashes` collects properties of one object that map to one name. */
export function schemaShape(s: Schema | undefined, clashes: Clash[] = [], depth = 0): Shape {
  if (!s || depth > 8) return ANY;
  const en = s.enum;
  if (Array.isArray(en) && en.length > 0 && en.every((v) => typeof v === 'string' || v === null)) {
    const strings = en.filter((v): v is string => typeof v === 'string');
    // `[null]` alone says nothing a type can: `any`.
    if (strings.length > 0) return { k: 'leaf', text: strings.map(lit).join(' | '), nullable: strings.length < en.length };
  }
  if ('const' in s && typeof s.const === 'string') return { k: 'leaf', text: lit(s.const), nullable: false };
  let type = s.type;
  let nullable = false;
  if (Array.isArray(type)) {
    const rest = type.filter((t) => t !== 'null');
    nullable = rest.length < type.length;
    if (rest.length !== 1) return ANY;
    type = rest[0];
  }
  const leaf = (text: string): Shape => ({ k: 'leaf', text, nullable });
  switch (type) {
    case 'string':
      return leaf('string');
    case 'integer':
      return leaf('int');
    case 'number':
      return leaf('number');
    case 'boolean':
      return leaf('bool');
    case 'array':
      return { k: 'list', item: schemaShape(asSchema(s.items), clashes, depth + 1), nullable };
    case 'object':
      return objectShape(s, clashes, depth, nullable);
    default:
      return s.properties ? objectShape(s, clashes, depth, nullable) : ANY;
  }
}

function objectShape(s: Schema, clashes: Clash[], depth: number, nullable: boolean): Shape {
  const props = asSchema(s.properties);
  if (!props || Object.keys(props).length === 0) {
    const extra = s.additionalProperties;
    if (extra === false) return { k: 'record', fields: [], nullable };
    return { k: 'map', value: extra === true || extra === undefined ? ANY : schemaShape(asSchema(extra), clashes, depth + 1), nullable };
  }
  return { ...recordShape(s, clashes, depth), nullable };
}

/** An object schema's record shape (a tool's input is one whatever its `type` says). */
export function recordShape(s: Schema, clashes: Clash[] = [], depth = 0): Shape & { k: 'record' } {
  const props = asSchema(s.properties) ?? {};
  const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
  const fields = Object.entries(props).map(([name, value]): ShapeField => ({ name, id: toolIdent(name), required: required.has(name), shape: schemaShape(asSchema(value), clashes, depth + 1) }));
  const byId = new Map<string, string[]>();
  for (const f of fields) byId.set(f.id, [...(byId.get(f.id) ?? []), f.name]);
  for (const names of byId.values()) if (names.length > 1) clashes.push(names);
  return { k: 'record', fields, nullable: false };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A value between Orch and the tool: `toTool` renames Orch fields to the tool's property names
 * (arguments), `!toTool` the tool's names to Orch fields (`structuredContent`). Keys the shape does
 * not know (a map's, extra properties) pass unchanged.
 */
export function renameValue(value: unknown, shape: Shape, toTool: boolean): unknown {
  switch (shape.k) {
    case 'leaf':
      return value;
    case 'list':
      return Array.isArray(value) ? value.map((v) => renameValue(v, shape.item, toTool)) : value;
    case 'map':
      return isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameValue(v, shape.value, toTool)])) : value;
    case 'record': {
      if (!isPlainObject(value)) return value;
      const byKey = new Map(shape.fields.map((f) => [toTool ? f.id : f.name, f]));
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => {
          const f = byKey.get(k);
          return f ? [toTool ? f.name : f.id, renameValue(v, f.shape, toTool)] : [k, v];
        }),
      );
    }
  }
}
