/**
 * The editor's view of names: every declaration of a file as an `OrchSymbol` and every use of a
 * name as an `OrchReference` pointing at a symbol key. Keys are stable strings
 * (`/abs/file.orch#plan:launch/step:generate`) so references from other files can point at a
 * declaration without holding its object.
 */
import type { AnyNode, Module } from '../../language/index.js';
import type { Range } from '../../language/index.js';

export type OrchSymbolKind =
  | 'module'
  | 'alias'
  | 'type'
  | 'capability'
  | 'resource'
  | 'policy'
  | 'guardrail'
  | 'context'
  | 'plan'
  | 'trigger'
  | 'invariant'
  | 'simulate'
  | 'step'
  /** v0.2 blocks with a name (`race NAME`, `repeat NAME`): read like steps (`NAME.winner`). */
  | 'race'
  | 'repeat'
  | 'foreach'
  | 'item'
  | 'field';

export interface OrchSymbol {
  readonly key: string;
  readonly name: string;
  readonly kind: OrchSymbolKind;
  readonly file: string;
  /** The whole declaration. */
  readonly range: Range;
  /** Just the name (what rename edits and definition selects). */
  readonly nameRange: Range;
  /** Key of the enclosing symbol (a step's plan, a field's capability or plan). */
  readonly parent?: string;
  /** Which record a field belongs to: a capability's or plan's `input`/`output`, or `context`. */
  readonly role?: 'input' | 'output' | 'context' | 'type';
  readonly node: AnyNode;
  readonly doc?: string;
}

export interface OrchReference {
  readonly key: string;
  readonly name: string;
  /** The target's kind and role, so highlighting needs no second lookup. */
  readonly kind: OrchSymbolKind;
  readonly role?: OrchSymbol['role'];
  /** The target is declared in the std library (not renameable). */
  readonly std: boolean;
  readonly file: string;
  readonly range: Range;
}

/** The declarations of one file, looked up by other files without building their references. */
export interface DeclarationTable {
  readonly file: string;
  readonly module: Module;
  readonly symbols: readonly OrchSymbol[];
  readonly byKey: ReadonlyMap<string, OrchSymbol>;
  /** Top-level declarations by name (types, capabilities, resources, policies, …, plans). */
  readonly topLevel: ReadonlyMap<string, OrchSymbol>;
  /** Steps of each plan by plan key, then by step name. */
  readonly steps: ReadonlyMap<string, ReadonlyMap<string, OrchSymbol>>;
  /** Fields of a record-owning symbol by `${ownerKey}/${role}` then field name. */
  readonly fields: ReadonlyMap<string, ReadonlyMap<string, OrchSymbol>>;
}

export interface FileIndex extends DeclarationTable {
  readonly references: readonly OrchReference[];
  /** File imports resolved to absolute paths (missing files included; the compiler reports them). */
  readonly fileImports: readonly { readonly alias: string; readonly path: string; readonly range: Range }[];
  /** Names usable unqualified here: own top-level declarations, then std names imported. */
  readonly visible: ReadonlyMap<string, OrchSymbol>;
  /** `alias` or std qualifier (`policies`) → the declarations it names. */
  readonly qualifiers: ReadonlyMap<string, DeclarationTable>;
  /** Every declaration table consulted, by file (this file's included). */
  readonly tables: ReadonlyMap<string, DeclarationTable>;
}
