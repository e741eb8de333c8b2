/**
 * What a plan written in a project can use (LANGUAGE.md §8.5): every capability, resource,
 * policy, guardrail and type alias declared in the project's `.orch` files and in std, and the
 * tools of the MCP servers its lock file lists (as the compiler types them), with its
 * types, its doc comment, its source text and how a file of the project refers to it. The MCP
 * server's `capabilities` tool answers with it, and `orch draft` shows it to the model.
 *
 * Only parsing is needed (declarations are read as written), so a project file with errors
 * elsewhere still contributes what it declares, and nothing is ever run.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { mcpModuleText, orchFilesUnder, readMcpLock, STD_DIR, typeText } from '../compiler/index.js';
import { parse, type Declaration, type FieldDecl, type Node, type StringLit } from '../language/index.js';

export type ScopeKind = 'capability' | 'resource' | 'policy' | 'guardrail' | 'type';

export interface ScopeField {
  readonly name: string;
  readonly type: string;
  readonly dataClass: string | null;
  readonly optional: boolean;
}

export interface ScopeEntry {
  readonly kind: ScopeKind;
  readonly name: string;
  /** `std.policies`, the project file's path relative to the project root (forward slashes), or `mcp "NAME"`. */
  readonly module: string;
  readonly std: boolean;
  /** A tool of this MCP server (from orch.lock.json), imported with `import mcp "NAME" as ALIAS`. */
  readonly mcp: string | null;
  /** Absolute path of the declaring file. */
  readonly file: string;
  readonly line: number;
  readonly doc: string | null;
  /** One line: a capability's call signature, a resource's kind and tags, a policy's strategy, a guardrail's severity. */
  readonly summary: string;
  /** The declaration as written. */
  readonly source: string;
  /** Capabilities: input fields and output type (other kinds: empty / null). */
  readonly input: readonly ScopeField[];
  readonly output: string | null;
}

export interface ProjectScope {
  readonly root: string;
  /** Project `.orch` files read (absolute), in path order. */
  readonly files: readonly string[];
  readonly entries: readonly ScopeEntry[];
}

/** Folders never searched for project `.orch` files. */
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.orch', 'coverage']);
/** A project larger than this is not listed whole (a prompt could not hold it anyway). */
const MAX_FILES = 500;

/** Every `.orch` file under `root` (sorted), skipping dependency, build and hidden folders. */
export function projectOrchFiles(root: string, exclude: ReadonlySet<string> = new Set()): string[] {
  // From the resolved root every path the walk forms is absolute and normalized, as `exclude`'s are.
  return orchFilesUnder(resolve(root), { skip: SKIP_DIRS, skipHidden: true, order: 'code-units', unreadable: 'skip', maxFiles: MAX_FILES, exclude });
}

/** The project's declarations and std's. `exclude`: files not to read (the draft being written). */
export function projectScope(root: string, options: { readonly exclude?: readonly string[] } = {}): ProjectScope {
  const files = projectOrchFiles(root, new Set((options.exclude ?? []).map((f) => resolve(f))));
  const entries: ScopeEntry[] = [];
  for (const name of ['capabilities', 'policies', 'guardrails']) entries.push(...entriesOf(join(STD_DIR, `${name}.orch`), `std.${name}`, true));
  for (const file of files) entries.push(...entriesOf(file, relative(resolve(root), file).split(sep).join('/'), false));
  entries.push(...mcpEntries(resolve(root)));
  return { root: resolve(root), files, entries };
}

/** The tools of every server in the project's lock file, as the capabilities the compiler makes of them. */
function mcpEntries(root: string): ScopeEntry[] {
  const view = readMcpLock(root);
  if (view.kind !== 'ok') return [];
  const out: ScopeEntry[] = [];
  for (const [server, locked] of Object.entries(view.lock.servers)) {
    const { text } = mcpModuleText(server, locked);
    out.push(...entriesIn(view.file, text, `mcp ${JSON.stringify(server)}`, false, server));
  }
  return out;
}

function entriesOf(file: string, module: string, std: boolean): ScopeEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return entriesIn(file, text, module, std, null);
}

function entriesIn(file: string, text: string, module: string, std: boolean, mcp: string | null): ScopeEntry[] {
  const { module: ast } = parse({ file, text });
  const out: ScopeEntry[] = [];
  for (const d of ast.declarations) {
    const entry = entryOf(d, text);
    if (entry) out.push({ ...entry, module, std, mcp, file, line: mcp === null ? d.range.start.line : 1, source: slice(text, d) });
  }
  return out;
}

