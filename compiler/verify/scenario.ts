/**
 * A scenario is everything the environment decides in one simulated run: the plan input, the
 * context signals, and what each attempt of each step does (succeed with an output after some
 * latency, fail, or hang past its timeout), including approval decisions.
 *
 * Outcome tables have a fixed shape (per step: one row per `for each` item, one cell per allowed
 * attempt) so fast-check shrinks by simplifying cells — every cell shrinks towards "succeeds
 * fast with the simplest output" — which is what makes shrunk traces contain only the failures
 * a counterexample needs.
 */
import fc from 'fast-check';
import type { CapabilityIR, ExprIR, PlanIR, SimulateIR, StepIR } from '../ir/types.js';
import { schemaArbitrary } from './schema-arbitrary.js';

export type AttemptOutcome =
  | { readonly kind: 'ok'; readonly latency_ms: number; readonly cost: number; readonly output: unknown }
  | { readonly kind: 'fail'; readonly latency_ms: number; readonly cost: number }
  /** The handler never answers; only generated for steps with a timeout, which then fires. */
  | { readonly kind: 'hang'; readonly cost: number };

/** One context signal changing value at a virtual time. */
export interface ContextChange {
  readonly at_ms: number;
  readonly signal: string;
  readonly value: unknown;
}

export interface Scenario {
  readonly input: unknown;
  readonly context: { readonly [signal: string]: unknown };
  readonly contextChanges: readonly ContextChange[];
  /** step id → item index (0 for plain steps) → attempt index (0-based) → outcome. */
  readonly outcomes: { readonly [stepId: string]: readonly (readonly AttemptOutcome[])[] };
}

export interface ScenarioOptions {
  /** Explore failures, timeouts and rejections at all (`--no-failures` turns them off). */
  readonly failures: boolean;
  /** Failure probability for capabilities without a `simulate … fail P%`. */
  readonly defaultFailRate: number;
  /** Upper bound on generated list lengths (and so on `for each` fan-out). */
  readonly maxListSize: number;
}

export const DEFAULT_FAIL_RATE = 0.1;
export const DEFAULT_MAX_LIST_SIZE = 6;

/** Evaluates a constant expression (simulate values); provided by the runtime evaluator. */
export type ConstantEvaluator = (expr: ExprIR) => unknown;

const APPROVAL_CAPABILITY = /(^|\.)approval$/;

export function isApprovalStep(step: StepIR, plan: PlanIR): boolean {
  if (step.capability === null) return false;
  const cap = plan.capabilities[step.capability];
  const handler = cap?.handler;
  if (handler && 'builtin' in handler) return handler.builtin === 'approval';
  return APPROVAL_CAPABILITY.test(step.capability);
}

/**
 * Steps whose outcome the environment decides: capability calls (approvals included). Waits are
 * the clock's business and sub-plan runs are executed by the scheduler itself.
 */
export function isSimulatedStep(step: StepIR): boolean {
  return step.action.type === 'call';
}

/** The timeout the scheduler enforces on an attempt of this step. */
export function effectiveTimeout(step: StepIR, plan: PlanIR): number | null {
  return step.timeout_ms ?? (step.capability ? plan.capabilities[step.capability]?.timeout_ms : null) ?? null;
}

export function scenarioArbitrary(plan: PlanIR, options: ScenarioOptions, evaluate: ConstantEvaluator): fc.Arbitrary<Scenario> {
  const schemaOptions = { maxListSize: options.maxListSize };
  const outcomes: Record<string, fc.Arbitrary<AttemptOutcome[][]>> = {};
  for (const step of plan.steps) {
    if (!isSimulatedStep(step)) continue;
    const rows = step.for_each ? options.maxListSize : 1;
    const attempts = 1 + Math.max(0, step.retry.max) + (step.fallback ? 1 : 0);
    const cell = attemptArbitrary(step, plan, options, evaluate);
    outcomes[step.id] = fc.array(fc.array(cell, { minLength: attempts, maxLength: attempts }), { minLength: rows, maxLength: rows });
  }
  const contextProps = Object.keys((plan.context['properties'] as Record<string, unknown> | undefined) ?? {});
  const contextArb = schemaArbitrary({ ...plan.context, required: contextProps }, schemaOptions) as fc.Arbitrary<Record<string, unknown>>;
  const changesArb =
    contextProps.length === 0
      ? fc.constant([] as ContextChange[])
      : fc.array(contextChangeArbitrary(plan, contextProps, schemaOptions), { maxLength: 3 }).map((changes) =>
          [...changes].sort((a, b) => a.at_ms - b.at_ms),
        );
  return fc.record({
    input: schemaArbitrary(plan.input, schemaOptions),
    context: contextArb,
    contextChanges: changesArb,
    outcomes: fc.record(outcomes),
  });
}

function contextChangeArbitrary(plan: PlanIR, signals: readonly string[], schemaOptions: { maxListSize: number }): fc.Arbitrary<ContextChange> {
  const props = plan.context['properties'] as Record<string, Record<string, unknown>>;
  const horizon = Math.max(1000, plan.estimates.duration_ms * 2);
  return fc.oneof(
    { withCrossShrink: true },
    ...signals.map((signal) =>
      fc.record({
        at_ms: fc.integer({ min: 0, max: horizon }),
        signal: fc.constant(signal),
        value: schemaArbitrary(props[signal] ?? {}, schemaOptions),
      }),
    ),
  );
}

