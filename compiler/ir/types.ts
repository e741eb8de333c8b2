/**
 * The IR: `orch.plan/v3` — what `orch compile` writes and what the runtime and verifier read.
 * The JSON Schema in `compiler/schema/orch.plan.v3.schema.json` must accept exactly this shape.
 * v3 (LANGUAGE.md §9) is v2 plus model steps' endpoints and tiers and the §9.3 labels, all
 * optional, so a v2 file (`orch.plan.v2.schema.json`) has v3's shape under its own version string
 * (and still runs, its flows re-checked at load). v2 is v1 plus the fields marked "v2" (blocks,
 * races, loops, soft reads, consent); a v1 file (`orch.plan.v1.schema.json`) is a v2 plan without
 * them, so readers accept all three.
 *
 * Units at run time: durations are milliseconds (number), money is an amount (number, in the
 * plan's currency; mixing currencies is a compile-time E0203), percents are fractions (80% → 0.8),
 * data classes are their names ("personal") compared by rank.
 * No expression is ever a JS string: every expression is an `ExprIR` tree evaluated by
 * `runtime/evaluate.ts`.
 */

export const IR_VERSION = 'orch.plan/v3' as const;
/** The versions readers accept (the runtime still runs v1 and v2 files). */
export type IRVersion = 'orch.plan/v1' | 'orch.plan/v2' | 'orch.plan/v3';

// ───────────────────────────── expressions ─────────────────────────────

export type ValueUnit = 'duration' | 'money' | 'percent' | 'data_class';

/**
 * A root only a test's `expect` reads (LANGUAGE.md §9.2): `calls(CAP)` lowers to `calls.<CAP>`.
 * It never appears in a plan's IR (the schema does not admit it).
 */
export type TestOnlyVar = 'calls';

export type ExprIR =
  /** A constant. `unit` is informational (the value is already normalised). */
  | { readonly op: 'lit'; readonly value: string | number | boolean | null; readonly unit?: ValueUnit }
  | { readonly op: 'list'; readonly items: readonly ExprIR[] }
  | { readonly op: 'record'; readonly fields: readonly { readonly key: string; readonly value: ExprIR }[] }
  /** String interpolation: parts concatenated after formatting each value. */
  | { readonly op: 'concat'; readonly parts: readonly ExprIR[] }
  /**
   * Well-known roots: `input` (plan input), `context` (live signals), `run` (actuals:
   * cost, elapsed, status), `plan` (estimates: cost, duration, steps, local_ratio), `step` (the
   * step a guardrail is evaluated for), `output` (that step's output, in `check`), `event`
   * (trigger payload), `payload` and `topic` (a source's message, §9.4), `item` (current `for each` item; `name` is the variable).
   */
  | { readonly op: 'var'; readonly name: 'input' | 'context' | 'run' | 'plan' | 'step' | 'output' | 'event' | 'payload' | 'topic' | TestOnlyVar }
  | { readonly op: 'item'; readonly name: string }
  /** The state of another step: `.output .status .started .completed …` (see StepView). */
  | { readonly op: 'step'; readonly id: string }
  | { readonly op: 'get'; readonly object: ExprIR; readonly key: string }
  | { readonly op: 'index'; readonly object: ExprIR; readonly index: ExprIR }
  /** `unit` on a `sum` of money or percents: rounded as their arithmetic is (below). */
  | { readonly op: 'call'; readonly fn: BuiltinFn; readonly args: readonly ExprIR[]; readonly unit?: 'money' | 'percent' }
  /** Resolved by the runtime from the environment / config; redacted everywhere it is shown. */
  | { readonly op: 'secret'; readonly name: string }
  | { readonly op: 'not' | 'neg'; readonly arg: ExprIR }
  | {
      readonly op: BinaryOpIR;
      readonly left: ExprIR;
      readonly right: ExprIR;
      /** `data_class`: compare by rank public < internal < personal < sensitive < secret. */
      readonly compare?: 'data_class';
      /**
       * `money`: arithmetic (`+ - * / %`) whose result is money, rounded to a millionth of its unit
       * as every figure of money is (compiler/money.ts): `0.1usd + 0.2usd` is `0.3usd`, not a float's
       * 0.30000000000000004. `percent`: the same for a result that is a percent (a fraction, to a
       * millionth of a percent: `10% + 20% == 30%`). Absent in IRs from before them, which keep the float.
       */
      readonly unit?: 'money' | 'percent';
    }
  | { readonly op: 'range'; readonly from: ExprIR; readonly to: ExprIR }
  /**
   * v2: the state of a `race` or `repeat` block (see BlockView): `reply.winner`, `reply.output`,
   * `revise.index` (inside the loop), `revise.iterations` (after it).
   */
  | { readonly op: 'block'; readonly id: string }
  /**
   * v2: the previous iteration of loop `loop`, inside it: a record of that iteration's step
   * views by step id, or `null` in the first iteration (so it is read inside `??`).
   */
  | { readonly op: 'previous'; readonly loop: string };

