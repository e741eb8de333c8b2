/**
 * Capabilities: their semantic input/output types and their IR (`CapabilityIR`), computed once
 * per declaration. Handler strings: `"./handlers/x.js#fn"` (module path relative to the
 * declaring file, `#export`, default export name `default`), or `"builtin:NAME"` for the
 * handlers the runtime provides itself (std capabilities) → `{ builtin: NAME }` in the IR.
 */
import { dirname, resolve } from 'node:path';
import type { CapabilityDecl } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { CapabilityIR, LlmIR } from '../ir/types.js';
import { llmIR } from './llm.js';
import type { DeclEntry } from '../scope.js';
import type { TypeResolver } from '../types/resolve.js';
import { toJsonSchema } from '../types/json-schema.js';
import { T, type Ty } from '../types/ty.js';
import { checkExpr, type ExprEnv } from './expr.js';
import { ms, retryIR } from './lower.js';
import type { ModelBuilder } from '../model.js';

export interface CapabilityInfo {
  readonly entry: DeclEntry<'capability'>;
  readonly name: string;
  readonly input: Ty & { k: 'record' };
  readonly output: Ty;
  /** Default values of optional parameters, as IR and as plain JSON (for the schema). */
  readonly defaults: ReadonlyMap<string, import('../ir/types.js').ExprIR>;
  readonly ir: CapabilityIR;
}

export function capabilityInfo(
  entry: DeclEntry<'capability'>,
  types: TypeResolver,
  model: ModelBuilder,
  diags: Diagnostic[],
): CapabilityInfo {
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
    handler: handlerOf(c, mod.file, diags),
    timeout_ms: ms(c.timeout),
    retry: retryIR(c.retry),
    cost: c.cost?.amount ?? 0,
    latency_ms: ms(c.latency) ?? 0,
    data: c.data ?? 'public',
    consent: (c.consent ?? []).map((s) => s.parts.filter((p) => typeof p === 'string').join('')),
    requires: (c.requires ?? []).map((i) => i.name),
    idempotent: c.idempotent ?? false,
  };
  const llm = llmIR(c, input, mod.file, model, diags);
  if (llm) (ir as { llm?: LlmIR }).llm = llm;
  return { entry, name: entry.qualifiedName, input, output, defaults, ir };
}

function handlerOf(c: CapabilityDecl, file: string, diags: Diagnostic[]): CapabilityIR['handler'] {
  if (!c.handler) return null;
  const text = c.handler.parts.filter((p) => typeof p === 'string').join('');
  if (c.handler.parts.some((p) => typeof p !== 'string')) {
    diags.push(diagnostic('E0201', 'a handler must be a plain string (no ${…} interpolation)', file, c.handler.range));
    return null;
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
  return { module: resolve(dirname(file), path), export: exp || 'default' };
}
