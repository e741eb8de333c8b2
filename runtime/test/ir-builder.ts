/**
 * The one typed builder of PlanIR for tests and benches (runtime, verify, bench), independent of
 * the compiler. Defaults mirror what the compiler emits for a plain step; override per use.
 * `simulatedCapability` is the verifier's shape of a capability: an output contract its
 * scenarios are generated from and a latency to simulate (the compiler default has neither).
 */
import type {
  CapabilityIR,
  ExprIR,
  GuardrailIR,
  PlanIR,
  PolicyIR,
  ResourceIR,
  RetryIR,
  StepIR,
} from '../../compiler/index.js';

export const NO_RETRY: RetryIR = { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false };

/** `retry N` with a fixed delay. */
export function retry(max: number, delay_ms = 1000): RetryIR {
  return { max, backoff: 'fixed', delay_ms, max_delay_ms: null, jitter: false };
}

// ───────────── expressions ─────────────

export const lit = (value: string | number | boolean | null): ExprIR => ({ op: 'lit', value });
/** A JSON value as the list, record and literal expressions that build it. */
export const json = (value: unknown): ExprIR =>
  Array.isArray(value)
    ? { op: 'list', items: value.map(json) }
    : value !== null && typeof value === 'object'
      ? { op: 'record', fields: Object.entries(value).map(([key, v]) => ({ key, value: json(v) })) }
      : lit(value as string | number | boolean | null);
const path = (root: ExprIR, keys: readonly string[]): ExprIR => keys.reduce<ExprIR>((o, key) => ({ op: 'get', object: o, key }), root);
export const inputVar: ExprIR = { op: 'var', name: 'input' };
export const runVar: ExprIR = { op: 'var', name: 'run' };
export const input = (...keys: string[]): ExprIR => path(inputVar, keys);
export const ctxVar = (...keys: string[]): ExprIR => path({ op: 'var', name: 'context' }, keys);
export const stepRef = (id: string): ExprIR => ({ op: 'step', id });
export const get = (object: ExprIR, key: string): ExprIR => ({ op: 'get', object, key });
export const out = (step: string, ...keys: string[]): ExprIR => path(get(stepRef(step), 'output'), keys);
export const attr = (step: string, key: string): ExprIR => get(stepRef(step), key);
export const item = (name: string, ...keys: string[]): ExprIR => path({ op: 'item', name }, keys);
export const bin = (op: Extract<ExprIR, { left: ExprIR }>['op'], left: ExprIR, right: ExprIR): ExprIR => ({ op, left, right }) as ExprIR;

// ───────────── declarations ─────────────

export function capability(name: string, over: Partial<CapabilityIR> = {}): CapabilityIR {
  return {
    name,
    kind: 'tool',
    input: { type: 'object' },
    output: {},
    handler: null,
    timeout_ms: null,
    retry: NO_RETRY,
    cost: 0,
    latency_ms: 0,
    data: 'public',
    consent: [],
    requires: [],
    idempotent: true,
    ...over,
  };
}

/** A capability as the verifier's tests simulate it: a handler, an `{ ok }` output contract, 1 s latency. */
export function simulatedCapability(name: string, over: Partial<CapabilityIR> = {}): CapabilityIR {
  return capability(name, {
    input: { type: 'object', properties: {} },
    output: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
    handler: { module: './handlers.js', export: name },
    latency_ms: 1000,
    data: 'internal',
    ...over,
  });
}

export const approvalCapability: CapabilityIR = simulatedCapability('std.capabilities.approval', {
  kind: 'human',
  handler: { builtin: 'approval' },
  output: { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] },
});

export function resource(name: string, over: Partial<ResourceIR> = {}): ResourceIR {
  return {
    name,
    kind: 'local_device',
    tier: 'local',
    provides: [],
    concurrency: null,
    cost: 0,
    latency_ms: 0,
    reliability: null,
    location: null,
    ...over,
  };
}

export function policy(over: Partial<PolicyIR> = {}): PolicyIR {
  return {
    name: 'lean',
    strategy: 'cost',
    weights: {},
    budgets: { cost: null, duration_ms: null },
    prefer: null,
    max_fallbacks: 0,
    require_consent: false,
    rate_limits: [],
    ...over,
  };
}

