/**
 * The facts record the program's stages share (`ProgramFacts`): each stage reads what the stages
 * before it added and adds its own, in the order of `CHECK_STAGES` / `COMPILE_STAGES`
 * (program.ts). A field is set by the stage its comment names; no stage reads a field a later
 * stage sets.
 */
import type { CapabilityDecl, Diagnostic } from '../language/index.js';
import type { CompiledPlan } from './assemble/plan-facts.js';
import { capabilityInfo, type CapabilityInfo } from './check/capability.js';
import type { CheckedPlan } from './check/checked-plan.js';
import type { RootInfo } from './check/expr.js';
import type { Invariant } from './check/invariants.js';
import type { CheckedGuardrail } from './guardrails.js';
import type { ContextSignalIR, PlanIR, PolicyIR, SimulateIR, SourceIR } from './ir/types.js';
import type { SourceHost } from './load.js';
import type { LoadedModule, Program } from './loaded-module.js';
import { ModelBuilder } from './model.js';
import type { PlacementResource } from './placement.js';
import type { PlanMemo } from './plan-memo.js';
import type { DeclEntry, Scopes } from './scope.js';
import type { StageTimer } from './stages.js';
import type { CompiledTest } from './tests/types.js';
import type { TypeResolver } from './types/resolve.js';
import { record, type Ty } from './types/ty.js';

export interface ProgramOptions {
  readonly entry: string;
  readonly host: SourceHost;
  /** Compile only this plan of the entry module (others are still checked). */
  readonly plan?: string;
  /** Record expression types for hover (the LSP wants them; batch `check` does not). */
  readonly recordTypes?: boolean;
  /**
   * Record every reference in `model.references` (navigation wants them; batch `check` only
   * needs the per-symbol counts in `model.uses`). Default true.
   */
  readonly recordReferences?: boolean;
  /** Skip IR assembly (diagnostics only). */
  readonly checkOnly?: boolean;
  /** Editors re-checking after an edit: plans that did not change are reused (check-only). */
  readonly memo?: PlanMemo;
  /** Times each stage (`orch check --explain-stages`). */
  readonly timer?: StageTimer;
  /**
   * Check `test` blocks (LANGUAGE.md §9.2) and compile the entry module's for the runner. A
   * check-only compile always checks them; a compile for `orch compile`, `run` or `serve` leaves
   * them alone.
   */
  readonly tests?: boolean;
}

export class ProgramFacts {
  /** Only grows during a compile (stages count errors by index). */
  readonly diags: Diagnostic[] = [];
  readonly model = new ModelBuilder();
  readonly checkOnly: boolean;
  /** Whether the `tests` stage checks the program's test blocks (`orch check`, `orch test`). */
  readonly withTests: boolean;

  /** load */
  program!: Program;
  entry!: LoadedModule;
  /** bind */
  scopes!: Scopes;
  types!: TypeResolver;
  /** context */
  contextRoot!: RootInfo;
  /** §9.4: each declared signal's max_age, derivation and hold. */
  contextSignals!: { readonly [name: string]: ContextSignalIR };
  /** §9.4: the `source` blocks, by name. */
  contextSources!: { readonly [name: string]: SourceIR };
  /** capabilities (and every stage after: a plan's check asks for the capabilities its steps call) */
  capabilities!: Capabilities;
  /** resources */
  resources!: PlacementResource[];
  /** currency: an amount with the program's currency, as moneyText writes it (`0.50usd`). */
  money!: (n: number) => string;
  /** policies */
  policies!: Map<DeclEntry<'policy'>, PolicyIR>;
  /** guardrails */
  guardrails!: Map<DeclEntry<'guardrail'>, CheckedGuardrail>;
  /** plans: the plan memo's session (editors), and the symbol ids of every use it logs. */
  memo: ReturnType<PlanMemo['begin']> | undefined;
  readonly useLog: number[] = [];
  /** plans: every plan of every user module (sub-plans may live in imported files), and the errors its check reported. */
  readonly checked = new Map<DeclEntry<'plan'>, CheckedPlan>();
  readonly planErrors = new Map<DeclEntry<'plan'>, number>();
  /** invariants */
  topInvariants!: Map<CheckedPlan, Invariant[]>;
  /** simulations */
  simulations!: Map<string, SimulateIR>;
  /** assemble */
  readonly compiled = new Map<DeclEntry<'plan'>, CompiledPlan>();
  /** tests (with `tests`, outside check-only mode): the entry module's tests, compiled for the runner. */
  tests: CompiledTest[] = [];
  /** select (compile only): the IR of the entry module's plans asked for that compiled without errors. */
  plans: PlanIR[] = [];

  private readonly planInputs = new Map<DeclEntry<'plan'>, Ty>();

  constructor(readonly opts: ProgramOptions) {
    this.checkOnly = opts.checkOnly ?? false;
    this.withTests = opts.tests === true || this.checkOnly;
    this.model.recordTypes = opts.recordTypes ?? true;
    this.model.recordDetails = this.model.recordTypes;
    this.model.recordReferences = opts.recordReferences ?? true;
  }

  /** The type of a plan's `input` (checked once, by the first plan or `run` step that asks). */
  readonly planInput = (e: DeclEntry<'plan'>): Ty => {
    let t = this.planInputs.get(e);
    if (!t) {
      t = e.node.input ? this.types.record(e.module, e.node.input, 'input_field', e.qualifiedName) : record([]);
      this.planInputs.set(e, t);
    }
    return t;
  };

  /** Errors among the diagnostics reported from index `from` on. */
  errorsSince(from: number): number {
    let n = 0;
    for (let i = from; i < this.diags.length; i++) if (this.diags[i]!.severity === 'error') n++;
    return n;
  }
}

/**
 * Every capability's `CapabilityInfo`, checked once, when first asked for. A refinement
 * (`capability x from alias.tool { … }`) checks its base first; a refinement of itself is E0101.
 */
export class Capabilities {
  private readonly infos = new Map<DeclEntry<'capability'>, CapabilityInfo>();
  private readonly refining = new Set<DeclEntry<'capability'>>();

  constructor(private readonly facts: ProgramFacts) {}

  readonly info = (e: DeclEntry<'capability'>): CapabilityInfo => {
    let info = this.infos.get(e);
    if (!info) {
      const { types, model, diags } = this.facts;
      info = capabilityInfo(e, types, model, diags, (c) => this.refinedBase(e, c));
      this.infos.set(e, info);
    }
    return info;
  };

  /** The capabilities checked so far by IR name (fallback and compensate calls name theirs so); the first of a name wins. */
  byName(): Map<string, CapabilityInfo> {
    const out = new Map<string, CapabilityInfo>();
    for (const c of this.infos.values()) if (!out.has(c.name)) out.set(c.name, c);
    return out;
  }

  private refinedBase(e: DeclEntry<'capability'>, c: CapabilityDecl): CapabilityInfo | 'unresolved' | undefined {
    const target = c.from ? this.facts.scopes.resolve(e.module, c.from, 'capability') : undefined;
    if (!target) return 'unresolved';
    if (target === e || this.refining.has(target)) return undefined;
    this.refining.add(e);
    try {
      return this.info(target);
    } finally {
      this.refining.delete(e);
    }
  }
}
