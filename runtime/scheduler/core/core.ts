/**
 * The scheduler core: one run's state and `handle(event, at) → commands`. Deterministic and free of
 * I/O — time arrives with each event, effects leave as commands — so `orch run` (real clock,
 * worker threads, SQLite) and `orch verify` (virtual clock, simulated handlers) drive the same
 * decisions. The decisions live in the modules next to this one, over the run's state (./run-state.ts);
 * this class is their entry point and what the driver reads.
 */
import type { BlockView, StepView } from '../../../compiler/index.js';
import type { ExecutionResult, RunSummary } from '../types.js';
import { approvalRule, refusal, ruleBeforeStart, unboundRefusal } from './approvers.js';
import { childCeilings, spent } from './ceilings.js';
import { grantedScopes } from './consent.js';
import { beginRun, pump } from './decide.js';
import { onEvent } from './events.js';
import { armTimeChange } from './time-conditions.js';
import { resourceWaits } from './availability.js';
import { approvalsWaiting, idleOnWaits, internalError } from './finish.js';
import type { StepRecord } from './fold.js';
import { recordOf, type Identity } from './identity.js';
import type { Command, CoreEvent } from './protocol.js';
import { isApproval } from './resolve.js';
import { buildResult, instView, round6 } from './result.js';
import { chainOf } from './run-origin.js';
import { type CostCeiling, RunState } from './run-state.js';
import { approvalRefusal } from './start.js';
import { TERMINAL, baseId } from './state.js';
import { blockViewFrom, stepViewFrom, viewAt } from './views.js';

const NONE: readonly Command[] = [];

export class SchedulerCore extends RunState {
  /** Reacts to one event that happened at `at` (epoch ms); returns what the driver must do, in order. */
  handle(event: CoreEvent, at: number): readonly Command[] {
    this.now = at;
    try {
      if (event.type === 'started') beginRun(this);
      else if (event.type === 'pump') pump(this);
      else onEvent(this, event);
      armTimeChange(this);
    } catch (err) {
      internalError(this, err);
    }
    const out = this.out;
    if (out.length === 0) return NONE;
    this.out = [];
    return out;
  }

  // ───────────── reading (RunReader and the driver) ─────────────

  stepView(id: string): StepView | undefined {
    const inst = this.instances.get(id);
    if (inst && inst.path.length > 0) return instView(inst);
    const l = this.logical.get(id);
    return l ? viewAt(this, l, []) : undefined;
  }

  /** A turn where the run may be detached and resumed as it stands (`idleOnWaits`). */
  idleOnWaits(): boolean {
    return this.mode === 'normal' && this.runStatus === 'running' && idleOnWaits(this);
  }

  blockView(id: string): BlockView | undefined {
    return blockViewFrom(this, null, id);
  }

  viewFrom(key: string, id: string): StepView | undefined {
    return stepViewFrom(this, this.instances.get(key) ?? null, id);
  }

  running(): readonly string[] {
    return [...this.inProgress].map((i) => i.key);
  }

  /** Queued instances out of the ready queue until a resource comes back (§9.4), with why. */
  resourceWaits(): readonly { readonly key: string; readonly why: string }[] {
    return resourceWaits(this);
  }

  /** The evaluated `approver` of a waiting approval (§8.8): a user, `group:G`, or null (anyone, or not waiting). */
  approverOf(stepId: string): string | null {
    const inst = this.instances.get(stepId);
    return inst?.rec.status === 'running' && inst.activity.kind === 'approval' ? approvalRule(inst.activity.args).approver : null;
  }

  /** The arguments waiting approval `stepId` evaluated when it started (its input), null when it does not wait. */
  approvalInput(stepId: string): { readonly [k: string]: unknown } | null {
    const inst = this.instances.get(stepId);
    return inst?.rec.status === 'running' && inst.activity.kind === 'approval' ? inst.activity.args : null;
  }

