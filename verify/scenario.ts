/**
 * A scenario is everything the environment decides in one simulated run: the plan input, the
 * context signals, and what each attempt of each step does (succeed with an output after some
 * latency, fail, or hang past its timeout), including approval decisions.
 *
 * Outcome tables have a fixed shape (per step: one row per possible `for each` item, one entry
 * per attempt the scheduler may make) so fast-check shrinks by simplifying entries — each
 * attempt shrinks towards success, latencies towards the fast end, outputs towards the simplest
 * value — which is what makes shrunk traces contain only the failures a counterexample needs.
 */
import fc from 'fast-check';
import type { CapabilityIR, ExprIR, PlanIR, SimulateIR, StepIR } from '../compiler/index.js';
import { schemaArbitrary } from './schema-arbitrary.js';

/** `hang`: the handler never answers; only generated for steps with a timeout, which then fires. */
export type AttemptKind = 'ok' | 'fail' | 'hang';

/** `cost`: drawn from `simulate … cost A..B` (null: the scheduler charges the capability's cost). */
export type AttemptOutcome =
  | { readonly kind: 'ok'; readonly latency_ms: number; readonly output: unknown; readonly cost: number | null }
  | { readonly kind: 'fail'; readonly latency_ms: number; readonly cost: number | null }
  | { readonly kind: 'hang' };

/** What one step (one item of a `for each`) does: per attempt ok/fail/hang, one latency, one output. */
export interface StepItemScenario {
  readonly attempts: readonly AttemptKind[];
  readonly latency_ms: number;
  readonly output: unknown;
  /** What each answered attempt costs, from `simulate … cost A..B`; null without a range. */
  readonly cost: number | null;
}

/** One context signal changing value at a virtual time. */
export interface ContextChange {
  readonly at_ms: number;
  readonly signal: string;
  readonly value: unknown;
}

/**
 * A context signal whose source falls silent (`simulate context { X stale P% }`): from `at_ms` on
 * it is stale — unknown to the run — whatever the scenario's changes say.
 */
export interface GoneStale {
  readonly at_ms: number;
  readonly signal: string;
}

/** A user cancelling one step (`orch cancel RUN --step STEP`: every instance of it) at a virtual time. */
export interface StepCancel {
  readonly at_ms: number;
  readonly step: string;
}

export interface Scenario {
  readonly input: unknown;
  readonly context: { readonly [signal: string]: unknown };
  readonly contextChanges: readonly ContextChange[];
  /** Steps a user cancels (empty unless cancellations are explored). */
  readonly cancels: readonly StepCancel[];
  /** Signals that go stale in this run (empty unless the program has `simulate context`). */
  readonly stale?: readonly GoneStale[];
  /** step id → item index (0 for plain steps) → what its attempts do. */
  readonly outcomes: { readonly [stepId: string]: readonly StepItemScenario[] };
}

export interface ScenarioOptions {
  /** Explore failures, timeouts and rejections at all (`--no-failures` turns them off). */
  readonly failures: boolean;
  /** Failure probability for capabilities without a `simulate … fail P%`. */
  readonly defaultFailRate: number;
  /** Upper bound on generated list lengths (and so on `for each` fan-out). */
  readonly maxListSize: number;
  /** Explore a user cancelling a step (`orch cancel RUN --step`) at some moment of the run. */
  readonly cancels?: boolean;
}

export const DEFAULT_FAIL_RATE = 0.1;
export const DEFAULT_MAX_LIST_SIZE = 6;

/** Evaluates a constant expression (simulate values); provided by the runtime evaluator. */
export type ConstantEvaluator = (expr: ExprIR) => unknown;

/** As the scheduler decides it: a call whose handler is the built-in `approval`. */
export function isApprovalStep(step: StepIR, plan: PlanIR): boolean {
  const handler = step.capability === null ? null : plan.capabilities[step.capability]?.handler;
  return handler !== null && handler !== undefined && 'builtin' in handler && handler.builtin === 'approval';
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
  const outcomes: Record<string, fc.Arbitrary<StepItemScenario[]>> = {};
  for (const step of plan.steps) {
    if (!isSimulatedStep(step)) continue;
    const rows = rowsOf(plan, step.id, options.maxListSize);
    outcomes[step.id] = fc.array(stepItemArbitrary(step, plan, options, evaluate), { minLength: rows, maxLength: rows });
  }
  // A derived signal (§9.4) is computed from those it reads, never drawn (nor changed) on its own.
  const allProps = (plan.context['properties'] as Record<string, unknown> | undefined) ?? {};
  const setProps = Object.fromEntries(Object.entries(allProps).filter(([name]) => !plan.context_signals?.[name]?.derived));
  const contextProps = Object.keys(setProps);
  const contextArb = schemaArbitrary({ ...plan.context, properties: setProps, required: contextProps }, schemaOptions) as fc.Arbitrary<Record<string, unknown>>;
  const changesArb =
    contextProps.length === 0
      ? fc.constant([] as ContextChange[])
      : fc.array(contextChangeArbitrary(plan, contextProps, schemaOptions), { maxLength: 3 }).map((changes) =>
          [...changes].sort((a, b) => a.at_ms - b.at_ms),
        );
  // A tuple mapped into the record: fast-check's record mapper is a measurable share of a
  // simulated run on large plans.
  const ids = Object.keys(outcomes);
  const outcomesArb = fc.tuple(...ids.map((id) => outcomes[id]!)).map((rows) => {
    const out: Record<string, StepItemScenario[]> = {};
    ids.forEach((id, i) => (out[id] = rows[i]!));
    return out;
  });
  return fc
    .tuple(schemaArbitrary(plan.input, schemaOptions), contextArb, changesArb, outcomesArb, cancelsArbitrary(plan, options), staleArbitrary(plan))
    .map(([input, context, contextChanges, outcomes, cancels, stale]) => ({ input, context, contextChanges, outcomes, cancels, stale }));
}

