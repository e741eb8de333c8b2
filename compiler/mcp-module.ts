/**
 * An MCP server's locked tools as an Orch module (LANGUAGE.md §8.3): one `kind tool` capability
 * per tool, its input and output types from the tool's JSON Schemas. The module is Orch source
 * generated from the lock file, so everything downstream — scopes, call checking (E0202, E0201),
 * the IR, the language server's completion and hover — treats MCP tools like any capability.
 *
 * Mapping (./mcp-shape.ts): objects → records (`required` → non-optional fields), `enum` of
 * strings → string-literal enums (with `null` too: optional), arrays → `list<T>`,
 * `additionalProperties` alone → `map<T>`; anything Orch types cannot say (unions, `$ref`) → `any`.
 * A property name that is not an identifier is renamed as tool names are (`file-path` →
 * `file_path`); the runtime renames values back and forth by the same shapes.
 */
import { escapeStringText } from '../language/index.js';
import type { McpLockServer, McpLockTool } from './mcp-lock.js';
import { asSchema, recordShape, schemaShape, toolIdent, type Clash, type Shape } from './mcp-shape.js';

export { toolIdent };

type Schema = Readonly<Record<string, unknown>>;

/** The Orch type text of a JSON Schema. */
export function schemaType(s: Schema | undefined): string {
  return shapeType(schemaShape(s), '');
}

function shapeType(sh: Shape, indent: string): string {
  const inner = ((): string => {
    switch (sh.k) {
      case 'leaf':
        return sh.text;
      case 'list':
        return `list<${shapeType(sh.item, '')}>`;
      case 'map':
        return `map<${shapeType(sh.value, '')}>`;
      case 'record':
        return recordType(sh, indent);
    }
  })();
  return sh.nullable && inner !== 'any' ? `${inner}?` : inner;
}

/** `{ a: number, b: string? }` — a field that is not `required` is optional. */
function recordType(sh: Shape & { k: 'record' }, indent: string): string {
  const fields = sh.fields.map((f) => {
    const t = shapeType(f.shape, '');
    // `any` too: a property the schema does not require may be left out, whatever its type.
    // `"a" | "b"?` is an optional enum.
    return `${f.id}: ${!f.required && !t.endsWith('?') ? `${t}?` : t}`;
  });
  if (fields.length === 0) return '{}';
  return indent ? `{\n${fields.map((f) => `${indent}  ${f}`).join(',\n')}\n${indent}}` : `{ ${fields.join(', ')} }`;
}

/** The shapes of a tool's input and output: what its Orch types say and how values are renamed (./mcp-shape.ts). */
export function toolShapes(t: Pick<McpLockTool, 'inputSchema' | 'outputSchema'>, clashes: Clash[] = []): { input: Shape & { k: 'record' }; output: Shape | undefined } {
  return { input: recordShape(asSchema(t.inputSchema) ?? {}, clashes), output: t.outputSchema ? schemaShape(asSchema(t.outputSchema), clashes) : undefined };
}

const DEFAULT_OUTPUT = '{ text: string, content: list<any> }';

function docLines(text: string | undefined): string {
  if (!text) return '';
  return text.trim().split(/\r?\n/).map((l) => `/// ${l}`.trimEnd()).join('\n') + '\n';
}

/** A tool's capability declaration. */
function toolCapability(server: string, t: McpLockTool): string {
  const { input, output } = toolShapes(t);
  const ann = asSchema(t.annotations) ?? {};
  const lines = [
    `capability ${toolIdent(t.name)} {`,
    '  kind tool',
    `  input ${recordType(input, '  ')}`,
    `  output ${output ? shapeType(output, '') : DEFAULT_OUTPUT}`,
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
  /** Tools two of whose properties (of one object) map to one Orch name (E0802): left out of the module. */
  readonly propertyClashes: readonly { readonly tool: string; readonly ident: string; readonly names: Clash }[];
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
  const propertyClashes = locked.tools.flatMap((t) => {
    const clashes: Clash[] = [];
    toolShapes(t, clashes);
    return clashing.has(toolIdent(t.name)) ? [] : clashes.map((names) => ({ tool: t.name, ident: toolIdent(t.name), names }));
  });
  for (const c of propertyClashes) clashing.add(c.ident);
  const header = `// MCP server "${server}" (${locked.name} ${locked.version}), generated from orch.lock.json.\n\n`;
  const body = locked.tools.filter((t) => !clashing.has(toolIdent(t.name))).map((t) => toolCapability(server, t)).join('\n');
  return { text: header + body, collisions, propertyClashes };
}

/** `mcp:SERVER/TOOL` handler strings of generated modules. */
export function parseMcpHandler(text: string): { server: string; tool: string } | undefined {
  if (!text.startsWith('mcp:')) return undefined;
  const rest = text.slice(4);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { server: rest.slice(0, slash), tool: rest.slice(slash + 1) };
}
