/**
 * Capabilities: their semantic input/output types and their IR (`CapabilityIR`), computed once
 * per declaration. Handler strings: `"./handlers/x.js#fn"` (module path relative to the
 * declaring file, `#export`, default export name `default`), or `"builtin:NAME"` for the
 * handlers the runtime provides itself (std capabilities) → `{ builtin: NAME }` in the IR.
 */
import { dirname, resolve } from 'node:path';
import type { CapabilityDecl } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import { handlerProblem } from '../handler-module.js';
import type { CapabilityIR, LlmIR } from '../ir/types.js';
import { llmIR, type LlmProps } from './llm.js';
import type { DeclEntry } from '../scope.js';
import type { TypeResolver } from '../types/resolve.js';
import { toJsonSchema } from '../types/json-schema.js';
import { assignable, T, type Ty } from '../types/ty.js';
import { checkExpr, type ExprEnv } from './expr.js';
import { ms, retryIR } from './lower.js';
import type { ModelBuilder } from '../model.js';
import { parseMcpHandler } from '../mcp-module.js';
import { lockedTool } from '../mcp-lock.js';
import { alwaysUntrusted, trustTrustedRefused } from '../ir/always-untrusted.js';
import { consentScopes } from '../consent-scopes.js';

export interface CapabilityInfo {
  readonly entry: DeclEntry<'capability'>;
  readonly name: string;
  readonly input: Ty & { k: 'record' };
  readonly output: Ty;
  /** Default values of optional parameters, as IR and as plain JSON (for the schema). */
  readonly defaults: ReadonlyMap<string, import('../ir/types.js').ExprIR>;
  readonly ir: CapabilityIR;
  /** Its model properties (§8.1), own and inherited: what a refinement of it inherits. */
  readonly llm: LlmProps;
  /**
   * A refinement (`capability x from alias.tool`) whose base did not resolve — an unknown tool, a
   * failed `import mcp`: that was reported there, so calls of it have their arguments checked
   * as expressions only, against no parameters, and report nothing more.
   */
  readonly baseless?: true;
  /** What a refinement refines: the §9.3 properties it does not declare are that capability's (flow-sinks.ts). */
  readonly base?: CapabilityInfo;
}

/**
 * `base` resolves the capability a refinement names (`capability x from files.read { … }`,
 * LANGUAGE.md §8.3): the refinement keeps its input and output and overrides any other property.
 * It answers `unresolved` when the name resolves to nothing (reported there), and undefined for a
 * refinement of itself or a cycle, which falls back to its own declaration.
 */
export function capabilityInfo(
  entry: DeclEntry<'capability'>,
  types: TypeResolver,
  model: ModelBuilder,
  diags: Diagnostic[],
  base?: (c: CapabilityDecl) => CapabilityInfo | 'unresolved' | undefined,
): CapabilityInfo {
  const c: CapabilityDecl = entry.node;
  const mod = entry.module;
  const refined = c.from && base ? base(c) : undefined;
  const info = refined !== undefined && refined !== 'unresolved' ? refinement(entry, refined, types, model, diags) : ownCapability(entry, types, model, diags, refined === 'unresolved');
  // §9.3: a model's or http_request's answer is untrusted whatever is declared.
  const always = c.trust === 'trusted' ? alwaysUntrusted(info.ir) : null;
  if (always !== null) diags.push(diagnostic('E0201', trustTrustedRefused(c.name.name, always), mod.file, c.name.range));
  return info;
}

