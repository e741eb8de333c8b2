/**
 * `verify(plan, options)`: explores many simulated executions of a plan (fast-check generates
 * the scenarios, the runtime scheduler executes them on a virtual clock) and judges every
 * invariant on every state. A violation is shrunk to a minimal counterexample with a readable
 * trace; each refuted invariant is reported once, then the search goes on for the others.
 */
import fc from 'fast-check';
import type { Range } from '../language/index.js';
import { irHash, type InvariantIR, type PlanIR } from '../compiler/index.js';
import { evaluate } from '../runtime/index.js';
import { BUILTIN, BUILTIN_NAMES, type MonitorOptions } from './monitor.js';
import { runCase } from './run-case.js';
import { runUpgradeCase, UPGRADE_POINTS, type UpgradeCase, type UpgradePoint } from './upgrade-case.js';
import { isApprovalStep, DEFAULT_FAIL_RATE, DEFAULT_MAX_LIST_SIZE, scenarioArbitrary, type ContextChange, type GoneStale, type Scenario, type StepCancel } from './scenario.js';
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
  /**
   * `orch verify NEW --against OLD` (LANGUAGE.md §8.6): the plan under test is NEW; each explored
   * run starts on this OLD version and is upgraded to NEW at a random point where `orch upgrade`
   * would accept it. One run at a time (`concurrentRuns` must be 1).
   */
  readonly against?: PlanIR;
  /**
   * Told after each explored scenario, for a caller's progress display (`orch verify` in a
   * terminal): the search may take minutes with a large `runs`.
   */
  readonly onProgress?: (progress: VerifyProgress) => void;
}

/** How far one plan's search has come. */
export interface VerifyProgress {
  readonly plan: string;
  /** Scenarios the current search has explored, of at most `runs`; a search follows each refuted invariant. */
  readonly explored: number;
  readonly runs: number;
  /** Invariants found violated so far. */
  readonly violations: number;
}

/** What `--against` explored besides the invariants: how often the upgrade happened. */
export interface UpgradeSummary {
  /** OLD's source file (or IR file) and the two versions' IR hashes. */
  readonly against: string;
  readonly from_hash: string;
  readonly to_hash: string;
  /** Runs upgraded to NEW and checked (during the search, shrinking not counted). */
  readonly upgraded: number;
  /** Upgrade points `orch upgrade` refused as incompatible: counted, not failures. */
  readonly refused: number;
  /** Runs of OLD that ended before they had a point to upgrade at. */
  readonly ended: number;
  /** Why points were refused: each distinct reason with how often. */
  readonly reasons: readonly { readonly step: string | null; readonly reason: string; readonly count: number }[];
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
  /** §9.4: the signals that had gone stale when the invariant broke (`simulate context`), with when. */
  readonly stale: readonly GoneStale[];
  /** Events up to and including the one after which the invariant broke. */
  readonly trace: readonly TraceEvent[];
  readonly state: StateSnapshot;
  /** With `--against`: where the run moved from OLD to NEW (`trace[upgrade.event]` is `plan_upgraded`). */
  readonly upgrade?: UpgradePoint;
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
  /** With `--against`: the upgrades explored. */
  readonly upgrades?: UpgradeSummary;
}

/** One explored case as the search sees it: null when there was nothing to judge. */
interface JudgedCase {
  readonly result: CaseResult;
  readonly slotWaits: number;
  /** The run (1-based) the violation is in, and its scenario. */
  readonly brokenRun: number;
  readonly scenario: Scenario;
  readonly upgrade?: UpgradePoint;
}

/** Cases explored per plan when the caller names no number (`orch verify --runs`). */
export const DEFAULT_RUNS = 200;

/** What the caller asked cannot be verified (an invariant the plan does not have). */
export class VerifyUsageError extends Error {}

/** How long the search may hold the thread before it gives way (ms). */
const SLICE_MS = 20;
let sliceStart = Date.now();

/**
 * Lets the process's other work run every SLICE_MS: the scenarios run on virtual clocks, so a long
 * search never waits on a timer, and a server calling `verify` (`orch mcp serve`, the language
 * server) would answer nothing else until it ended.
 */
