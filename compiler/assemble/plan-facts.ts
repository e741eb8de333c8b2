/**
 * The facts record a plan's stages share (`PlanFacts`): each stage reads what the stages before
 * it added and adds its own, in the order of `PLAN_COMPILE_STAGES` (assemble.ts). Per-step facts
 * are arrays indexed like `cp.steps`: the 10k-step `check` spends its time in these stages, and
 * one array per fact allocates far less than a map or an object per step.
 */
import type { Diagnostic, PlanDecl, Range, TriggerDecl } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { CheckedPlan, CheckedStep } from '../check/checked-plan.js';
import type { Invariant } from '../check/invariants.js';
import type { DagResult } from '../dag.js';
import type { CheckedGuardrail, PlanFacts as GuardedPlan } from '../guardrails.js';
import type { BindingIR, ContextSignalIR, PlanIR, PolicyIR, SimulateIR, SourceIR, StepIR } from '../ir/types.js';
import { defaultPolicy, type PlacementResource, type PlacementResult } from '../placement.js';
import type { DeclEntry } from '../scope.js';
import type { StageTimer } from '../stages.js';
import type { Ty } from '../types/ty.js';
import type { TimelineStep } from '../block-estimates.js';
import type { LedgerWorstCase } from '../budget-ledger.js';
import type { FieldLabel, PlanFlows } from './flow-labels.js';

/** What a plan's stages read of the program: the same for every plan of a compile. */
export interface AssembleContext {
  /** Diagnostics only: stop before building the IR (no stage after assembly reads it then). */
  readonly checkOnly: boolean;
  readonly diags: Diagnostic[];
  readonly resources: readonly PlacementResource[];
  readonly policies: ReadonlyMap<DeclEntry<'policy'>, PolicyIR>;
  readonly guardrails: ReadonlyMap<DeclEntry<'guardrail'>, CheckedGuardrail>;
  readonly money: (n: number) => string;
  readonly topInvariants: ReadonlyMap<CheckedPlan, Invariant[]>;
  readonly simulations: ReadonlyMap<string, SimulateIR>;
  readonly capabilityByName: (name: string) => CapabilityInfo | undefined;
  /** `resources` by name. */
  readonly resourceByName: ReadonlyMap<string, PlacementResource>;
  /**
   * Placements by policy (null: the default one), then by the needs of what is placed: shared by
   * every plan of the compile, so a file of many small plans places each kind of need once, not
   * once per plan (each placement ranks every resource).
   */
  readonly placements: Map<PolicyIR | null, Map<string, Placed>>;
  readonly contextTy: Ty;
  /** The labels of each `context` field (its `@class`, `@untrusted`): what the flows stage reads of `context.X`. */
  readonly flowContext: ReadonlyMap<string, FieldLabel>;
  readonly contextSignals: { readonly [name: string]: ContextSignalIR };
  readonly contextSources: { readonly [name: string]: SourceIR };
  /** The plan a `run` step runs, assembled first (undefined: a sub-plan cycle, reported at `range`). */
  readonly subplan: (e: DeclEntry<'plan'>, range: Range, file: string) => CompiledPlan | undefined;
  /**
   * The plans some `run` step runs: the flows stage keeps the facts of these only (a caller's
   * analysis walks them again), so every other plan's facts are garbage once it is assembled.
   */
  readonly runTargets: ReadonlySet<DeclEntry<'plan'>>;
  /**
   * The triggers that start a plan, with the file of each (§9.1's paths in: a `with { … }` is
   * read like a `run` step's arguments, a `when` condition like a `run` step's `when`).
   */
  readonly triggersOf: (e: DeclEntry<'plan'>) => readonly { readonly trigger: TriggerDecl; readonly file: string; readonly watches?: DeclEntry<'plan'> }[];
  /** The plans an `after` trigger with a `with { … }` watches: their output is the next run's `event.output`. */
  readonly watched: ReadonlySet<DeclEntry<'plan'>>;
  /** A plan assembled before this one's stages go on (undefined while it is being assembled: a chain back to it). */
  readonly assembled: (e: DeclEntry<'plan'>) => CompiledPlan | undefined;
  readonly timer: StageTimer | undefined;
}

/** What the program's later stages need of an assembled plan, in check-only mode too. */
export interface AssembledFacts {
  readonly estimates: { readonly cost: number; readonly duration_ms: number };
  /** Resources placement chose for some step, as its binding or a fallback. */
  readonly boundResources: ReadonlySet<string>;
  /** What guardrails judge of the plan (set when it has some or another plan runs it). */
  readonly guard: GuardedPlan | undefined;
  /** The budget ledger's worst case, without a limit (set when another plan runs it: it reserves in the caller's ledger). */
  readonly ledger: LedgerWorstCase | undefined;
}

