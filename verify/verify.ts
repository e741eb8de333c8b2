/**
 * `verify(plan, options)`: explores many simulated executions of a plan (fast-check generates
 * the scenarios, the runtime scheduler executes them on a virtual clock) and judges every
 * invariant on every state. A violation is shrunk to a minimal counterexample with a readable
 * trace; each refuted invariant is reported once, then the search goes on for the others.
 */
import fc from 'fast-check';
import type { Range } from '../language/index.js';
import type { InvariantIR, PlanIR } from '../compiler/index.js';
import { evaluate } from '../runtime/index.js';
import { BUILTIN, BUILTIN_NAMES } from './monitor.js';
import { runCase } from './run-case.js';
import { isApprovalStep, DEFAULT_FAIL_RATE, DEFAULT_MAX_LIST_SIZE, scenarioArbitrary, type ContextChange, type Scenario, type StepCancel } from './scenario.js';
import type { CaseResult, StateSnapshot, TraceEvent } from './trace.js';

export interface VerifyOptions {
  /** Scenarios to explore per search (default 200). */
  readonly runs?: number;
  /** Seed of the generator; the same seed gives the same result. Default: random (reported). */
  readonly seed?: number;
  /** Explore failures, timeouts and rejections (default true; `--no-failures` sets false). */
  readonly failures?: boolean;
  /** Failure probability of capabilities without `simulate … fail P%` (default 10%). */
  readonly defaultFailRate?: number;
  /** Largest generated list (and so `for each` fan-out); default 6. */
  readonly maxListSize?: number;
  /** Also explore a user cancelling one step at some moment (`orch cancel RUN --step`); default false. */
  readonly cancels?: boolean;
  /**
   * Runs of the plan explored at once against the same resource limits (`--concurrent-runs K`,
   * LANGUAGE.md §7.2); default 1. Each run has its own scenario.
   */
  readonly concurrentRuns?: number;
  /** fast-check counterexample path from an earlier result: replays that case directly. */
  readonly path?: string;
  /**
   * Check only this invariant (a user invariant's name or a built-in's). A counterexample found
   * after an earlier invariant broke was searched with the earlier ones left out, so its `--path`
   * replays it only with them left out again: the replay hint names its invariant.
   */
  readonly invariant?: string;
  /** Where each user invariant is declared, for editors (by invariant name). */
  readonly locate?: (invariantName: string) => { file: string; range: Range } | undefined;
}

export interface InvariantReport {
  readonly name: string;
  readonly builtin: boolean;
  /** `always`/`never`/`eventually` for user invariants; `always` for built-ins except termination. */
  readonly modality: InvariantIR['modality'];
  readonly status: 'holds' | 'violated';
  readonly file?: string;
  readonly range?: Range;
}

/** One non-default choice the environment made in the counterexample (all others succeeded). */
export interface ScenarioChoice {
  readonly step: string;
  readonly item: number | null;
  readonly attempt: number;
  readonly outcome: 'fail' | 'hang' | 'reject';
}

export interface Counterexample {
  readonly invariant: string;
  /** With `--concurrent-runs`: which run (1-based) broke it; its scenario is the one below. */
  readonly run?: number;
  readonly builtin: boolean;
  readonly message: string;
  readonly file?: string;
  readonly range?: Range;
  /** Replay with `--seed` (and `--path` to jump straight to this case). */
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
  readonly input: unknown;
  readonly context: { readonly [signal: string]: unknown };
  readonly contextChanges: readonly ContextChange[];
  /** Failures, hangs and rejections the scenario chose, in step order. */
  readonly choices: readonly ScenarioChoice[];
  /** Step cancellations that took effect before the invariant broke (`--cancels`). */
  readonly cancels: readonly StepCancel[];
  /** Events up to and including the one after which the invariant broke. */
  readonly trace: readonly TraceEvent[];
  readonly state: StateSnapshot;
}

