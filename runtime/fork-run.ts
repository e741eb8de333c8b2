/**
 * `Runtime` side of `orch fork` (LANGUAGE.md §9.2): a new run of the forked run's IR (or, with
 * `plan`, of a new version of it, whose adopted steps must be compatible as for `orch upgrade`),
 * its input, context and consent, that adopts what `forkAdoption` says and runs the rest.
 */
import type { PlanIR } from '../compiler/index.js';
import { forkAdoption } from './fork.js';
import type { ActiveRun, StartOptions } from './runtime-options.js';
import type { Runtime } from './runtime.js';
import { replay } from './scheduler/replay.js';
import { checkUpgrade } from './upgrade.js';
import { RuntimeUsageError } from './usage-error.js';

export interface ForkOptions extends Omit<StartOptions, 'input' | 'consent' | 'retryOf' | 'adopted' | 'forkedFrom' | 'context' | 'contextAt'> {
  /** The step to run again, with everything downstream of it. */
  readonly at: string;
  /** `--output`: STEP's output, instead of running it. */
  readonly output?: { readonly value: unknown };
  /** `--to`: the new version of the plan to fork onto. */
  readonly plan?: PlanIR;
}

/**
 * `--to` names a version the run's adopted steps do not fit: a refusal on the merits, as `orch
 * upgrade` of an incompatible version is (exit 1, LANGUAGE.md §8.6), not a usage error.
 */
export class IncompatibleFork extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleFork';
  }
}

export async function forkRun(rt: Runtime, runId: string, o: ForkOptions): Promise<ActiveRun> {
  const journal = rt.store;
  if (!journal) throw new RuntimeUsageError('this runtime has no journal (--db)');
  const row = await journal.getRun(runId);
  if (!row) throw new RuntimeUsageError(`no run ${runId} in ${journal.location}`);
  if (!row.ir) throw new RuntimeUsageError(`run ${runId} is a sub-plan run; fork its parent ${row.parent_id ?? ''}`);
  // The journal keeps inputs redacted: a secret value in them cannot be sent again.
  if (row.input?.includes('"***"')) throw new RuntimeUsageError(`run ${runId} cannot be forked: its journaled input holds a redacted secret`);
  const events = await journal.load(runId);
  const restored = replay(events);
  const old = JSON.parse(row.ir) as PlanIR;
  const plan = o.plan ?? old;
  const { at, output, plan: _to, ...start } = o;
  void _to;
  const undone = new Set(events.flatMap((e) => (e.type === 'step_compensated' && e.data.ok && e.stepId !== null ? [e.stepId] : [])));
  const adoption = forkAdoption(plan, { runId, restored, undone }, at, output);
  if (o.plan) {
    // The adopted steps must mean the same in the new version (what `orch upgrade` checks of started steps).
    const kept = new Set(adoption.steps.filter((s) => !s.given).map((s) => s.key));
    const check = checkUpgrade(old, plan, { ...restored, terminal: false, steps: new Map([...restored.steps].filter(([k]) => kept.has(k))) });
    if (!check.compatible)
      throw new IncompatibleFork(`run ${runId} cannot be forked onto the new plan:\n${check.reasons.map((r) => `  ${r.step ?? 'plan'}: ${r.reason}`).join('\n')}`);
  }
  const first = events[0];
  const consent = first?.type === 'plan_created' ? [...(first.data.consent ?? [])] : [];
  return rt.start(plan, {
    ...start,
    input: row.input ? JSON.parse(row.input) : {},
    context: restored.context,
    // Each value as old as it is (§9.4): one past its max_age since RUN reads stale in the fork.
    contextAt: restored.contextAt ?? {},
    consent,
    adopted: adoption,
    forkedFrom: { run: runId, step: at },
  });
}