async function giveWay(): Promise<void> {
  if (Date.now() - sliceStart < SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStart = Date.now();
}

/** Counts what the `--against` search met: upgraded runs, refused points (by reason), runs that ended first. */
class UpgradeTally {
  upgraded = 0;
  refused = 0;
  ended = 0;
  private readonly reasons = new Map<string, { step: string | null; reason: string; count: number }>();

  count(u: Awaited<ReturnType<typeof runUpgradeCase>>): void {
    if (u.kind === 'upgraded') this.upgraded++;
    else if (u.kind === 'finished') this.ended++;
    else {
      this.refused++;
      for (const r of u.reasons) {
        const key = `${r.step ?? ''}\u0000${r.reason}`;
        const seen = this.reasons.get(key) ?? { step: r.step, reason: r.reason, count: 0 };
        seen.count++;
        this.reasons.set(key, seen);
      }
    }
  }

  summary(old: PlanIR, plan: PlanIR): UpgradeSummary {
    return {
      against: old.source_file,
      from_hash: irHash(old),
      to_hash: irHash(plan),
      upgraded: this.upgraded,
      refused: this.refused,
      ended: this.ended,
      reasons: [...this.reasons.values()].sort((a, b) => b.count - a.count),
    };
  }
}

type Case = readonly Scenario[] | UpgradeCase;

/** The cases the search draws: one scenario, K concurrent ones, or an OLD run upgraded at a point. */
function casesOf(plan: PlanIR, options: VerifyOptions, k: number): fc.Arbitrary<Case> {
  const scenarioOptions = {
    failures: options.failures ?? true,
    defaultFailRate: options.defaultFailRate ?? DEFAULT_FAIL_RATE,
    maxListSize: options.maxListSize ?? DEFAULT_MAX_LIST_SIZE,
    cancels: options.cancels ?? false,
  };
  const arbitrary = (p: PlanIR) => scenarioArbitrary(p, scenarioOptions, (expr) => evaluate(expr, { vars: {} }));
  const one = arbitrary(plan);
  const old = options.against;
  if (old)
    return fc.record({
      scenario: one,
      old: arbitrary(old).map((s) => s.outcomes),
      at: fc.integer({ min: 0, max: UPGRADE_POINTS }),
    });
  return k === 1 ? one.map((s) => [s]) : fc.array(one, { minLength: k, maxLength: k });
}

/** The report of one refuted invariant, from the shrunk case that broke it. */
function counterexampleOf(
  plan: PlanIR,
  judged: JudgedCase,
  v: NonNullable<CaseResult['violation']>,
  details: fc.RunDetails<[Case]>,
  k: number,
  locate: VerifyOptions['locate'],
): Counterexample {
  const { result, scenario } = judged;
  const where = v.builtin ? undefined : locate?.(v.invariant);
  const trace = result.trace().slice(0, v.eventIndex + 1);
  return {
    invariant: v.invariant,
    ...(k > 1 ? { run: judged.brokenRun } : {}),
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
    stale: (scenario.stale ?? []).filter((s) => s.at_ms <= v.state.at_ms),
    trace,
    state: v.state,
    ...(judged.upgrade ? { upgrade: judged.upgrade } : {}),
  };
}

export async function verify(plan: PlanIR, options: VerifyOptions = {}): Promise<VerifyResult> {
  const runs = Math.max(1, Math.floor(options.runs ?? DEFAULT_RUNS));
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const k = Math.max(1, Math.floor(options.concurrentRuns ?? 1));
  const old = options.against;
  if (old && k > 1) throw new VerifyUsageError('--against explores one run at a time: leave out --concurrent-runs');
  // fast-check takes any string as a path: a malformed one throws its own error and one that
  // leads nowhere under this seed runs no case at all, which would read as "ok".
  if (options.path && !/^\d+(:\d+)*$/.test(options.path)) {
    throw new VerifyUsageError(`--path "${options.path}" is not a counterexample path (numbers joined by ':', as printed next to a counterexample)`);
  }
  const cases = casesOf(plan, options, k);
  let slotWaits = 0;
  const upgrades = new UpgradeTally();
  // Only the search's cases are counted, not fast-check's shrinking nor the replay of the one found.
  let counting = true;
  const judge = async (c: Case, monitorOptions: MonitorOptions): Promise<JudgedCase | null> => {
    await giveWay();
    if (isScenarioList(c)) {
      const r = await runCase(plan, c, monitorOptions);
      return { result: r, slotWaits: r.slotWaits, brokenRun: r.brokenRun, scenario: c[r.brokenRun - 1]! };
    }
    const u = await runUpgradeCase(old!, plan, c, monitorOptions);
    if (counting) upgrades.count(u);
    return u.kind === 'upgraded' ? { result: u.result, slotWaits: 0, brokenRun: 1, scenario: c.scenario, upgrade: u.point } : null;
  };

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
    let searched = 0;
    const property = fc.asyncProperty(cases, async (c) => {
      const judged = await judge(c, monitorOptions);
      if (exploring) {
        explored++;
        options.onProgress?.({ plan: plan.plan, explored: ++searched, runs, violations: violations.length });
      }
      if (!judged) return true;
      const { result } = judged;
      if (exploring) {
        slotWaits += judged.slotWaits;
        record(plan, result, paths, coverage);
        if (result.violation) exploring = false;
      }
      return result.violation === null;
    });
    counting = true;
    let details: fc.RunDetails<[Case]>;
    try {
      // fast-check throws (before its promise) for a path that leads nowhere under this seed.
      details = await fc.check(property, { seed, numRuns: runs, ...(options.path && pass === 0 ? { path: options.path } : {}) });
    } catch (err) {
      if (options.path && err instanceof Error && err.message.startsWith('Unable to replay')) throw noCaseAt(options.path, seed, plan);
      throw err;
    }
    counting = false;
    if (!details.failed || !details.counterexample) break;
    const judged = await judge(details.counterexample[0], monitorOptions);
    const v = judged?.result.violation;
    if (!judged || !v) break; // cannot happen: runs are deterministic
    violations.push(counterexampleOf(plan, judged, v, details, k, options.locate));
    if (v.builtin) builtinsLeft.delete(v.invariant);
    else userLeft = userLeft.filter((i) => i.name !== v.invariant);
    if (options.path) break;
  }
  if (options.path && explored === 0) throw noCaseAt(options.path, seed, plan);

  const invariants = invariantReports(userInvariants, builtins, violations, options.locate);
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
    ...(old ? { upgrades: upgrades.summary(old, plan) } : {}),
  };
}

