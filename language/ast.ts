/**
 * The typed AST of an `.orch` module (LANGUAGE.md sections 2–4).
 *
 * Every node has a `kind` discriminant and a source `range`. Property-style declarations
 * (capability, resource, policy, …) hold one typed optional field per property rather than a
 * property list: the compiler reads fields, and the CST→AST phase reports a property given twice
 * (E0102). Literal-only properties keep the literal node so the printer can reproduce them.
 *
 * Equality "ignoring ranges" (used by the round-trip property tests) means: deep-equal after
 * deleting every `range`, `nameRange` and other `*Range` key; `comments` are compared as texts.
 */
import type { Range } from './diagnostic.js';

export type { Range } from './diagnostic.js';
// The nodes every declaration is made of (names, comments, expressions, types) are a module of
// their own; this one re-exports them, so `ast.js` stays the one import of the whole tree.
export * from './ast-expressions.js';
import type { Node, Ident, QualifiedName, Comment, DataClass, Integrity, StringLit, NumberLit, DurationLit, MoneyLit, PercentLit, RecordField, RecordLit, RangeExpr, Expr, FieldDecl, RecordType, TypeExpr, Argument } from './ast-expressions.js';

// ───────────────────────────── shared property shapes ─────────────────────────────

export type BackoffKind = 'fixed' | 'exponential';
/** `retry 3 backoff exponential 1s max 30s` · `retry 2 backoff fixed 5s` · `retry 2` · `retry 0` */
export interface RetrySpec extends Node {
  readonly kind: 'RetrySpec';
  readonly attempts: number;
  readonly backoff?: {
    readonly kind: BackoffKind;
    readonly delay: DurationLit;
    readonly max?: DurationLit;
  };
}

export type Priority = 'critical' | 'high' | 'normal' | 'low' | 'info';
export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'normal', 'low', 'info'];

// ───────────────────────────── declarations ─────────────────────────────

export interface ModuleDecl extends Node {
  readonly kind: 'ModuleDecl';
  readonly name: QualifiedName;
}

/**
 * `import std.policies` · `import std.guardrails { a, b }` · `import "./devices.orch" as devices`.
 * A std import without names binds its last segment (`policies`) as a qualifier.
 */
export type ImportDecl = StdImport | FileImport;
export interface StdImport extends Node {
  readonly kind: 'StdImport';
  readonly path: QualifiedName;
  readonly names?: readonly Ident[];
}
export interface FileImport extends Node {
  readonly kind: 'FileImport';
  readonly path: string;
  readonly pathRange: Range;
  readonly alias: Ident;
  /** `import mcp "files" as files` (LANGUAGE.md §8.3): `path` names a server of orch.config's `mcp`, not a file. */
  readonly mcp?: true;
}

export interface TypeAliasDecl extends Node {
  readonly kind: 'TypeAliasDecl';
  readonly name: Ident;
  readonly type: TypeExpr;
  readonly doc?: string;
}

export type CapabilityKind = 'tool' | 'agent' | 'llm' | 'service' | 'human';
export const CAPABILITY_KINDS: readonly CapabilityKind[] = ['tool', 'agent', 'llm', 'service', 'human'];

export interface CapabilityDecl extends Node {
  readonly kind: 'CapabilityDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly capabilityKind?: CapabilityKind;
  readonly input?: RecordType;
  readonly output?: TypeExpr;
  /** `"./handlers/content.js#generate"` */
  readonly handler?: StringLit;
  readonly timeout?: DurationLit;
  readonly retry?: RetrySpec;
  readonly cost?: MoneyLit;
  readonly latency?: DurationLit;
  readonly data?: DataClass;
  readonly consent?: readonly StringLit[];
  readonly requires?: readonly Ident[];
  readonly idempotent?: boolean;
  /** LANGUAGE.md §8.3: the capability changes or deletes something (an MCP tool's `destructiveHint`). */
  readonly destructive?: boolean;
  /** `capability read_notes from files.read_text_file { … }`: refines an (MCP) capability. */
  readonly from?: QualifiedName;
  /** v0.3 (§8.1), `kind llm`: the system message and the prompt (interpolating `input` only). */
  readonly system?: StringLit;
  readonly prompt?: StringLit;
  /** The default model; the bound resource's `model` wins. */
  readonly model?: StringLit;
  /** v0.4 (§9.1): the orch.config endpoint that answers it when its resource names none. */
  readonly endpoint?: StringLit;
  readonly temperature?: NumberLit;
  readonly maxTokens?: NumberLit;
  /** v0.4 (§9.3): `trust untrusted` makes its output an untrusted source; `trust trusted` (an MCP tool's refinement) a trusted one. */
  readonly trust?: Integrity;
  /** v0.4 (§9.3): `endorses true` — a deterministic validator whose output is trusted whatever it read. */
  readonly endorses?: boolean;
}

