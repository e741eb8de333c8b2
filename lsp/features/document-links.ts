/**
 * Document links: a capability's `handler "./handlers/x.js#f"` opens the handler module (at the
 * line declaring `f` when it is found), and `import "./other.orch" as o` opens the imported file.
 * Relative paths resolve against the .orch file's folder, as the runtime resolves them.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DocumentLink } from 'vscode-languageserver';
import type { Module } from '../../language/index.js';
import { pathToUri, toLspRange } from '../convert.js';
import type { FileIndex } from '../symbol-index/model.js';

/** The 1-based line declaring export `name` in a JS/TS module's text, if any. */
export function exportLine(text: string, name: string): number | undefined {
  const escaped = name.replace(/[$]/g, '\\$');
  const decl = new RegExp(`^\\s*export\\s+(?:default\\s+)?(?:async\\s+)?(?:function\\*?\\s*|const\\s+|let\\s+|var\\s+|class\\s+)${escaped}\\b`);
  const list = new RegExp(`^\\s*export\\s*\\{[^}]*\\b${escaped}\\b`);
  const lines = text.split(/\r\n|\r|\n/);
  const i = lines.findIndex((l) => decl.test(l) || list.test(l));
  return i < 0 ? undefined : i + 1;
}

export function documentLinks(module: Module, index: FileIndex | undefined, file: string, readFile: (path: string) => string | undefined): DocumentLink[] {
  const links: DocumentLink[] = [];
  const base = dirname(file);
  for (const d of module.declarations) {
    if (d.kind !== 'CapabilityDecl' || !d.handler) continue;
    const [text] = d.handler.parts;
    if (d.handler.parts.length !== 1 || typeof text !== 'string') continue;
    const hash = text.lastIndexOf('#');
    const modulePath = hash < 0 ? text : text.slice(0, hash);
    const exportName = hash < 0 ? undefined : text.slice(hash + 1);
    // `builtin:approval` and the like name handlers shipped with orch, not files.
    if (!modulePath || /^[a-z][a-z0-9+.-]*:/i.test(modulePath)) continue;
    const target = isAbsolute(modulePath) ? modulePath : resolve(base, modulePath);
    const source = readFile(target);
    const line = exportName && source !== undefined ? exportLine(source, exportName) : undefined;
    links.push({
      range: toLspRange(d.handler.range),
      target: pathToUri(target) + (line ? `#L${line}` : ''),
      tooltip: source === undefined ? `${target} (not found)` : `Open ${exportName ? `${exportName} in ` : ''}${modulePath}`,
    });
  }
  for (const imp of index?.fileImports ?? []) {
    links.push({ range: toLspRange(imp.range), target: pathToUri(imp.path), tooltip: `Open ${imp.path}` });
  }
  return links;
}

/** Reads a handler module from disk; undefined when it is missing or unreadable. */
export function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