type Described = Omit<ScopeEntry, 'module' | 'std' | 'mcp' | 'file' | 'line' | 'source'>;

function entryOf(d: Declaration, text: string): Described | null {
  switch (d.kind) {
    case 'CapabilityDecl': {
      const input = (d.input?.fields ?? []).map(field);
      const output = typeText(d.output);
      const params = input.map((f) => `${f.name}: ${f.type}${f.optional ? ' = …' : ''}`).join(', ');
      return { kind: 'capability', name: d.name.name, doc: d.doc ?? null, summary: `${d.name.name}(${params}) -> ${output}${d.capabilityKind ? ` [${d.capabilityKind}]` : ''}`, input, output };
    }
    case 'ResourceDecl': {
      const provides = (d.provides ?? []).map((p) => p.name);
      return { kind: 'resource', name: d.name.name, doc: d.doc ?? null, summary: `${d.resourceKind ?? 'resource'}${provides.length ? ` provides ${provides.join(', ')}` : ''}`, input: [], output: null };
    }
    case 'PolicyDecl': {
      const budgets = d.budgets.map((b) => slice(text, b).trim());
      return { kind: 'policy', name: d.name.name, doc: d.doc ?? null, summary: [`strategy ${d.strategy ?? 'balanced'}`, ...budgets].join('; '), input: [], output: null };
    }
    case 'GuardrailDecl':
      return { kind: 'guardrail', name: d.name.name, doc: d.doc ?? null, summary: `${d.severity ?? 'blocking'}${d.message ? `: ${literal(d.message)}` : ''}`, input: [], output: null };
    case 'TypeAliasDecl':
      return { kind: 'type', name: d.name.name, doc: d.doc ?? null, summary: `type ${d.name.name} = ${typeText(d.type)}`, input: [], output: null };
    default:
      return null;
  }
}

function field(f: FieldDecl): ScopeField {
  return { name: f.name.name, type: typeText(f.type), dataClass: f.dataClass ?? null, optional: f.default !== undefined || f.type.kind === 'OptionalType' };
}

function slice(text: string, node: Node): string {
  return text.slice(node.range.start.offset, node.range.end.offset);
}

function literal(s: StringLit): string {
  return s.parts.map((p) => (typeof p === 'string' ? p : '${…}')).join('');
}

/**
 * How a file at `fromFile` names an entry: std capabilities bare (imported implicitly), std
 * policies as `policies.X` after `import std.policies`, std guardrails by name after
 * `import std.guardrails { X }`, a project file's declarations as `alias.X` after
 * `import "./path.orch" as alias` (a declaration of `fromFile` itself: its bare name).
 */
export function referenceFrom(entry: ScopeEntry, fromFile: string): { readonly import: string | null; readonly name: string } {
  if (entry.mcp !== null) {
    const alias = identOf(entry.mcp);
    return { import: `import mcp ${JSON.stringify(entry.mcp)} as ${alias}`, name: `${alias}.${entry.name}` };
  }
  if (entry.std) {
    if (entry.module === 'std.capabilities') return { import: null, name: entry.name };
    if (entry.module === 'std.guardrails') return { import: `import std.guardrails { ${entry.name} }`, name: entry.name };
    const last = entry.module.split('.').pop()!;
    return { import: `import ${entry.module}`, name: `${last}.${entry.name}` };
  }
  if (resolve(entry.file) === resolve(fromFile)) return { import: null, name: entry.name };
  let path = relative(dirname(resolve(fromFile)), entry.file).split(sep).join('/');
  if (!path.startsWith('.')) path = `./${path}`;
  const alias = aliasOf(entry.file);
  return { import: `import ${JSON.stringify(path)} as ${alias}`, name: `${alias}.${entry.name}` };
}

const KEYWORDS = new Set(['import', 'module', 'plan', 'step', 'capability', 'resource', 'policy', 'guardrail', 'type', 'trigger', 'invariant', 'simulate', 'context', 'as', 'for', 'each', 'in', 'run', 'wait', 'true', 'false', 'null', 'and', 'or', 'not']);

/** An identifier for importing `file`: its base name, made an identifier. */
export function aliasOf(file: string): string {
  return identOf(basename(file, '.orch'));
}

function identOf(text: string): string {
  let name = text.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(name)) name = `m_${name}`;
  return KEYWORDS.has(name) ? `${name}_` : name;
}
