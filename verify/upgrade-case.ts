/**
 * One case of `orch verify NEW --against OLD` (LANGUAGE.md §8.6): a run starts on OLD, is
 * upgraded to NEW at a chosen point when `orch upgrade` would accept it (the same pure check,
 * `checkUpgrade`), and goes on under NEW from the journal it had — resumed with the new IR, as
 * `orch upgrade` does. One monitor of NEW's invariants sees the whole run: it keeps its books on
 * the events before the upgrade (they followed OLD's rules) and judges every state from the
 * upgrade on (a state then includes all that happened before it).
 */
import type { PlanIR } from '../compiler/index.js';
import { baseId, checkUpgrade, makeEvent, replay, VirtualClock, type Run, type RunEvent, type RunReader, type UpgradeReason } from '../runtime/index.js';
import { CaseMonitor, type MonitorOptions } from './monitor.js';
import { isOver, MAX_TIMER_FIRINGS, ROOT_RUN, startRun, stuckMessage } from './run-case.js';
import type { Scenario } from './scenario.js';
import type { CaseResult } from './trace.js';

/** Per mille of OLD's turns (clock firings) after which the upgrade happens. */
export const UPGRADE_POINTS = 1000;

export interface UpgradeCase {
  /** Input, context, changes, cancels, and the outcomes of NEW's steps after the upgrade. */
  readonly scenario: Scenario;
  /** Outcomes of OLD's steps before the upgrade. */
  readonly old: Scenario['outcomes'];
  /** 0 … UPGRADE_POINTS: how far into OLD's run (its turns) the upgrade happens. */
  readonly at: number;
}

/** Where a run was upgraded: what a counterexample names. */
export interface UpgradePoint {
  /** Index in the trace of the `plan_upgraded` event (the events before it ran under OLD). */
  readonly event: number;
  /** Virtual milliseconds since the run started. */
  readonly at_ms: number;
  /** OLD's turns (clock firings) before the upgrade. */
  readonly turns: number;
  /** Steps (base ids) with a completed instance at the upgrade. */
  readonly completed: readonly string[];
  /** Instances in flight at the upgrade (they go on under NEW). */
  readonly running: readonly string[];
  readonly from_hash: string;
  readonly to_hash: string;
}

export type UpgradeCaseResult =
  | { readonly kind: 'upgraded'; readonly result: CaseResult; readonly point: UpgradePoint }
  /** `orch upgrade` would refuse at this point: nothing to check (counted, not a failure). */
  | { readonly kind: 'refused'; readonly reasons: readonly UpgradeReason[] }
  /** OLD's run ended before it did anything (no point to upgrade at). */
  | { readonly kind: 'finished' };

/** A reader that follows the run in force: OLD's until the upgrade, NEW's after it. */
class CurrentRun implements RunReader {
  run!: Run;
  get runId() {
    return this.run.runId;
  }
  get plan() {
    return this.run.plan;
  }
  status() {
    return this.run.status();
  }
  stepView(id: string) {
    return this.run.stepView(id);
  }
  blockView(id: string) {
    return this.run.blockView(id);
  }
  viewFrom(key: string, id: string) {
    return this.run.viewFrom(key, id);
  }
  running() {
    return this.run.running();
  }
  actuals() {
    return this.run.actuals();
  }
  context() {
    return this.run.context();
  }
  input() {
    return this.run.input();
  }
}

/** Fires the clock's timers one at a time until `stop` says so, every run is over, or nothing is left. */
async function drive(clock: VirtualClock, run: Run, subplans: boolean, limit: number): Promise<{ fired: number; stuck: string | null }> {
  let fired = 0;
  for (;;) {
    while (fired < limit && !isOver(run) && clock.step()) {
      fired++;
      // Sub-plan runs report back through promises: let them land before time moves on.
      if (subplans) for (let i = 0; i < 4; i++) await Promise.resolve();
    }
    if (isOver(run) || fired >= limit) return { fired, stuck: null };
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (clock.pending() > 0) continue;
    return { fired, stuck: stuckMessage(run) };
  }
}