function ownCapability(entry: DeclEntry<'capability'>, types: TypeResolver, model: ModelBuilder, diags: Diagnostic[], baseless: boolean): CapabilityInfo {
  const c: CapabilityDecl = entry.node;
  const mod = entry.module;
  const input = (c.input ? types.record(mod, c.input, 'param', entry.qualifiedName) : { k: 'record', fields: new Map() }) as Ty & { k: 'record' };
  const output = c.output ? types.resolve(mod, c.output, 'output_field', entry.qualifiedName) : T.any;
  const defaults = new Map<string, import('../ir/types.js').ExprIR>();
  const plainDefaults = new Map<string, unknown>();
  const env: ExprEnv = { file: mod.file, model, diags, roots: new Map() };
  for (const f of c.input?.fields ?? []) {
    if (!f.default) continue;
    const r = checkExpr(f.default, env);
    defaults.set(f.name.name, r.ir);
    if (r.ir.op === 'lit') plainDefaults.set(f.name.name, r.ir.value);
  }
  const ir: CapabilityIR = {
    name: entry.qualifiedName,
    kind: c.capabilityKind ?? 'tool',
    input: toJsonSchema(input, true, plainDefaults),
    output: toJsonSchema(output, false),
    handler: handlerOf(c, entry, diags),
    timeout_ms: ms(c.timeout),
    retry: retryIR(c.retry),
    cost: c.cost?.amount ?? 0,
    latency_ms: ms(c.latency) ?? 0,
    data: c.data ?? 'public',
    consent: consentOf(entry, diags) ?? [],
    requires: (c.requires ?? []).map((i) => i.name),
    idempotent: c.idempotent ?? false,
    ...(c.destructive ? { destructive: true } : {}),
  };
  const llm = llmIR(c, input, mod.file, model, diags);
  if (llm.ir) (ir as { llm?: LlmIR }).llm = llm.ir;
  return { entry, name: entry.qualifiedName, input, output, defaults, ir, llm: llm.props, ...(baseless ? { baseless: true as const } : {}) };
}

function refinement(entry: DeclEntry<'capability'>, base: CapabilityInfo, types: TypeResolver, model: ModelBuilder, diags: Diagnostic[]): CapabilityInfo {
  const c = entry.node;
  const file = entry.module.file;
  if (c.output) diags.push(diagnostic('E0201', `capability ${c.name.name} refines ${base.name}: its output is the tool's and cannot be redeclared`, file, c.output.range));
  if (c.input) restatedInput(entry, base, types, diags);
  const b = base.ir;
  const ir: CapabilityIR = {
    ...b,
    name: entry.qualifiedName,
    kind: c.capabilityKind ?? b.kind,
    handler: c.handler ? handlerOf(c, entry, diags) : b.handler,
    timeout_ms: c.timeout ? ms(c.timeout) : b.timeout_ms,
    retry: c.retry ? retryIR(c.retry) : b.retry,
    cost: c.cost ? c.cost.amount : b.cost,
    latency_ms: c.latency ? (ms(c.latency) ?? 0) : b.latency_ms,
    data: c.data ?? b.data,
    consent: consentOf(entry, diags) ?? b.consent,
    requires: c.requires ? c.requires.map((i) => i.name) : b.requires,
    idempotent: c.idempotent ?? b.idempotent,
  };
  const destructive = c.destructive ?? b.destructive ?? false;
  const { destructive: _, llm: _baseLlm, ...rest } = ir;
  const llm = llmIR(c, base.input, file, model, diags, { name: base.name, kind: b.kind, hasHandler: b.handler !== null, props: base.llm });
  const merged: CapabilityIR = { ...rest, ...(destructive ? { destructive: true } : {}), ...(llm.ir ? { llm: llm.ir } : {}) };
  return { ...base, entry, name: entry.qualifiedName, ir: merged, llm: llm.props, base };
}

/**
 * A refinement's `input` only restates the tool's parameters, to annotate them (§9.3: `@untrusted`
 * on a destructive tool's parameter, `@trusted`, a class): each field must be a parameter of the
 * tool, of the same type, without a default — the tool's schema stays what is called.
 */
function restatedInput(entry: DeclEntry<'capability'>, base: CapabilityInfo, types: TypeResolver, diags: Diagnostic[]): void {
  const c = entry.node;
  const file = entry.module.file;
  const restated = types.record(entry.module, c.input!, 'param', entry.qualifiedName) as Ty & { k: 'record' };
  const tool = base.input.fields;
  for (const f of c.input!.fields) {
    const name = f.name.name;
    const own = tool.get(name);
    const mine = restated.fields.get(name);
    let problem: string | undefined;
    if (!own) problem = `${base.name} has no parameter ${name}`;
    else if (f.default) problem = `parameter ${name} is the tool's: its default cannot be redeclared`;
    else if (mine && !(assignable(mine.ty, own.ty) && assignable(own.ty, mine.ty))) problem = `parameter ${name} is restated with another type than the tool's`;
    if (problem) diags.push(diagnostic('E0201', `capability ${c.name.name} refines ${base.name}: ${problem} (a refinement's input only restates the tool's parameters to annotate them)`, file, f.range));
  }
}

