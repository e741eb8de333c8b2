/**
 * The scheduler core: one run's state and `handle(event, at) → commands`. Deterministic and free of
 * I/O — time arrives with each event, effects leave as commands — so `orch run` (real clock,
 * worker threads, SQLite) and `orch verify` (virtual clock, simulated handlers) drive the same
 * decisions. The decisions live in the modules next to this one; this class holds the state.
 */
import type { BlockView, PlanIR, StepStatus, StepView } from '../../../compiler/index.js';
import { MinHeap } from '../heap.js';
import type { RestoredRun } from '../replay.js';
import { makeEvent, type EventData, type EventType, type RunEventOf } from '../journal-events.js';
import type { ExecutionResult, RunEvent, RunStatus, RunSummary } from '../types.js';
import { beginRun, pump } from './decide.js';
import { onEvent } from './events.js';
import { cancelUnstarted, endsUnstarted, foldRun, foldStep, newFacts, type RunFacts, type StepRecord } from './fold.js';
import { approvalsWaiting, internalError } from './finish.js';
import { approvalRefusal } from './start.js';
import type { Identity, Starter } from '../../people/identity.js';
import { chainOf, type RunOrigin } from '../../people/run-chain.js';
import { childCeilings, spent, type CostCeiling } from './budget.js';
import { grantedScopes } from './consent.js';
import { InRunLimits, type LimitsService } from './limits.js';
import type { Command, CoreConfig, CoreEvent } from './protocol.js';
import { buildResult, instView, round6 } from './result.js';
import type { Rollback } from './rollback.js';
import { planBlocks, type PlanBlocks } from './scopes.js';
import { baseId, buildGraph, readyBefore, TERMINAL, type BlockInst, type Inst, type Logical } from './state.js';
import { isApproval } from './resolve.js';
import { refusal, ruleBeforeStart, unboundRefusal } from '../../people/approval-rule.js';
import { blockViewFrom, stepViewFrom, viewAt } from './views.js';

export interface CoreOptions {
  readonly runId: string;
  readonly input?: unknown;
  readonly context?: { readonly [key: string]: unknown };
  readonly parentRunId?: string | null;
  /** The finished run this one retries (journaled in `plan_created`). */
  readonly retryOf?: string | null;
  /** The run's trace when it is traced (LANGUAGE.md §8.7): journaled in `plan_created`, kept across resumes. */
  readonly trace?: { readonly trace_id: string; readonly span_id: string } | null;
  readonly restored?: RestoredRun;
  readonly rerunInFlight?: boolean;
  /** Steps in flight at the interruption the executor recovered (`Executor.recover`): safe to start again. */
  readonly recovered?: ReadonlySet<string>;
  readonly suspendOnApproval?: boolean;
  /** The slot and rate-window keeper; by default this run's own, in memory. */
  readonly limits?: LimitsService;
  /** The consent scopes granted to the run (`orch run --consent`, config, `POST /runs`). */
  readonly consent?: readonly string[];
  /** A sub-plan's share of its parent's cost budgets (see `./budget.ts`). */
  readonly costCeilings?: readonly CostCeiling[];
  /** §8.8, §9.1: who started the run (journaled in `plan_created`); a sub-plan run inherits its parent's. */
  readonly startedBy?: Starter | null;
  /** §9.1: where else the run came from (journaled in `plan_created`): its cause, its chain, `people_bound`. */
  readonly origin?: Omit<RunOrigin, 'started_by'>;
  /** §9.2: the step instances a forked run takes from the run it forks (`step_adopted`), journaled when it begins. */
  readonly adopted?: Adoption;
}

/** What `orch fork` adopts: each instance key's output, from run `from` (`given`: `--output`'s). */
export interface Adoption {
  readonly from: string;
  readonly steps: readonly { readonly key: string; readonly output: unknown; readonly given?: true }[];
}

const NONE: readonly Command[] = [];

export type Mode = 'normal' | 'rolling_back' | 'aborting' | 'finished';

