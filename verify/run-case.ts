/**
 * Executes one scenario with the runtime's own scheduler (`runtime/scheduler`, the code `orch
 * run` uses) on a virtual clock: no worker threads, no sleeping. Handlers are simulated by the
 * scenario, approvals are answered through `signal` like a human would, context changes arrive
 * through `updateContext`. The monitor watches every transition through the observer hook.
 */
import type { PlanIR } from '../compiler/index.js';
import { derivedReader, eventAttempt, hasDerived, hasHold, recordOf, REDACTED, type SignalRead } from '../runtime/index.js';
import { InProcessLimits, neededScopes, Run, VirtualClock, type LimitsProvider, type replay, type RunEvent, type RunReader } from '../runtime/index.js';

type RestoredRun = ReturnType<typeof replay>;
import { CaseMonitor, SharedResourceLoad, type MonitorOptions, type SharedRuns } from './monitor.js';
import { isApprovalStep, outcomeOf, type Scenario } from './scenario.js';
import { scenarioContext, type ScenarioContext } from './scenario-context.js';
import { SimulatedExecutor } from './simulated-executor.js';
import { simulatedPeople } from './simulated-people.js';
import { parseInstance, type CaseResult } from './trace.js';

/** Timer firings after which a run counts as not terminating (a retry or re-arm loop). */
export const MAX_TIMER_FIRINGS = 200_000;
export const ROOT_RUN = 'verify';

export interface CaseOptions {
  /**
   * Who keeps the resource slots and rate windows of the K simultaneous runs; by default one
   * `InProcessLimits` they all share (what `orch run` processes sharing a journal do).
   */
  readonly limits?: LimitsProvider;
}

/**
 * One case: the scenarios run at once on one virtual clock (one scenario: one run; K: the K runs
 * of `--concurrent-runs`, sharing resource limits). The first violation in any run is the case's;
 * its trace is that run's events.
 */
export async function runCase(plan: PlanIR, scenarios: readonly Scenario[], options: MonitorOptions, caseOptions: CaseOptions = {}): Promise<CaseResult & { slotWaits: number; brokenRun: number }> {
  const clock = new VirtualClock(0);
  const concurrent = scenarios.length > 1;
  const load = new SharedResourceLoad();
  const limits = caseOptions.limits ?? (concurrent ? new InProcessLimits() : undefined);
  const cases = scenarios.map((scenario, i) => startRun(plan, scenario, options, clock, concurrent ? `${ROOT_RUN}-${i + 1}` : ROOT_RUN, concurrent ? { run: i + 1, load } : null, limits));
  const runs = cases.map((c) => c.run);

  let fired = 0;
  let stuckReason: string | null = null;
  const subplans = Object.keys(plan.subplans).length > 0;
  const allOver = (): boolean => runs.every(isOver);
  for (;;) {
    if (subplans) {
      // A sub-plan run reports back through a promise: let it land before time moves on, or
      // the parent would see its deadline pass before a child that finished in time.
      while (fired < MAX_TIMER_FIRINGS && !allOver() && clock.step()) {
        fired++;
        for (let i = 0; i < 4; i++) await Promise.resolve();
      }
    } else {
      fired += clock.runAll(MAX_TIMER_FIRINGS - fired);
    }
    if (allOver()) break;
    if (fired >= MAX_TIMER_FIRINGS) {
      const run = runs.find((r) => !isOver(r))!;
      stuckReason = `still ${run.status()} after ${MAX_TIMER_FIRINGS} timer firings (an endless retry or wait loop)`;
      break;
    }
    // Sub-plan runs report back through promises: give them a turn before calling it stuck.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (clock.pending() > 0 || allOver()) continue;
    stuckReason = stuckMessage(runs.find((r) => !isOver(r))!);
    break;
  }
  for (const c of cases) if (c.observerError()) throw new Error(`verifier error while observing the run: ${(c.observerError() as Error).message ?? String(c.observerError())}`);
  const results = cases.map((c) => c.monitor.finish(c.run, isOver(c.run), isOver(c.run) ? null : stuckReason));
  // The violation that happened first (by virtual time); run order breaks ties.
  const broken = results.filter((r) => r.violation !== null).sort((a, b) => a.violation!.state.at_ms - b.violation!.state.at_ms)[0];
  const first = broken ?? results[0]!;
  return { ...first, path: results.map((r) => r.path).join('|'), slotWaits: load.slotWaits, brokenRun: results.indexOf(first) + 1 };
}