export interface VerifyResult {
  readonly plan: string;
  readonly file: string;
  readonly ok: boolean;
  readonly seed: number;
  /** Scenarios executed while searching (shrinking not counted). */
  readonly runs: number;
  /** Distinct event sequences seen. */
  readonly paths: number;
  /** Distinct (step, final status) pairs seen, e.g. `send:completed`, `send:failed`. */
  readonly outcomes: number;
  readonly coverage: { readonly [stepId: string]: readonly string[] };
  /** Runs explored at once per case (`--concurrent-runs`). */
  readonly concurrentRuns: number;
  /**
   * With concurrent runs: step instances that were queued while their resource was full, across
   * the explored cases — the runs really competed for the shared slots.
   */
  readonly slotWaits: number;
  readonly invariants: readonly InvariantReport[];
  readonly violations: readonly Counterexample[];
}

/** What the caller asked cannot be verified (an invariant the plan does not have). */
export class VerifyUsageError extends Error {}

export async function verify(plan: PlanIR, options: VerifyOptions = {}): Promise<VerifyResult> {
  const runs = Math.max(1, Math.floor(options.runs ?? 200));
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const k = Math.max(1, Math.floor(options.concurrentRuns ?? 1));
  const one = scenarioArbitrary(
    plan,
    {
      failures: options.failures ?? true,
      defaultFailRate: options.defaultFailRate ?? DEFAULT_FAIL_RATE,
      maxListSize: options.maxListSize ?? DEFAULT_MAX_LIST_SIZE,
      cancels: options.cancels ?? false,
    },
    (expr) => evaluate(expr, { vars: {} }),
  );
  const scenarios = k === 1 ? one.map((s) => [s]) : fc.array(one, { minLength: k, maxLength: k });
  let slotWaits = 0;

  const only = options.invariant;
  const chosen = (name: string) => only === undefined || name === only;
  const userInvariants = plan.invariants.filter((i) => chosen(i.name));
  const builtins = applicableBuiltins(plan).filter(chosen);
  if (userInvariants.length === 0 && builtins.length === 0 && only !== undefined) {
    const names = [...plan.invariants.map((i) => i.name), ...applicableBuiltins(plan)];
    throw new VerifyUsageError(`plan ${plan.plan} has no invariant "${only}"${names.length ? ` (it has: ${names.join(', ')})` : ''}`);
  }
  let userLeft: readonly InvariantIR[] = userInvariants;
  const builtinsLeft = new Set(builtins);
  const violations: Counterexample[] = [];
  const paths = new Set<string>();
  const coverage = new Map<string, Set<string>>();
  let explored = 0;

  // One search per refuted invariant: the property is "none of the invariants still standing
  // breaks", so shrinking keeps a counterexample for one of them and the next search looks
  // for the others. Bounded by the number of invariants.
  for (let pass = 0; pass <= plan.invariants.length + BUILTIN_NAMES.length; pass++) {
    if (userLeft.length === 0 && builtinsLeft.size === 0) break;
    const monitorOptions = { invariants: userLeft, builtins: builtinsLeft };
    let exploring = true;
    const property = fc.asyncProperty(scenarios, async (scenario) => {
      const result = await runCase(plan, scenario, monitorOptions);
      if (exploring) {
        explored++;
        slotWaits += result.slotWaits;
        record(plan, result, paths, coverage);
        if (result.violation) exploring = false;
      }
      return result.violation === null;
    });
    const details = await fc.check(property, { seed, numRuns: runs, ...(options.path && pass === 0 ? { path: options.path } : {}) });
    if (!details.failed || !details.counterexample) break;
    const [cases] = details.counterexample;
    const result = await runCase(plan, cases, monitorOptions);
    const v = result.violation;
    const runNumber = result.brokenRun;
    const scenario = cases[runNumber - 1]!;
    if (!v) break; // cannot happen: runs are deterministic
    const where = v.builtin ? undefined : options.locate?.(v.invariant);
    const trace = result.trace().slice(0, v.eventIndex + 1);
    violations.push({
      invariant: v.invariant,
      ...(k > 1 ? { run: runNumber } : {}),
      builtin: v.builtin,
      message: v.message,
      ...(where ? { file: where.file, range: where.range } : {}),
      seed: details.seed,
      path: details.counterexamplePath ?? '',
      shrinks: details.numShrinks,
      input: scenario.input,
      context: scenario.context,
      contextChanges: scenario.contextChanges,
      choices: choicesOf(plan, scenario, trace),
      cancels: cancelsOf(scenario, trace),
      trace,
      state: v.state,
    });
    if (v.builtin) builtinsLeft.delete(v.invariant);
    else userLeft = userLeft.filter((i) => i.name !== v.invariant);
    if (options.path) break;
  }

  const violated = new Set(violations.map((v) => v.invariant));
  const invariants: InvariantReport[] = [
    ...userInvariants.map((inv) => {
      const where = options.locate?.(inv.name);
      return {
        name: inv.name,
        builtin: false,
        modality: inv.modality,
        status: violated.has(inv.name) ? ('violated' as const) : ('holds' as const),
        ...(where ? { file: where.file, range: where.range } : {}),
      };
    }),
    ...builtins.map((name) => ({
      name,
      builtin: true,
      modality: name === BUILTIN.terminates ? ('eventually' as const) : ('always' as const),
      status: violated.has(name) ? ('violated' as const) : ('holds' as const),
    })),
  ];
  const outcomes = [...coverage.values()].reduce((n, s) => n + s.size, 0);
  return {
    plan: plan.plan,
    file: plan.source_file,
    ok: violations.length === 0,
    seed,
    runs: explored,
    paths: paths.size,
    outcomes,
    coverage: Object.fromEntries([...coverage].map(([id, v]) => [id, [...v].sort()])),
    concurrentRuns: k,
    slotWaits,
    invariants,
    violations,
  };
}