export type BinaryOpIR =
  | 'implies' | 'or' | 'and'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in'
  | '??'
  | '+' | '-' | '*' | '/' | '%';

export type BuiltinFn =
  | 'len' | 'contains' | 'lower' | 'upper' | 'min' | 'max' | 'sum' | 'round' | 'now' | 'format' | 'split' | 'lines'
  /** §9.4: `known(context.X)` and `age(context.X)` read a signal's state, not its value. */
  | 'known' | 'age';

/** §9.4: one context signal as the runtime keeps it. */
export interface ContextSignalIR {
  /** How long a set value stays fresh; null: it never goes stale. */
  readonly max_age_ms: number | null;
  /** A derived signal's expression over other signals; null for a signal that is set. */
  readonly derived: ExprIR | null;
  /** How long a derived `true` is kept after the expression turns false. */
  readonly hold_ms: number | null;
  /** `simulate context { X stale P% }`: the share (0–1) of `orch verify`'s runs in which it goes stale (present when declared). */
  readonly stale?: number;
}

/** §9.4: a `source` block: which messages set which signals (its connection is orch.config's). */
export interface SourceIR {
  /** In source order; a message sets every mapping whose topic filter it matches. */
  readonly topics: readonly {
    /** The MQTT topic filter (`+`, `#`) or, for a webhook, the topic as posted. */
    readonly topic: string;
    readonly signal: string;
    /** The value over `payload` and `topic`. */
    readonly from: ExprIR;
    /** When the sample was taken (epoch ms or ISO time); null: arrival (a retained message: unknown). */
    readonly at: ExprIR | null;
  }[];
}

/**
 * What an `{op:'step'}` evaluates to. `output` of a `for each` step read outside its block is
 * the list of per-item outputs in item order.
 */
export interface StepView {
  readonly output: unknown;
  readonly status: StepStatus;
  readonly started: boolean;
  readonly completed: boolean;
  readonly failed: boolean;
  readonly skipped: boolean;
  readonly attempts: number;
  readonly duration: number;
  readonly cost: number;
  readonly resource: string | null;
}

/** v2: what `{op:'block'}` evaluates to. Fields that do not apply to the block kind are absent. */
export interface BlockView {
  readonly status: StepStatus;
  readonly started: boolean;
  readonly completed: boolean;
  readonly failed: boolean;
  readonly skipped: boolean;
  /** From the first start of a step inside to the last end, in ms (0 until the block ended). */
  readonly duration?: number;
  /** What every step instance inside cost (losers, every iteration). */
  readonly cost?: number;
  /** race: the id of the winning step (null until one completes). */
  readonly winner?: string | null;
  /** race: the winner's output. */
  readonly output?: unknown;
  /** repeat, inside: the current iteration, from 0. */
  readonly index?: number;
  /** repeat: iterations run so far. */
  readonly iterations?: number;
}

export type StepStatus =
  | 'pending' | 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'skipped' | 'cancelled' | 'timeout';

// ───────────────────────────── types (for input/output validation) ─────────────────────────────

/**
 * Input and output types are carried as JSON Schema (draft 2020-12 subset ajv accepts), so the
 * runtime validates plan inputs and capability outputs with ajv directly. Each property may carry
 * `"x-orch-data": "personal"` (its data class) and `"x-orch-unit": "duration" | "money" | "percent"`.
 */
