/**
 * The bound model: what the compiler knows about a program after name binding and type
 * checking, in a shape editors can navigate (the LSP builds hover, go-to-definition, references
 * and rename on it).
 *
 * - `OrchSymbol`  one declaration: a capability, resource, policy, guardrail, plan, trigger,
 *                 type alias, invariant, step, `for each` variable, plan input field, context
 *                 field, capability parameter or output field. `nameRange` is the identifier to
 *                 highlight/rename; `range` the whole declaration; `detail` a one-line signature
 *                 for hover (`capability content_generation(product_id: string, …) -> {…}`).
 * - `Reference`   one use of a name in source (including the declaration's own name when
 *                 `isDeclaration`), pointing at its symbol by id. Every resolved identifier is a
 *                 reference: qualified names (`policies.lean` refers on its last part), step
 *                 names in expressions and `after`, argument names (→ parameter), member access
 *                 on records with declared fields (`generate.output.id` → the `id` output field).
 * - `TypeAt`      the type of an expression or step as shown on hover.
 *
 * Helpers in `compiler/navigate.ts` answer "what is at this offset" and "where is this used".
 */
import type { Module, Range } from '../language/index.js';

export type SymbolKind =
  | 'module'
  | 'import'
  | 'type'
  | 'capability'
  | 'resource'
  | 'policy'
  | 'guardrail'
  | 'plan'
  | 'trigger'
  | 'invariant'
  | 'step'
  | 'item'
  | 'input_field'
  | 'context_field'
  | 'param'
  | 'output_field'
  /** A key of a plan's `output { key: … }` (check/plan-output-keys.ts). */
  | 'plan_output';

export interface OrchSymbol {
  readonly id: number;
  readonly name: string;
  readonly kind: SymbolKind;
  /** `marketing.campaigns.content_generation`; for steps `plan_name.step_name`. */
  readonly qualifiedName: string;
  readonly file: string;
  readonly range: Range;
  readonly nameRange: Range;
  readonly doc?: string;
  readonly detail: string;
  /** True for declarations of the std library (not renameable). */
  readonly std: boolean;
}

export interface Reference {
  readonly file: string;
  readonly range: Range;
  readonly symbol: number;
  readonly isDeclaration: boolean;
}

export interface TypeAt {
  readonly file: string;
  readonly range: Range;
  readonly type: string;
}

export interface ModuleModel {
  readonly file: string;
  /** `module` name, or derived from the file name; std modules are `std.<name>`. */
  readonly name: string;
  readonly ast: Module;
  readonly std: boolean;
}

export interface BoundModel {
  /** Entry module first, then imports in load order. */
  readonly modules: readonly ModuleModel[];
  /** Indexed by `OrchSymbol.id`. */
  readonly symbols: readonly OrchSymbol[];
  readonly references: readonly Reference[];
  /** Non-declaration references per symbol id (also when `references` is not recorded). */
  readonly uses: readonly number[];
  readonly types: readonly TypeAt[];
  /** The program's currency (the first written on a cost or budget), undefined when none is. */
  readonly currency?: string;
}

/** Mutable collector the binder and checker write into. */
export class ModelBuilder {
  readonly symbols: OrchSymbol[] = [];
  readonly references: Reference[] = [];
  readonly types: TypeAt[] = [];
  /** Non-declaration references per symbol id: all the unused-declaration check needs. */
  readonly uses: number[] = [];
  /** Type strings are built lazily: hover needs them, the 10k-step `check` does not. */
  recordTypes = true;
  /** Navigation needs every reference; batch `check` only needs `uses` (tens of thousands fewer objects). */
  recordReferences = true;
  /**
   * Symbols' `detail` (hover's signature line) is built only for a caller that navigates: batch
   * `check` never reads it, and on a file of 100,000 small plans it was several strings per plan
   * kept to the end of the compile. Declarers pass `''` when this is false.
   */
  recordDetails = true;
  /** When set, the symbol id of every use, in order (the editor's plan memo reads its windows). */
  useLog: number[] | undefined;
  /**
   * The currency written on the program's costs and budgets (the `currency` stage), undefined
   * when none is: what `run.cost`, `plan.cost` and a step's `.cost` are measured in (`SPEND`).
   */
  currency: string | undefined;

  declare(s: Omit<OrchSymbol, 'id'>): OrchSymbol {
    // Built field by field rather than spread: one object shape, and cheaper per step.
    const sym: OrchSymbol = {
      name: s.name, kind: s.kind, qualifiedName: s.qualifiedName, file: s.file, range: s.range,
      nameRange: s.nameRange, doc: s.doc, detail: s.detail, std: s.std, id: this.symbols.length,
    };
    this.symbols.push(sym);
    this.uses.push(0);
    if (this.recordReferences) this.references.push({ file: s.file, range: s.nameRange, symbol: sym.id, isDeclaration: true });
    return sym;
  }

  refer(file: string, range: Range, symbol: number): void {
    this.uses[symbol] = (this.uses[symbol] ?? 0) + 1;
    this.useLog?.push(symbol);
    if (this.recordReferences) this.references.push({ file, range, symbol, isDeclaration: false });
  }

  typeAt(file: string, range: Range, type: () => string): void {
    if (this.recordTypes) this.types.push({ file, range, type: type() });
  }
}