function handlerOf(c: CapabilityDecl, entry: DeclEntry<'capability'>, diags: Diagnostic[]): CapabilityIR['handler'] {
  const file = entry.module.file;
  if (!c.handler) return null;
  const text = c.handler.parts.filter((p) => typeof p === 'string').join('');
  if (c.handler.parts.some((p) => typeof p !== 'string')) {
    diags.push(diagnostic('E0201', 'a handler must be a plain string (no ${…} interpolation)', file, c.handler.range));
    return null;
  }
  if (text.startsWith('mcp:')) {
    // Only modules generated from the lock file call MCP tools by handler (they carry the tool's hash).
    const tool = entry.module.mcp ? parseMcpHandler(text) : undefined;
    const locked = tool ? lockedTool(entry.module.file, tool.server, tool.tool) : undefined;
    if (!tool || !locked) {
      diags.push(diagnostic('E0201', 'an MCP tool is called through `import mcp "server" as alias` (alias.tool), not by handler', file, c.handler.range));
      return null;
    }
    return { mcp: tool.server, tool: tool.tool, hash: locked.hash };
  }
  if (text.startsWith('builtin:')) {
    const name = text.slice('builtin:'.length);
    if (!name) diags.push(diagnostic('E0201', 'a built-in handler needs a name: "builtin:approval"', file, c.handler.range));
    return { builtin: name || 'unknown' };
  }
  const hash = text.lastIndexOf('#');
  const path = hash >= 0 ? text.slice(0, hash) : text;
  const exp = hash >= 0 ? text.slice(hash + 1) : 'default';
  if (!path) {
    diags.push(diagnostic('E0201', 'a handler is "./module.js#export" or "builtin:name"', file, c.handler.range));
    return null;
  }
  const ref = { module: resolve(dirname(file), path), export: exp || 'default' };
  const problem = handlerProblem(file, { module: path, export: ref.export });
  if (problem) diags.push(handlerDiagnostic(c, file, path, ref.export, problem));
  return ref;
}

/** E0104: the handler's module or export is not there (W0105: nor its folder), with the likely one as a did-you-mean and a quick fix. */
function handlerDiagnostic(c: CapabilityDecl, file: string, path: string, exp: string, p: NonNullable<ReturnType<typeof handlerProblem>>): Diagnostic {
  const range = c.handler!.range;
  const hashed = (m: string, e: string) => (e === 'default' ? m : `${m}#${e}`);
  const fixTo = (text: string, title: string) => ({ fixes: [{ title, edits: [{ file, range, newText: JSON.stringify(text) }] }] });
  if (p.kind === 'missing_folder') {
    const message = `handler module ${path} of capability ${c.name.name}: its folder ${p.folder} does not exist; did you mean "${p.suggestion}"?`;
    return diagnostic('W0105', message, file, range, fixTo(hashed(p.suggestion, exp), `Change to "${p.suggestion}"`));
  }
  if (p.kind === 'missing_module') {
    const message = `handler module ${path} of capability ${c.name.name} not found (${p.file})`;
    return p.suggestion
      ? diagnostic('E0104', `${message}; did you mean "${p.suggestion}"?`, file, range, fixTo(hashed(p.suggestion, exp), `Change to "${p.suggestion}"`))
      : diagnostic('E0104', message, file, range);
  }
  const shown = p.exports.length ? `it exports ${p.exports.slice(0, 8).join(', ')}${p.exports.length > 8 ? ', …' : ''}` : 'it exports nothing';
  const message = `handler module ${path} of capability ${c.name.name} has no export "${exp}" (${shown})`;
  return p.suggestion
    ? diagnostic('E0104', `${message}; did you mean "${p.suggestion}"?`, file, range, fixTo(hashed(path, p.suggestion), `Change to "${p.suggestion}"`))
    : diagnostic('E0104', message, file, range);
}

/** The scopes of a capability's `consent`, or undefined when it has none; an empty scope is E0201. */
function consentOf(entry: DeclEntry<'capability'>, diags: Diagnostic[]): string[] | undefined {
  const lits = entry.node.consent;
  if (!lits) return undefined;
  const { scopes, blank } = consentScopes(lits);
  for (const lit of blank)
    diags.push(diagnostic('E0201', 'a consent scope is a name: this one is empty (write consent "a", "b" or consent "a, b")', entry.module.file, lit.range));
  return scopes;
}