export type JsonSchema = { readonly [key: string]: unknown };

// ───────────────────────────── declarations carried in the IR ─────────────────────────────

export type CapabilityKindIR = 'tool' | 'agent' | 'llm' | 'service' | 'human';
export type DataClassIR = 'public' | 'internal' | 'personal' | 'sensitive' | 'secret';
export type ResourceKindIR = 'local_device' | 'edge_gateway' | 'edge_cluster' | 'cloud_region' | 'pool' | 'human';
export type TierIR = 'local' | 'edge' | 'cloud' | 'human';

export interface RetryIR {
  /** Retries after the first attempt (so a step starts at most 1 + max times). */
  readonly max: number;
  readonly backoff: 'none' | 'fixed' | 'exponential';
  readonly delay_ms: number;
  readonly max_delay_ms: number | null;
  readonly jitter: boolean;
}

export interface CapabilityIR {
  /** Fully qualified: `std.capabilities.approval`, `marketing.campaigns.content_generation`. */
  readonly name: string;
  readonly kind: CapabilityKindIR;
  readonly input: JsonSchema;
  readonly output: JsonSchema;
  /**
   * `{ "module": "../handlers/content.js", "export": "generate" }`, or a
   * built-in (`{ "builtin": "approval" }`) for the std capabilities. Paths in an emitted IR file
   * are relative to the IR's `base_dir`.
   */
  readonly handler: { readonly module: string; readonly export: string } | { readonly builtin: string } | McpHandlerIR | null;
  readonly timeout_ms: number | null;
  readonly retry: RetryIR;
  readonly cost: number;
  readonly latency_ms: number;
  readonly data: DataClassIR;
  readonly consent: readonly string[];
  readonly requires: readonly string[];
  readonly idempotent: boolean;
  /** LANGUAGE.md §8.3: present (true) only for capabilities that change or delete things. */
  readonly destructive?: boolean;
  /** v0.3 (§8.1): present on a `kind llm` capability with a `prompt` (answered by the built-in model handler). */
  readonly llm?: LlmIR;
}

/**
 * An MCP tool (LANGUAGE.md §8.3): the server's name in orch.config's `mcp`, the tool's name as
 * the server spells it, and the hash orch.lock.json had when the plan was compiled — the runtime
 * refuses to call a tool whose live hash differs.
 */
export interface McpHandlerIR {
  readonly mcp: string;
  readonly tool: string;
  readonly hash: string;
}

/** What the built-in model handler sends: `prompt`/`system` are expressions over `input` only. */
export interface LlmIR {
  readonly prompt: ExprIR;
  readonly system: ExprIR | null;
  readonly model: string | null;
  readonly temperature: number | null;
  readonly max_tokens: number | null;
  /** v0.4 (§9.1): its own `endpoint "NAME"`, used where the bound resource names none (absent in older IR). */
  readonly endpoint?: string | null;
  /** v0.4 (§9.1): that endpoint's tier by the project's config (with `endpoint`): what a rebound call to it is held to. */
  readonly endpoint_tier?: Exclude<TierIR, 'human'>;
}

export interface ResourceIR {
  readonly name: string;
  readonly kind: ResourceKindIR;
  readonly tier: TierIR;
  readonly provides: readonly string[];
  readonly concurrency: number | null;
  readonly cost: number;
  readonly latency_ms: number;
  readonly reliability: number | null;
  readonly location: string | null;
  /** v0.3 (§8.1): the orch.config endpoint and the model this resource serves (present when declared). */
  readonly endpoint?: string;
  readonly model?: string;
  /** v0.4 (§9.1): the tier of its endpoint by the project's config (present with `endpoint`). */
  readonly endpoint_tier?: Exclude<TierIR, 'human'>;
  /**
   * v0.4 (§9.4): `available when COND` — a bool over context signals, evaluated at dispatch; a
   * false or unknown condition keeps the resource from being chosen (present when declared).
   */
  readonly available?: ExprIR;
}