const phaseScenario = (c: UpgradeCase, outcomes: Scenario['outcomes']): Scenario => ({ ...c.scenario, outcomes });

export async function runUpgradeCase(oldPlan: PlanIR, newPlan: PlanIR, c: UpgradeCase, options: MonitorOptions): Promise<UpgradeCaseResult> {
  const subplans = Object.keys(oldPlan.subplans).length + Object.keys(newPlan.subplans).length > 0;
  // Under OLD its own outcomes win; under NEW, NEW's (steps only one version has keep theirs).
  const before = phaseScenario(c, { ...c.scenario.outcomes, ...c.old });
  const after = phaseScenario(c, { ...c.old, ...c.scenario.outcomes });

  // How many turns OLD takes on its own: the upgrade point is a share of them.
  const probe = new VirtualClock(0);
  const alone = startRun(oldPlan, before, { invariants: [], builtins: new Set() }, probe, ROOT_RUN, null, undefined);
  const total = (await drive(probe, alone.run, subplans, MAX_TIMER_FIRINGS)).fired;
  const turns = Math.min(total - 1, Math.floor((c.at / UPGRADE_POINTS) * total));
  if (turns < 0) return { kind: 'finished' };

  // OLD up to the point, watched by NEW's monitor keeping its books only.
  const monitor = new CaseMonitor(newPlan, options);
  monitor.muteUntilUpgrade();
  const journal: RunEvent[] = [];
  const fired = { changes: new Set<number>(), cancels: new Set<number>() };
  const clock1 = new VirtualClock(0);
  const reader = new CurrentRun();
  const follow = (run: Run) => (reader.run = run);
  const first = startRun(oldPlan, before, options, clock1, ROOT_RUN, null, undefined, { monitor, reader, onRun: follow, fired, record: (e) => journal.push(e) });
  await drive(clock1, first.run, subplans, turns);
  if (first.observerError()) throw first.observerError();
  const restored = replay(journal);
  const check = checkUpgrade(oldPlan, newPlan, restored);
  if (!check.compatible) return { kind: 'refused', reasons: check.reasons };

  // The journal `orch upgrade` leaves, and the run resumed from it under NEW.
  const last = journal[journal.length - 1];
  const at = clock1.now();
  const upgraded = makeEvent(ROOT_RUN, (last?.seq ?? 0) + 1, at, 'plan_upgraded', null, { from_hash: check.fromHash, to_hash: check.toHash, changes: check.changes });
  const resumedFrom = replay([...journal, upgraded]);
  const running = [...resumedFrom.steps].filter(([, s]) => s.inFlight).map(([k]) => k);
  const calls = new Map(running.map((k) => [k, 1]));
  const completed = [...new Set([...resumedFrom.steps].filter(([, s]) => s.status === 'completed').map(([k]) => baseId(k)))];
  const clock2 = new VirtualClock(at);
  const point: UpgradePoint = { event: journal.length, at_ms: at - (journal[0]?.ts ?? 0), turns, completed, running, from_hash: check.fromHash, to_hash: check.toHash };
  const second = startRun(newPlan, after, options, clock2, ROOT_RUN, null, undefined, {
    monitor,
    reader,
    onRun: follow,
    restored: resumedFrom,
    recovered: new Set(running),
    attemptShift: calls,
    fired,
    beforeFirst: () => {
      monitor.judgeFromHere(running);
      monitor.observe(upgraded, reader);
    },
  });
  const { stuck } = await drive(clock2, second.run, subplans, MAX_TIMER_FIRINGS);
  if (second.observerError()) throw second.observerError();
  const over = isOver(second.run);
  const result = monitor.finish(reader, over, over ? null : (stuck ?? `still ${second.run.status()} after ${MAX_TIMER_FIRINGS} timer firings (an endless retry or wait loop)`));
  return { kind: 'upgraded', result, point };
}