export class SchedulerCore {
  readonly runId: string;
  readonly inputValue: unknown;
  readonly logical: Map<string, Logical>;
  readonly blocks: PlanBlocks;
  readonly instances = new Map<string, Inst>();
  /** `for each`, `repeat` and `race` blocks by key (block id + the frame's suffix). */
  readonly blockInsts = new Map<string, BlockInst>();
  readonly heap = new MinHeap<Inst>(readyBefore);
  /**
   * Queued instances held back by a `for each … parallel N` that is full, by group key: out of the
   * heap until that group's next item ends (`itemsEnded`), when they go back into it.
   */
  readonly parked = new Map<string, Inst[]>();
  readonly decideQ: Inst[] = [];
  /** `for each` blocks whose list waits for the steps it reads. */
  readonly waitingLists = new Set<BlockInst>();
  readonly runningLoops = new Set<BlockInst>();
  /** `for each` blocks without items, ending once their steps' other dependencies ended. */
  readonly waitingWhole = new Map<BlockInst, { readonly status: StepStatus; readonly reason: string | null }>();
  /** Instances that ended since the last look at what they make ready. */
  dirty: Inst[] = [];
  /** A block changed (opened, ended, a race was decided): look at everything waiting. */
  dirtyAll = false;
  /** Instances and blocks not ended yet: the run is done when none is left and nothing runs. */
  open = 0;
  /** `viewAt`'s memo: how many leading items of a `for each` are known to have ended, per step. */
  readonly scanned = new Map<string, number>();
  /** `for each` items whose every step ended (told to the limits once). */
  readonly itemsDone = new Set<string>();
  /** Steps cancelled as a whole: instances still to come are cancelled when created. */
  readonly cancelRequests = new Set<string>();
  /**
   * `cancel --step KEY` for an instance not made yet (a later item's or iteration's): key → the
   * `step_cancelled` journaled for it then, which the instance takes once it is made — as a
   * resumed run takes it from the journal, so a crash in between forgets nothing.
   */
  readonly pendingCancels = new Map<string, RunEvent>();
  /** Started and not finished (attempts, waits, approvals, sub-plans, policy checks). */
  readonly inProgress = new Set<Inst>();
  readonly limits: LimitsService;
  /** Run-level timers armed: `deadline`, `rate:<capability>` (step timers live on their instance). */
  readonly armed = new Set<string>();
  readonly untilWaiters = new Set<Inst>();
  /** Running sub-plans that wait only for approvals: instance key → its token and what they wait for. */
  readonly subplanWaits = new Map<string, { readonly token: number; readonly waiting: readonly string[] }>();
  readonly pendingSignals = new Map<string, { decision: 'approve' | 'reject'; by: string | null; comment: string | null; identity: Identity | null }>();
  readonly warned = new Set<string>();
  /** MCP tools (`server/tool/hash`) the executor found unchanged in this run: their steps start without asking again. */
  readonly toolsChecked = new Set<string>();
  /** The run's cost ceilings (`costCeilings` in ./budget.ts), worked out when first asked for. */
  ceilings: readonly CostCeiling[] | null = null;
  /** Completed instances in order, for guardrails (`after` rules, pre-step checks): kept only when the plan has some. */
  readonly completedLog: { inst: Inst; at: number }[] = [];
  /** The journaled run-level facts (sequence, start, context), changed only by `foldRun`. */
  readonly facts: RunFacts;
  now = 0;
  runStatus: RunStatus = 'running';
  /**
   * The run goes on in this process but nothing can happen until a human answers an approval
   * (LANGUAGE.md §7.4: such a run is `paused`). Reported as its status; the scheduler itself keeps
   * `runStatus` running, so an answer, a timeout or a context change carries on at once.
   */
  awaitingApproval = false;
  mode: Mode = 'normal';
  failure: string | null = null;
  completedAt: number | null = null;
  totalCost = 0;
  outputValue: unknown = null;
  rollback: Rollback | null = null;
  private out: Command[] = [];
  /** §9.2: the records of the instances this (forked) run adopted, as the journal folds them. */
  readonly adoptedRecords = new Map<string, StepRecord>();

