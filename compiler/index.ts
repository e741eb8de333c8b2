/**
 * The compiler's entry point (docs/architecture.md): `compile` turns an `.orch` file (and what it
 * imports) into diagnostics, the bound model editors navigate, and the IR of its plans; `check`
 * returns the diagnostics only. Neither ever throws: a broken module yields diagnostics, and what
 * can still be compiled is.
 *
 * For editors: `BoundModel` (compiler/model.ts) lists every `OrchSymbol` (declarations with
 * name range, doc and a hover signature), every `Reference` (resolved identifier → symbol id)
 * and `TypeAt` entries (expression/step types for hover); `compiler/navigate.ts` has lookups.
 */
import { compareDiagnostics, type Diagnostic } from '../language/diagnostic.js';
import { dedupe, internalError } from './diagnose.js';
import type { PlanIR } from './ir/types.js';
import { diskHost, type SourceHost } from './load.js';
import type { BoundModel } from './model.js';
import { compileProgram } from './program.js';

export type { BoundModel, OrchSymbol, Reference, SymbolKind, TypeAt, ModuleModel } from './model.js';
export type { SourceHost } from './load.js';
export { diskHost } from './load.js';
export { symbolAt, referencesOf, declarationOf, typeAt } from './navigate.js';
export { preview, type PreviewJson } from './preview.js';
export { renderGraph, type GraphFormat } from './graph.js';

export interface CompileInput {
  /** Path of the entry `.orch` file. */
  readonly entry: string;
  /** Where sources are read from (default: the disk); the LSP overlays unsaved buffers. */
  readonly host?: SourceHost;
  /** Compile only this plan of the entry module (all are still checked). */
  readonly plan?: string;
}

export interface CompileOutput {
  /** Sorted by file, position, code. */
  readonly diagnostics: Diagnostic[];
  /** Undefined only if the compiler itself failed (then `diagnostics` says so). */
  readonly model: BoundModel | undefined;
  /** IR of the entry module's plans that compiled without errors (only `plan` when given). */
  readonly plans: PlanIR[];
}

export function compile(input: CompileInput): CompileOutput {
  try {
    const r = compileProgram({ entry: input.entry, host: input.host ?? diskHost, plan: input.plan });
    return { diagnostics: dedupe(r.diagnostics).sort(compareDiagnostics), model: r.model, plans: r.plans };
  } catch (err) {
    if (process.env.ORCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    return { diagnostics: [internalError(input.entry, err)], model: undefined, plans: [] };
  }
}

export { check } from './diagnose.js';
