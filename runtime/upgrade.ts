/**
 * Whether a run may go on under another version of its plan (LANGUAGE.md §8.6, `orch upgrade`).
 * A pure function of the two IRs and the run's folded journal (`replay`), kept out of the
 * scheduler core: it runs once per upgrade, never per event.
 *
 * Compatible when every step that has started (completed, running, waiting, failed, skipped or
 * cancelled: the journal holds an outcome or an attempt of it) exists in the new plan with the
 * same capability, action, arguments, dependencies and blocks; a completed step's output still
 * has every field the new plan reads from it; a removed step has not started or is read by
 * nothing in the new plan. Steps that have not started may change, appear or go.
 */
import { describeValueErrors, diffSteps, irHash, someNode, stepAspects, validateValue, type PlanIR, type StepAspect } from '../compiler/index.js';
import { fillDefaults } from './executor/value-defaults.js';
import type { AsyncJournal } from './backend/async-journal.js';
import { RuntimeUsageError } from './usage-error.js';
import { replay, type RestoredRun } from './scheduler/replay.js';
import type { PlanChange } from './scheduler/types.js';
import { baseId } from './scheduler/core/state.js';

export interface UpgradeReason {
  /** The step the reason is about (null: the run or the plan as a whole). */
  readonly step: string | null;
  readonly reason: string;
}

export interface UpgradeCheck {
  readonly compatible: boolean;
  readonly reasons: readonly UpgradeReason[];
  /** What `plan_upgraded.changes` records: the steps added, removed and changed. */
  readonly changes: readonly PlanChange[];
  readonly fromHash: string;
  readonly toHash: string;
}

/** The aspects a started step may not change: they decide what it did and what it read. */
const FROZEN: readonly StepAspect[] = ['capability', 'action', 'arguments', 'dependencies', 'blocks'];

/** Statuses of a step instance that has not started (nothing of it is in the journal but `step_queued`). */
const NOT_STARTED = new Set(['pending', 'queued']);

/** Base step id → the statuses of its instances that have started. */
function startedSteps(restored: RestoredRun): Map<string, { status: string; outputs: unknown[] }> {
  const out = new Map<string, { status: string; outputs: unknown[] }>();
  for (const [key, rec] of restored.steps) {
    if (NOT_STARTED.has(rec.status) && rec.attempts === 0) continue;
    const id = baseId(key);
    const entry = out.get(id) ?? { status: rec.status, outputs: [] };
    if (rec.status === 'completed') entry.outputs.push(rec.output);
    else entry.status = rec.status;
    out.set(id, entry);
  }
  return out;
}

/** Fields the plan reads from each step's output: `X.output.f` and, for `for each`, `X.output[i].f`. */
export function outputFieldReads(plan: PlanIR): Map<string, Set<string>> {
  const reads = new Map<string, Set<string>>();
  for (const [id, paths] of outputPathReads(plan)) reads.set(id, new Set([...paths].map((p) => p[0]!)));
  return reads;
}

/**
 * The paths the plan reads below each step's output: `X.output.f.g` reads `f` and `f.g` (and so
 * does `X.output[i].f.g`, an element of a `for each` step's outputs); an index by a literal string
 * is the same read (`X.output["f"]["g"]`). A path ends at any other index (`X.output.items[0]`).
 */
function outputPathReads(plan: PlanIR): Map<string, readonly (readonly string[])[]> {
  const reads = new Map<string, Map<string, readonly string[]>>();
  const stepOutput = (o: unknown): string | null => {
    const n = o as { op?: string; key?: string; object?: { op?: string; id?: string } };
    return n?.op === 'get' && n.key === 'output' && n.object?.op === 'step' && typeof n.object.id === 'string' ? n.object.id : null;
  };
  const scope = { steps: plan.steps, output: plan.output, blocks: plan.blocks ?? [], success: plan.success, guardrails: plan.guardrails };
  const fieldOf = (node: Readonly<Record<string, unknown>> | undefined): string | null => {
    if (node?.op === 'get' && typeof node.key === 'string') return node.key;
    const i = node?.index as { op?: string; value?: unknown } | undefined;
    return node?.op === 'index' && i?.op === 'lit' && typeof i.value === 'string' ? i.value : null;
  };
  /** The step whose output a chain of field reads starts from, and the path, or null. */
  const chain = (node: Readonly<Record<string, unknown>>): { id: string; path: string[] } | null => {
    const path: string[] = [];
    for (let n: Readonly<Record<string, unknown>> | undefined = node; ; ) {
      const field = fieldOf(n);
      if (field === null) return null;
      path.unshift(field);
      const obj = n!.object as Readonly<Record<string, unknown>> | undefined;
      const id = stepOutput(obj) ?? (obj?.op === 'index' && fieldOf(obj) === null ? stepOutput(obj.object) : null);
      if (id !== null) return { id, path };
      n = obj;
    }
  };
  someNode(scope, (node) => {
    const read = chain(node);
    if (read === null) return;
    const paths = reads.get(read.id) ?? new Map<string, readonly string[]>();
    paths.set(read.path.join('\u0000'), read.path);
    reads.set(read.id, paths);
  });
  return new Map([...reads].map(([id, paths]) => [id, [...paths.values()]]));
}

