/**
 * Small builders for hand-written PlanIR in verifier tests, so that scenarios the verifier must
 * find can be stated precisely (the `.orch` fixtures cover the same ground through the compiler).
 */
import type {
  CapabilityIR,
  ExprIR,
  InvariantIR,
  PlanIR,
  PolicyIR,
  ResourceIR,
  RetryIR,
  SimulateIR,
  StepIR,
} from '../../ir/types.js';

export const NO_RETRY: RetryIR = { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false };

export function retry(max: number, delay_ms = 1000): RetryIR {
  return { max, backoff: 'fixed', delay_ms, max_delay_ms: null, jitter: false };
}

export function capability(name: string, extra: Partial<CapabilityIR> = {}): CapabilityIR {
  return {
    name,
    kind: 'tool',
    input: { type: 'object', properties: {} },
    output: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
    handler: { module: './handlers.js', export: name },
    timeout_ms: null,
    retry: NO_RETRY,
    cost: 0,
    latency_ms: 1000,
    data: 'internal',
    consent: [],
    requires: [],
    idempotent: true,
    ...extra,
  };
}

export const approvalCapability: CapabilityIR = capability('std.capabilities.approval', {
  kind: 'human',
  handler: { builtin: 'approval' },
  output: { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] },
});

export function resource(name: string, extra: Partial<ResourceIR> = {}): ResourceIR {
  return {
    name,
    kind: 'cloud_region',
    tier: 'cloud',
    provides: [],
    concurrency: null,
    cost: 0,
    latency_ms: 0,
    reliability: null,
    location: null,
    ...extra,
  };
}

export function step(id: string, cap: string, extra: Partial<StepIR> = {}): StepIR {
  return {
    id,
    capability: cap,
    action: { type: 'call' },
    args: {},
    deps: [],
    after: [],
    resource: null,
    binding: { resource: null, tier: null, rationale: 'test', fallbacks: [] },
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
    data: 'internal',
    kind: 'tool',
    estimates: { cost: 0, duration_ms: 1000 },
    stage: 0,
    ...extra,
  };
}

export function policy(extra: Partial<PolicyIR> = {}): PolicyIR {
  return {
    name: 'lean',
    strategy: 'cost',
    weights: {},
    budgets: { cost: null, duration_ms: null },
    prefer: null,
    max_fallbacks: 0,
    require_consent: false,
    rate_limits: [],
    ...extra,
  };
}

export type PlanSpec = Omit<Partial<PlanIR>, 'capabilities' | 'resources'> & {
  readonly steps: StepIR[];
  readonly capabilities: CapabilityIR[];
  readonly resources?: ResourceIR[];
};

export function plan(extra: PlanSpec): PlanIR {
  const { capabilities, resources, ...rest } = extra;
  return {
    version: 'orch.plan/v1',
    plan: 'p',
    module: 'test',
    goal: null,
    base_dir: '/tmp',
    source_file: 'test.orch',
    input: { type: 'object', properties: {} },
    context: { type: 'object', properties: {} },
    policy: null,
    priority: 2,
    deadline_ms: null,
    concurrency: null,
    on_failure: 'abort',
    stages: [],
    estimates: { cost: 0, duration_ms: 1000, critical_path: [], local_ratio: 0 },
    guardrails: [],
    success: [],
    output: null,
    invariants: [] as InvariantIR[],
    simulations: {} as { [k: string]: SimulateIR },
    subplans: {},
    ...rest,
    capabilities: Object.fromEntries(capabilities.map((c) => [c.name, c])),
    resources: Object.fromEntries((resources ?? []).map((r) => [r.name, r])),
  } as PlanIR;
}

// Expression shorthands.
export const lit = (value: string | number | boolean | null): ExprIR => ({ op: 'lit', value });
export const stepRef = (id: string): ExprIR => ({ op: 'step', id });
export const get = (object: ExprIR, key: string): ExprIR => ({ op: 'get', object, key });
export const bin = (op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or' | 'implies', left: ExprIR, right: ExprIR): ExprIR =>
  ({ op, left, right }) as ExprIR;
export const runVar: ExprIR = { op: 'var', name: 'run' };
export const inputVar: ExprIR = { op: 'var', name: 'input' };