export type ResourceKind =
  | 'local_device' | 'edge_gateway' | 'edge_cluster' | 'cloud_region' | 'pool' | 'human';
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'local_device', 'edge_gateway', 'edge_cluster', 'cloud_region', 'pool', 'human',
];
export type Tier = 'local' | 'edge' | 'cloud' | 'human';

export interface ResourceDecl extends Node {
  readonly kind: 'ResourceDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly resourceKind?: ResourceKind;
  readonly provides?: readonly Ident[];
  readonly concurrency?: NumberLit;
  readonly cost?: MoneyLit;
  readonly latency?: DurationLit;
  readonly reliability?: PercentLit;
  readonly location?: StringLit;
  /** Extension: relative energy cost per step (used by `balanced`/`comfort` weights). */
  readonly energy?: NumberLit;
  /** v0.3 (§8.1): the orch.config endpoint and the model a `provides llm` resource serves. */
  readonly endpoint?: StringLit;
  readonly model?: StringLit;
  /** v0.4 (§9.3): `accepts CLASS` — the highest data class this resource takes, whatever its tier says. */
  readonly accepts?: DataClass;
  /** v0.4 (§9.4): `available when COND` — the resource is chosen only while COND is true. */
  readonly availableWhen?: Expr;
}

export type Strategy = 'privacy_first' | 'cost' | 'latency' | 'comfort' | 'balanced';
export const STRATEGIES: readonly Strategy[] = ['privacy_first', 'cost', 'latency', 'comfort', 'balanced'];
/** What a policy's `weights` may weigh (balanced and comfort placement). */
export const WEIGHT_FACTORS = ['cost', 'latency', 'energy', 'reliability'] as const;
export type Preference = 'local' | 'edge' | 'cloud';

export interface BudgetDecl extends Node {
  readonly kind: 'BudgetDecl';
  readonly metric: 'cost' | 'duration';
  readonly op: '<=' | '<';
  readonly limit: MoneyLit | DurationLit;
  /** `budget … warn`: exceeding it is recorded, the run goes on. */
  readonly warn?: boolean;
}
export interface RateLimitDecl extends Node {
  readonly kind: 'RateLimitDecl';
  readonly capability: QualifiedName;
  readonly count: number;
  readonly per: DurationLit;
}
export interface WeightDecl extends Node {
  readonly kind: 'WeightDecl';
  readonly key: Ident;
  readonly value: NumberLit;
}

export interface PolicyDecl extends Node {
  readonly kind: 'PolicyDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly strategy?: Strategy;
  readonly weights?: readonly WeightDecl[];
  readonly budgets: readonly BudgetDecl[];
  readonly prefer?: Preference;
  readonly maxFallbacks?: NumberLit;
  readonly requireConsent?: boolean;
  readonly rateLimits: readonly RateLimitDecl[];
}

export type GuardrailSeverity = 'blocking' | 'warning' | 'advisory' | 'info';
export const GUARDRAIL_SEVERITIES: readonly GuardrailSeverity[] = ['blocking', 'warning', 'advisory', 'info'];

/** `generate` (a step name) · `kind human` · `capability send_email` */
export type Selector = StepSelector | KindSelector | CapabilitySelector;
export interface StepSelector extends Node {
  readonly kind: 'StepSelector';
  readonly step: Ident;
}
export interface KindSelector extends Node {
  readonly kind: 'KindSelector';
  readonly capabilityKind: CapabilityKind;
}
export interface CapabilitySelector extends Node {
  readonly kind: 'CapabilitySelector';
  readonly capability: QualifiedName;
}

/** `forbid step where EXPR` */
export interface ForbidRule extends Node {
  readonly kind: 'ForbidRule';
  readonly condition: Expr;
}
/** `require SEL before|after SEL` */
export interface RequireRule extends Node {
  readonly kind: 'RequireRule';
  readonly subject: Selector;
  readonly order: 'before' | 'after';
  readonly object: Selector;
}
/** `assert EXPR` over `plan.*` (static) or `run.*` (actuals). */
export interface AssertRule extends Node {
  readonly kind: 'AssertRule';
  readonly condition: Expr;
}
/** `check SEL where EXPR` — runtime check of a step's `output` after it completes. */
export interface CheckRule extends Node {
  readonly kind: 'CheckRule';
  readonly target: Selector;
  readonly condition: Expr;
}
export type GuardrailRule = ForbidRule | RequireRule | AssertRule | CheckRule;