export interface CompiledPlan {
  readonly checked: CheckedPlan;
  /** Undefined when the plan could not be assembled (a cycle) and in check-only mode. */
  readonly ir: PlanIR | undefined;
  /** Undefined when the plan could not be assembled (a dependency cycle). */
  readonly assembled: AssembledFacts | undefined;
  readonly ok: boolean;
}

export type Placed = PlacementResult;
export type Estimate = { cost: number; duration_ms: number };
export type CallBindings = { fallback?: BindingIR; compensate?: BindingIR };

/**
 * Empty maps shared by the plans that have no sub-plan steps and no fallback or compensate
 * calls (no stage writes to them then): a file of many small plans is mostly such plans.
 */
export const NO_SUB_ESTIMATES: ReadonlyMap<string, Estimate> = new Map();
export const NO_CALL_BINDINGS: Map<string, CallBindings> = new Map();
/** `boundResources` of a plan that binds none. */
export const NO_RESOURCES: ReadonlySet<string> = new Set();

/**
 * What a per-step array holds before its stage set it: one frozen empty array for every plan (a
 * file of many small plans would otherwise allocate four per plan for nothing).
 */
const UNSET = Object.freeze([]) as unknown as never[];

/** The policy of a plan that names none (read-only: shared by every plan). */
const DEFAULT_POLICY = defaultPolicy();

export class PlanFacts {
  readonly file: string;
  readonly plan: PlanDecl;
  readonly steps: readonly CheckedStep[];
  /** `steps.length`. */
  readonly n: number;
  /** The plan's policy, null when it names none. */
  readonly policy: PolicyIR | null;
  /** The policy placement follows (the default one when the plan names none). */
  readonly effective: PolicyIR;

  /** subplans: the IR of each plan a `run` step runs, by name, and each such step's estimates. */
  readonly subplans: Record<string, PlanIR> = {};
  subEstimates: ReadonlyMap<string, Estimate> = NO_SUB_ESTIMATES;
  /** What guardrails judge of each `run` step's sub-plan, by step id. */
  subGuards: Map<string, GuardedPlan> = new Map();

  /** placement: each step's binding (a hole where none can host it) and its fallback/compensate calls'. */
  bindings: (StepIR['binding'] | undefined)[] = UNSET;
  callBindings: Map<string, CallBindings> = NO_CALL_BINDINGS;

  /** step-estimates: each step's cost and duration (× its `for each` items). */
  costs: number[] = UNSET;
  durations: number[] = UNSET;

  /** dag: each step's dependencies, and the DAG (the stages after it run only when it has no cycle). */
  depsOf: (readonly string[])[] = UNSET;
  dag!: DagResult;

  /** estimates: the plan's best-case cost and duration, worst case (loops at max), local ratio. */
  cost = 0;
  duration = 0;
  costMax = 0;
  durationMax = 0;
  /** Set when the timeline decides it (races, loops, rate limits); else the DAG's. */
  criticalPath: readonly string[] | undefined;
  localRatio = 0;
  /** Each step's rate limit, when the policy has any (the timeline spaced the calls by them). */
  rates: readonly TimelineStep['rate'][] = UNSET;
  /** Some block is a `repeat`: the worst case differs from the best. */
  maxIterations = false;

  /** proofs: the static verdict of each guardrail. */
  guardrails: PlanIR['guardrails'] = [];
  guardFacts: GuardedPlan | undefined;

  /** budgets: the ledger's worst case without a limit, for a plan another plan runs. */
  ledger: LedgerWorstCase | undefined;

  /** bound-resources */
  boundResources: ReadonlySet<string> = NO_RESOURCES;
  /** E0801 steps' would-be hosts (placement.ts): they count as bound, so that W0601 does not call them unused. */
  undecidedHosts: Set<string> | undefined;

  /** flows: each step's labels, the plan's endorsements and declassifications (and its findings, reported). */
  flows: PlanFlows | undefined;

  /** emit-ir (compile only) */
  ir: PlanIR | undefined;

  constructor(
    readonly cp: CheckedPlan,
    readonly cx: AssembleContext,
  ) {
    this.file = cp.module.file;
    this.plan = cp.entry.node;
    this.steps = cp.steps;
    this.n = cp.steps.length;
    this.policy = cp.policy ? cx.policies.get(cp.policy) ?? null : null;
    this.effective = this.policy ?? DEFAULT_POLICY;
  }
}