export interface StartedRun {
  readonly run: Run;
  readonly monitor: CaseMonitor;
  observerError(): unknown;
}

/**
 * How `orch verify NEW --against OLD` continues a run under another version (verify/upgrade-case.ts):
 * the monitor and reader that span both versions, the journal to resume from, and what already
 * happened before the upgrade (context changes and cancellations that fired are not repeated).
 */
export interface RunSetup {
  readonly monitor?: CaseMonitor;
  /** What the monitor reads the state from (one reader across both versions). */
  readonly reader?: RunReader;
  readonly restored?: RestoredRun;
  /** Instances in flight at the upgrade: the simulated executor still answers them. */
  readonly recovered?: ReadonlySet<string>;
  /** Attempt offsets of recovered instances (their in-flight attempt answers the next one). */
  readonly attemptShift?: ReadonlyMap<string, number>;
  /** Indexes of the scenario's context changes and cancels that already happened. */
  readonly fired?: { readonly changes: Set<number>; readonly cancels: Set<number> };
  /** Every event of the run under test, as the journal would hold it. */
  readonly record?: (event: RunEvent) => void;
  /** The run, once built and before it begins (the reader that spans both versions follows it). */
  readonly onRun?: (run: Run) => void;
  /** Before the run's first event reaches the monitor (the upgrade is announced there). */
  readonly beforeFirst?: () => void;
}

export function startRun(
  plan: PlanIR,
  scenario: Scenario,
  options: MonitorOptions,
  clock: VirtualClock,
  rootRun: string,
  shared: SharedRuns | null,
  limits: LimitsProvider | undefined,
  setup: RunSetup = {},
): StartedRun {
  const monitor = setup.monitor ?? new CaseMonitor(plan, options, shared);
  // §8.8: who starts the run and answers its approvals, when the plan's approvals are bound to people.
  const people = simulatedPeople(plan);
  let run: Run | null = null;
  const approver = simulatedApprover(plan, scenario, clock, rootRun, people, () => run);

  let first = true;
  let observerError: unknown = null;
  const observe = (event: RunEvent, reader: RunReader): void => {
    // Sub-plan runs share the deps (and so this observer); only the plan under test is judged,
    // but their approvals still need an answer.
    if (event.runId !== rootRun) {
      if (event.type === 'step_started' && event.stepId !== null) approver.inSubplan(event, reader);
      return;
    }
    try {
      setup.record?.(event);
      if (first) {
        first = false;
        setup.beforeFirst?.();
      }
      monitor.observe(event, setup.reader ?? reader);
      if (event.type === 'step_started' && event.stepId !== null) approver.answer(event);
    } catch (err) {
      // Thrown inside the scheduler it would read as a failed run; report it as what it is.
      observerError ??= err;
    }
  };

  const staleness = scenarioStaleness(scenario, clock);
  // A hold needs its expression's history: the derived signals come from a context store fed the scenario's messages.
  const held = hasHold(plan.context_signals)
    ? scenarioContext(plan, clock, scenario.context, new Map([...staleness.stale, ...staleness.staleAt]), () => run, scenario.contextChanges.filter((_, i) => setup.fired?.changes.has(i)))
    : null;
  run = new Run(
    plan,
    {
      clock,
      executor: new SimulatedExecutor(clock, scenario, rootRun, setup.attemptShift),
      observe,
      // Jitter at its midpoint keeps runs reproducible; secrets are never needed by simulated
      // handlers, so every one resolves to the redaction marker.
      random: () => 0.5,
      secret: () => REDACTED,
      // §9.4: a signal the scenario lets go stale reads as stale from then on (the run's own context otherwise).
      // A derived one is computed from what it reads.
      ...(staleness.staleAt.size > 0 || staleness.stale.size > 0 || hasDerived(plan.context_signals)
        ? { signal: (name: string) => readScenarioSignal(plan, run, staleness.stale, name, clock.now(), held) }
        : {}),
      ...(limits ? { limits } : {}),
    },
    // Every consent scope the plan may need is granted: verify explores what the plan does when
    // it runs, and a run refused for consent (`consent_denied`, before any step) would hide it.
    {
      runId: rootRun,
      input: scenario.input,
      context: staleness.startContext,
      consent: neededScopes(plan),
      ...(people ? { startedBy: recordOf(people.starter) } : {}),
      ...(setup.restored ? { restored: setup.restored } : {}),
      ...(setup.recovered ? { recovered: setup.recovered } : {}),
    },
  );
  scheduleScenario(run, scenario, clock, staleness, setup.fired, held);
  setup.onRun?.(run);
  run.begin();
  return { run, monitor, observerError: () => observerError };
}