/** Built-ins that say something about this plan (no budget → no budget invariant). */
export function applicableBuiltins(plan: PlanIR): string[] {
  return BUILTIN_NAMES.filter((name) => {
    if (name === BUILTIN.budget) return (plan.policy?.budgets.cost ?? null) !== null;
    if (name === BUILTIN.guardrails) return plan.guardrails.some((g) => g.severity === 'blocking');
    return true;
  });
}

function record(plan: PlanIR, result: CaseResult, paths: Set<string>, coverage: Map<string, Set<string>>): void {
  paths.add(result.path);
  for (const s of plan.steps) {
    const status = result.final.steps[s.id];
    if (!status) continue;
    let set = coverage.get(s.id);
    if (!set) coverage.set(s.id, (set = new Set()));
    set.add(status);
  }
}

/** The scenario's cancellations whose `step_cancelled` the trace shows (a late one changed nothing). */
function cancelsOf(scenario: Scenario, trace: readonly TraceEvent[]): StepCancel[] {
  return scenario.cancels.filter((c) => trace.some((e) => e.type === 'step_cancelled' && e.step === c.step && e.at_ms >= c.at_ms));
}

/**
 * The failures, hangs and rejections of the counterexample whose effect the trace shows (the
 * attempt ended before the invariant broke); every other attempt succeeded or did not matter.
 */
function choicesOf(plan: PlanIR, scenario: Scenario, trace: readonly TraceEvent[]): ScenarioChoice[] {
  const resolved = new Set<string>();
  const current = new Map<string, number>();
  for (const e of trace) {
    if (e.step === null) continue;
    const inst = `${e.step}|${e.item ?? 0}`;
    if (e.type === 'step_started') current.set(inst, e.attempt ?? 1);
    else if (e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_retried') {
      const attempt = current.get(inst);
      if (attempt !== undefined) resolved.add(`${inst}|${attempt - 1}`);
    }
  }
  const out: ScenarioChoice[] = [];
  for (const step of plan.steps) {
    const rows = scenario.outcomes[step.id];
    if (!rows) continue;
    const approval = isApprovalStep(step, plan);
    rows.forEach((row, item) =>
      row.attempts.forEach((kind, attempt) => {
        if (!resolved.has(`${step.id}|${item}|${attempt}`)) return;
        if (kind === 'ok') return;
        const outcome = approval && kind === 'fail' ? 'reject' : kind;
        out.push({ step: step.id, item: step.for_each ? item : null, attempt: attempt + 1, outcome });
      }),
    );
  }
  return out;
}