/**
 * A share drawn as a number in 0‥999 (thousandths), without fast-check's bias, which favours the
 * ends of a range: biased, `fail 10%` failed one attempt in seven, not one in ten (§4).
 */
function permille(): fc.Arbitrary<number> {
  return fc.noBias(fc.integer({ min: 0, max: 999 }));
}

/**
 * `simulate context { X stale P% }`: per signal a number in 0‥999 whose top P‰-band makes it go
 * stale, at a moment of the run. Numbers and moments shrink towards 0, so a counterexample keeps
 * only the stale signals it needs, gone stale as early as it can.
 */
function staleArbitrary(plan: PlanIR): fc.Arbitrary<GoneStale[]> {
  const shares = Object.entries(plan.context_signals ?? {}).filter(([, s]) => (s.stale ?? 0) > 0);
  if (shares.length === 0) return fc.constant([]);
  const horizon = Math.max(1000, plan.estimates.duration_ms * 2);
  return fc
    .tuple(...shares.map(([signal, s]) => fc.record({ n: permille(), at_ms: s.max_age_ms === null ? fc.constant(0) : silentSince(horizon) }).map(({ n, at_ms }) => (n >= 1000 - Math.round(s.stale! * 1000) ? { signal, at_ms } : null))))
    .map((xs) => xs.filter((x): x is GoneStale => x !== null));
}

/**
 * When a source falls silent (a signal without `max_age` never goes stale: silent, it is one never
 * set, from the start): a sensor silent since before the run began is the common case (a
 * run starts at any moment of the silence), so half the draws are from the start — a `when` or
 * `available when` read at the first step must meet the signal unknown, not by the luck of a
 * uniform draw hitting 0 — and the others at a moment of the run.
 */
function silentSince(horizon: number): fc.Arbitrary<number> {
  return fc.oneof(fc.constant(0), fc.integer({ min: 0, max: horizon }));
}

/**
 * At most one cancellation per run, in about a third of the runs: enough for the runs around it
 * to keep exploring failures and orderings. `fc.option` shrinks towards no cancellation, and a
 * kept one towards the first step and the start of the run, so a counterexample names a cancel
 * only when the invariant needs it.
 */