function attemptArbitrary(step: StepIR, plan: PlanIR, options: ScenarioOptions, evaluate: ConstantEvaluator): fc.Arbitrary<AttemptOutcome> {
  const cap = step.capability ? plan.capabilities[step.capability] : undefined;
  const sim = step.capability ? plan.simulations[step.capability] : undefined;
  const latency = latencyArbitrary(step, cap, sim);
  const cost = costArbitrary(step, cap, sim);
  const output = isApprovalStep(step, plan)
    ? approvalOutputArbitrary(options)
    : outputArbitrary(cap, sim, options, evaluate);

  const ok = fc.record({ kind: fc.constant('ok' as const), latency_ms: latency, cost, output });
  const failRate = options.failures ? (sim?.fail ?? options.defaultFailRate) : 0;
  if (failRate <= 0) return ok;
  const fail = fc.record({ kind: fc.constant('fail' as const), latency_ms: latency, cost });
  // Weights are in thousandths so `fail 0.5%` still means something. With a timeout, half of the
  // failures are hangs the timeout must catch.
  const failWeight = Math.max(1, Math.round(Math.min(1, failRate) * 1000));
  const okWeight = Math.max(0, 1000 - failWeight);
  const alternatives: fc.WeightedArbitrary<AttemptOutcome>[] = [];
  if (okWeight > 0) alternatives.push({ arbitrary: ok, weight: okWeight });
  if (effectiveTimeout(step, plan) !== null) {
    const hang = fc.record({ kind: fc.constant('hang' as const), cost });
    alternatives.push({ arbitrary: fail, weight: Math.ceil(failWeight / 2) }, { arbitrary: hang, weight: Math.floor(failWeight / 2) || 1 });
  } else {
    alternatives.push({ arbitrary: fail, weight: failWeight });
  }
  // Cross-shrinking lets a failure shrink into a success, so counterexamples keep only the
  // failures they need.
  return fc.oneof({ withCrossShrink: true }, ...alternatives);
}

function latencyArbitrary(step: StepIR, cap: CapabilityIR | undefined, sim: SimulateIR | undefined): fc.Arbitrary<number> {
  if (sim?.latency_ms) return fc.integer({ min: Math.round(sim.latency_ms.min), max: Math.round(Math.max(sim.latency_ms.min, sim.latency_ms.max)) });
  // Without a model, latency varies around the estimate (½× … 1½×) so that orderings between
  // parallel branches are explored, shrinking towards the fast end.
  const estimate = Math.max(1, Math.round(step.estimates.duration_ms || cap?.latency_ms || 1));
  return fc.integer({ min: Math.max(1, Math.floor(estimate / 2)), max: Math.ceil((estimate * 3) / 2) });
}

function costArbitrary(step: StepIR, cap: CapabilityIR | undefined, sim: SimulateIR | undefined): fc.Arbitrary<number> {
  if (sim?.cost) {
    const lo = Math.round(sim.cost.min * 10_000);
    const hi = Math.max(lo, Math.round(sim.cost.max * 10_000));
    return fc.integer({ min: lo, max: hi }).map((n) => n / 10_000);
  }
  return fc.constant(step.estimates.cost ?? cap?.cost ?? 0);
}

/** An approval step's output: the human approves or rejects. Approving is the simpler case. */
function approvalOutputArbitrary(options: ScenarioOptions): fc.Arbitrary<unknown> {
  const approved = options.failures ? fc.boolean().map((b) => !b) : fc.constant(true);
  return approved.map((ok) => ({ approved: ok }));
}

function outputArbitrary(
  cap: CapabilityIR | undefined,
  sim: SimulateIR | undefined,
  options: ScenarioOptions,
  evaluate: ConstantEvaluator,
): fc.Arbitrary<unknown> {
  const schema = cap?.output ?? {};
  const fromSchema = schemaArbitrary(schema, { maxListSize: options.maxListSize });
  if (!sim?.output) return fromSchema;
  // `simulate` fixes some fields (values or ranges); the others still come from the type.
  const properties = (schema['properties'] as Record<string, Record<string, unknown>> | undefined) ?? {};
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [field, expr] of Object.entries(sim.output)) {
    shape[field] = simulatedValueArbitrary(expr, properties[field] ?? {}, evaluate);
  }
  return fc.tuple(fromSchema, fc.record(shape)).map(([generated, fixed]) =>
    typeof generated === 'object' && generated !== null && !Array.isArray(generated) ? { ...generated, ...fixed } : fixed,
  );
}

function simulatedValueArbitrary(expr: ExprIR, fieldSchema: Record<string, unknown>, evaluate: ConstantEvaluator): fc.Arbitrary<unknown> {
  if (expr.op !== 'range') return fc.constant(evaluate(expr));
  const from = Number(evaluate(expr.from));
  const to = Number(evaluate(expr.to));
  const lo = Math.min(from, to);
  const hi = Math.max(from, to);
  const integral = fieldSchema['type'] === 'integer' || fieldSchema['x-orch-unit'] === 'duration' || (Number.isInteger(lo) && Number.isInteger(hi));
  if (integral) return fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) });
  return fc.integer({ min: Math.round(lo * 100), max: Math.round(hi * 100) }).map((n) => n / 100);
}

/** Looks up the outcome of one attempt; missing cells (past the table) succeed with no output. */
export function outcomeOf(scenario: Scenario, stepId: string, item: number, attempt: number): AttemptOutcome | undefined {
  return scenario.outcomes[stepId]?.[item]?.[attempt];
}
