/**
 * What checking a plan needs (`PlanCheckContext`) and yields (`checkPlan`): its steps with their resolved actions, lowered
 * expressions and references, its blocks, and the plan-level properties. The input of the
 * compile's plan stages (placement, estimates, proofs, IR emission: compiler/assemble/).
 */
import type { Diagnostic, DataClass, ForEachDecl, JoinRule, RaceDecl, RepeatDecl, StepDecl } from '../../language/index.js';
import type { CallIR, CapabilityKindIR, ExprIR, ForEachIR, RetryIR, StepActionIR } from '../ir/types.js';
import type { LoadedModule } from '../loaded-module.js';
import type { ModelBuilder, OrchSymbol } from '../model.js';
import type { DeclEntry, Scopes } from '../scope.js';
import type { Ty } from '../types/ty.js';
import type { CapabilityInfo } from './capability.js';
import type { BlockRefInfo, RootInfo } from './expr.js';

export interface CheckedStep {
  readonly id: string;
  readonly decl: StepDecl;
  readonly symbol: OrchSymbol;
  readonly capability: CapabilityInfo | undefined;
  readonly runPlan: DeclEntry<'plan'> | undefined;
  readonly action: StepActionIR;
  readonly args: Record<string, ExprIR>;
  /** Data class of the arguments themselves (before taint from other steps' outputs). */
  ownData: DataClass;
  /**
   * Final data class (§9.3 output class: own ∪ capability `data` ∪ output fields ∪ outputs it reads, less `declassify`), set after the DAG is known
   * (a check-only compile leaves it at `ownData` in plans without guardrails: nothing reads it).
   */
  data: DataClass;
  /** Steps whose output this step reads (taint sources), without repeats. */
  readonly outputReads: readonly string[];
  /** All step references (data dependencies), without repeats. */
  readonly refs: readonly string[];
  readonly after: string[];
  /** Steps whose output this step reads unguarded (skipped with them), without repeats. */
  readonly skipIfSkipped: readonly string[];
  /**
   * Steps whose output this step reads outside every `??` chain (⊇ skipIfSkipped: also a race's
   * branches read through `NAME.output`); the other output reads are soft (`soft_reads`).
   */
  readonly hardReads: readonly string[];
  readonly when: ExprIR | null;
  readonly forEach: ForEachIR | null;
  /** The blocks around the step, outermost first (ids of `CheckedPlan.blocks`). */
  readonly blocks: readonly string[];
  /** The `for each` groups among them (its output nests once per group read from outside). */
  readonly eachPath: readonly string[];
  /** `race`/`repeat` blocks the step waits for as a whole; filled in with the block steps in `refs`. */
  waitsFor: readonly string[];
  readonly fallback: CallIR | null;
  /** The fallback capability's output type when it is not one the step's output can be (else null). */
  readonly fallbackMisfit: Ty | null;
  readonly compensate: CallIR | null;
  readonly pinned: DeclEntry<'resource'> | undefined;
  readonly timeout_ms: number | null;
  readonly retry: RetryIR;
  readonly join: JoinRule;
  readonly on_failure: 'abort' | 'continue';
  readonly priority: number;
  readonly kind: CapabilityKindIR | null;
  readonly outputTy: Ty;
  /** Literal duration of a `wait` step, for estimates. */
  readonly waitMs: number | null;
  /** Literal item count of the `for each` lists around the step (their product), when all are list literals. */
  readonly itemCount: number | null;
  /**
   * How many rounds its items run in when every block runs `parallel N` at a time (the product over
   * the blocks of ⌈items / N⌉), with `itemCount`; null with it.
   */
  readonly itemWaves: number | null;
}

/** A `for each`, `race` or `repeat` block of a plan body, outer blocks first. */
export interface PlanBlock {
  readonly id: string;
  readonly kind: 'for_each' | 'race' | 'repeat';
  readonly parent: string | null;
  readonly decl: ForEachDecl | RaceDecl | RepeatDecl;
  /** Every step inside, nested blocks included, in declaration order. */
  readonly steps: string[];
  /** for_each: filled in once the list is checked. */
  forEach?: ForEachIR;
  /** repeat: */
  readonly max?: number;
  until?: ExprIR;
  readonly onFailure?: 'abort' | 'continue';
  /** race / repeat: the symbol its name declares. */
  readonly symbol?: number;
}

export interface CheckedPlan {
  readonly entry: DeclEntry<'plan'>;
  readonly module: LoadedModule;
  readonly steps: CheckedStep[];
  readonly inputTy: Ty;
  readonly policy: DeclEntry<'policy'> | undefined;
  readonly guardrails: DeclEntry<'guardrail'>[];
  readonly success: { label: string | null; condition: ExprIR }[];
  readonly output: ExprIR | null;
  /** The type of its `output` record (what a `run` step of it answers); null without one. */
  readonly outputTy: Ty | null;
  /** Names read by the plan's success criteria and output (they count as uses); a name may repeat. */
  readonly outputUses: readonly string[];
  readonly invariants: { name: string; modality: 'always' | 'never' | 'eventually'; condition: ExprIR }[];
  readonly invariantUses: ReadonlySet<string>;
  readonly blocks: readonly PlanBlock[];
  /** Races and loops by name, as expressions read them (top-level invariants read them too). */
  readonly blockRefs: ReadonlyMap<string, BlockRefInfo>;
  /** Steps read by loop conditions (`until`) and through `NAME.previous` (uses, not dependencies). */
  readonly loopUses: ReadonlySet<string>;
}


/** The steps of a checked plan by id, built when first asked for (most plans never are). */
const byIdCache = new WeakMap<CheckedPlan, ReadonlyMap<string, CheckedStep>>();
export function stepsById(cp: CheckedPlan): ReadonlyMap<string, CheckedStep> {
  let m = byIdCache.get(cp);
  if (!m) {
    const built = new Map<string, CheckedStep>();
    for (const s of cp.steps) built.set(s.id, s);
    byIdCache.set(cp, built);
    m = built;
  }
  return m;
}

export interface PlanCheckContext {
  readonly scopes: Scopes;
  readonly model: ModelBuilder;
  readonly diags: Diagnostic[];
  readonly contextRoot: RootInfo;
  readonly capability: (e: DeclEntry<'capability'>) => CapabilityInfo;
  readonly planInput: (e: DeclEntry<'plan'>) => Ty;
  /**
   * A plan's output type once it has been checked (sub-plans are checked before the plans that run
   * them); undefined before — inside a cycle of `run`s — and then its fields are `any`.
   */
  readonly planOutput?: (e: DeclEntry<'plan'>) => Ty | null | undefined;
  /** Diagnostics only: step arguments and conditions are checked without building their IR. */
  readonly typesOnly?: boolean;
  /**
   * Steps' `when` conditions are built even when `typesOnly`: guardrail proofs take two steps'
   * conditions as one when their IR is equal (../require-paths.ts), so a placeholder would make
   * any two equal. False only where no guardrail is declared.
   */
  readonly conditionsIR?: boolean;
}