/**
 * The simulated humans: an approval of the plan under test is answered after the scenario's
 * latency as its outcome says (never, for a `hang`), by each person who may decide when the plan
 * is bound to people; approvals inside sub-plans are granted (the scenario models the plan under
 * test only).
 */
function simulatedApprover(plan: PlanIR, scenario: Scenario, clock: VirtualClock, rootRun: string, people: ReturnType<typeof simulatedPeople>, runOf: () => Run | null) {
  const approvalSteps = new Set(plan.steps.filter((s) => isApprovalStep(s, plan)).map((s) => s.id));
  return {
    answer(event: RunEvent): void {
      const { step, item } = parseInstance(event.stepId!);
      if (!approvalSteps.has(step)) return;
      const attempt = eventAttempt(event) ?? 1;
      const outcome = outcomeOf(scenario, step, item ?? 0, attempt - 1);
      if (outcome?.kind === 'hang') return;
      const decision = outcome === undefined || outcome.kind === 'ok' ? 'approve' : 'reject';
      const key = event.stepId!;
      clock.setTimer(outcome ? outcome.latency_ms : 1, () => {
        const run = runOf();
        if (!people) return void run?.signal(key, decision, 'simulated approver');
        // Each person who may decide does, the starter first, until the step is decided.
        const stepIr = plan.steps.find((s) => s.id === step)!;
        for (const who of people.deciders(stepIr)) {
          if (!run || run.decisionRefusal(key, decision, who) !== null) continue;
          run.signal(key, decision, null, null, who);
          // The core decides at once: a step still waiting refuses the same person again, a decided one no longer asks.
          if (decision === 'reject' || run.decisionRefusal(key, decision, who) === null) break;
        }
      });
    },
    inSubplan(event: RunEvent, reader: RunReader): void {
      const step = reader.plan.steps.find((s) => s.id === parseInstance(event.stepId!).step);
      if (!step || !isApprovalStep(step, reader.plan)) return;
      // Signals reach a child through its parent: `verify/summary` + `approve` → `summary/approve`.
      const key = `${event.runId.slice(rootRun.length + 1)}/${event.stepId}`;
      clock.setTimer(1, () => runOf()?.signal(key, 'approve', 'simulated approver'));
    },
  };
}

/** Signals gone stale (`simulate context`), with when; a change to one after that is not a message that came. */
interface Staleness {
  readonly stale: Map<string, number>;
  /** Signals that go stale later, with when. */
  readonly staleAt: Map<string, number>;
  /** The run's context at its start: the scenario's, without the signals stale from the start. */
  readonly startContext: Record<string, unknown>;
}

function scenarioStaleness(scenario: Scenario, clock: VirtualClock): Staleness {
  const stale = new Map<string, number>();
  const staleAt = new Map((scenario.stale ?? []).map((s) => [s.signal, s.at_ms]));
  const startContext: Record<string, unknown> = { ...scenario.context };
  // Stale from the start: the run never sees its value.
  for (const [signal, at] of staleAt)
    if (at <= clock.now()) {
      stale.set(signal, at);
      staleAt.delete(signal);
      delete startContext[signal];
    }
  return { stale, staleAt, startContext };
}

