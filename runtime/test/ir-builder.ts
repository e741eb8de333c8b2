/**
 * A small typed builder of PlanIR objects for runtime tests (independent of the compiler).
 * Defaults mirror what the compiler emits for a plain step; override per test.
 */
import type {
  CapabilityIR,
  ExprIR,
  GuardrailIR,
  PlanIR,
  ResourceIR,
  RetryIR,
  StepIR,
} from '../../compiler/ir/types.js';

export const NO_RETRY: RetryIR = { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false };

export const lit = (value: string | number | boolean | null): ExprIR => ({ op: 'lit', value });
export const input = (...path: string[]): ExprIR =>
  path.reduce<ExprIR>((o, key) => ({ op: 'get', object: o, key }), { op: 'var', name: 'input' });
export const ctxVar = (...path: string[]): ExprIR =>
  path.reduce<ExprIR>((o, key) => ({ op: 'get', object: o, key }), { op: 'var', name: 'context' });
export const out = (step: string, ...path: string[]): ExprIR =>
  path.reduce<ExprIR>((o, key) => ({ op: 'get', object: o, key }), {
    op: 'get',
    object: { op: 'step', id: step },
    key: 'output',
  });
export const attr = (step: string, key: string): ExprIR => ({ op: 'get', object: { op: 'step', id: step }, key });
export const item = (name: string, ...path: string[]): ExprIR =>
  path.reduce<ExprIR>((o, key) => ({ op: 'get', object: o, key }), { op: 'item', name });
export const bin = (op: Extract<ExprIR, { left: ExprIR }>['op'], left: ExprIR, right: ExprIR): ExprIR =>
  ({ op, left, right }) as ExprIR;

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

export type StepSpec = Partial<Omit<StepIR, 'id'>> & { readonly id: string };

export function step(spec: StepSpec): StepIR {
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

export interface PlanSpec {
  readonly name?: string;
  readonly steps: readonly StepIR[];
  readonly capabilities?: readonly CapabilityIR[];
  readonly resources?: readonly ResourceIR[];
  readonly guardrails?: readonly GuardrailIR[];
  readonly base_dir?: string;
  readonly over?: Partial<PlanIR>;
}

/** Stages computed from deps (longest chain), as the compiler does. */
export function plan(spec: PlanSpec): PlanIR {
  const byId = new Map(spec.steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const d = (id: string): number => {
    if (depth.has(id)) return depth.get(id)!;
    const s = byId.get(id)!;
    const v = s.deps.length ? 1 + Math.max(...s.deps.map(d)) : 0;
    depth.set(id, v);
    return v;
  };
  const stages: string[][] = [];
  for (const s of spec.steps) (stages[d(s.id)] ??= []).push(s.id);
  const steps = [...spec.steps].sort((a, b) => d(a.id) - d(b.id)).map((s) => ({ ...s, stage: d(s.id) }));
  return {
    version: 'orch.plan/v1',
    plan: spec.name ?? 'test_plan',
    module: 'test',
    goal: null,
    base_dir: spec.base_dir ?? '.',
    source_file: 'test.orch',
    input: { type: 'object' },
    context: { type: 'object' },
    policy: null,
    priority: 2,
    deadline_ms: null,
    concurrency: null,
    on_failure: 'abort',
    capabilities: Object.fromEntries((spec.capabilities ?? []).map((c) => [c.name, c])),
    resources: Object.fromEntries((spec.resources ?? []).map((r) => [r.name, r])),
    steps,
    stages: stages.map((s) => s ?? []),
    estimates: { cost: 0, duration_ms: 0, critical_path: [], local_ratio: 1 },
    guardrails: spec.guardrails ?? [],
    success: [],
    output: null,
    invariants: [],
    simulations: {},
    subplans: {},
    ...spec.over,
  };
}
