/**
 * `orch test --coverage` (LANGUAGE.md §9.2): the outcomes a plan can have — each step run, each
 * `when` seen true and false, each approval approved and rejected, retries exhausted, fallbacks
 * taken, compensations run, loops left by their condition and by `max` (§9.2's list, whose share
 * `--coverage-min` judges: an approval timing out is none of them) — and which of them the tests
 * saw. A test records the outcome keys its run showed (`OutcomeRecorder`, fed the run's events),
 * and those of every sub-plan run it reached (`SubplanOutcomes`); the report merges them per plan.
 */
import type { PlanIR, StepIR } from '../../compiler/index.js';
import type { RunEvent, RunReader } from '../../runtime/index.js';
import { isApprovalStep } from '../scenario.js';
import { parseInstance } from '../trace.js';

export type OutcomeKind = 'step' | 'when' | 'approval' | 'retries' | 'fallback' | 'compensation' | 'loop';

export interface Outcome {
  readonly kind: OutcomeKind;
  /** The step's id (a loop's block id for `loop`). */
  readonly step: string;
  /** `ran`; `true`/`false`; `approved`/`rejected`; `exhausted`; `taken`; `run`; `until`/`max`. */
  readonly outcome: string;
}

export function outcomeKey(o: Outcome): string {
  return `${o.kind}:${o.step}:${o.outcome}`;
}

/** Every outcome the plan can show, in step order. */
export function planOutcomes(plan: PlanIR): Outcome[] {
  const out: Outcome[] = [];
  for (const s of plan.steps) {
    const add = (kind: OutcomeKind, outcome: string) => out.push({ kind, step: s.id, outcome });
    add('step', 'ran');
    if (s.when) {
      add('when', 'true');
      add('when', 'false');
    }
    const approval = isApprovalStep(s, plan);
    if (approval) {
      add('approval', 'approved');
      add('approval', 'rejected');
    } else if (retriesOf(s) > 0) add('retries', 'exhausted');
    if (s.fallback) add('fallback', 'taken');
    if (s.compensate) add('compensation', 'run');
  }
  for (const b of plan.blocks ?? []) {
    if (b.type !== 'repeat') continue;
    out.push({ kind: 'loop', step: b.id, outcome: 'until' }, { kind: 'loop', step: b.id, outcome: 'max' });
  }
  return out;
}

/** Retries after the first attempt a call step gets (the compiler folded in its capability's). */
function retriesOf(step: StepIR): number {
  if (step.action.type !== 'call') return 0;
  return step.retry.max;
}

/** The outcome keys one run shows, from its events (instances fold onto their step). */
export class OutcomeRecorder {
  private readonly seen = new Set<string>();
  private readonly steps: ReadonlyMap<string, StepIR>;
  private readonly approvals: ReadonlySet<string>;
  /** Main-phase attempts started per instance (retries exhausted: all of them used, then failed or fell back). */
  private readonly mainAttempts = new Map<string, number>();

  constructor(private readonly plan: PlanIR) {
    this.steps = new Map(plan.steps.map((s) => [s.id, s]));
    this.approvals = new Set(plan.steps.filter((s) => isApprovalStep(s, plan)).map((s) => s.id));
  }

  observe(event: RunEvent): void {
    if (event.stepId === null) return;
    const key = event.stepId;
    const id = parseInstance(key).step;
    const step = this.steps.get(id);
    const mark = (kind: OutcomeKind, outcome: string, stepId = id) => this.seen.add(outcomeKey({ kind, step: stepId, outcome }));
    switch (event.type) {
      case 'step_queued':
        if (step?.when) mark('when', 'true');
        return;
      case 'step_skipped':
        if (step?.when && event.data.reason === 'when condition is false') mark('when', 'false');
        return;
      case 'step_started':
        mark('step', 'ran');
        if (event.data.phase === 'fallback') {
          mark('fallback', 'taken');
          if (this.exhausted(key, step)) mark('retries', 'exhausted');
        } else this.mainAttempts.set(key, event.data.phaseAttempt);
        return;
      case 'step_completed':
        if (this.approvals.has(id)) mark('approval', 'approved');
        return;
      case 'step_failed':
        if (event.data.loop !== undefined) {
          mark('loop', 'max', event.data.loop);
          return;
        }
        if (this.approvals.has(id)) {
          // A reject with or without a person (§8.8) fails the step with this error.
          if (event.data.error?.startsWith('rejected') === true) mark('approval', 'rejected');
        } else if (this.exhausted(key, step)) mark('retries', 'exhausted');
        return;
      case 'step_compensated':
        mark('compensation', 'run');
        return;
      default:
        return;
    }
  }

  /** At the run's end: the loops that completed, so left by their condition. */
  finish(reader: RunReader): void {
    for (const b of this.plan.blocks ?? []) {
      if (b.type === 'repeat' && reader.blockView?.(b.id)?.status === 'completed') this.seen.add(outcomeKey({ kind: 'loop', step: b.id, outcome: 'until' }));
    }
  }

  keys(): string[] {
    return [...this.seen].sort();
  }

  private exhausted(key: string, step: StepIR | undefined): boolean {
    const max = step ? retriesOf(step) : 0;
    return max > 0 && (this.mainAttempts.get(key) ?? 0) >= max + 1;
  }
}

/** What a test's runs of one sub-plan showed (§9.2 reports per plan, the plans a test reaches included). */
export interface SubplanCoverage {
  readonly plan: string;
  readonly file: string;
  readonly covered: readonly string[];
}

/** The key a plan is reported under: two modules may each have a plan of one name. */
export const planIdentity = (plan: { readonly plan: string; readonly source_file: string }): string => `${plan.source_file}\u0000${plan.plan}`;

/**
 * The outcomes of a test's sub-plan runs (any depth), each run with a recorder of its own plan —
 * a retried `run` step runs its sub-plan afresh under the same id, so the latest run of an id is
 * the one whose loops `finish` reads — merged per sub-plan at the end.
 */
export class SubplanOutcomes {
  private readonly runs = new Map<string, { readonly recorder: OutcomeRecorder; reader: RunReader }>();

  observe(event: RunEvent, reader: RunReader): void {
    const known = this.runs.get(event.runId);
    if (known) known.reader = reader;
    const run = known ?? { recorder: new OutcomeRecorder(reader.plan), reader };
    if (!known) this.runs.set(event.runId, run);
    run.recorder.observe(event);
  }

  finish(): SubplanCoverage[] {
    const byPlan = new Map<string, { plan: string; file: string; keys: Set<string> }>();
    for (const { recorder, reader } of this.runs.values()) {
      recorder.finish(reader);
      const id = planIdentity(reader.plan);
      const entry = byPlan.get(id) ?? { plan: reader.plan.plan, file: reader.plan.source_file, keys: new Set<string>() };
      for (const k of recorder.keys()) entry.keys.add(k);
      byPlan.set(id, entry);
    }
    return [...byPlan.values()].map(({ plan, file, keys }) => ({ plan, file, covered: [...keys].sort() }));
  }
}
