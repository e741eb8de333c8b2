/** Outline (document symbols) and workspace symbol search, from the declaration tables. */
import { SymbolKind, type DocumentSymbol, type SymbolInformation } from 'vscode-languageserver';
import { pathToUri, toLspRange } from '../convert.js';
import { signatureOf } from '../describe.js';
import type { DeclarationTable, OrchSymbol, OrchSymbolKind } from '../symbol-index/model.js';
import type { Module } from '../../language/index.js';

export const LSP_SYMBOL_KIND: Record<OrchSymbolKind, SymbolKind> = {
  module: SymbolKind.Module,
  alias: SymbolKind.Namespace,
  type: SymbolKind.TypeParameter,
  capability: SymbolKind.Function,
  resource: SymbolKind.Struct,
  policy: SymbolKind.Interface,
  guardrail: SymbolKind.Event,
  context: SymbolKind.Namespace,
  plan: SymbolKind.Class,
  trigger: SymbolKind.Event,
  invariant: SymbolKind.Boolean,
  simulate: SymbolKind.Object,
  step: SymbolKind.Method,
  race: SymbolKind.Operator,
  repeat: SymbolKind.Operator,
  foreach: SymbolKind.Array,
  item: SymbolKind.Variable,
  field: SymbolKind.Field,
};

export function documentSymbols(table: DeclarationTable): DocumentSymbol[] {
  const nodes = new Map<string, DocumentSymbol>();
  const roots: DocumentSymbol[] = [];
  for (const sym of table.symbols) {
    if (sym.kind === 'item') continue;
    const ds: DocumentSymbol = {
      name: sym.kind === 'simulate' ? `simulate ${sym.name}` : sym.name,
      detail: detailOf(sym),
      kind: LSP_SYMBOL_KIND[sym.kind],
      range: toLspRange(sym.range),
      // The selection must lie inside the range; recovered parses may violate that.
      selectionRange: toLspRange(inside(sym.nameRange, sym.range) ? sym.nameRange : sym.range),
      children: [],
    };
    nodes.set(sym.key, ds);
    const parent = sym.parent ? nodes.get(sym.parent) : undefined;
    (parent ? parent.children! : roots).push(ds);
  }
  // Tests and sources declare no name code refers to, so the declaration table leaves them out;
  // the outline still lists them (LANGUAGE.md §9.2, §9.4), in source order among the rest.
  const blocks = v04Blocks(table.module);
  return blocks.length ? [...roots, ...blocks].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character) : roots;
}

/** A `test "NAME"` (its mocks as children) and a `source NAME` (its topic mappings as children). */
function v04Blocks(module: Module): DocumentSymbol[] {
  const text = (parts: readonly unknown[]) => parts.filter((p): p is string => typeof p === 'string').join('');
  const node = (name: string, detail: string, kind: SymbolKind, range: OrchSymbol['range'], nameRange: OrchSymbol['range'], children: DocumentSymbol[] = []): DocumentSymbol => ({
    name, detail, kind, range: toLspRange(range), selectionRange: toLspRange(inside(nameRange, range) ? nameRange : range), children,
  });
  return module.declarations.flatMap((d) => {
    if (d.kind === 'TestDecl') {
      const plan = d.plan.parts.map((p) => p.name).join('.');
      const mocks = d.mocks.map((m) => node(`mock ${m.capability.parts.map((p) => p.name).join('.')}`, '', SymbolKind.Property, m.range, m.capability.range));
      return [node(text(d.name.parts), `test of plan ${plan}`, SymbolKind.Method, d.range, d.name.range, mocks)];
    }
    if (d.kind === 'SourceDecl' && typeof d.name?.name === 'string') {
      const topics = d.topics.map((t) => node(text(t.topic.parts), `sets ${t.signal.name}`, SymbolKind.Event, t.range, t.topic.range));
      return [node(d.name.name, `source ${d.name.name}`, SymbolKind.Event, d.range, d.name.range, topics)];
    }
    return [];
  });
}

function inside(inner: OrchSymbol['range'], outer: OrchSymbol['range']): boolean {
  return outer.start.offset <= inner.start.offset && inner.end.offset <= outer.end.offset;
}

function detailOf(sym: OrchSymbol): string {
  const sig = signatureOf(sym);
  return sig.length > 80 ? `${sig.slice(0, 79)}…` : sig;
}

/** Case-insensitive subsequence match, as editors do for symbol search. */
export function fuzzyMatch(query: string, name: string): boolean {
  const q = query.toLowerCase();
  const n = name.toLowerCase();
  let i = 0;
  for (const ch of n) if (ch === q[i]) i++;
  return i === q.length;
}

export function workspaceSymbols(tables: readonly DeclarationTable[], query: string, limit = 500): SymbolInformation[] {
  const out: SymbolInformation[] = [];
  for (const table of tables) {
    for (const sym of table.symbols) {
      if (sym.kind === 'item' || sym.kind === 'foreach' || sym.kind === 'context') continue;
      if (!fuzzyMatch(query, sym.name)) continue;
      const parent = sym.parent ? table.byKey.get(sym.parent) : undefined;
      out.push({
        name: sym.name,
        kind: LSP_SYMBOL_KIND[sym.kind],
        location: { uri: pathToUri(sym.file), range: toLspRange(sym.nameRange) },
        containerName: parent?.name,
      });
      if (out.length >= limit) return out;
    }
    // Tests and sources, found by their names as the outline lists them.
    for (const block of v04Blocks(table.module)) {
      if (!fuzzyMatch(query, block.name)) continue;
      out.push({ name: block.name, kind: block.kind, location: { uri: pathToUri(table.file), range: block.selectionRange } });
      if (out.length >= limit) return out;
    }
  }
  return out;
}