  constructor(
    readonly plan: PlanIR,
    readonly cfg: CoreConfig,
    readonly opts: CoreOptions,
  ) {
    this.runId = opts.runId;
    this.inputValue = opts.input ?? {};
    this.facts = newFacts({ ...(opts.restored?.context ?? {}), ...(opts.context ?? {}) });
    this.blocks = planBlocks(plan);
    this.logical = buildGraph(plan.steps, this.blocks);
    for (const id of opts.restored?.cancelRequests ?? []) this.cancelRequests.add(id);
    this.limits = opts.limits ?? new InRunLimits(plan);
  }

  get ctx(): { [key: string]: unknown } {
    return this.facts.context;
  }

  get startedAt(): number {
    return this.facts.startedAt ?? this.now;
  }

  /** Reacts to one event that happened at `at` (epoch ms); returns what the driver must do, in order. */
  handle(event: CoreEvent, at: number): readonly Command[] {
    this.now = at;
    try {
      if (event.type === 'started') beginRun(this);
      else if (event.type === 'pump') pump(this);
      else onEvent(this, event);
    } catch (err) {
      internalError(this, err);
    }
    const out = this.out;
    if (out.length === 0) return NONE;
    this.out = [];
    return out;
  }

  command(c: Command): void {
    this.out.push(c);
  }

  /** Journals an event: folds it into the records first, then hands it to the driver. */
  /** Records a completion for the guardrails that read the order of completions. */
  logCompleted(inst: Inst, at: number): void {
    if (this.plan.guardrails.length > 0) this.completedLog.push({ inst, at });
  }

  emit<T extends EventType>(type: T, stepId: string | null, data: EventData<T>): RunEventOf<T> {
    const event = makeEvent(this.runId, this.facts.lastSeq + 1, this.now, type, stepId, data);
    foldRun(this.facts, event);
    // Only instances the journal knows (a never-ready one has no event yet) — as `replay` sees them.
    if (endsUnstarted(event)) for (const inst of this.instances.values()) if (inst.rec.status !== 'pending') cancelUnstarted(inst.rec);
    if (stepId !== null) {
      const inst = this.instances.get(stepId);
      if (inst) {
        const before = inst.rec.cost;
        foldStep(inst.rec, event, this.facts);
        this.totalCost += inst.rec.cost - before;
      } else if (type === 'step_completed') this.facts.completions++; // a whole `for each` step, as replay counts it
    }
    this.out.push({ type: 'journal', event });
    this.cfg.onEvent?.(event);
    return event;
  }

  armTimer(timer: string, ms: number): void {
    this.out.push({ type: 'arm_timer', timer, ms });
  }

  cancelTimer(timer: string): void {
    this.out.push({ type: 'cancel_timer', timer });
  }

  // ───────────── reading (RunReader and the driver) ─────────────

  stepView(id: string): StepView | undefined {
    const inst = this.instances.get(id);
    if (inst && inst.path.length > 0) return instView(inst);
    const l = this.logical.get(id);
    return l ? viewAt(this, l, []) : undefined;
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
    return rule && refusal(rule, identity, decision, { approvedBy: [], startedBy: this.facts.startedBy, chain: chainOf(this.facts.origin) });
  }

  /** `now`: the time to measure `elapsed` at (by default the last event's). `started_by`: §8.8, the starter's subject. */
  actuals(now = this.now): { cost: number; elapsed: number; status: RunStatus; started_by: string | null } {
    return { cost: this.totalCost, elapsed: (this.completedAt ?? now) - this.startedAt, status: this.status(), started_by: this.facts.startedBy?.subject ?? null };
  }

  /** The run's status as journaled and shown: `paused` too while it only waits for approvals. */
  status(): RunStatus {
    return this.awaitingApproval && this.runStatus === 'running' ? 'paused' : this.runStatus;
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