function noCaseAt(path: string, seed: number, plan: PlanIR): VerifyUsageError {
  return new VerifyUsageError(
    `--path ${path} names no case of seed ${seed} for plan ${plan.plan}: replay with the --seed, --plan and flags printed next to the counterexample`,
  );
}

/** Each invariant checked — the plan's own, then the built-ins — and whether a violation was found. */
function invariantReports(
  userInvariants: readonly InvariantIR[],
  builtins: readonly string[],
  violations: readonly Counterexample[],
  locate: VerifyOptions['locate'],
): InvariantReport[] {
  const violated = new Set(violations.map((v) => v.invariant));
  return [
    ...userInvariants.map((inv) => {
      const where = locate?.(inv.name);
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
}

function isScenarioList(c: readonly Scenario[] | UpgradeCase): c is readonly Scenario[] {
  return Array.isArray(c);
}

/**
 * Built-ins that say something about this plan (no budget → no budget invariant). A `warn` cost
 * budget lets the run go past it (LANGUAGE.md §7.2), so only a blocking one is a promise to check.
 */
export function applicableBuiltins(plan: PlanIR): string[] {
  return BUILTIN_NAMES.filter((name) => {
    if (name === BUILTIN.budget) return (plan.policy?.budgets.cost ?? null) !== null && plan.policy?.budgets.cost_warn !== true;
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
