/**
 * An MCP server's locked tools as an Orch module (LANGUAGE.md §8.3): one `kind tool` capability
 * per tool, its input and output types from the tool's JSON Schemas. The module is Orch source
 * generated from the lock file, so everything downstream — scopes, call checking (E0202, E0201),
 * the IR, the language server's completion and hover — treats MCP tools like any capability.
 *
 * Mapping: objects → records (`required` → non-optional fields), `enum` of strings →
 * string-literal enums, arrays → `list<T>`, `additionalProperties` alone → `map<T>`; anything Orch
 * types cannot say (unions, `$ref`, a property name that is not an identifier) → `any`.
 */
import { escapeStringText } from '../language/index.js';
import type { McpLockServer, McpLockTool } from './mcp-lock.js';

const RESERVED = new Set(['and', 'or', 'not', 'in', 'implies', 'true', 'false', 'null']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `get-sum` → `get_sum`: every character an identifier cannot hold becomes `_`. */
export function toolIdent(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(id)) id = `_${id}`;
  return RESERVED.has(id) ? `${id}_` : id;
}

function isIdent(name: string): boolean {
  return IDENT.test(name) && !RESERVED.has(name);
}

type Schema = Readonly<Record<string, unknown>>;
const asSchema = (v: unknown): Schema | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Schema) : undefined);

/** The Orch type text of a JSON Schema. */
export function schemaType(s: Schema | undefined, depth = 0): string {
  if (!s || depth > 8) return 'any';
  const en = s.enum;
  if (Array.isArray(en) && en.length > 0 && en.every((v) => typeof v === 'string')) return en.map((v) => `"${escapeStringText(v as string)}"`).join(' | ');
  if ('const' in s && typeof s.const === 'string') return `"${escapeStringText(s.const)}"`;
  let type = s.type;
  let nullable = false;
  if (Array.isArray(type)) {
    const rest = type.filter((t) => t !== 'null');
    nullable = rest.length < type.length;
    if (rest.length !== 1) return 'any';
    type = rest[0];
  }
  const inner = ((): string => {
    switch (type) {
      case 'string':
        return 'string';
      case 'integer':
        return 'int';
      case 'number':
        return 'number';
      case 'boolean':
        return 'bool';
      case 'array':
        return `list<${schemaType(asSchema(s.items), depth + 1)}>`;
      case 'object':
        return objectType(s, depth);
      default:
        return s.properties ? objectType(s, depth) : 'any';
    }
  })();
  return nullable && inner !== 'any' ? `${inner}?` : inner;
}

function objectType(s: Schema, depth: number): string {
  const props = asSchema(s.properties);
  if (!props || Object.keys(props).length === 0) {
    const extra = s.additionalProperties;
    if (extra === false) return '{}';
    return `map<${extra === true || extra === undefined ? 'any' : schemaType(asSchema(extra), depth + 1)}>`;
  }
  const names = Object.keys(props);
  if (!names.every(isIdent)) return 'any';
  return recordType(s, depth, '');
}

/** `{ a: number, b: string? }` — a field that is not `required` is optional. */
function recordType(s: Schema, depth: number, indent: string): string {
  const props = asSchema(s.properties) ?? {};
  const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
  const fields: string[] = [];
  for (const [name, value] of Object.entries(props)) {
    if (!isIdent(name)) continue;
    const t = schemaType(asSchema(value), depth + 1);
    // `any` too: a property the schema does not require may be left out, whatever its type.
    const optional = !required.has(name) && !t.endsWith('?');
    // `"a" | "b"?` is an optional enum.
    const ty = optional ? `${t}?` : t;
    fields.push(`${name}: ${ty}`);
  }
  if (fields.length === 0) return '{}';
  return indent ? `{\n${fields.map((f) => `${indent}  ${f}`).join(',\n')}\n${indent}}` : `{ ${fields.join(', ')} }`;
}

const DEFAULT_OUTPUT = '{ text: string, content: list<any> }';

function docLines(text: string | undefined): string {
  if (!text) return '';
  return text.trim().split(/\r?\n/).map((l) => `/// ${l}`.trimEnd()).join('\n') + '\n';
}

/** A tool's capability declaration. */
function toolCapability(server: string, t: McpLockTool): string {
  const input = asSchema(t.inputSchema) ?? {};
  const ann = asSchema(t.annotations) ?? {};
  const lines = [
    `capability ${toolIdent(t.name)} {`,
    '  kind tool',
    `  input ${recordType(input, 0, '  ')}`,
    `  output ${t.outputSchema ? schemaType(asSchema(t.outputSchema)) : DEFAULT_OUTPUT}`,
    `  handler "mcp:${escapeStringText(server)}/${escapeStringText(t.name)}"`,
    '  cost 0usd',
  ];
  if (ann.idempotentHint === true) lines.push('  idempotent true');
  if (ann.destructiveHint === true) lines.push('  destructive true');
  lines.push('}');
  const title = t.title ?? (typeof ann.title === 'string' ? ann.title : undefined);
  const doc = [title && title !== t.name ? title : undefined, t.description].filter(Boolean).join('\n\n');
  return docLines(doc) + lines.join('\n') + '\n';
}

export interface McpModuleText {
  readonly text: string;
  /** Tools whose Orch names collide (E0802): `[orchName, [toolA, toolB]]`. */
  readonly collisions: readonly (readonly [string, readonly string[]])[];
}

/** The Orch module of one locked server. */
export function mcpModuleText(server: string, locked: McpLockServer): McpModuleText {
  const byIdent = new Map<string, string[]>();
  for (const t of locked.tools) {
    const id = toolIdent(t.name);
    byIdent.set(id, [...(byIdent.get(id) ?? []), t.name]);
  }
  const collisions = [...byIdent].filter(([, names]) => names.length > 1);
  const clashing = new Set(collisions.map(([id]) => id));
  const header = `// MCP server "${server}" (${locked.name} ${locked.version}), generated from orch.lock.json.\n\n`;
  const body = locked.tools.filter((t) => !clashing.has(toolIdent(t.name))).map((t) => toolCapability(server, t)).join('\n');
  return { text: header + body, collisions };
}

/** `mcp:SERVER/TOOL` handler strings of generated modules. */
export function parseMcpHandler(text: string): { server: string; tool: string } | undefined {
  if (!text.startsWith('mcp:')) return undefined;
  const rest = text.slice(4);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { server: rest.slice(0, slash), tool: rest.slice(slash + 1) };
}