export interface GuardrailDecl extends Node {
  readonly kind: 'GuardrailDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly severity?: GuardrailSeverity;
  readonly category?: Ident;
  readonly message?: StringLit;
  /** In source order; at least one in a valid guardrail. */
  readonly rules: readonly GuardrailRule[];
}

export interface ContextDecl extends Node {
  readonly kind: 'ContextDecl';
  readonly fields: readonly FieldDecl[];
  readonly doc?: string;
}

// ───────────────────────────── plans and steps ─────────────────────────────

/** `capability_name(arg: expr, …)` as a step action, fallback or compensation. */
export interface CapabilityCall extends Node {
  readonly kind: 'CapabilityCall';
  readonly capability: QualifiedName;
  readonly args: readonly Argument[];
  /**
   * An argument was dropped for a syntax error in its value (`m: 12EUR`): which arguments the
   * call gives is not known, so none is reported missing on top of that error.
   */
  readonly argsLost?: true;
}
/** `wait 10m` */
export interface WaitAction extends Node {
  readonly kind: 'WaitAction';
  readonly duration: Expr;
}
/** `wait until EXPR timeout DURATION` */
export interface WaitUntilAction extends Node {
  readonly kind: 'WaitUntilAction';
  readonly condition: Expr;
  readonly timeout?: DurationLit;
}
/** `run plan_name(arg: expr, …)` — a sub-plan. */
export interface RunAction extends Node {
  readonly kind: 'RunAction';
  readonly plan: QualifiedName;
  readonly args: readonly Argument[];
  /** See `CapabilityCall.argsLost`. */
  readonly argsLost?: true;
}
export type StepAction = CapabilityCall | WaitAction | WaitUntilAction | RunAction;

export type JoinRule = 'all_success' | 'none_failed' | 'all_done' | 'any_success' | 'first';
export const JOIN_RULES: readonly JoinRule[] = ['all_success', 'none_failed', 'all_done', 'any_success', 'first'];

export interface StepDecl extends Node {
  readonly kind: 'StepDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly action: StepAction;
  /** `… when EXPR` after the action, or `when EXPR` inside the options block. */
  readonly when?: Expr;
  // options block `{ … }`
  readonly after: readonly Ident[];
  readonly on?: QualifiedName;
  readonly fallback?: CapabilityCall;
  readonly compensate?: CapabilityCall;
  readonly timeout?: DurationLit;
  readonly retry?: RetrySpec;
  readonly join?: JoinRule;
  readonly onFailure?: 'abort' | 'continue';
  readonly priority?: Priority;
}

export interface ForEachDecl extends Node {
  readonly kind: 'ForEachDecl';
  readonly item: Ident;
  readonly list: Expr;
  readonly parallel?: NumberLit;
  readonly body: readonly BlockItem[];
}

/** `race NAME { step a = …  step b = … }` — the first step to complete wins; the others are cancelled. */
export interface RaceDecl extends Node {
  readonly kind: 'RaceDecl';
  readonly name: Ident;
  /** The branches: steps only (a branch of several steps is a `run` of a sub-plan). */
  readonly body: readonly StepDecl[];
}

/** `repeat NAME max N until EXPR [on_failure continue] { … }` — a bounded loop. */
export interface RepeatDecl extends Node {
  readonly kind: 'RepeatDecl';
  readonly name: Ident;
  /** Required (1 to 1000); absent only in a module with an error reported. */
  readonly max?: NumberLit;
  readonly until: Expr;
  readonly onFailure?: 'abort' | 'continue';
  readonly body: readonly BlockItem[];
}

/** What a plan body or a block holds besides invariants. */
export type BlockItem = StepDecl | ForEachDecl | RaceDecl | RepeatDecl;

export interface SuccessCriterion extends Node {
  readonly kind: 'SuccessCriterion';
  /** `success "all sent": EXPR` — the label is optional. */
  readonly label?: StringLit;
  readonly condition: Expr;
}

export type PlanFailureMode = 'abort' | 'continue' | 'rollback';

export interface PlanDecl extends Node {
  readonly kind: 'PlanDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly goal?: StringLit;
  readonly input?: RecordType;
  readonly policy?: QualifiedName;
  readonly guardrails: readonly QualifiedName[];
  readonly priority?: Priority;
  readonly deadline?: DurationLit;
  readonly concurrency?: NumberLit;
  readonly onFailure?: PlanFailureMode;
  /** Steps, blocks (`for each`, `race`, `repeat`) and plan-scoped invariants, in source order. */
  readonly body: readonly (BlockItem | InvariantDecl)[];
  readonly success: readonly SuccessCriterion[];
  readonly output?: RecordLit;
}