export interface PolicyIR {
  readonly name: string;
  readonly strategy: 'privacy_first' | 'cost' | 'latency' | 'comfort' | 'balanced';
  readonly weights: { readonly [key: string]: number };
  readonly budgets: {
    readonly cost: number | null;
    readonly duration_ms: number | null;
    /** `budget … warn`: exceeding it journals `budget_exceeded` and the run goes on. */
    readonly cost_warn?: boolean;
    readonly duration_warn?: boolean;
  };
  readonly prefer: 'local' | 'edge' | 'cloud' | null;
  readonly max_fallbacks: number;
  readonly require_consent: boolean;
  readonly rate_limits: readonly { readonly capability: string; readonly count: number; readonly per_ms: number }[];
  /** The currency of `budgets.cost` as written (`usd`), when there is one: messages keep the unit. */
  readonly currency?: string;
}

export type SelectorIR =
  | { readonly step: string }
  | { readonly kind: CapabilityKindIR }
  | { readonly capability: string }
  /** `destructive` (LANGUAGE.md §8.3): every step whose capability is `destructive true`. */
  | { readonly destructive: true };

export type GuardrailRuleIR =
  | { readonly type: 'forbid'; readonly condition: ExprIR }
  | { readonly type: 'require'; readonly subject: SelectorIR; readonly order: 'before' | 'after'; readonly object: SelectorIR }
  | { readonly type: 'assert'; readonly condition: ExprIR }
  | { readonly type: 'check'; readonly target: SelectorIR; readonly condition: ExprIR };

export type StaticVerdict = 'holds' | 'violated' | 'unknown' | 'runtime';

export interface GuardrailIR {
  readonly name: string;
  readonly severity: 'blocking' | 'warning' | 'advisory' | 'info';
  readonly category: string | null;
  readonly message: string | null;
  readonly rules: readonly GuardrailRuleIR[];
  /** What the compiler could prove (`runtime` = only knowable when running). */
  readonly static_verdict: StaticVerdict;
}

// ───────────────────────────── steps ─────────────────────────────

export interface CallIR {
  readonly capability: string;
  readonly args: { readonly [name: string]: ExprIR };
  /**
   * Where a step's `fallback` / `compensate` call runs: placed like a step, by its own
   * capability's `requires` and the plan policy. Absent in IR from before it was recorded (the
   * runtime then uses the step's resource).
   */
  readonly binding?: BindingIR;
}

export interface ForEachIR {
  /** Steps declared in one `for each` block share the group; per-item outputs are aligned by index. */
  readonly group: string;
  readonly item: string;
  readonly list: ExprIR;
  readonly parallel: number | null;
}

/**
 * v2: a block of the plan body. Steps name their enclosing blocks in `StepIR.blocks`; `parent`
 * is the enclosing block (null at the plan level). `for_each` blocks have the id of their group.
 */
export type BlockIR =
  | {
      readonly type: 'for_each';
      readonly id: string;
      readonly parent: string | null;
      readonly item: string;
      readonly list: ExprIR;
      readonly parallel: number | null;
    }
  | {
      /** The first branch to complete wins; the others are cancelled. Fails when none completes. */
      readonly type: 'race';
      readonly id: string;
      readonly parent: string | null;
      readonly branches: readonly string[];
    }
  | {
      /**
       * Runs `steps` (every step inside, nested blocks included) once, then evaluates `until`
       * over that iteration; again until it holds or `max` iterations ran (then the loop fails,
       * `loop ID exhausted after N iterations`, unless `on_failure` is `continue`).
       */
      readonly type: 'repeat';
      readonly id: string;
      readonly parent: string | null;
      readonly max: number;
      readonly until: ExprIR;
      readonly on_failure: 'abort' | 'continue';
      readonly steps: readonly string[];
      /** v3, §9.3: the `endorse`/`declassify` calls of `until`, journaled (keyed by the loop) each time it is evaluated. */
      readonly until_relabels?: readonly RelabelIR[];
    };

