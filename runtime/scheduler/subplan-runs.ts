/**
 * The sub-plan runs of one run (steps with `run`): each child while it runs here, the controls
 * addressed to a child that is not running yet (`sub/ok` answered while no process ran the run),
 * and the outcome of a child that had finished before the parent was interrupted, read back from
 * its journal.
 */
import type { Identity } from '../people/identity.js';
import type { Command, CoreEvent } from './core/protocol.js';
import { RunDetached } from './run-detached.js';
import type { ExecutionResult, RunEvent } from './types.js';

/** A sub-plan run as its parent drives it (`Run`). */
export interface ChildRun {
  start(): Promise<ExecutionResult>;
  pause(): boolean;
  resume(): boolean;
  cancel(reason?: string): boolean;
  detach(): boolean;
  updateContext(patch: { readonly [key: string]: unknown }): void;
  /** What it has cost so far (its parent's budgets count it). */
  liveCost(): number;
  decisionRefusal(stepId: string, decision: 'approve' | 'reject', identity: Identity | null): string | null;
}

/** How a sub-plan run ended, as the parent's core takes it. */
export type SubplanOutcome = Omit<Extract<CoreEvent, { type: 'subplan_finished' }>, 'type' | 'key' | 'token'>;

export class SubplanRuns<C extends ChildRun> {
  private readonly children = new Map<string, C>();
  /** Controls for steps of a sub-plan that has not started (again) yet, in the order they came. */
  private pending: { readonly path: string; readonly apply: (child: C, path: string) => unknown }[] = [];

  /** The child running for step instance `key`. */
  get(key: string): C | undefined {
    return this.children.get(key);
  }

  /** The child ended: it is no longer this run's (unless another took its place). */
  ended(key: string, child: C): void {
    if (this.children.get(key) === child) this.children.delete(key);
  }

  /**
   * Runs `child` for step instance `key`, or — `ended`, the last event of a child that finished
   * before the interruption — reports that outcome at once. `finished` hears a child that could
   * not run at all (its own end comes through its `onFinish`).
   */
  run(key: string, child: C, o: { readonly ended: RunEvent | null; readonly paused: boolean; readonly finished: (outcome: SubplanOutcome) => void }): void {
    this.children.set(key, child);
    if (o.ended) return o.finished(outcomeOf(o.ended));
    if (o.paused) child.pause();
    child.start().then(
      () => undefined,
      (err) => {
        // A sub-plan this run detached (it stopped at approvals) is left as it stands, not failed.
        if (err instanceof RunDetached && this.children.get(key) !== child) return;
        o.finished({ status: 'failed', output: null, error: `${(err as Error).message}`, crashed: true });
      },
    );
    // Answers and step cancels given while no process ran the sub-plan, once it runs again.
    const mine = this.pending.filter((c) => c.path.startsWith(`${key}/`));
    this.pending = this.pending.filter((c) => !mine.includes(c));
    for (const { path, apply } of mine) apply(child, path.slice(key.length + 1));
  }

  /** The parent's core controls a child (pause, resume, context, detach, cancel). */
  control(cmd: Extract<Command, { type: 'control_subplan' }>): void {
    const child = this.children.get(cmd.key);
    if (!child) return;
    if (cmd.op === 'pause') child.pause();
    else if (cmd.op === 'resume') child.resume();
    else if (cmd.op === 'context') child.updateContext(cmd.patch ?? {});
    else if (cmd.op === 'detach') {
      this.children.delete(cmd.key);
      child.detach();
    } else {
      this.children.delete(cmd.key);
      child.cancel(cmd.reason);
    }
  }

  /** A control for `stepId` handed to the running child it names (`sub/ok`): its answer; undefined when none does. */
  route<T>(stepId: string, apply: (child: C, path: string) => T): T | undefined {
    for (const [key, child] of this.children) if (stepId.startsWith(`${key}/`)) return apply(child, stepId.slice(key.length + 1));
    return undefined;
  }

  /**
   * Keeps a control for a child not running yet. Every one is kept and handed over in order: two
   * people's approvals of one step both count, and without people the first answer decides.
   */
  keep(stepId: string, apply: (child: C, path: string) => unknown): void {
    this.pending.push({ path: stepId, apply });
  }

  /** The parent stops here: every child is detached too. */
  detachAll(): void {
    for (const child of this.children.values()) child.detach();
    this.children.clear();
  }
}

/** A finished child's outcome from its last journal event. */
function outcomeOf(last: RunEvent): SubplanOutcome {
  return {
    status: last.type === 'execution_completed' ? 'completed' : last.type === 'execution_failed' ? last.data.status : 'cancelled',
    output: last.type === 'execution_completed' ? last.data.output : null,
    error: last.type === 'execution_failed' ? (last.data.error ?? '') : last.type === 'execution_cancelled' ? (last.data.reason ?? '') : null,
  };
}