// ───────────────────────────── triggers ─────────────────────────────

export interface ScheduleSource extends Node {
  readonly kind: 'ScheduleSource';
  readonly cron: StringLit;
  readonly timezone?: StringLit;
}
export interface EventSource extends Node {
  readonly kind: 'EventSource';
  readonly eventType: StringLit;
  readonly where?: Expr;
}
export interface ManualSource extends Node {
  readonly kind: 'ManualSource';
}
export interface ApiSource extends Node {
  readonly kind: 'ApiSource';
  readonly path: StringLit;
}
export interface ConditionSource extends Node {
  readonly kind: 'ConditionSource';
  readonly condition: Expr;
}
export interface ChainSource extends Node {
  readonly kind: 'ChainSource';
  readonly plan: QualifiedName;
  readonly outcome: 'completed' | 'failed' | 'finished';
}
export type TriggerSource =
  | ScheduleSource | EventSource | ManualSource | ApiSource | ConditionSource | ChainSource;

export interface TriggerDecl extends Node {
  readonly kind: 'TriggerDecl';
  readonly name: Ident;
  readonly doc?: string;
  readonly source: TriggerSource;
  readonly plan: QualifiedName;
  /** `with { … }` — the plan input. */
  readonly with?: RecordLit;
  readonly debounce?: DurationLit;
  /** `consent "a", "b"` — scopes granted to the runs it starts (LANGUAGE.md §7.2). */
  readonly consent?: readonly StringLit[];
}

// ───────────────────────────── verification ─────────────────────────────

export type Modality = 'always' | 'never' | 'eventually';

export interface InvariantDecl extends Node {
  readonly kind: 'InvariantDecl';
  /** `invariant budget_holds {…}` → Ident; `invariant "never send…" {…}` → StringLit (no interpolation). */
  readonly name: Ident | StringLit;
  readonly doc?: string;
  readonly modality: Modality;
  readonly condition: Expr;
}

export interface SimulateDecl extends Node {
  readonly kind: 'SimulateDecl';
  readonly capability: QualifiedName;
  readonly doc?: string;
  /** Field values may be `RangeExpr`s (`word_count: 1..800`). */
  readonly output?: RecordLit;
  readonly fail?: PercentLit;
  /** `latency 1s..5s` or `latency 2s` */
  readonly latency?: RangeExpr | DurationLit;
  /** `cost 0.01usd..0.05usd` or `cost 0.02usd` */
  readonly cost?: RangeExpr | MoneyLit;
}

/** v0.4 (§9.4): `simulate context { motion stale 20% }` — how `orch verify` lets signals go stale. */
export interface SimulateContextDecl extends Node {
  readonly kind: 'SimulateContextDecl';
  readonly doc?: string;
  readonly signals: readonly StaleSignal[];
}
/** `motion stale 20%`: the signal is unknown in that share of the explored runs. */
export interface StaleSignal extends Node {
  readonly kind: 'StaleSignal';
  readonly signal: Ident;
  readonly share: PercentLit;
}

// ───────────────────────────── context sources (v0.4 §9.4) ─────────────────────────────

/** `source NAME { topic "T" sets SIGNAL [from EXPR] [at EXPR] … }`; its connection is orch.config's `sources.NAME`. */
export interface SourceDecl extends Node {
  readonly kind: 'SourceDecl';
  readonly name: Ident;
  readonly doc?: string;
  /** In source order. */
  readonly topics: readonly TopicMapping[];
}
/** `topic "home/+/motion" sets motion from payload.state == "ON" at payload.ts` */
export interface TopicMapping extends Node {
  readonly kind: 'TopicMapping';
  /** The topic filter as written (`+` and `#` wildcards; no interpolation). */
  readonly topic: StringLit;
  /** The context signal it sets (a field of `context`). */
  readonly signal: Ident;
  /** The value, over `payload` and `topic`; absent: `payload`. */
  readonly from?: Expr;
  /** When the sample was taken, over `payload` and `topic`; absent: when the message arrived. */
  readonly at?: Expr;
}

// ───────────────────────────── tests of plans (v0.4 §9.2) ─────────────────────────────

/**
 * `test "NAME" { plan P … }`. Items may come in any order; each list keeps source order. A
 * virtual time (`at`) is a duration and may be written negative (`at -1h`) so the checker can
 * report it (E0901) rather than the parser.
 */