  /** The approvals the run waits for, as `orch signal` takes them (`ok[1]`, `sub/ok`). */
  approvalsWaiting(): readonly string[] {
    return approvalsWaiting(this);
  }

  /**
   * Why `identity` may not decide `stepId` now (§8.8), or null when it may or the step does not
   * wait for a decision (a decision for a step not started yet is checked when it starts).
   */
  decisionRefusal(stepId: string, decision: 'approve' | 'reject', identity: Identity | null): string | null {
    if (identity === null) return unboundRefusal(this.facts.origin.people_bound === true, null);
    const inst = this.instances.get(stepId);
    if (inst?.rec.status === 'running') return approvalRefusal(this, inst, decision, identity);
    // Sent before the step started (no instance yet, or one not started): kept for its start, so
    // refused now when its rule can be known already, rather than dropped then.
    if (inst && (inst.rec.attempts > 0 || TERMINAL.has(inst.rec.status))) return null;
    const step = this.logical.get(baseId(stepId))?.step;
    const cap = step?.capability ? this.plan.capabilities[step.capability] : undefined;
    if (!step || !cap || !isApproval(cap)) return null;
    const rule = ruleBeforeStart(step, this.inputValue);
    // The approvals already kept for its start count as given: the same person twice is refused now.
    const kept = (this.pendingSignals.get(stepId) ?? []).flatMap((s) => (s.decision === 'approve' && s.identity ? [recordOf(s.identity)] : []));
    return rule && refusal(rule, identity, decision, { approvedBy: kept, startedBy: this.facts.startedBy, chain: chainOf(this.facts.origin) });
  }

  /**
   * A step id inside `for each` or `repeat` names no single approval: the error that says which instance keys
   * to answer instead (null when `id` is not such a step).
   */
  perItemApprovals(id: string): string | null {
    const l = this.logical.get(id);
    if (!l || l.shape.dims.length === 0) return null;
    const waiting = [...l.instances].filter((i) => i.activity.kind === 'approval').map((i) => i.key);
    return perItemMessage(this.runId, id, waiting, l.shape.dims[0]!.type === 'repeat');
  }

  /** What the run has spent so far, its running sub-plans' spending included. */
  liveCost(): number {
    return spent(this);
  }

  /** Is `token` still what instance `key` waits for (a command about it is not stale)? */
  current(key: string, token: number): boolean {
    const inst = this.instances.get(key);
    return inst !== undefined && inst.token === token && inst.activity.kind !== 'idle';
  }

  /** The cost ceilings a sub-plan started now runs under. */
  childCeilings(key: string): readonly CostCeiling[] {
    return childCeilings(this, key);
  }

  /** What policy hooks see of the run besides the step. */
  hookContext(): { plan: string; runId: string; input: unknown; context: { [key: string]: unknown }; consent: readonly string[] } {
    return { plan: this.plan.plan, runId: this.runId, input: this.inputValue, context: this.ctx, consent: grantedScopes(this) };
  }

  record(key: string): StepRecord | undefined {
    return this.instances.get(key)?.rec;
  }

  result(now: number): ExecutionResult {
    return buildResult(this, now, this.facts.startedBy);
  }

  summary(): RunSummary {
    return {
      runId: this.runId,
      plan: this.plan.plan,
      parentRunId: this.opts.parentRunId ?? null,
      status: this.status(),
      startedAt: this.startedAt,
      completedAt: this.completedAt,
      cost: round6(this.totalCost),
      error: this.failure,
    };
  }
}

/** Why a step id inside `for each` cannot be answered as such, and the instance keys that can. */
export function perItemMessage(runId: string, id: string, waiting: readonly string[], inRepeat = false): string {
  const example = waiting[0] ?? (inRepeat ? `${id}#0` : `${id}[0]`);
  const per = example.includes('[') ? 'item' : 'iteration';
  return `step ${id} runs once per ${per}: answer one instance, e.g. \`orch signal ${runId} ${example} approve\`${waiting.length > 0 ? ` (waiting: ${waiting.join(', ')})` : ''}`;
}
