/**
 * Loads a program: the entry module and, transitively, every module it imports (std modules
 * from `stdlib/std/*.orch`, relative files), reporting E0103 for imports that cannot be found and
 * for import cycles. Reading goes through a `SourceHost` so the LSP can overlay unsaved buffers.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Ident, ImportDecl, Module } from '../language/index.js';
import { diagnostic, type Diagnostic } from '../language/index.js';
import type { ModuleEdit } from '../language/index.js';
import { parse, type ParseOutput } from '../language/index.js';
import { packagePath } from './package-root.js';
import { loadMcpImport } from './mcp-import.js';
import type { LoadedModule, Program, ResolvedImport } from './loaded-module.js';

export type { LoadedModule, Program, ResolvedImport } from './loaded-module.js';

export interface SourceHost {
  /** The text of a file, or undefined when it does not exist / cannot be read. */
  readFile(path: string): string | undefined;
  /**
   * Parses a user module's text (default: `parse`). Editors pass an incremental parser that
   * reuses the previous parse of the same file; it must return what `parse` would.
   */
  parse?(file: string, text: string): ParseOutput & { readonly edit?: ModuleEdit };
}

/**
 * `host` parsing user modules with compact ranges (`parse({ compact: true })`), unless it brings
 * its own parser. Only for a compile whose tree nothing reads after it (the CLI's check and run):
 * a compact range is a class instance, which a copy to another thread would strip. Its commonest
 * nodes are their own range (`compact: 'nodes'`): the tree lives to the end of the compile.
 */
export function compactHost(host: SourceHost): SourceHost {
  return host.parse ? host : { readFile: (path) => host.readFile(path), parse: (file, text) => parse({ file, text, compact: 'nodes' }) };
}

export const diskHost: SourceHost = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

export const STD_DIR = packagePath('stdlib', 'std');
export const IMPLICIT_STD = 'std.capabilities';

function stdFile(path: string): string {
  return join(STD_DIR, `${path.replace(/^std\./, '').split('.').join('/')}.orch`);
}