export interface TestDecl extends Node {
  readonly kind: 'TestDecl';
  /** The test's name (a string without interpolation). */
  readonly name: StringLit;
  readonly doc?: string;
  /** `captured_from "RUN" ir_hash "HASH"`: written by `orch test --capture` (its first line). */
  readonly origin?: TestOrigin;
  /** `plan P` (as the test's file sees it: `plan refunds.refund_flow`); required. */
  readonly plan: QualifiedName;
  /** `started_by "dave"`; default `test`. */
  readonly startedBy?: StringLit;
  readonly input?: RecordLit;
  readonly context?: RecordLit;
  readonly mocks: readonly MockDecl[];
  /** `approve` / `reject` lines. */
  readonly decisions: readonly DecisionDecl[];
  readonly signals: readonly SignalDecl[];
  readonly expects: readonly ExpectDecl[];
}
export interface TestOrigin extends Node {
  readonly kind: 'TestOrigin';
  readonly run: StringLit;
  readonly irHash: StringLit;
}
/**
 * `mock CAP [where COND] returns V [then V]… [latency D] [cost M | usage {…}]` or
 * `mock CAP [where COND] fails "MESSAGE" [times N then returns V [then V]…] …`.
 */
export interface MockDecl extends Node {
  readonly kind: 'MockDecl';
  /** A capability as the test's file sees it: `charge`, `refunds.charge`, `files.read_text_file`. */
  readonly capability: QualifiedName;
  /** Over the call's `input`. */
  readonly where?: Expr;
  /** `fails "MESSAGE"`: calls fail with it — every call, or the first `times` ones. */
  readonly fails?: StringLit;
  readonly times?: NumberLit;
  /** The answers in call order, the last repeating; empty for a `fails` mock without `times`. */
  readonly returns: readonly Expr[];
  readonly latency?: DurationLit;
  readonly cost?: MoneyLit;
  /** `usage { input_tokens: 900, output_tokens: 120 }`, priced as §8.1 does (not with `cost`). */
  readonly usage?: RecordLit;
}
/** `approve STEP by "a", "b" [at D]` / `reject STEP by "c" [at D]`: D after the step begins to wait. */
export interface DecisionDecl extends Node {
  readonly kind: 'DecisionDecl';
  readonly decision: 'approve' | 'reject';
  readonly step: Ident;
  /** The deciders, in order. */
  readonly by: readonly StringLit[];
  readonly at?: DurationLit;
}
/** `signal context.X = V at D`: D after the run started. */
export interface SignalDecl extends Node {
  readonly kind: 'SignalDecl';
  /** The X of `context.X`. */
  readonly signal: Ident;
  readonly value: Expr;
  readonly at: DurationLit;
}
/** `expect P` (the final state) or `expect always P` (every state). */
export interface ExpectDecl extends Node {
  readonly kind: 'ExpectDecl';
  readonly always?: true;
  readonly condition: Expr;
}

// ───────────────────────────── module ─────────────────────────────

export type Declaration =
  | TypeAliasDecl | CapabilityDecl | ResourceDecl | PolicyDecl | GuardrailDecl | ContextDecl
  | PlanDecl | TriggerDecl | InvariantDecl | SimulateDecl
  | SimulateContextDecl | SourceDecl | TestDecl;

export interface Module extends Node {
  readonly kind: 'Module';
  /** The file path as given to the parser (used in every diagnostic). */
  readonly file: string;
  readonly module?: ModuleDecl;
  readonly imports: readonly ImportDecl[];
  readonly declarations: readonly Declaration[];
  /** Every non-doc comment in source order, for the formatter. */
  readonly comments: readonly Comment[];
}

export type AnyNode =
  | Module | ModuleDecl | ImportDecl | Declaration | Ident | QualifiedName | Comment
  | Expr | RecordField | TypeExpr | FieldDecl | RetrySpec | BudgetDecl | RateLimitDecl | WeightDecl
  | Selector | GuardrailRule | Argument | StepAction | StepDecl | ForEachDecl | SuccessCriterion
  | TriggerSource | RaceDecl | RepeatDecl
  | StaleSignal | TopicMapping | TestOrigin | MockDecl | DecisionDecl | SignalDecl | ExpectDecl;

export function tierOf(kind: ResourceKind): Tier {
  switch (kind) {
    case 'local_device':
    case 'edge_gateway':
      return 'local';
    case 'edge_cluster':
      return 'edge';
    case 'cloud_region':
    case 'pool':
      return 'cloud';
    case 'human':
      return 'human';
  }
}