function cancelsArbitrary(plan: PlanIR, options: ScenarioOptions): fc.Arbitrary<StepCancel[]> {
  if (!options.cancels || plan.steps.length === 0) return fc.constant([]);
  const horizon = Math.max(1000, plan.estimates.duration_ms * 2);
  const cancel = fc.record({ at_ms: fc.integer({ min: 0, max: horizon }), step: fc.constantFrom(...plan.steps.map((s) => s.id)) });
  return fc.option(cancel, { freq: 3, nil: null }).map((c) => (c === null ? [] : [c]));
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

/** The most attempts of one step instance a scenario draws outcomes for. */
const MAX_DRAWN_ATTEMPTS = 64;

/**
 * Attempts are drawn as numbers in 0‥999 (thousandths, so `fail 0.5%` still means something):
 * the top `failRate` band fails — its upper half hangs when a timeout can catch it — and
 * everything else succeeds. Numbers shrink towards 0, so a failure shrinks into a success and
 * counterexamples keep only the failures they need.
 */
function stepItemArbitrary(step: StepIR, plan: PlanIR, options: ScenarioOptions, evaluate: ConstantEvaluator): fc.Arbitrary<StepItemScenario> {
  const cap = step.capability ? plan.capabilities[step.capability] : undefined;
  const sim = step.capability ? plan.simulations[step.capability] : undefined;
  // Every attempt the scheduler may make: retries on the binding and on each rebinding
  // alternative, then the fallback call.
  // Capped: `retry 9999999999` is a valid plan, and a table that long exhausts the heap. An attempt
  // past the table succeeds with the row's output (`outcomeOf`): 64 failures in a row is as far
  // as the search looks.
  const attempts = Math.min(MAX_DRAWN_ATTEMPTS, (1 + Math.max(0, step.retry.max)) * (1 + step.binding.fallbacks.length) + (step.fallback ? 1 : 0));
  const failRate = options.failures ? Math.min(1, Math.max(0, sim?.fail ?? options.defaultFailRate)) : 0;
  const failBand = failRate > 0 ? Math.max(1, Math.round(failRate * 1000)) : 0;
  const hangs = failBand > 0 && effectiveTimeout(step, plan) !== null;
  const decode = (n: number): AttemptKind => {
    if (n < 1000 - failBand) return 'ok';
    return hangs && n >= 1000 - Math.floor(failBand / 2) ? 'hang' : 'fail';
  };
  const kinds =
    failBand === 0
      ? fc.constant(new Array<AttemptKind>(attempts).fill('ok'))
      : fc.array(permille(), { minLength: attempts, maxLength: attempts }).map((ns) => ns.map(decode));
  // An approval's "failure" is a rejection (and a hang, no answer before its timeout); the
  // scheduler builds the approved output itself.
  const output = isApprovalStep(step, plan) ? fc.constant(null) : outputArbitrary(cap, sim, options, evaluate);
  return fc
    .tuple(kinds, latencyArbitrary(step, cap, sim), output, costArbitrary(sim))
    .map(([a, latency_ms, out, cost]) => ({ attempts: a, latency_ms, output: out, cost }));
}

/** In thousandths of the currency unit, shrinking towards the cheap end of the range. */
function costArbitrary(sim: SimulateIR | undefined): fc.Arbitrary<number | null> {
  if (!sim?.cost) return fc.constant(null);
  const lo = Math.round(Math.min(sim.cost.min, sim.cost.max) * 1000);
  const hi = Math.round(Math.max(sim.cost.min, sim.cost.max) * 1000);
  return fc.integer({ min: lo, max: hi }).map((n) => n / 1000);
}

function latencyArbitrary(step: StepIR, cap: CapabilityIR | undefined, sim: SimulateIR | undefined): fc.Arbitrary<number> {
  if (sim?.latency_ms) return fc.integer({ min: Math.round(sim.latency_ms.min), max: Math.round(Math.max(sim.latency_ms.min, sim.latency_ms.max)) });
  // Without a model, latency varies around the estimate (½× … 1½×) so that orderings between
  // parallel branches are explored, shrinking towards the fast end.
  const estimate = Math.max(1, Math.round(step.estimates.duration_ms || cap?.latency_ms || 1));
  return fc.integer({ min: Math.max(1, Math.floor(estimate / 2)), max: Math.ceil((estimate * 3) / 2) });
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

/**
 * The outcome of one attempt (0-based): undefined for a step the scenario has no row for (the
 * caller's default); past the row's drawn attempts (`MAX_DRAWN_ATTEMPTS`), a success with the
 * row's typed output — never the untyped `{}` the default answers.
 */
export function outcomeOf(scenario: Scenario, stepId: string, item: number, attempt: number): AttemptOutcome | undefined {
  const row = scenario.outcomes[stepId]?.[item];
  if (!row) return undefined;
  const kind = row.attempts[attempt] ?? 'ok';
  if (kind === 'ok') return { kind, latency_ms: row.latency_ms, output: row.output, cost: row.cost };
  return kind === 'fail' ? { kind, latency_ms: row.latency_ms, cost: row.cost } : { kind };
}

/**
 * How many outcome rows a step has: one per instance it may have — a `for each` item
 * (`maxListSize` per level), a loop iteration (`max` per loop, so a loop can run every number of
 * iterations up to its max) — capped, the rows being reused beyond it.
 */
const MAX_ROWS = 64;

function radices(plan: PlanIR, stepId: string, maxListSize: number): number[] {
  const step = plan.steps.find((s) => s.id === stepId);
  const ids = step?.blocks ?? (step?.for_each ? [step.for_each.group] : []);
  const out: number[] = [];
  for (const id of ids) {
    const b = plan.blocks?.find((x) => x.id === id);
    if (!b && step?.for_each?.group === id) out.push(maxListSize);
    else if (b?.type === 'for_each') out.push(maxListSize);
    else if (b?.type === 'repeat') out.push(b.max);
  }
  return out;
}

export function rowsOf(plan: PlanIR, stepId: string, maxListSize: number): number {
  return Math.max(1, Math.min(MAX_ROWS, radices(plan, stepId, maxListSize).reduce((a, r) => a * Math.max(1, r), 1)));
}

/**
 * The outcome row of instance `key` (`id`, `id[i]`, `id[i][j]`, `id#k` …) of step `stepId`, out
 * of `rows`: an item index or an iteration is its own row; deeper paths share rows beyond the cap.
 */
export function rowOfInstance(plan: PlanIR, stepId: string, key: string, rows: number): number {
  const path = [...key.slice(stepId.length).matchAll(/\[(\d+)\]|#(\d+)/g)].map((m) => Number(m[1] ?? m[2]));
  const r = radices(plan, stepId, 1000);
  let row = 0;
  path.forEach((i, n) => (row = row * Math.max(1, r[n] ?? 1) + i));
  return row % Math.max(1, rows);
}