function moduleName(ast: Module, file: string, std: string | undefined): string {
  if (std) return std;
  if (ast.module) return ast.module.name.parts.map((p) => p.name).join('.');
  return basename(file).replace(/\.orch$/, '').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Std modules never change under a running process (LSP, serve): parse each text once. */
const stdCache = new Map<string, { text: string; parsed: ReturnType<typeof parse> }>();
function parseStd(file: string, text: string): ReturnType<typeof parse> {
  const hit = stdCache.get(file);
  if (hit && hit.text === text) return hit.parsed;
  const parsed = parse({ file, text });
  stdCache.set(file, { text, parsed });
  return parsed;
}

export function loadProgram(entryFile: string, host: SourceHost, diags: Diagnostic[]): Program {
  const byKey = new Map<string, LoadedModule>();
  const order: LoadedModule[] = [];
  const onStack: string[] = [];

  /**
   * Module names qualify capability and resource names in the IR, so two modules of one program
   * never share one: `a/util.orch` and `b/util.orch` both called `util` ran each other's
   * handlers. A name derived from the file (§4: "default: derived from the file path") takes the
   * path from the entry's directory on a clash (`b.util`); a `module` declared twice is E0102.
   */
  const names = new Map<string, string>();
  function uniqueName(ast: Module, file: string, std: string | undefined): string {
    const wanted = moduleName(ast, file, std);
    const holder = names.get(wanted);
    if (holder === undefined || std) {
      names.set(wanted, file);
      return wanted;
    }
    if (ast.module) {
      diags.push(diagnostic('E0102', `module "${wanted}" is also the module of ${holder}: the modules of one program need different names`, file, ast.module.name.range));
      return wanted;
    }
    const parts = relative(dirname(entryFile), file).replace(/\.orch$/, '').split(/[\\/]/).map((p) => (p === '..' ? 'up' : p.replace(/[^A-Za-z0-9_]/g, '_')));
    let name = parts.join('.');
    for (let n = 2; names.has(name); n++) name = `${parts.join('.')}_${n}`;
    names.set(name, file);
    return name;
  }

  function load(file: string, std: string | undefined): LoadedModule | undefined | 'cycle' {
    const key = resolve(file);
    if (onStack.includes(key)) return 'cycle';
    const existing = byKey.get(key);
    if (existing) return existing;
    const text = host.readFile(file);
    if (text === undefined) return undefined;
    const parsed: ReturnType<NonNullable<SourceHost['parse']>> = std ? parseStd(file, text) : host.parse ? host.parse(file, text) : parse({ file, text });
    diags.push(...parsed.diagnostics);
    const mod: LoadedModule = {
      file,
      key,
      name: uniqueName(parsed.module, file, std),
      ast: parsed.module,
      std: std !== undefined,
      imports: [],
      ...(parsed.edit ? { edit: parsed.edit } : {}),
    };
    byKey.set(key, mod);
    order.push(mod);
    onStack.push(key);
    for (const imp of parsed.module.imports) mod.imports.push(resolveImport(mod, imp));
    if (std !== IMPLICIT_STD && !mod.imports.some((i) => i.target?.name === IMPLICIT_STD)) {
      const target = load(stdFile(IMPLICIT_STD), IMPLICIT_STD);
      if (target && target !== 'cycle')
        mod.imports.push({ decl: undefined, target, qualifier: 'capabilities', names: undefined, implicit: true });
    }
    onStack.pop();
    return mod;
  }

  function resolveImport(from: LoadedModule, imp: ImportDecl): ResolvedImport {
    if (imp.kind === 'FileImport' && imp.mcp) {
      const target = loadMcpImport(from.file, imp, diags, (file, text) => parseStd(file, text), byKey);
      if (target && !order.includes(target)) order.push(target);
      return { decl: imp, target, qualifier: imp.alias.name, names: undefined, implicit: false };
    }
    let file: string;
    let std: string | undefined;
    let qualifier: string;
    let shown: string;
    if (imp.kind === 'StdImport') {
      const parts = imp.path.parts.map((p) => p.name);
      shown = parts.join('.');
      qualifier = parts[parts.length - 1] ?? '';
      if (parts[0] !== 'std' || parts.length < 2) {
        diags.push(
          diagnostic('E0103', `import "${shown}" not found: library imports start with "std." (file imports are quoted: import "./x.orch" as x)`, from.file, imp.path.range),
        );
        return { decl: imp, target: undefined, qualifier, names: imp.kind === 'StdImport' ? imp.names : undefined, implicit: false };
      }
      std = shown;
      file = stdFile(shown);
    } else {
      shown = imp.path;
      qualifier = imp.alias.name;
      // §4: a file import is relative to the importing file; joined to its directory, an absolute
      // path would be looked for somewhere else than written, and the error would name that place.
      if (isAbsolute(imp.path)) {
        diags.push(diagnostic('E0103', `import "${shown}": a file import is a path relative to this file (e.g. "./x.orch"), not an absolute one`, from.file, imp.pathRange));
        return { decl: imp, target: undefined, qualifier, names: undefined, implicit: false };
      }
      file = join(dirname(from.file), imp.path);
    }
    const target = load(file, std);
    const range = imp.kind === 'StdImport' ? imp.path.range : imp.pathRange;
    if (target === 'cycle') {
      const key = resolve(file);
      const cycle = [...onStack.slice(onStack.indexOf(key)), key].map((k) => basename(k));
      diags.push(diagnostic('E0103', `import cycle: ${cycle.join(' → ')}`, from.file, range));
      return { decl: imp, target: undefined, qualifier, names: imp.kind === 'StdImport' ? imp.names : undefined, implicit: false };
    }
    if (!target) {
      const what = std ? `standard module "${shown}"` : `file "${shown}" (looked for ${file})`;
      diags.push(diagnostic('E0103', `import not found: ${what}`, from.file, range));
    }
    return { decl: imp, target, qualifier, names: imp.kind === 'StdImport' ? (imp as { names?: readonly Ident[] }).names : undefined, implicit: false };
  }

  const entry = load(entryFile, undefined);
  if (entry === 'cycle') return { entry: undefined, modules: order };
  return { entry, modules: order };
}