/** The scenario's context changes, signals going stale and the user's step cancels, as timers on the virtual clock. */
function scheduleScenario(run: Run, scenario: Scenario, clock: VirtualClock, { stale, staleAt }: Staleness, fired: RunSetup['fired'], held: ScenarioContext | null): void {
  // Scenario times are from the run's start (time 0); a resumed run's clock starts later.
  const after = (at: number) => Math.max(0, at - clock.now());
  scenario.contextChanges.forEach((change, i) => {
    if (fired?.changes.has(i)) return;
    clock.setTimer(after(change.at_ms), () => {
      fired?.changes.add(i);
      if (stale.has(change.signal)) return;
      run.updateContext({ [change.signal]: change.value });
      held?.set(change.signal, change.value);
    });
  });
  // As `orch serve` tells its runs: the signal is null to the run's own context from then on.
  for (const [signal, at] of staleAt)
    clock.setTimer(after(at), () => {
      stale.set(signal, clock.now());
      run.updateContext({ [signal]: null });
    });
  // A user's `orch cancel RUN --step STEP`; refused once the step (or the run) has finished,
  // which is then simply a cancellation that came too late.
  scenario.cancels.forEach((cancel, i) => {
    if (fired?.cancels.has(i)) return;
    clock.setTimer(after(cancel.at_ms), () => {
      fired?.cancels.add(i);
      run.cancelStep(cancel.step, 'cancelled by the simulated user');
    });
  });
}

export function isOver(run: Run): boolean {
  const s = run.status();
  return s !== 'running' && s !== 'paused';
}

export function stuckMessage(run: Run): string {
  const running = run.running();
  if (running.length > 0) {
    // A sub-plan step waits on what its run waits on: its approvals named as `orch approve` takes them (`sub/ok`).
    const inner = run.approvalsWaiting();
    const waiting = running.map((k) => {
      const approvals = inner.filter((a) => a.startsWith(`${k}/`));
      return approvals.length > 0 ? `${k} waits for the approval${approvals.length === 1 ? '' : 's'} ${approvals.join(', ')}` : null;
    });
    const plain = running.filter((_, i) => waiting[i] === null);
    const parts = [...(plain.length > 0 ? [`${plain.join(', ')} ${plain.length === 1 ? 'waits' : 'wait'}`] : []), ...waiting.filter((w): w is string => w !== null)];
    return `the run is stuck: nothing can happen any more while ${parts.join(', ')} (no timeout)`;
  }
  // A queued step whose resource no signal will bring back (§9.4) waits too: name it and why.
  const forResource = run.resourceWaits().map((w) => `${w.key} waits for a resource (${w.why})`);
  return forResource.length > 0 ? `the run is stuck: nothing can happen any more while ${forResource.join(', ')}` : 'the run is stuck: no step can start and nothing is running';
}

/** A signal as the run reads it in verify: stale (with an age past its `max_age`) once gone stale, else the run's context; a derived one computed from those (by the store, where a hold needs history). */
function readScenarioSignal(plan: PlanIR, run: Run | null, stale: ReadonlyMap<string, number>, name: string, now: number, held: ScenarioContext | null): SignalRead {
  if (held && plan.context_signals?.[name]?.derived) return held.read(name);
  return derivedReader(plan.context_signals ?? {}, (n) => plainScenarioSignal(plan, run, stale, n, now), () => now)(name);
}

function plainScenarioSignal(plan: PlanIR, run: Run | null, stale: ReadonlyMap<string, number>, name: string, now: number): SignalRead {
  const max = plan.context_signals?.[name]?.max_age_ms ?? null;
  const since = stale.get(name);
  // Without a max_age a signal never goes stale: one whose source is silent was never set.
  if (since !== undefined) return max === null ? { value: null, state: 'never_set', age_ms: null, max_age_ms: null } : { value: null, state: 'stale', age_ms: max + 1 + (now - since), max_age_ms: max, set_at: since - max - 1 };
  const v = run?.context()[name];
  return v === undefined || v === null ? { value: null, state: 'never_set', age_ms: null, max_age_ms: max } : { value: v, state: 'fresh', age_ms: 0, max_age_ms: max };
}
