/**
 * What loading a program yields: its modules, each with its parsed tree and resolved imports.
 * Apart from `load.ts` so the modules `load.ts` calls (the MCP import) can name them without an
 * import cycle.
 */
import type { Ident, ImportDecl, Module, ModuleEdit } from '../language/index.js';

export interface ResolvedImport {
  readonly decl: ImportDecl | undefined;
  /** Undefined when the import could not be loaded (already reported). */
  readonly target: LoadedModule | undefined;
  /** Name usable as a qualifier: alias of a file import, last segment of a std import. */
  readonly qualifier: string | undefined;
  readonly names: readonly Ident[] | undefined;
  /** `import std.capabilities` added to every module: all its names are visible unqualified. */
  readonly implicit: boolean;
}

export interface LoadedModule {
  readonly file: string;
  readonly key: string;
  readonly name: string;
  readonly ast: Module;
  readonly std: boolean;
  readonly imports: ResolvedImport[];
  /** How this parse maps onto the host's previous parse of the file (incremental hosts only). */
  readonly edit?: ModuleEdit;
  /** A module generated from orch.lock.json for `import mcp "server"` (LANGUAGE.md §8.3). */
  readonly mcp?: {
    readonly server: string;
    /** Orch names two or more tools map to (E0802 at the import): a call of one reports nothing more. */
    readonly collided: readonly string[];
  };
}

export interface Program {
  readonly entry: LoadedModule | undefined;
  /** Entry first, then in load order. */
  readonly modules: readonly LoadedModule[];
}