export type StepActionIR =
  | { readonly type: 'call' }
  | { readonly type: 'wait'; readonly duration_ms: ExprIR }
  | { readonly type: 'wait_until'; readonly condition: ExprIR; readonly timeout_ms: number | null }
  | { readonly type: 'run'; readonly plan: string; readonly args: { readonly [name: string]: ExprIR } };

export interface BindingIR {
  readonly resource: string | null;
  readonly tier: TierIR | null;
  readonly rationale: string;
  /** Ordered alternatives for rebinding at run time (at most the policy's max_fallbacks). */
  readonly fallbacks: readonly string[];
  /** v2: feasible resources a blocking guardrail forbids for this step, with why (never used). */
  readonly dropped?: readonly { readonly resource: string; readonly reason: string }[];
  /**
   * v0.4 (§9.1), a step answered by the built-in model handler: the endpoint its calls go to
   * (the resource's, else the capability's) and that endpoint's tier. `tier` is then the higher
   * of the resource's tier and this one — what guardrails, placement and the preview see.
   */
  readonly endpoint?: string;
  readonly endpoint_tier?: Exclude<TierIR, 'human'>;
}

export interface StepIR {
  readonly id: string;
  /** For `call` steps the capability name (qualified); `null` for wait / wait_until / run. */
  readonly capability: string | null;
  readonly action: StepActionIR;
  readonly args: { readonly [name: string]: ExprIR };
  /** Data dependencies ∪ explicit `after`, sorted, no duplicates. */
  readonly deps: readonly string[];
  readonly after: readonly string[];
  readonly resource: string | null;
  readonly binding: BindingIR;
  readonly timeout_ms: number | null;
  readonly retry: RetryIR;
  readonly when: ExprIR | null;
  /** `first` (v2): starts when one dependency completes; skipped only when none completes. */
  readonly join: 'all_success' | 'none_failed' | 'all_done' | 'any_success' | 'first';
  /**
   * Steps whose output this step reads outside every `??` chain — if any of them is skipped, this
   * step is skipped too (LANGUAGE.md: skip propagation, §7.1 merging with `??`).
   */
  readonly skip_if_skipped: readonly string[];
  /**
   * v2: steps whose output this step reads only inside `??` chains (soft reads): a skipped,
   * cancelled or still running one reads as `null` and never skips this step.
   */
  readonly soft_reads?: readonly string[];
  /** v2: the blocks around the step, outermost first (ids of `PlanIR.blocks`). */
  readonly blocks?: readonly string[];
  /**
   * v2: `race`/`repeat` blocks this step waits for as a whole (it reads `NAME.…`, names it in
   * `after`, or reads a step of a loop it is not in). Their steps are in `deps` too.
   */
  readonly waits_for?: readonly string[];
  readonly on_failure: 'abort' | 'continue';
  /** 0 = critical … 4 = info; lower runs first. */
  readonly priority: number;
  readonly for_each: ForEachIR | null;
  readonly fallback: CallIR | null;
  readonly compensate: CallIR | null;
  readonly data: DataClassIR;
  readonly kind: CapabilityKindIR | null;
  readonly estimates: { readonly cost: number; readonly duration_ms: number };
  readonly stage: number;
  /** v2, §9.3: the labels of what the step reads (journaled with its `step_started`). */
  readonly labels?: StepLabelsIR;
  /** v2, §9.3: the `endorse`/`declassify` calls in its arguments (journaled when it starts). */
  readonly relabels?: readonly RelabelIR[];
  /**
   * v2, §9.3: rules its arguments break that the compile let through (`"flows": "warn"`): the
   * run time refuses each attempt before its handler, as a permanent error.
   */
  readonly flow_refusals?: readonly FlowRefusalIR[];
  /**
   * v3, §9.3: a `run` step's — the labels of the sub-plan's steps where this call's arguments
   * change them (the sub-plan's own IR has the labels of its inputs as declared), by step id.
   */
  readonly subplan_labels?: { readonly [step: string]: StepLabelsIR };
}

/** §9.3: a step's reads' class, integrity and where they came from (input fields `input.X`, step ids). */
export interface StepLabelsIR {
  readonly class: DataClassIR;
  readonly trusted: boolean;
  readonly sources: readonly string[];
}

