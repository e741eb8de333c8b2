/**
 * What a module's imports bring into scope for the editor's index: the tables of the files and std
 * modules it names, the qualifiers (file aliases, bare std imports) and the names imported
 * unqualified, including the std capabilities every module sees.
 */
import { dirname, resolve } from 'node:path';
import type { Module, Range } from '../../language/index.js';
import { mcpModulePath } from '../../compiler/index.js';
import type { DeclarationTable, FileIndex, OrchSymbol } from './model.js';

/** Std capabilities every module sees without an import (LANGUAGE.md §4, built-in step forms). */
export const IMPLICIT_STD_MODULE = 'std.capabilities';

export interface IndexHost {
  /** Declarations of another `.orch` file by absolute path, or undefined when unreadable. */
  fileTable(path: string): DeclarationTable | undefined;
  /** Declarations of a std module (`std.policies`), or undefined when unknown. */
  stdTable(name: string): DeclarationTable | undefined;
  isStd(file: string): boolean;
}

/** Records a reference to `sym` (when it resolved) at `range`; returns `sym`. */
export type RecordReference = (sym: OrchSymbol | undefined, name: string, range: Range) => OrchSymbol | undefined;

export interface ImportScope {
  /** Every table the index consulted, by file (the module's own first). */
  readonly tables: Map<string, DeclarationTable>;
  /** Qualifier → module it names: file aliases and bare std imports (`policies`). */
  readonly qualifiers: Map<string, { table: DeclarationTable; alias?: OrchSymbol }>;
  /** Names brought in unqualified: `import std.guardrails { a }` and the implicit std capabilities. */
  readonly imported: Map<string, OrchSymbol>;
  readonly fileImports: FileIndex['fileImports'][number][];
  /** Keeps a table the index consulted; returns it. */
  readonly remember: (t: DeclarationTable | undefined) => DeclarationTable | undefined;
}

export function resolveFileImport(fromFile: string, importPath: string): string {
  return resolve(dirname(fromFile), importPath);
}

/** The files `module` (of `file`) imports directly, as absolute paths. */
export function fileImportsOf(module: Module, file: string): string[] {
  return module.imports.flatMap((i) => (i.kind === 'FileImport' ? [resolveFileImport(file, i.path)] : []));
}

/** Resolves `module`'s imports; the names an import lists are recorded as references. */
export function resolveImports(module: Module, file: string, host: IndexHost, decls: DeclarationTable, ref: RecordReference): ImportScope {
  const tables = new Map<string, DeclarationTable>([[file, decls]]);
  const qualifiers = new Map<string, { table: DeclarationTable; alias?: OrchSymbol }>();
  const imported = new Map<string, OrchSymbol>();
  const fileImports: FileIndex['fileImports'][number][] = [];
  const remember = (t: DeclarationTable | undefined): DeclarationTable | undefined => {
    if (t) tables.set(t.file, t);
    return t;
  };

  const implicit = remember(host.stdTable(IMPLICIT_STD_MODULE));
  if (implicit) for (const [n, s] of implicit.topLevel) if (s.kind === 'capability') imported.set(n, s);

  for (const imp of module.imports) {
    if (imp.kind === 'FileImport') {
      const path = imp.mcp ? mcpModulePath(file, imp.path) : resolveFileImport(file, imp.path);
      fileImports.push({ alias: imp.alias.name, path, range: imp.pathRange });
      const table = path === file ? undefined : remember(host.fileTable(path));
      if (table) qualifiers.set(imp.alias.name, { table, alias: decls.topLevel.get(imp.alias.name) });
    } else {
      const name = imp.path.parts.map((p) => p.name).join('.');
      const table = remember(host.stdTable(name));
      if (!table) continue;
      if (imp.names) {
        for (const n of imp.names) {
          const sym = table.topLevel.get(n.name);
          if (sym) imported.set(n.name, ref(sym, n.name, n.range)!);
        }
      } else {
        const last = imp.path.parts[imp.path.parts.length - 1];
        if (last) qualifiers.set(last.name, { table });
      }
    }
  }
  return { tables, qualifiers, imported, fileImports, remember };
}
