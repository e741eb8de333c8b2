/** Go to definition, find references and rename, over the per-file name indexes. */
import { ResponseError, type Location, type Range as LspRange, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver';
import type { Range } from '../../language/diagnostic.js';
import { containsOffset, pathToUri, toLspRange } from '../convert.js';
import type { FileIndex, OrchSymbol } from '../index/model.js';

export interface NavigationHost {
  index(path: string): FileIndex | undefined;
  /** Every `.orch` file to search for references (open documents first). */
  allFiles(): readonly string[];
  isStd(path: string): boolean;
}

export interface Target {
  readonly key: string;
  readonly name: string;
  /** The occurrence under the cursor. */
  readonly range: Range;
  readonly symbol: OrchSymbol | undefined;
}

export function fileOfKey(key: string): string {
  return key.slice(0, key.lastIndexOf('#'));
}

export function lookupSymbol(host: NavigationHost, key: string, from?: FileIndex): OrchSymbol | undefined {
  for (const t of from?.tables.values() ?? []) {
    const s = t.byKey.get(key);
    if (s) return s;
  }
  return host.index(fileOfKey(key))?.byKey.get(key);
}

/** The name under the cursor: a reference, or a declaration's own name. Smallest match wins. */
export function targetAt(host: NavigationHost, index: FileIndex, offset: number): Target | undefined {
  let best: { key: string; name: string; range: Range } | undefined;
  const consider = (key: string, name: string, range: Range): void => {
    if (!containsOffset(range, offset)) return;
    if (!best || range.end.offset - range.start.offset < best.range.end.offset - best.range.start.offset) best = { key, name, range };
  };
  for (const r of index.references) consider(r.key, r.name, r.range);
  for (const s of index.symbols) if (s.kind !== 'context' && s.kind !== 'simulate') consider(s.key, s.name, s.nameRange);
  if (!best) return undefined;
  return { ...best, symbol: lookupSymbol(host, best.key, index) };
}

export function definition(host: NavigationHost, index: FileIndex, offset: number): Location[] {
  const t = targetAt(host, index, offset);
  if (!t?.symbol) return [];
  return [{ uri: pathToUri(t.symbol.file), range: toLspRange(t.symbol.nameRange) }];
}

/** Every occurrence of a symbol across the workspace, declaration first when included. */
export function occurrences(host: NavigationHost, symbol: OrchSymbol, includeDeclaration: boolean): { file: string; range: Range }[] {
  const out: { file: string; range: Range }[] = [];
  if (includeDeclaration) out.push({ file: symbol.file, range: symbol.nameRange });
  const seen = new Set<string>();
  const files = [symbol.file, ...host.allFiles()];
  for (const file of files) {
    if (seen.has(file)) continue;
    seen.add(file);
    const idx = host.index(file);
    for (const r of idx?.references ?? []) if (r.key === symbol.key) out.push({ file, range: r.range });
  }
  return out;
}

export function references(host: NavigationHost, index: FileIndex, offset: number, includeDeclaration: boolean): Location[] {
  const t = targetAt(host, index, offset);
  if (!t?.symbol) return [];
  return occurrences(host, t.symbol, includeDeclaration).map((o) => ({ uri: pathToUri(o.file), range: toLspRange(o.range) }));
}

const RENAMEABLE = new Set(['alias', 'type', 'capability', 'resource', 'policy', 'guardrail', 'plan', 'trigger', 'invariant', 'step', 'item', 'field']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function prepareRename(host: NavigationHost, index: FileIndex, offset: number): { range: LspRange; placeholder: string } | null {
  const t = targetAt(host, index, offset);
  if (!t?.symbol || !canRename(host, t.symbol)) return null;
  return { range: toLspRange(t.range), placeholder: t.name };
}

function canRename(host: NavigationHost, s: OrchSymbol): boolean {
  // A quoted invariant name is a string, not an identifier.
  return RENAMEABLE.has(s.kind) && !host.isStd(s.file) && s.nameRange.end.offset - s.nameRange.start.offset === s.name.length;
}

export function rename(host: NavigationHost, index: FileIndex, offset: number, newName: string): WorkspaceEdit | null {
  const t = targetAt(host, index, offset);
  if (!t?.symbol) return null;
  if (!canRename(host, t.symbol)) throw new ResponseError(-32803, `${t.name} cannot be renamed here`);
  if (!IDENT.test(newName)) throw new ResponseError(-32803, `"${newName}" is not a valid name`);
  const changes: Record<string, TextEdit[]> = {};
  for (const o of occurrences(host, t.symbol, true)) {
    const uri = pathToUri(o.file);
    const edits = (changes[uri] ??= []);
    const range = toLspRange(o.range);
    if (!edits.some((e) => e.range.start.line === range.start.line && e.range.start.character === range.start.character)) {
      edits.push({ range, newText: newName });
    }
  }
  return { changes };
}
