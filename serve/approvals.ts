/**
 * The approvals inbox: approval steps of runs in flight that wait for a decision, with their
 * summary and subject (§9.3: the exact value the approver endorses) evaluated against the run's
 * (redacted) input. `secret(…)` evaluates to the redaction
 * mark here, so a summary never shows one.
 */
import type { StepStatus, StepView } from '../compiler/index.js';
import { evaluate } from '../runtime/index.js';
import type { JournalEntry, RunSource, RunStarter, RunView } from './run-starter.js';
import { TERMINAL_STATUSES } from './run-starter.js';

export interface PendingApproval {
  readonly runId: string;
  readonly planId: string;
  readonly stepId: string;
  readonly approver: string | null;
  readonly summary: string;
  /** §9.3: the value the approval endorses (`subject:`), shown to the approver; absent when the step passes none (or null). */
  readonly subject?: unknown;
  readonly since: string | null;
  /** §8.8: how many distinct people must approve (`approvals`, 1 by default). */
  readonly needed: number;
  /** §8.8: who approved so far (display names of the journaled identities), in order. */
  readonly approvedBy: readonly string[];
  /** §9.1: who started the (top-level) run, as its `plan_created` records it; absent when it records none. */
  readonly started_by?: unknown;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

export async function pendingApprovals(starter: RunStarter): Promise<PendingApproval[]> {
  const out: PendingApproval[] = [];
  // A run's journal is read at most once per call, and only for what the view cannot tell.
  const read = new Map<string, Promise<readonly JournalEntry[]>>();
  const timeline = (runId: string): Promise<readonly JournalEntry[]> => {
    let t = read.get(runId);
    if (!t) read.set(runId, (t = starter.timeline(runId).then((x) => x ?? [])));
    return t;
  };
  const reader: Reader = { starter, timeline };
  for (const r of await starter.list()) {
    if (TERMINAL_STATUSES.has(r.status)) continue;
    const source = await starter.source(r.runId);
    if (source) await collect(reader, { runId: r.runId, planId: r.planId }, r.runId, '', source, out, 0);
  }
  return out;
}

interface Reader {
  readonly starter: RunStarter;
  readonly timeline: (runId: string) => Promise<readonly JournalEntry[]>;
}

/** How deep the inbox follows sub-plans that run sub-plans (each level reads a journal). */
const MAX_DEPTH = 8;

/**
 * The approvals that run `runId` (the top-level run `top`, or one of its sub-plans, whose steps
 * `prefix` addresses from the top: `sub/`) waits for. A sub-plan's approval is decided through the
 * top-level run, by its path (`sub/ok`), as `orch signal` takes it.
 */
async function collect(
  reader: Reader,
  top: { readonly runId: string; readonly planId: string },
  runId: string,
  prefix: string,
  source: RunSource,
  out: PendingApproval[],
  depth: number,
): Promise<void> {
  const view = await reader.starter.get(runId);
  if (!view) return;
  for (const step of source.plan.steps) {
    const sub = step.action.type === 'run' ? source.plan.subplans?.[step.action.plan] : undefined;
    if (step.kind !== 'human' && sub === undefined) continue;
    const live = view.steps.filter((s) => s.status === 'running' && (s.stepId === step.id || s.stepId.startsWith(`${step.id}[`)));
    if (live.length === 0) continue;
    // A step inside for each or repeat shows once in the view, for all its instances: each waits
    // on its own (a race branch has one instance and no suffix: it stays as the view has it).
    const keys = step.blocks?.length ? runningInstances(await reader.timeline(runId), step.id) : [];
    for (const s of keys.length ? keys.map((stepId) => ({ ...live[0]!, stepId })) : live) {
      if (sub !== undefined) {
        const child = `${runId}/${s.stepId}`;
        if (depth < MAX_DEPTH) await collect(reader, top, child, `${prefix}${s.stepId}/`, { plan: sub, input: subplanInput(await reader.timeline(child)) }, out, depth + 1);
        continue;
      }
      // What the step evaluated on starting to wait, as its `step_started` journaled it: its own
      // `for each` item, the steps and context it read then.
      const journaled = approvalInput(await reader.timeline(runId), s.stepId);
      // Else (a journal from before v0.4) evaluated here: a summary may read what steps before it
      // produced (`"Release ${build.output.version}"`).
      const env = { vars: { input: source.input }, step: stepViews(view) };
      const value = (name: string): unknown => {
        if (journaled) return journaled[name];
        const expr = step.args[name];
        if (!expr) return undefined;
        try {
          return evaluate(expr, env);
        } catch {
          return undefined;
        }
      };
      const arg = (name: string): string | null => {
        const v = value(name);
        return v === undefined ? null : text(v);
      };
      const subject = value('subject');
      const needed = Number(arg('approvals'));
      out.push({
        runId: top.runId,
        planId: top.planId,
        stepId: `${prefix}${s.stepId}`,
        approver: arg('approver'),
        summary: arg('summary') ?? `${step.id} in ${source.plan.plan}`,
        // `subject: any = null` is the default the compiler fills in: no subject to show.
        ...(subject === undefined || subject === null ? {} : { subject }),
        since: s.startedAt ?? null,
        needed: Number.isInteger(needed) && needed >= 1 ? needed : 1,
        approvedBy: needed > 1 ? approvalsSoFar(await reader.timeline(runId), s.stepId) : [],
        ...startedBy(await reader.timeline(top.runId)),
      });
    }
  }
}

/**
 * The steps of a run as an expression reads them (`build.output`, `build.status`), from its view:
 * the run's own steps by id; instances of a `for each` or `repeat` are not told apart here.
 */
function stepViews(view: RunView): (id: string) => StepView | undefined {
  const byId = new Map(view.steps.map((s) => [s.stepId, s] as const));
  return (id) => {
    const s = byId.get(id);
    if (!s) return undefined;
    const status = s.status as StepStatus;
    return {
      output: s.output ?? null,
      status,
      started: s.startedAt != null || status !== 'pending',
      completed: status === 'completed',
      failed: status === 'failed' || status === 'timeout',
      skipped: status === 'skipped',
      attempts: s.attempts ?? 0,
      duration: s.duration ?? 0,
      cost: 0,
      resource: s.resource ?? null,
    };
  };
}

/** The instances of `stepId` (`ok[0]`, `ok#2`) that started and have not ended, by the run's journal. */
function runningInstances(timeline: readonly JournalEntry[], stepId: string): string[] {
  const last = new Map<string, string>();
  for (const e of timeline) {
    const key = typeof e.stepId === 'string' ? e.stepId : '';
    if (e.type !== 'step_log' && (key.startsWith(`${stepId}[`) || key.startsWith(`${stepId}#`))) last.set(key, e.type);
  }
  return [...last].filter(([, type]) => type === 'step_started').map(([key]) => key);
}

/** The arguments approval instance `key` evaluated on starting its last attempt, as journaled (§8.8); null before v0.4. */
function approvalInput(timeline: readonly JournalEntry[], key: string): { readonly [name: string]: unknown } | null {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i]!;
    if (e.type !== 'step_started' || e.stepId !== key) continue;
    return e.input !== null && typeof e.input === 'object' ? (e.input as { readonly [name: string]: unknown }) : null;
  }
  return null;
}

/** The people who approved step instance `key` so far (`approval_decided`), by display name. */
function approvalsSoFar(timeline: readonly JournalEntry[], key: string): string[] {
  const out: string[] = [];
  for (const e of timeline) {
    if (e.type !== 'approval_decided' || e.stepId !== key || e.decision !== 'approve') continue;
    const by = e.by as { subject?: unknown; name?: unknown } | undefined;
    const name = typeof by?.name === 'string' && by.name !== '' ? by.name : typeof by?.subject === 'string' ? by.subject : null;
    if (name !== null) out.push(name);
  }
  return out;
}

/** `{ started_by }` of a run, as its first event recorded it (§9.1); nothing when it recorded none. */
function startedBy(timeline: readonly JournalEntry[]): { started_by?: unknown } {
  const first = timeline[0];
  return first?.type === 'plan_created' && first.started_by !== undefined ? { started_by: first.started_by } : {};
}

/** A sub-plan run's input, as its first event recorded it (redacted like every event). */
function subplanInput(timeline: readonly JournalEntry[]): unknown {
  const first = timeline[0];
  return first?.type === 'plan_created' ? (first.input ?? null) : null;
}
