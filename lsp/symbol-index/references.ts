/**
 * Resolves every use of a name in one module to the declaration it means, across file imports
 * and the std library. This is the editor's AST-level index (definition, references, rename,
 * semantic tokens); type checking and diagnostics stay with the compiler. What the imports bring
 * in is `imports.ts`; the walk over the module and its visitor per node kind, `reference-walk.ts`.
 */
import type { Module, Range } from '../../language/index.js';
import { collectDeclarations } from './declarations.js';
import { resolveImports, type IndexHost } from './imports.js';
import type { FileIndex, OrchReference, OrchSymbol } from './model.js';
import { referenceWalk } from './reference-walk.js';

export { fileImportsOf, IMPLICIT_STD_MODULE, resolveFileImport, type IndexHost } from './imports.js';

export function buildFileIndex(module: Module, file: string, host: IndexHost, decls = collectDeclarations(module, file)): FileIndex {
  const references: OrchReference[] = [];
  const ref = (sym: OrchSymbol | undefined, name: string, range: Range): OrchSymbol | undefined => {
    if (sym) references.push({ key: sym.key, name, file, range, kind: sym.kind, role: sym.role, std: host.isStd(sym.file) });
    return sym;
  };
  const imports = resolveImports(module, file, host, decls, ref);
  const walk = referenceWalk(file, host, decls, imports, ref);
  for (const d of module.declarations) {
    try {
      walk.visit(d, walk.moduleScope);
    } catch {
      // A malformed subtree from error recovery must not cost the rest of the file its index.
    }
  }
  const visible = new Map(imports.imported);
  for (const [n, sym] of decls.topLevel) visible.set(n, sym);
  const qualifierTables = new Map([...imports.qualifiers].map(([q, v]) => [q, v.table] as const));
  return { ...decls, references, fileImports: imports.fileImports, visible, qualifiers: qualifierTables, tables: imports.tables };
}