/**
 * The first part of `path` a completed output lacks (`["addr", "zip"]` of `{ addr: { city } }`), or
 * null: it has the path, or a value on the way is not a record (null, a list), which says nothing.
 */
function missingPath(output: unknown, path: readonly string[]): readonly string[] | null {
  let value = output;
  for (let i = 0; i < path.length; i++) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    if (!Object.hasOwn(value, path[i]!)) return path.slice(0, i + 1);
    value = (value as Record<string, unknown>)[path[i]!];
  }
  return null;
}

/** Steps the plan reads anywhere (`X.…`), by id. */
function stepsRead(plan: PlanIR): Set<string> {
  const ids = new Set<string>();
  for (const s of plan.steps) for (const d of s.deps) ids.add(d);
  someNode({ steps: plan.steps, output: plan.output, blocks: plan.blocks ?? [], success: plan.success }, (node) => {
    if (node.op === 'step' && typeof node.id === 'string') ids.add(node.id);
  });
  return ids;
}


/**
 * The sub-plan runs under a run, by the instance key of the `run` step that started each (its
 * child run is `PARENT/KEY`), with theirs. A sub-plan run has no IR of its own: it resumes under
 * its parent's `subplans`, so an upgrade moves it too and its started steps must be checked.
 */
export type SubRuns = ReadonlyMap<string, { readonly restored: RestoredRun; readonly subruns: SubRuns }>;

/** The sub-plan runs under `runId` that `plan`'s `run` steps started, read from the journal. */
export async function loadSubRuns(journal: Pick<AsyncJournal, 'load'>, runId: string, plan: PlanIR, restored: RestoredRun): Promise<SubRuns> {
  const out = new Map<string, { restored: RestoredRun; subruns: SubRuns }>();
  const steps = new Map(plan.steps.map((s) => [s.id, s]));
  for (const [key, rec] of restored.steps) {
    const action = steps.get(baseId(key))?.action;
    if (action?.type !== 'run' || (NOT_STARTED.has(rec.status) && rec.attempts === 0)) continue;
    const sub = plan.subplans[action.plan];
    const all = await journal.load(`${runId}/${key}`);
    // Each attempt of the step runs the sub-plan afresh under the same id: the last run there is the one that goes on.
    let last = all.length - 1;
    while (last > 0 && all[last]!.type !== 'plan_created') last--;
    const events = all.slice(Math.max(0, last));
    if (!sub || events.length === 0) continue;
    const child = replay(events);
    out.set(key, { restored: child, subruns: await loadSubRuns(journal, `${runId}/${key}`, sub, child) });
  }
  return out;
}

/**
 * After an upgrade: the unfinished sub-plan runs of started `run` steps the new plan removed are
 * cancelled (with theirs). Nothing would ever resume them — their step is gone — so they would stay
 * paused or running forever beside a parent that goes on without them.
 */
export async function cancelRemovedSubRuns(journal: Pick<AsyncJournal, 'appendOffline'>, runId: string, newPlan: PlanIR, subruns: SubRuns): Promise<void> {
  const kept = new Set(newPlan.steps.map((s) => s.id));
  const cancel = async (id: string, tree: SubRuns, reason: string): Promise<void> => {
    for (const [key, child] of tree) if (!child.restored.terminal) await cancel(`${id}/${key}`, child.subruns, reason);
    await journal.appendOffline(id, 'execution_cancelled', { reason }, 'cancelled');
  };
  for (const [key, child] of subruns)
    if (!kept.has(baseId(key)) && !child.restored.terminal) await cancel(`${runId}/${key}`, child.subruns, `its step ${baseId(key)} was removed by an upgrade of run ${runId}`);
}

/**
 * The run's input as the new plan reads it: the fields it declares, with its defaults filled in (what
 * a resume under it starts from). Fields it no longer declares are left out: nothing reads them.
 */
export function inputUnder(plan: PlanIR, input: unknown): unknown {
  const props = (plan.input as { properties?: Record<string, unknown> }).properties;
  const given = input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  // An input type that lists no properties (an IR written otherwise) says nothing to leave out.
  const kept = props ? Object.fromEntries(Object.entries(given).filter(([k]) => Object.hasOwn(props, k))) : given;
  return fillDefaults(plan.input, kept);
}

/**
 * `input`: the run's journaled input, when known. A new version whose input type the run's input
 * does not fit (a new required field, a field of another type) would start its steps on values
 * that are not there: refused, as `orch run` refuses such an input.
 */
