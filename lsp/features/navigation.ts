/** Go to definition, find references and rename, over a `NameSource`. */
import { DocumentHighlightKind, ResponseError, type DocumentHighlight, type Location, type Range as LspRange, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver';
import { pathToUri, toLspRange } from '../convert.js';
import type { NameSource } from '../names.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** LSP error code for a refused rename (RequestFailed). */
export const REQUEST_FAILED = -32803;

export function definition(names: NameSource, file: string, offset: number): Location[] {
  const t = names.targetAt(file, offset);
  if (!t?.declaration) return [];
  return [{ uri: pathToUri(t.declaration.file), range: toLspRange(t.declaration.range) }];
}

export function references(names: NameSource, file: string, offset: number, includeDeclaration: boolean): Location[] {
  const t = names.targetAt(file, offset);
  if (!t) return [];
  return names.occurrences(t, includeDeclaration).map((o) => ({ uri: pathToUri(o.file), range: toLspRange(o.range) }));
}

export function prepareRename(names: NameSource, file: string, offset: number): { range: LspRange; placeholder: string } | null {
  const t = names.targetAt(file, offset);
  if (!t?.renameable) return null;
  return { range: toLspRange(t.range), placeholder: t.name };
}

export function rename(names: NameSource, file: string, offset: number, newName: string): WorkspaceEdit | null {
  const t = names.targetAt(file, offset);
  if (!t) return null;
  if (!t.renameable) throw new ResponseError(REQUEST_FAILED, `${t.name} cannot be renamed (std library, module name or quoted name)`);
  if (!IDENT.test(newName)) throw new ResponseError(REQUEST_FAILED, `"${newName}" is not a valid name`);
  const changes: Record<string, TextEdit[]> = {};
  const seen = new Set<string>();
  for (const o of names.occurrences(t, true)) {
    const at = `${o.file}#${o.range.start.offset}`;
    if (seen.has(at)) continue;
    seen.add(at);
    (changes[pathToUri(o.file)] ??= []).push({ range: toLspRange(o.range), newText: newName });
  }
  return { changes };
}

/** Occurrences of the name under the cursor in this file; the declaration counts as a write. */
export function highlights(names: NameSource, file: string, offset: number): DocumentHighlight[] {
  const t = names.targetAt(file, offset);
  if (!t) return [];
  const decl = t.declaration;
  return names.occurrences(t, true, [file]).map((o) => ({
    range: toLspRange(o.range),
    kind: decl && decl.file === o.file && decl.range.start.offset === o.range.start.offset ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
  }));
}
