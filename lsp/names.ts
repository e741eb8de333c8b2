/**
 * Name resolution for navigation, from two sources behind one interface:
 * - the compiler's bound model (preferred: it is the language's own resolution), one model per
 *   compiled entry file, merged across the workspace by symbol identity (file + name offset);
 * - the editor's AST index, used only when no compiled model exists for a file (the compiler
 *   failed internally, or is missing).
 */
import { resolve } from 'node:path';
import { symbolAt, type BoundModel, type OrchSymbol as CompilerSymbol } from '../compiler/index.js';
import type { Range } from '../language/index.js';
import { containsOffset } from './convert.js';
import type { FileIndex, OrchSymbol } from './symbol-index/model.js';

export interface NameTarget {
  /** Identity across files and compilations: `${absolute file}#${name offset}`. */
  readonly key: string;
  readonly name: string;
  /** The occurrence under the cursor. */
  readonly range: Range;
  readonly declaration: { readonly file: string; readonly range: Range } | undefined;
  readonly renameable: boolean;
  /** The compiler's symbol, when the compiler resolved it (hover uses its detail/doc). */
  readonly compiled?: CompilerSymbol;
  /** The AST index's symbol, when resolved that way or findable (hover uses its node). */
  readonly indexed?: OrchSymbol;
}

export interface Occurrence {
  readonly file: string;
  readonly range: Range;
}

export interface NameSource {
  targetAt(file: string, offset: number): NameTarget | undefined;
  /** Every occurrence, searching `within` (default: the declaration's file and the workspace). */
  occurrences(target: NameTarget, includeDeclaration: boolean, within?: readonly string[]): Occurrence[];
}

const NOT_RENAMEABLE = new Set(['module', 'import']);

export function compilerKey(s: { file: string; nameRange: Range }): string {
  return `${resolve(s.file)}#${s.nameRange.start.offset}`;
}

function isIdentifier(name: string, r: Range): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && r.end.offset - r.start.offset === name.length;
}

export interface ModelHost {
  /** The compiled model with `file` as entry (compiling if the stored one is stale). */
  model(file: string): BoundModel | undefined;
  /** Files whose models may hold references to a declaration of `file`: it and its importers. */
  filesReferencing(file: string): readonly string[];
}

export class CompilerNames implements NameSource {
  constructor(private readonly host: ModelHost) {}

  targetAt(file: string, offset: number): NameTarget | undefined {
    const model = this.host.model(file);
    if (!model) return undefined;
    const hit = symbolAt(model, file, offset);
    if (!hit) return undefined;
    const s = hit.symbol;
    return {
      key: compilerKey(s),
      name: s.name,
      range: hit.reference.range,
      declaration: { file: resolve(s.file), range: s.nameRange },
      renameable: !s.std && !NOT_RENAMEABLE.has(s.kind) && isIdentifier(s.name, s.nameRange),
      compiled: s,
    };
  }

  occurrences(target: NameTarget, includeDeclaration: boolean, within?: readonly string[]): Occurrence[] {
    const out: Occurrence[] = [];
    const seen = new Set<string>();
    const files = within ?? (target.declaration ? this.host.filesReferencing(target.declaration.file) : []);
    const declKey = target.declaration ? `${target.declaration.file}#${target.declaration.range.start.offset}` : '';
    for (const file of new Set(files)) {
      const model = this.host.model(file);
      if (!model) continue;
      for (const r of model.references) {
        const sym = model.symbols[r.symbol];
        if (!sym || compilerKey(sym) !== target.key) continue;
        const at = `${resolve(r.file)}#${r.range.start.offset}`;
        if (seen.has(at)) continue;
        if (!includeDeclaration && (r.isDeclaration || at === declKey)) continue;
        seen.add(at);
        out.push({ file: resolve(r.file), range: r.range });
      }
    }
    // Declaration first, then by file and position.
    return out.sort((a, b) =>
      Number(`${b.file}#${b.range.start.offset}` === declKey) - Number(`${a.file}#${a.range.start.offset}` === declKey) ||
      a.file.localeCompare(b.file) || a.range.start.offset - b.range.start.offset);
  }
}

export interface IndexHost {
  index(path: string): FileIndex | undefined;
  allFiles(): readonly string[];
  isStd(path: string): boolean;
}

const AST_RENAMEABLE = new Set(['alias', 'type', 'capability', 'resource', 'policy', 'guardrail', 'plan', 'trigger', 'invariant', 'step', 'race', 'repeat', 'item', 'field']);

/** Fallback: the editor's own AST index (lsp/index/). */
export class IndexNames implements NameSource {
  constructor(private readonly host: IndexHost) {}

  private lookup(key: string, from: FileIndex): OrchSymbol | undefined {
    for (const t of from.tables.values()) {
      const s = t.byKey.get(key);
      if (s) return s;
    }
    return this.host.index(key.slice(0, key.lastIndexOf('#')))?.byKey.get(key);
  }

  targetAt(file: string, offset: number): NameTarget | undefined {
    const index = this.host.index(file);
    if (!index) return undefined;
    let best: { key: string; name: string; range: Range } | undefined;
    const consider = (key: string, name: string, range: Range): void => {
      if (!containsOffset(range, offset)) return;
      if (!best || range.end.offset - range.start.offset < best.range.end.offset - best.range.start.offset) best = { key, name, range };
    };
    for (const r of index.references) consider(r.key, r.name, r.range);
    for (const s of index.symbols) if (s.kind !== 'context' && s.kind !== 'simulate') consider(s.key, s.name, s.nameRange);
    if (!best) return undefined;
    const b: { key: string; name: string; range: Range } = best;
    const sym = this.lookup(b.key, index);
    return {
      ...b,
      declaration: sym ? { file: sym.file, range: sym.nameRange } : undefined,
      renameable: !!sym && AST_RENAMEABLE.has(sym.kind) && !this.host.isStd(sym.file) && isIdentifier(sym.name, sym.nameRange),
      indexed: sym,
    };
  }

  occurrences(target: NameTarget, includeDeclaration: boolean, within?: readonly string[]): Occurrence[] {
    const out: Occurrence[] = [];
    if (includeDeclaration && target.declaration && (!within || within.includes(target.declaration.file))) out.push(target.declaration);
    const files = new Set(within ?? [target.declaration?.file, ...this.host.allFiles()].filter((f): f is string => !!f));
    for (const file of files) {
      for (const r of this.host.index(file)?.references ?? []) if (r.key === target.key) out.push({ file, range: r.range });
    }
    return out;
  }
}

/** Compiler first; the AST index where the compiler has no model of the file or no name there. */
export class LayeredNames implements NameSource {
  constructor(private readonly compiled: CompilerNames, private readonly indexed: IndexNames, private readonly hasModel: (file: string) => boolean) {}

  private pick(file: string): NameSource {
    return this.hasModel(file) ? this.compiled : this.indexed;
  }

  targetAt(file: string, offset: number): NameTarget | undefined {
    // Names the compiler does not record as references (a module name) still get the index's answer.
    return this.pick(file).targetAt(file, offset) ?? this.indexed.targetAt(file, offset);
  }

  occurrences(target: NameTarget, includeDeclaration: boolean, within?: readonly string[]): Occurrence[] {
    return (target.compiled ? this.compiled : this.indexed).occurrences(target, includeDeclaration, within);
  }
}