export function checkUpgrade(oldPlan: PlanIR, newPlan: PlanIR, restored: RestoredRun, subruns: SubRuns = new Map(), input?: unknown): UpgradeCheck {
  const reasons: UpgradeReason[] = [];
  if (restored.terminal) reasons.push({ step: null, reason: 'the run has finished; only an unfinished run can be upgraded' });
  if (oldPlan.plan !== newPlan.plan) reasons.push({ step: null, reason: `the new IR is plan ${newPlan.plan}, the run's is ${oldPlan.plan}` });
  if (input !== undefined) {
    const fits = validateValue(newPlan.input, inputUnder(newPlan, input));
    if (!fits.ok) reasons.push({ step: null, reason: `the run's input does not fit the new plan's input type: ${describeValueErrors(fits.errors)}` });
  }
  const started = startedSteps(restored);
  const after = new Map(newPlan.steps.map((s) => [s.id, s]));
  const before = new Map(oldPlan.steps.map((s) => [s.id, s]));
  const read = stepsRead(newPlan);
  const fields = outputPathReads(newPlan);
  for (const [id, st] of started) {
    const old = before.get(id);
    const now = after.get(id);
    if (!now) {
      if (read.has(id)) reasons.push({ step: id, reason: `has started (${st.status}) and is removed, but the new plan still reads it` });
      continue;
    }
    if (!old) continue;
    const frozen = stepAspects(oldPlan, old, newPlan, now).filter((a) => FROZEN.includes(a));
    if (frozen.length) reasons.push({ step: id, reason: `has started (${st.status}); its ${frozen.join(', ')} changed` });
    const missing = new Set<string>();
    for (const path of fields.get(id) ?? [])
      for (const output of st.outputs) {
        const lacks = missingPath(output, path);
        if (lacks === null) continue;
        missing.add(lacks.join('.'));
        break;
      }
    for (const f of missing) reasons.push({ step: id, reason: `completed without output field "${f}", which the new plan reads` });
  }
  // An unfinished sub-plan run goes on under the new parent's sub-plan: its started steps are held to the same rules.
  for (const [key, child] of subruns) {
    const old = before.get(baseId(key))?.action;
    const now = after.get(baseId(key))?.action;
    if (child.restored.terminal || old?.type !== 'run' || now?.type !== 'run') continue;
    const [a, b] = [oldPlan.subplans[old.plan], newPlan.subplans[now.plan]];
    if (!a || !b) continue;
    for (const r of checkUpgrade(a, b, child.restored, child.subruns).reasons)
      reasons.push({ step: `${key}/${r.step ?? ''}`.replace(/\/$/, ''), reason: `in sub-plan ${now.plan}: ${r.reason}` });
  }
  const changes: PlanChange[] = diffSteps(oldPlan, newPlan).map((d) => ({ step: d.step, change: d.change, what: [...d.what] }));
  return { compatible: reasons.length === 0, reasons, changes, fromHash: irHash(oldPlan), toHash: irHash(newPlan) };
}

export interface UpgradeOutcome extends UpgradeCheck {
  /** The journal now records the new IR and `plan_upgraded` (false for a dry run or a refusal). */
  readonly applied: boolean;
  /**
   * A live process executes the run: the upgrade was handed to it (a control row), and it moves
   * the run at its next turn that waits only for approvals and waits, checking compatibility again then.
   */
  readonly requested?: boolean;
}

/**
 * `orch upgrade RUN`: checks the run's journal against the new IR and, when compatible and not a
 * dry run, records the new IR and `plan_upgraded` in one transaction; the next process that
 * resumes the run (`orch resume`, `signal`, a server) runs it under the new IR. A run a live
 * process executes right now is refused (it holds the IR in memory): pause or stop it first.
 */
export async function upgradeRun(journal: AsyncJournal, runId: string, newPlan: PlanIR, opts: { readonly dryRun?: boolean } = {}): Promise<UpgradeOutcome> {
  const row = await journal.getRun(runId);
  if (!row) throw new RuntimeUsageError(`no run ${runId} in ${journal.location}`);
  if (!row.ir) throw new RuntimeUsageError(`run ${runId} is a sub-plan run; upgrade its parent ${row.parent_id ?? ''}`);
  const oldPlan = JSON.parse(row.ir) as PlanIR;
  const restored = replay(await journal.load(runId));
  const subruns = await loadSubRuns(journal, runId, oldPlan, restored);
  const check = checkUpgrade(oldPlan, newPlan, restored, subruns, row.input ? JSON.parse(row.input) : {});
  const reasons = [...check.reasons];
  const result = { ...check, reasons, compatible: reasons.length === 0 };
  if (!result.compatible || opts.dryRun || check.fromHash === check.toHash) return { ...result, applied: false };
  const handOver = async () => {
    await journal.addControl(runId, 'upgrade', null, { ir: newPlan });
    return { ...result, applied: false, requested: true };
  };
  if (await journal.ownedElsewhere(runId)) return handOver();
  if (await journal.upgradeOffline(runId, newPlan, { from_hash: check.fromHash, to_hash: check.toHash, changes: check.changes })) {
    await cancelRemovedSubRuns(journal, runId, newPlan, subruns);
    return { ...result, applied: true };
  }
  // A process took the run between the look and the write.
  return handOver();
}
