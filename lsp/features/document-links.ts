/**
 * Document links: a capability's `handler "./handlers/x.js#f"` opens the handler module (at the
 * line declaring `f` when it is found), and `import "./other.orch" as o` opens the imported file.
 * Relative paths resolve against the .orch file's folder, as the runtime resolves them.
 */
import { readFileSync } from 'node:fs';
import type { DocumentLink } from 'vscode-languageserver';
import { exportLine, handlerFile, splitHandler } from '../../compiler/index.js';
import type { Module } from '../../language/index.js';
import { pathToUri, toLspRange } from '../convert.js';
import type { FileIndex } from '../symbol-index/model.js';

/** Where the export's line is found (shared with `orch check`'s handler resolution, E0104). */
export { exportLine };

export function documentLinks(module: Module, index: FileIndex | undefined, file: string, readFile: (path: string) => string | undefined): DocumentLink[] {
  const links: DocumentLink[] = [];
  for (const d of module.declarations) {
    if (d.kind !== 'CapabilityDecl' || !d.handler) continue;
    const [text] = d.handler.parts;
    if (d.handler.parts.length !== 1 || typeof text !== 'string') continue;
    const ref = splitHandler(text);
    // `builtin:approval` and the like name handlers shipped with orch, not files.
    if (!ref) continue;
    const modulePath = ref.module;
    const exportName = text.includes('#') ? ref.export : undefined;
    const target = handlerFile(file, modulePath);
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