export type StepSpec = Partial<Omit<StepIR, 'id'>> & { readonly id: string };

/**
 * The layered DAG of the tests and benches: `layers` × `width` steps `s{layer}_{i}`, each after
 * steps `i` and `i + 1` (wrapping) of the layer above, all with the fields of `each`.
 */
export function layeredSteps(layers: number, width: number, each: Partial<Omit<StepIR, 'id' | 'deps'>>): StepIR[] {
  const steps: StepIR[] = [];
  for (let l = 0; l < layers; l++)
    for (let w = 0; w < width; w++)
      steps.push(step({ ...each, id: `s${l}_${w}`, deps: l === 0 ? [] : [`s${l - 1}_${w}`, `s${l - 1}_${(w + 1) % width}`] }));
  return steps;
}

/** `step({ id, … })`, or `step(id, capability, { … })` for a call. `deps` include `after`. */
export function step(spec: StepSpec): StepIR;
export function step(id: string, capability: string | null, over?: Partial<StepIR>): StepIR;
export function step(a: StepSpec | string, cap?: string | null, over: Partial<StepIR> = {}): StepIR {
  const spec: StepSpec = typeof a === 'string' ? { ...over, id: a, capability: cap ?? null } : a;
  const deps = [...new Set([...(spec.deps ?? []), ...(spec.after ?? [])])].sort();
  return {
    capability: null,
    action: { type: 'call' },
    args: {},
    after: [],
    resource: null,
    binding: { resource: spec.resource ?? null, tier: null, rationale: 'test', fallbacks: [] },
    timeout_ms: null,
    retry: NO_RETRY,
    when: null,
    join: 'none_failed',
    skip_if_skipped: [],
    on_failure: 'abort',
    priority: 2,
    for_each: null,
    fallback: null,
    compensate: null,
    data: 'public',
    kind: 'tool',
    estimates: { cost: 0, duration_ms: 0 },
    stage: 0,
    ...spec,
    deps,
  };
}

/** Any PlanIR field may be given directly (or under `over`); these are given as lists. */
export type PlanSpec = Partial<Omit<PlanIR, 'capabilities' | 'resources' | 'steps' | 'guardrails'>> & {
  readonly name?: string;
  readonly steps: readonly StepIR[];
  readonly capabilities?: readonly CapabilityIR[];
  readonly resources?: readonly ResourceIR[];
  readonly guardrails?: readonly GuardrailIR[];
  readonly over?: Partial<PlanIR>;
};

/** Steps in dependency order with their stages (longest chain of deps), as the compiler emits them. */
export function plan(spec: PlanSpec): PlanIR {
  const { name, steps: given, capabilities, resources, guardrails, over, ...fields } = spec;
  const byId = new Map(given.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const d = (id: string): number => {
    if (depth.has(id)) return depth.get(id)!;
    const s = byId.get(id);
    const v = s && s.deps.length ? 1 + Math.max(...s.deps.map(d)) : 0;
    depth.set(id, v);
    return v;
  };
  const stages: string[][] = [];
  for (const s of given) (stages[d(s.id)] ??= []).push(s.id);
  const steps = [...given].sort((a, b) => d(a.id) - d(b.id)).map((s) => ({ ...s, stage: d(s.id) }));
  return {
    version: 'orch.plan/v1',
    plan: name ?? 'test_plan',
    module: 'test',
    goal: null,
    base_dir: '.',
    source_file: 'test.orch',
    input: { type: 'object' },
    context: { type: 'object' },
    policy: null,
    priority: 2,
    deadline_ms: null,
    concurrency: null,
    on_failure: 'abort',
    steps,
    stages: Array.from(stages, (s) => s ?? []),
    estimates: { cost: 0, duration_ms: 0, critical_path: [], local_ratio: 1 },
    success: [],
    output: null,
    invariants: [],
    simulations: {},
    subplans: {},
    ...fields,
    ...over,
    capabilities: Object.fromEntries((capabilities ?? []).map((c) => [c.name, c])),
    resources: Object.fromEntries((resources ?? []).map((r) => [r.name, r])),
    guardrails: [...(guardrails ?? [])],
  };
}