export interface RelabelIR {
  readonly kind: 'endorse' | 'declassify';
  readonly reason: string;
  /** A declassification's class. */
  readonly to?: DataClassIR;
  /** In the step's `fallback` or `compensate` call, journaled when that call runs (absent: the step's own). */
  readonly call?: 'fallback' | 'compensate';
}

export interface FlowRefusalIR {
  readonly code: 'E0902' | 'E0903';
  /** The sink, `email.to`. */
  readonly sink: string;
  /** The witness path's source end, `input.body @untrusted`. */
  readonly source: string;
  readonly message: string;
  /** The step's `fallback` or `compensate` call it refuses (absent: the step's own call). */
  readonly call?: 'fallback' | 'compensate';
}

// ───────────────────────────── plan ─────────────────────────────

export interface InvariantIR {
  readonly name: string;
  readonly modality: 'always' | 'never' | 'eventually';
  readonly condition: ExprIR;
}

export interface SimulateIR {
  readonly capability: string;
  /** Field → value, where a value may be `{op:'range'}`. */
  readonly output: { readonly [field: string]: ExprIR } | null;
  readonly fail: number | null;
  readonly latency_ms: { readonly min: number; readonly max: number } | null;
  readonly cost: { readonly min: number; readonly max: number } | null;
}

export interface PlanIR {
  readonly version: IRVersion;
  readonly plan: string;
  readonly module: string;
  readonly goal: string | null;
  /**
   * Directory handler module paths are resolved against: absolute when compiled in-process,
   * relative to the project directory in what `orch compile` writes (the IR runs from any copy).
   */
  readonly base_dir: string;
  readonly source_file: string;
  readonly input: JsonSchema;
  readonly context: JsonSchema;
  /** §9.4: every declared context signal's freshness, derivation and hold, by name. */
  readonly context_signals?: { readonly [name: string]: ContextSignalIR };
  /** §9.4: the program's `source` blocks, by name. */
  readonly sources?: { readonly [name: string]: SourceIR };
  readonly policy: PolicyIR | null;
  readonly priority: number;
  readonly deadline_ms: number | null;
  readonly concurrency: number | null;
  readonly on_failure: 'abort' | 'continue' | 'rollback';
  readonly capabilities: { readonly [name: string]: CapabilityIR };
  readonly resources: { readonly [name: string]: ResourceIR };
  /** In a topological order (stage by stage). */
  readonly steps: readonly StepIR[];
  /** Maximal antichains: stage k holds the steps whose longest dependency chain has length k. */
  readonly stages: readonly (readonly string[])[];
  /** v2: `for each`, `race` and `repeat` blocks, outer blocks before inner ones. */
  readonly blocks?: readonly BlockIR[];
  /** v2: every consent scope a run may need (steps, fallbacks, compensations, sub-plans), sorted. */
  readonly consent?: readonly string[];
  /** `cost`/`duration_ms`: the best case (every loop runs once); `*_max` (v2): every loop runs `max` times. */
  readonly estimates: {
    readonly cost: number;
    readonly duration_ms: number;
    readonly cost_max?: number;
    readonly duration_ms_max?: number;
    readonly critical_path: readonly string[];
    readonly local_ratio: number;
  };
  readonly guardrails: readonly GuardrailIR[];
  readonly success: readonly { readonly label: string | null; readonly condition: ExprIR }[];
  readonly output: ExprIR | null;
  /** v3, §9.3: the `endorse`/`declassify` calls in the plan's `output` (journaled when the run completes). */
  readonly output_relabels?: readonly RelabelIR[];
  readonly invariants: readonly InvariantIR[];
  readonly simulations: { readonly [capability: string]: SimulateIR };
  /** Plans reachable through `run` steps, compiled too, by name. */
  readonly subplans: { readonly [name: string]: PlanIR };
}

/**
 * The program's context as `orch serve` keeps it (LANGUAGE.md §9.4): what every plan's IR carries
 * of it, also for a module that declares a `context` or a `source` and no plan.
 */
export type ContextIR = Pick<PlanIR, 'context' | 'context_signals' | 'sources'>;
