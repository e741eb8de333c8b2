/**
 * The deterministic scheduler core: one `Run` executes one PlanIR. It reacts to events (start,
 * attempt outcomes, timers, signals, pause/cancel) by changing state, emitting journal events,
 * and queueing effects (dispatching attempts) that run only after the events were committed.
 * See `./index.ts` for how to drive it.
 */
import type {
  CapabilityIR,
  CallIR,
  PlanIR,
  ResourceIR,
  StepIR,
  StepStatus,
  StepView,
} from '../../compiler/ir/types.js';
import { evaluate, truthy, type EvalEnv } from '../evaluate.js';
import {
  afterRuleViolations,
  assertViolations,
  capabilityMatches,
  postStepViolations,
  preStepViolations,
  type GuardStep,
  type Violation,
} from './guardrails.js';
import { MinHeap } from './heap.js';
import { replay, type RestoredRun, type RestoredStep } from './replay.js';
import type {
  AttemptHandle,
  AttemptOutcome,
  EventType,
  ExecutionResult,
  RunEvent,
  RunReader,
  RunStatus,
  RunSummary,
  SchedulerDeps,
  StepHookInfo,
  StepResult,
  TimerId,
} from './types.js';

export interface RunOptions {
  readonly runId: string;
  readonly input?: unknown;
  readonly context?: { readonly [key: string]: unknown };
  readonly parentRunId?: string | null;
  /** The folded journal of an interrupted run: resume instead of starting afresh. */
  readonly restored?: RestoredRun;
  /** On resume, run `idempotent false` steps that were in flight again instead of failing them. */
  readonly rerunInFlight?: boolean;
  /**
   * When nothing can happen any more except human approvals, stop: journal `execution_paused`
   * (`reason: "waiting for approval"`) and settle `done` with status `paused`. `orch run` uses it
   * so the process exits and `orch signal` continues the run later; `orch serve` keeps waiting.
   */
  readonly suspendOnApproval?: boolean;
  /**
   * Called synchronously with the result once the run ended and it was committed (before `done`
   * settles). Parent runs use it for sub-plans so a virtual-clock run stays synchronous.
   */
  readonly onFinish?: (result: ExecutionResult) => void;
}

/** `Run.done` of a run stopped by `detach()`: it is unfinished in the journal, not failed. */
export class RunDetached extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} was left unfinished (resumable)`);
    this.name = 'RunDetached';
  }
}

const TERMINAL: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled', 'timeout']);
const FAILED: ReadonlySet<StepStatus> = new Set(['failed', 'cancelled', 'timeout']);

type Waiting = 'approval' | 'wait' | 'until' | 'subplan' | null;

interface Inst {
  readonly key: string;
  readonly logical: Logical;
  readonly index: number | null;
  readonly item: unknown;
  status: StepStatus;
  attempts: number;
  phaseAttempts: number;
  phase: 'main' | 'fallback';
  resourceIndex: number;
  output: unknown;
  error: string | null;
  resource: string | null;
  startedAt: number | null;
  completedAt: number | null;
  cost: number;
  /** In-group dependencies (same item) not yet finished. */
  waitIn: number;
  token: number;
  handle: AttemptHandle | null;
  timer: TimerId | null;
  /** Holds a slot of the plan's `concurrency` (calls and sub-plans, not waits or approvals). */
  occupying: boolean;
  /** The resource whose `concurrency` this step counts toward while in progress (approvals included). */
  holding: string | null;
  waiting: Waiting;
  completionOrder: number | null;
  compensated: boolean;
  restored: RestoredStep | null;
  child: Run | null;
  secretsUsed: { [name: string]: string } | null;
  approvalArgs: { [name: string]: unknown } | null;
  /** The capability cost charged when the current attempt started (replaced by a reported cost). */
  attemptCapCost: number;
  /** A reported cost's difference to the estimate, journaled with the attempt's end event. */
  costDelta: number;
}

interface Logical {
  readonly step: StepIR;
  readonly order: number;
  /** Dependencies outside this step's `for each` group not yet finished. */
  remaining: number;
  expanded: boolean;
  instances: Inst[];
  terminalCount: number;
  terminal: boolean;
  /** Set when the whole step was skipped or failed before any item existed. */
  wholeStatus: StepStatus | null;
  wholeError: string | null;
  readonly dependents: Logical[];
  readonly groupDependents: Logical[];
}

export class Run implements RunReader {
  readonly runId: string;
  readonly plan: PlanIR;
  private readonly deps: SchedulerDeps;
  private readonly opts: RunOptions;
  private readonly inputValue: unknown;
  private readonly ctx: { [key: string]: unknown };
  private readonly logical = new Map<string, Logical>();
  private readonly instances = new Map<string, Inst>();
  private readonly groupLists = new Map<string, { ok: true; list: unknown[] } | { ok: false; error: string }>();
  private readonly heap = new MinHeap<Inst>(
    (a, b) =>
      (a.logical.step.priority - b.logical.step.priority ||
        a.logical.order - b.logical.order ||
        (a.index ?? 0) - (b.index ?? 0)) < 0,
  );
  private readonly decideQ: Inst[] = [];
  private readonly expandQ: Logical[] = [];
  private readonly runningSet = new Set<Inst>();
  private readonly resourceLoad = new Map<string, number>();
  /**
   * `for each … parallel N` limits items, not step instances: an item is in flight from its first
   * step start until every step instance of it that exists is terminal (waits included).
   */
  private readonly itemsInFlight = new Map<string, Set<number>>();
  /** The logical steps of each `for each` group. */
  private readonly groupSteps = new Map<string, Logical[]>();
  private readonly rateWindows = new Map<string, number[]>();
  private readonly rateTimers = new Map<string, TimerId>();
  private readonly untilWaiters = new Set<Inst>();
  private readonly pendingSignals = new Map<string, { decision: 'approve' | 'reject'; by: string | null; comment: string | null }>();
  private readonly warned = new Set<string>();
  private readonly completedLog: { inst: Inst; at: number }[] = [];
  private outbox: RunEvent[] = [];
  private effects: (() => void)[] = [];
  private seq = 0;
  private depth = 0;
  private flushScheduled = false;
  private loadInFlight = 0;
  private openLogical = 0;
  private completionCounter = 0;
  private runStatus: RunStatus = 'running';
  private mode: 'normal' | 'rolling_back' | 'aborting' | 'finished' = 'normal';
  private failure: string | null = null;
  private startedAt = 0;
  private completedAt: number | null = null;
  private totalCost = 0;
  private deadlineTimer: TimerId | null = null;
  private outputValue: unknown = null;
  private started = false;
  /**
   * `done` is created when first asked for: building the result (every step's ISO dates) is a
   * measurable share of a simulated run, and `orch verify` never reads it (`begin()`).
   */
  private donePromise: Promise<ExecutionResult> | null = null;
  private resolveDone: ((r: ExecutionResult) => void) | null = null;
  private rejectDoneFn: ((e: Error) => void) | null = null;
  /** Set once the run is over and committed: the result is ready (or why there is none). */
  private settled: { ok: true } | { ok: false; error: Error } | null = null;
  private resultReady = false;

  constructor(plan: PlanIR, deps: SchedulerDeps, opts: RunOptions) {
    this.plan = plan;
    this.deps = deps;
    this.opts = opts;
    this.runId = opts.runId;
    this.inputValue = opts.input ?? {};
    this.ctx = { ...(opts.restored?.context ?? {}), ...(opts.context ?? {}) };
    plan.steps.forEach((step, order) => {
      this.logical.set(step.id, {
        step,
        order,
        remaining: 0,
        expanded: false,
        instances: [],
        terminalCount: 0,
        terminal: false,
        wholeStatus: null,
        wholeError: null,
        dependents: [],
        groupDependents: [],
      });
    });
    for (const l of this.logical.values()) {
      const g = l.step.for_each?.group;
      if (g !== undefined) {
        const members = this.groupSteps.get(g);
        if (members) members.push(l);
        else this.groupSteps.set(g, [l]);
      }
      for (const d of new Set(l.step.deps)) {
        const dep = this.logical.get(d);
        if (!dep) continue;
        if (this.sameGroup(dep.step, l.step)) dep.groupDependents.push(l);
        else {
          dep.dependents.push(l);
          l.remaining++;
        }
      }
    }
    this.openLogical = this.logical.size;
  }

  // ───────────────────────────── driving ─────────────────────────────

  /** Settles with the execution result once the run reached a terminal status and it was committed. */
  get done(): Promise<ExecutionResult> {
    if (!this.donePromise) {
      const settled = this.settled;
      this.donePromise = settled
        ? settled.ok
          ? Promise.resolve(this.result())
          : Promise.reject(settled.error)
        : new Promise((res, rej) => {
            this.resolveDone = res;
            this.rejectDoneFn = rej;
          });
      // Callers that only poll `status()` must not see an unhandled rejection.
      this.donePromise.catch(() => undefined);
    }
    return this.donePromise;
  }

  private rejectDone(error: Error): void {
    if (this.settled) return;
    this.settled = { ok: false, error };
    this.rejectDoneFn?.(error);
  }

  /** Starts (or, with `restored`, resumes) the run. Returns `done`. */
  start(): Promise<ExecutionResult> {
    this.begin();
    return this.done;
  }

  /** `start()` for callers that follow the run by its status and events, not its result. */
  begin(): void {
    if (this.started) return;
    this.started = true;
    this.act(() => {
      const r = this.opts.restored;
      if (r) {
        this.seq = r.lastSeq;
        this.startedAt = r.startedAt ?? this.now();
        for (const s of r.steps.values())
          if (s.completionOrder !== null) this.completionCounter = Math.max(this.completionCounter, s.completionOrder + 1);
        this.emit('execution_started', null, { resumed: true });
        if (r.paused) this.emit('execution_resumed', null, {});
      } else {
        this.startedAt = this.now();
        this.emit('plan_created', null, {
          plan: this.plan.plan,
          module: this.plan.module,
          input: this.inputValue,
          context: this.ctx,
          steps: this.plan.steps.length,
          parentRunId: this.opts.parentRunId ?? null,
        });
        this.emit('execution_started', null, {});
      }
      if (this.plan.deadline_ms !== null) {
        const left = this.startedAt + this.plan.deadline_ms - this.now();
        this.deadlineTimer = this.deps.clock.setTimer(left, () =>
          this.act(() => this.abortRun('timeout', `deadline of ${this.plan.deadline_ms}ms exceeded`)),
        );
      }
      for (const l of this.logical.values()) if (l.remaining === 0) this.expandQ.push(l);
    });
  }

  pause(): boolean {
    if (this.runStatus !== 'running' || this.mode !== 'normal') return false;
    this.act(() => {
      this.runStatus = 'paused';
      this.emit('execution_paused', null, {});
      for (const i of this.runningSet) i.child?.pause();
    });
    return true;
  }

  resume(): boolean {
    if (this.runStatus !== 'paused') return false;
    this.act(() => {
      this.runStatus = 'running';
      this.emit('execution_resumed', null, {});
      for (const i of this.runningSet) i.child?.resume();
    });
    return true;
  }

  cancel(reason = 'cancelled by user'): boolean {
    if (this.mode === 'finished') return false;
    this.act(() => this.abortRun('cancelled', reason));
    return true;
  }

  /**
   * Stops executing this run here without ending it (a server shutting down): what already
   * happened is committed, attempts in flight are aborted without being recorded, nothing new
   * starts and no timer fires. The journal still shows the run in progress, so `resume` (with
   * the usual rules for steps that were in flight) continues it. `done` rejects with RunDetached.
   */
  detach(): boolean {
    if (this.mode === 'finished') return false;
    if (this.outbox.length > 0) {
      const events = this.outbox;
      this.outbox = [];
      try {
        this.deps.journal?.commit(this.summary(), events);
      } catch {
        // Not committed: the resumed run starts from the last committed state instead.
      }
    }
    // Effects not run yet belong to state changes already committed; resuming redoes them.
    this.effects = [];
    this.mode = 'finished';
    this.resultReady = true;
    for (const inst of this.runningSet) {
      inst.token++;
      inst.handle?.abort('runtime closed');
      inst.handle = null;
      inst.child?.detach();
      inst.child = null;
    }
    this.clearTimers();
    this.rejectDone(new RunDetached(this.runId));
    return true;
  }

  /**
   * Delivers an approval decision to `stepId` (an `approval` step, or `id[i]` inside `for each`).
   * A decision for a step that has not started yet is kept until it does.
   */
  signal(stepId: string, decision: 'approve' | 'reject', by: string | null = null, comment: string | null = null): string {
    if (this.mode === 'finished') return 'the run has finished';
    const inst = this.instances.get(stepId);
    if (inst && TERMINAL.has(inst.status)) return `step ${stepId} has already finished (${inst.status})`;
    if (!inst && !this.logical.has(stepId.replace(/\[\d+\]$/, ''))) {
      for (const i of this.runningSet) if (i.child && stepId.startsWith(`${i.key}/`)) return i.child.signal(stepId.slice(i.key.length + 1), decision, by, comment);
      return `unknown step ${stepId}`;
    }
    this.act(() => {
      if (inst && inst.waiting === 'approval' && inst.status === 'running') this.decideApproval(inst, decision, by, comment);
      else this.pendingSignals.set(stepId, { decision, by, comment });
    });
    return 'ok';
  }

  /** Updates live context signals; `wait until` conditions are re-evaluated. */
  updateContext(patch: { readonly [key: string]: unknown }): void {
    if (this.mode === 'finished') return;
    this.act(() => {
      Object.assign(this.ctx, patch);
      this.emit('context_updated', null, { patch });
      for (const inst of [...this.untilWaiters]) this.checkUntil(inst);
      for (const i of this.runningSet) i.child?.updateContext(patch);
    });
  }

  // ───────────────────────────── RunReader ─────────────────────────────

  status(): RunStatus {
    return this.runStatus;
  }

  stepView(id: string): StepView | undefined {
    const inst = this.instances.get(id);
    if (inst && inst.index !== null) return this.instView(inst);
    const l = this.logical.get(id);
    return l ? this.logicalView(l) : undefined;
  }

  running(): readonly string[] {
    return [...this.runningSet].map((i) => i.key);
  }

  actuals(): { cost: number; elapsed: number; status: RunStatus } {
    return { cost: this.totalCost, elapsed: (this.completedAt ?? this.now()) - this.startedAt, status: this.runStatus };
  }

  context(): { readonly [key: string]: unknown } {
    return this.ctx;
  }

  input(): unknown {
    return this.inputValue;
  }

  /** The execution result (LANGUAGE.md §6); meaningful once `done` settled. */
  result(): ExecutionResult {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const steps: StepResult[] = [];
    let completed = 0;
    let failed = 0;
    let skipped = 0;
    for (const l of this.logical.values()) {
      const v = this.logicalView(l);
      const insts = l.instances;
      let start: number | null = null;
      let end: number | null = null;
      for (const i of insts) {
        if (i.startedAt !== null && (start === null || i.startedAt < start)) start = i.startedAt;
        if (i.completedAt !== null && (end === null || i.completedAt > end)) end = i.completedAt;
      }
      const error = l.wholeError ?? insts.find((i) => i.error !== null && FAILED.has(i.status))?.error ?? null;
      if (v.status === 'completed') completed++;
      else if (FAILED.has(v.status)) failed++;
      else if (v.status === 'skipped') skipped++;
      steps.push({
        stepId: l.step.id,
        status: v.status,
        output: v.output,
        error,
        attempts: v.attempts,
        resource: v.resource,
        duration: v.duration,
        startedAt: iso(start),
        completedAt: iso(TERMINAL.has(v.status) ? end : null),
      });
    }
    const end = this.completedAt ?? this.now();
    const status = this.runStatus === 'running' ? 'failed' : this.runStatus;
    const result: ExecutionResult = {
      planId: this.plan.plan,
      runId: this.runId,
      status,
      steps,
      output: this.outputValue,
      error: this.failure,
      metadata: {
        totalDuration: end - this.startedAt,
        totalCost: round6(this.totalCost),
        totalSteps: this.logical.size,
        completedSteps: completed,
        failedSteps: failed,
        skippedSteps: skipped,
      },
      startedAt: new Date(this.startedAt).toISOString(),
      completedAt: new Date(end).toISOString(),
    };
    return (this.deps.redact ? this.deps.redact(result) : result) as ExecutionResult;
  }

  summary(): RunSummary {
    return {
      runId: this.runId,
      plan: this.plan.plan,
      parentRunId: this.opts.parentRunId ?? null,
      status: this.runStatus,
      startedAt: this.startedAt,
      completedAt: this.completedAt,
      cost: round6(this.totalCost),
      error: this.failure,
    };
  }

  // ───────────────────────────── transaction machinery ─────────────────────────────

  private now(): number {
    return this.deps.clock.now();
  }

  /** Every external entry point mutates state inside `act`; the commit + effects follow it. */
  private act(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } catch (err) {
      this.internalError(err);
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.deps.defer) return this.flush();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.deps.defer(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    this.depth++;
    try {
      this.pump();
    } catch (err) {
      this.internalError(err);
    } finally {
      this.depth--;
    }
    if (this.outbox.length > 0) {
      const events = this.outbox;
      this.outbox = [];
      try {
        this.deps.journal?.commit(this.summary(), events);
      } catch (err) {
        // The journal is the source of truth: without it nothing may go on.
        this.abandon(new Error(`journal write failed: ${(err as Error).message}`));
        return;
      }
    }
    const effects = this.effects;
    this.effects = [];
    for (const e of effects) e();
    if (this.mode === 'finished' && !this.resultReady && this.outbox.length === 0) {
      this.resultReady = true;
      this.settled = { ok: true };
      if (this.opts.onFinish || this.resolveDone) {
        const result = this.result();
        this.opts.onFinish?.(result);
        this.resolveDone?.(result);
      }
    }
  }

  private internalError(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.mode !== 'finished') this.abortRun('failed', `internal error: ${message}`);
  }

  private abandon(err: Error): void {
    this.mode = 'finished';
    for (const i of this.runningSet) i.handle?.abort('journal failure');
    this.clearTimers();
    this.rejectDone(err);
  }

  private emit(type: EventType, stepId: string | null, data: { [key: string]: unknown }): void {
    const event: RunEvent = { runId: this.runId, seq: ++this.seq, ts: this.now(), type, stepId, data };
    this.outbox.push(event);
    this.deps.observe?.(event, this);
  }

  private effect(fn: () => void): void {
    this.effects.push(fn);
  }

  // ───────────────────────────── the pump ─────────────────────────────

  private pump(): void {
    for (;;) {
      let progressed = false;
      while (this.expandQ.length || this.decideQ.length) {
        progressed = true;
        const l = this.expandQ.shift();
        if (l) this.expand(l);
        else this.decide(this.decideQ.shift()!);
      }
      if (this.runStatus === 'running' && this.mode === 'normal' && this.heap.size > 0) {
        if (this.dispatch()) progressed = true;
      }
      if (!progressed) break;
    }
    this.checkDone();
  }

  private sameGroup(a: StepIR, b: StepIR): boolean {
    return a.for_each !== null && b.for_each !== null && a.for_each.group === b.for_each.group;
  }

  private newInst(l: Logical, index: number | null, item: unknown): Inst {
    const key = index === null ? l.step.id : `${l.step.id}[${index}]`;
    const inst: Inst = {
      key,
      logical: l,
      index,
      item,
      status: 'pending',
      attempts: 0,
      phaseAttempts: 0,
      phase: 'main',
      resourceIndex: 0,
      output: null,
      error: null,
      resource: null,
      startedAt: null,
      completedAt: null,
      cost: 0,
      waitIn: 0,
      token: 0,
      handle: null,
      timer: null,
      occupying: false,
      holding: null,
      waiting: null,
      completionOrder: null,
      compensated: false,
      restored: this.opts.restored?.steps.get(key) ?? null,
      child: null,
      secretsUsed: null,
      approvalArgs: null,
      attemptCapCost: 0,
      costDelta: 0,
    };
    this.instances.set(key, inst);
    l.instances.push(inst);
    return inst;
  }

  /** All dependencies outside the step's group are finished: create its instance(s). */
  private expand(l: Logical): void {
    if (l.expanded || this.mode !== 'normal') return;
    l.expanded = true;
    const fe = l.step.for_each;
    if (!fe) {
      this.decideQ.push(this.newInst(l, null, undefined));
      return;
    }
    const skip = this.skipReason(l.step, null);
    if (skip) return this.finishWhole(l, 'skipped', skip);
    let cached = this.groupLists.get(fe.group);
    if (!cached) {
      try {
        const v = evaluate(fe.list, this.env(null, l.step));
        cached = Array.isArray(v)
          ? { ok: true, list: v }
          : { ok: false, error: `for each over ${describeType(v)}: a list is needed` };
      } catch (err) {
        cached = { ok: false, error: (err as Error).message };
      }
      this.groupLists.set(fe.group, cached);
    }
    if (!cached.ok) return this.finishWhole(l, 'failed', cached.error);
    if (cached.list.length === 0) return this.finishWhole(l, 'completed', null);
    cached.list.forEach((item, i) => {
      const inst = this.newInst(l, i, item);
      for (const d of new Set(l.step.deps)) {
        const dep = this.logical.get(d);
        if (!dep || !this.sameGroup(dep.step, l.step)) continue;
        const di = dep.instances[i];
        // A same-group dependency that expanded as a whole (skipped/failed) is finished.
        if (!dep.terminal && (!di || !TERMINAL.has(di.status))) inst.waitIn++;
      }
      if (inst.waitIn === 0) this.decideQ.push(inst);
    });
  }

  /** A step finished without items (skipped, failed before expansion, or an empty list). */
  private finishWhole(l: Logical, status: StepStatus, reason: string | null): void {
    l.wholeStatus = status;
    l.wholeError = status === 'failed' ? reason : null;
    if (status === 'skipped') this.emit('step_skipped', l.step.id, { reason });
    else if (status === 'failed') this.emit('step_failed', l.step.id, { error: reason, status, final: true });
    else this.emit('step_completed', l.step.id, { output: [], items: 0 });
    this.logicalTerminal(l);
    for (const g of l.groupDependents) if (g.expanded) for (const inst of g.instances) this.groupDepDone(inst);
    if (status === 'failed') this.applyFailurePolicy(l.step, l.step.id, reason ?? 'failed');
  }

  /** Join rule and skip propagation over the finished dependencies; null = may run. */
  private skipReason(step: StepIR, index: number | null): string | null {
    const views: { id: string; v: StepView }[] = [];
    for (const d of new Set(step.deps)) {
      const dep = this.logical.get(d);
      if (!dep) continue;
      if (this.sameGroup(dep.step, step)) {
        if (index === null) continue;
        const di = dep.instances[index];
        views.push({ id: d, v: di ? this.instView(di) : this.logicalView(dep) });
      } else views.push({ id: d, v: this.logicalView(dep) });
    }
    for (const s of step.skip_if_skipped) {
      const found = views.find((x) => x.id === s);
      if (found?.v.skipped) return `${s} was skipped`;
    }
    const failed = views.filter((x) => FAILED.has(x.v.status));
    switch (step.join) {
      case 'none_failed':
        if (failed.length) return `dependency ${failed[0]!.id} ${failed[0]!.v.status}`;
        break;
      case 'all_success': {
        const notOk = views.find((x) => x.v.status !== 'completed');
        if (notOk) return `dependency ${notOk.id} ${notOk.v.status} (join all_success)`;
        break;
      }
      case 'any_success':
        if (views.length > 0 && !views.some((x) => x.v.status === 'completed')) return 'no dependency succeeded (join any_success)';
        break;
      case 'all_done':
        break;
    }
    return null;
  }

  /** All dependencies of an instance are finished: skip it, fail it, or queue it. */
  private decide(inst: Inst): void {
    if (this.mode !== 'normal' || inst.status !== 'pending') return;
    const step = inst.logical.step;
    const r = inst.restored;
    if (r && (r.status === 'completed' || r.status === 'skipped' || FAILED.has(r.status))) {
      // Finished before the interruption: take the journal's word, never run it again.
      Object.assign(inst, {
        status: r.status,
        attempts: r.attempts,
        output: r.output,
        error: r.error,
        resource: r.resource,
        startedAt: r.startedAt,
        completedAt: r.completedAt,
        cost: r.cost,
        completionOrder: r.completionOrder,
        compensated: r.compensated,
      });
      this.totalCost += r.cost;
      if (r.status === 'completed') this.completedLog.push({ inst, at: r.completedAt ?? 0 });
      if (FAILED.has(r.status) && step.on_failure !== 'continue' && this.failure === null)
        this.failure = `step ${inst.key} ${r.status}: ${r.error ?? ''}`;
      this.instTerminal(inst);
      return;
    }
    if (r && r.status !== 'pending') {
      Object.assign(inst, {
        attempts: r.attempts,
        phase: r.phase,
        resourceIndex: r.resourceIndex,
        // An attempt cut short by the crash does not use up the retry budget.
        phaseAttempts: Math.max(0, r.phaseAttempts - (r.inFlight ? 1 : 0)),
        resource: r.resource,
        startedAt: r.startedAt,
        cost: r.cost,
      });
      this.totalCost += r.cost;
      const cap = this.capabilityOf(inst);
      // A wait, an approval or a sub-plan picks up where it was: that is not a new attempt.
      const resumesInPlace = step.action.type !== 'call' || (cap !== null && isApproval(cap));
      if (r.inFlight && resumesInPlace) {
        inst.attempts = Math.max(0, r.attempts - 1);
        // Its cost was charged when it started; launching again charges it once more.
        this.totalCost -= this.attemptCostOf(inst);
        inst.cost -= this.attemptCostOf(inst);
      }
      if (
        r.inFlight &&
        step.action.type === 'call' &&
        cap &&
        !isApproval(cap) &&
        !cap.idempotent &&
        !this.opts.rerunInFlight
      ) {
        this.finalFail(
          inst,
          'failed',
          'failed-unknown: it was running when the run was interrupted and its capability is not idempotent (resume with --rerun-in-flight to run it again)',
        );
        return;
      }
      this.queue(inst);
      return;
    }
    const skip = this.skipReason(step, inst.index);
    if (skip) return this.skip(inst, skip);
    if (step.when) {
      let ok: boolean;
      try {
        ok = truthy(evaluate(step.when, this.env(inst, step)));
      } catch (err) {
        return this.finalFail(inst, 'failed', `when condition: ${(err as Error).message}`);
      }
      if (!ok) return this.skip(inst, 'when condition is false');
    }
    this.queue(inst);
  }

  private queue(inst: Inst): void {
    inst.status = 'queued';
    this.emit('step_queued', inst.key, {});
    this.heap.push(inst);
  }

  private skip(inst: Inst, reason: string): void {
    inst.status = 'skipped';
    this.emit('step_skipped', inst.key, { reason });
    this.instTerminal(inst);
  }

  // ───────────────────────────── dispatch ─────────────────────────────

  private occupies(inst: Inst): boolean {
    const a = inst.logical.step.action;
    if (a.type === 'run') return true;
    if (a.type !== 'call') return false;
    const cap = this.capabilityOf(inst);
    return !cap || !isApproval(cap);
  }

  /** Starts queued steps while the limits allow; returns whether anything started. */
  private dispatch(): boolean {
    const setAside: Inst[] = [];
    let startedAny = false;
    const planLimit = this.plan.concurrency ?? Infinity;
    while (this.heap.size > 0) {
      const inst = this.heap.peek()!;
      if (inst.status !== 'queued') {
        this.heap.pop();
        continue;
      }
      const occupies = this.occupies(inst);
      if (occupies && this.loadInFlight >= planLimit) break;
      if (this.blocked(inst, occupies)) {
        setAside.push(this.heap.pop()!);
        continue;
      }
      this.heap.pop();
      startedAny = true;
      this.beginStep(inst, occupies);
    }
    for (const i of setAside) this.heap.push(i);
    return startedAny;
  }

  private resourceOf(inst: Inst): ResourceIR | null {
    const step = inst.logical.step;
    // A fallback call placed by the compiler runs on its own binding (IR without one: the step's).
    const fallbackBinding = inst.phase === 'fallback' ? step.fallback?.binding : undefined;
    const name = fallbackBinding
      ? fallbackBinding.resource
      : inst.resourceIndex === 0
        ? (step.resource ?? step.binding.resource)
        : step.binding.fallbacks[inst.resourceIndex - 1];
    return name ? (this.plan.resources[name] ?? null) : null;
  }

  private capabilityOf(inst: Inst): CapabilityIR | null {
    const step = inst.logical.step;
    const name = inst.phase === 'fallback' ? step.fallback?.capability : step.capability;
    return name ? (this.plan.capabilities[name] ?? null) : null;
  }

  /** The resource a step counts toward while in progress: calls (approvals too) and sub-plans. */
  private countedResource(inst: Inst): ResourceIR | null {
    const t = inst.logical.step.action.type;
    return t === 'call' || t === 'run' ? this.resourceOf(inst) : null;
  }

  /** Held back by a resource's concurrency or its item's `parallel` limit (only a finishing step frees those). */
  private heldBack(inst: Inst): boolean {
    const res = this.countedResource(inst);
    if (res && res.concurrency !== null && (this.resourceLoad.get(res.name) ?? 0) >= res.concurrency) return true;
    const fe = inst.logical.step.for_each;
    if (fe && fe.parallel !== null && inst.index !== null) {
      const items = this.itemsInFlight.get(fe.group);
      if (items && !items.has(inst.index) && items.size >= fe.parallel) return true;
    }
    return false;
  }

  private blocked(inst: Inst, occupies: boolean): boolean {
    if (this.heldBack(inst)) return true;
    if (!occupies) return false;
    const cap = this.capabilityOf(inst);
    if (cap && this.plan.policy) {
      for (const rl of this.plan.policy.rate_limits) {
        if (!capabilityMatches(rl.capability, cap.name)) continue;
        const win = this.rateWindow(rl.capability, rl.per_ms);
        if (win.length >= rl.count) {
          this.armRateTimer(rl.capability, win[0]! + rl.per_ms - this.now());
          return true;
        }
      }
    }
    return false;
  }

  private rateWindow(name: string, perMs: number): number[] {
    const now = this.now();
    const win = (this.rateWindows.get(name) ?? []).filter((t) => t > now - perMs);
    this.rateWindows.set(name, win);
    return win;
  }

  private armRateTimer(name: string, ms: number): void {
    if (this.rateTimers.has(name)) return;
    this.rateTimers.set(
      name,
      this.deps.clock.setTimer(Math.max(1, ms), () =>
        this.act(() => {
          this.rateTimers.delete(name);
        }),
      ),
    );
  }

  private occupy(inst: Inst, occupies: boolean): void {
    const res = this.countedResource(inst);
    if (res) {
      inst.holding = res.name;
      this.resourceLoad.set(res.name, (this.resourceLoad.get(res.name) ?? 0) + 1);
    }
    const fe = inst.logical.step.for_each;
    if (fe && inst.index !== null) {
      const items = this.itemsInFlight.get(fe.group);
      if (items) items.add(inst.index);
      else this.itemsInFlight.set(fe.group, new Set([inst.index]));
    }
    if (!occupies) return;
    inst.occupying = true;
    this.loadInFlight++;
    const cap = this.capabilityOf(inst);
    if (cap && this.plan.policy)
      for (const rl of this.plan.policy.rate_limits)
        if (capabilityMatches(rl.capability, cap.name)) this.rateWindow(rl.capability, rl.per_ms).push(this.now());
  }

  /** The step stopped running (its item stays in flight until the item is done: `itemTerminal`). */
  private release(inst: Inst): void {
    if (inst.holding !== null) {
      this.resourceLoad.set(inst.holding, (this.resourceLoad.get(inst.holding) ?? 1) - 1);
      inst.holding = null;
    }
    if (!inst.occupying) return;
    inst.occupying = false;
    this.loadInFlight--;
  }

  /** An instance of a `for each` item ended: the item leaves the in-flight set once all of it has. */
  private itemTerminal(inst: Inst): void {
    const fe = inst.logical.step.for_each;
    const index = inst.index;
    if (!fe || index === null) return;
    const items = this.itemsInFlight.get(fe.group);
    if (!items?.has(index)) return;
    for (const l of this.groupSteps.get(fe.group) ?? []) {
      const other = l.instances[index];
      if (other && !TERMINAL.has(other.status)) return;
    }
    items.delete(index);
  }

  // ───────────────────────────── starting a step ─────────────────────────────

  private guardStep(inst: Inst): GuardStep {
    const step = inst.logical.step;
    const res = this.resourceOf(inst);
    const cap = this.capabilityOf(inst);
    return {
      id: step.id,
      name: step.id,
      capability: cap?.name ?? step.capability,
      kind: cap?.kind ?? step.kind,
      data: step.data,
      placement: res?.kind ?? null,
      tier: res?.tier ?? null,
      resource: res?.name ?? null,
      cost: step.estimates.cost,
      duration: step.estimates.duration_ms,
    };
  }

  private recordViolations(inst: Inst | null, vs: readonly Violation[]): Violation | null {
    let blocking: Violation | null = null;
    for (const v of vs) {
      const onceKey = `${v.guardrail.name}\u0000${v.rule}\u0000${v.rule === 'assert' ? '' : (inst?.key ?? '')}`;
      if (v.guardrail.severity !== 'blocking' && this.warned.has(onceKey)) continue;
      this.warned.add(onceKey);
      this.emit('guardrail_violation', inst?.key ?? null, {
        guardrail: v.guardrail.name,
        severity: v.guardrail.severity,
        category: v.guardrail.category,
        rule: v.rule,
        message: v.message,
      });
      if (v.guardrail.severity === 'blocking' && !blocking) blocking = v;
    }
    return blocking;
  }

  private beginStep(inst: Inst, occupies: boolean): void {
    if (this.plan.guardrails.length > 0) {
      const guard = this.guardStep(inst);
      const env = this.env(inst, inst.logical.step);
      const violations = [
        ...preStepViolations(this.plan.guardrails, guard, env, () => this.completedLog.map((c) => this.guardStep(c.inst))),
        ...assertViolations(this.plan.guardrails, env),
      ];
      const blocking = this.recordViolations(inst, violations);
      if (blocking) return this.blockStep(inst, blocking.message);
    }
    this.occupy(inst, occupies);
    const hook = this.deps.hooks?.preExecution;
    if (!hook) return this.launch(inst);
    let decision: { allow: boolean; reason?: string } | Promise<{ allow: boolean; reason?: string }>;
    try {
      decision = hook(this.hookInfo(inst), { plan: this.plan.plan, runId: this.runId });
    } catch (err) {
      this.release(inst);
      return this.blockStep(inst, `preExecution hook failed: ${(err as Error).message}`);
    }
    const apply = (d: { allow: boolean; reason?: string }) => {
      if (d && d.allow === false) {
        this.release(inst);
        this.blockStep(inst, `blocked by preExecution policy hook${d.reason ? `: ${d.reason}` : ''}`);
      } else this.launch(inst);
    };
    if (decision && typeof (decision as Promise<unknown>).then === 'function') {
      // The step holds its slot while the hook decides; nothing else about it changes meanwhile.
      inst.status = 'running';
      this.runningSet.add(inst);
      const token = ++inst.token;
      (decision as Promise<{ allow: boolean; reason?: string }>).then(
        (d) =>
          this.act(() => {
            if (inst.token !== token || this.mode !== 'normal') return;
            this.runningSet.delete(inst);
            inst.status = 'queued';
            apply(d);
          }),
        (err) =>
          this.act(() => {
            if (inst.token !== token || this.mode !== 'normal') return;
            this.runningSet.delete(inst);
            inst.status = 'queued';
            this.release(inst);
            this.blockStep(inst, `preExecution hook failed: ${(err as Error).message}`);
          }),
      );
    } else apply(decision as { allow: boolean; reason?: string });
  }

  /** A blocking guardrail or policy hook stopped the step: it fails and so does the run. */
  private blockStep(inst: Inst, message: string): void {
    inst.status = 'failed';
    inst.error = message;
    inst.completedAt = this.now();
    this.emit('step_failed', inst.key, { error: message, status: 'failed', final: true, blocked: true });
    this.instTerminal(inst);
    this.abortRun('failed', message);
  }

  private hookInfo(inst: Inst, input: { [k: string]: unknown } | null = null): StepHookInfo {
    const cap = this.capabilityOf(inst);
    return {
      runId: this.runId,
      stepId: inst.key,
      baseStepId: inst.logical.step.id,
      capability: cap?.name ?? null,
      kind: cap?.kind ?? null,
      resource: this.resourceOf(inst)?.name ?? null,
      data: inst.logical.step.data,
      attempt: inst.attempts,
      input,
    };
  }

  private launch(inst: Inst): void {
    const step = inst.logical.step;
    const cap = this.capabilityOf(inst);
    const res = this.resourceOf(inst);
    const restoredWaitStart = inst.restored?.inFlight ? inst.startedAt : null;
    inst.attempts++;
    inst.phaseAttempts++;
    inst.status = 'running';
    inst.resource = res?.name ?? null;
    inst.startedAt ??= this.now();
    const token = ++inst.token;
    const attemptCost = this.attemptCostOf(inst);
    inst.attemptCapCost = step.action.type === 'call' ? (cap?.cost ?? 0) : 0;
    inst.cost += attemptCost;
    this.totalCost += attemptCost;
    this.runningSet.add(inst);
    this.emit('step_started', inst.key, {
      attempt: inst.attempts,
      phaseAttempt: inst.phaseAttempts,
      phase: inst.phase,
      resourceIndex: inst.resourceIndex,
      resource: inst.resource,
      capability: cap?.name ?? null,
      cost: attemptCost,
    });
    const action = step.action;
    const timeoutMs = step.timeout_ms ?? cap?.timeout_ms ?? null;
    switch (action.type) {
      case 'wait': {
        let ms: number;
        try {
          ms = Number(evaluate(action.duration_ms, this.env(inst, step)));
        } catch (err) {
          return this.attemptFailed(inst, `wait duration: ${(err as Error).message}`, false, false);
        }
        const startAt = restoredWaitStart ?? this.now();
        inst.waiting = 'wait';
        inst.timer = this.deps.clock.setTimer(startAt + ms - this.now(), () =>
          this.act(() => {
            if (inst.token !== token || inst.status !== 'running') return;
            inst.timer = null;
            this.succeed(inst, null);
          }),
        );
        return;
      }
      case 'wait_until': {
        inst.waiting = 'until';
        if (action.timeout_ms !== null) this.armTimeout(inst, token, action.timeout_ms, 'wait until', restoredWaitStart);
        this.untilWaiters.add(inst);
        this.checkUntil(inst);
        return;
      }
      case 'run': {
        const sub = this.plan.subplans[action.plan];
        if (!sub) return this.attemptFailed(inst, `unknown sub-plan ${action.plan}`, false, false);
        let args: { [k: string]: unknown };
        try {
          args = this.evalArgs(inst, action.args);
        } catch (err) {
          return this.attemptFailed(inst, `arguments: ${(err as Error).message}`, false, false);
        }
        inst.waiting = 'subplan';
        if (timeoutMs !== null) this.armTimeout(inst, token, timeoutMs, 'sub-plan', restoredWaitStart);
        const childId = `${this.runId}/${inst.key}`;
        const loaded = this.deps.journal?.load?.(childId);
        this.effect(() => {
          if (inst.token !== token || inst.status !== 'running') return;
          const restored = loaded && loaded.length ? replay(loaded) : undefined;
          const child = new Run(sub, this.deps, {
            runId: childId,
            input: args,
            context: this.ctx,
            parentRunId: this.runId,
            restored: restored && !restored.terminal ? restored : undefined,
            rerunInFlight: this.opts.rerunInFlight,
            onFinish: (res) =>
              this.act(() => {
                if (inst.token !== token || inst.status !== 'running') return;
                inst.child = null;
                this.clearTimer(inst);
                if (res.status === 'completed') this.succeed(inst, res.output);
                else this.attemptFailed(inst, `sub-plan ${action.plan} ${res.status}: ${res.error ?? ''}`, false, true);
              }),
          });
          inst.child = child;
          if (restored?.terminal) {
            // The child finished before the interruption: read its outcome from the journal.
            const last = loaded![loaded!.length - 1]!;
            this.act(() => {
              if (inst.token !== token) return;
              if (last.type === 'execution_completed') this.succeed(inst, last.data.output ?? null);
              else this.attemptFailed(inst, `sub-plan ${action.plan} ${String(last.data.status ?? 'failed')}: ${String(last.data.error ?? last.data.reason ?? '')}`, false, true);
            });
            return;
          }
          if (this.runStatus === 'paused') child.pause();
          child.start().then(
            () => undefined,
            (err) =>
              this.act(() => {
                if (inst.token !== token) return;
                this.attemptFailed(inst, `sub-plan ${action.plan}: ${(err as Error).message}`, false, false);
              }),
          );
        });
        return;
      }
      case 'call': {
        if (!cap) return this.attemptFailed(inst, `unknown capability ${step.capability}`, false, false);
        if (isApproval(cap)) {
          try {
            inst.approvalArgs = this.evalArgs(inst, step.args);
          } catch (err) {
            return this.attemptFailed(inst, `arguments: ${(err as Error).message}`, false, false, undefined, true);
          }
          inst.waiting = 'approval';
          if (timeoutMs !== null) this.armTimeout(inst, token, timeoutMs, 'approval', restoredWaitStart);
          const pending = this.pendingSignals.get(inst.key);
          if (pending) {
            this.pendingSignals.delete(inst.key);
            this.decideApproval(inst, pending.decision, pending.by, pending.comment);
          }
          return;
        }
        const call: CallIR | null = inst.phase === 'fallback' ? step.fallback : { capability: cap.name, args: step.args };
        let input: { [k: string]: unknown };
        try {
          input = this.evalArgs(inst, call!.args);
        } catch (err) {
          // The call cannot even be made: deterministic, so no retry, but the fallback is tried.
          return this.attemptFailed(inst, `arguments: ${(err as Error).message}`, false, false, undefined, true);
        }
        if (timeoutMs !== null) this.armTimeout(inst, token, timeoutMs, 'attempt');
        const request = {
          runId: this.runId,
          stepId: inst.key,
          baseStepId: step.id,
          attempt: inst.attempts,
          purpose: inst.phase === 'fallback' ? ('fallback' as const) : ('call' as const),
          capability: cap,
          input,
          resource: res,
          timeoutMs,
          secrets: { ...(this.deps.configSecrets ?? {}), ...(inst.secretsUsed ?? {}) },
          plan: this.plan,
        };
        this.effect(() => {
          if (inst.token !== token || inst.status !== 'running') return;
          inst.handle = this.deps.executor.start(request, (outcome) =>
            this.act(() => this.onOutcome(inst, token, outcome)),
          );
        });
        return;
      }
    }
  }

  /** The journal field for a reported attempt cost (replay adds it to the step's cost). */
  private takeCostDelta(inst: Inst): { cost_delta?: number } {
    const delta = inst.costDelta;
    inst.costDelta = 0;
    return delta !== 0 ? { cost_delta: delta } : {};
  }

  /** What one attempt costs: the capability's estimate (calls only) plus the resource's. */
  private attemptCostOf(inst: Inst): number {
    const cap = this.capabilityOf(inst);
    return (inst.logical.step.action.type === 'call' ? (cap?.cost ?? 0) : 0) + (this.resourceOf(inst)?.cost ?? 0);
  }

  private evalArgs(inst: Inst, args: { readonly [k: string]: import('../../compiler/ir/types.js').ExprIR }): { [k: string]: unknown } {
    const env = this.env(inst, inst.logical.step);
    const out: { [k: string]: unknown } = {};
    for (const [k, e] of Object.entries(args)) out[k] = evaluate(e, env);
    return out;
  }

  /** `since`: when a resumed wait originally started, so only the remaining time is waited. */
  private armTimeout(inst: Inst, token: number, ms: number, what: string, since: number | null = null): void {
    const left = since === null ? ms : since + ms - this.now();
    inst.timer = this.deps.clock.setTimer(left, () =>
      this.act(() => {
        if (inst.token !== token || inst.status !== 'running') return;
        inst.timer = null;
        inst.handle?.abort('timeout');
        inst.handle = null;
        inst.child?.cancel('timed out');
        inst.child = null;
        this.untilWaiters.delete(inst);
        const final = inst.waiting === 'approval' || inst.waiting === 'until';
        this.attemptFailed(inst, `${what} timed out after ${ms}ms`, true, !final);
      }),
    );
  }

  private clearTimer(inst: Inst): void {
    if (inst.timer !== null) this.deps.clock.cancelTimer(inst.timer);
    inst.timer = null;
  }

  private checkUntil(inst: Inst): void {
    const action = inst.logical.step.action;
    if (action.type !== 'wait_until' || inst.status !== 'running') return;
    let ok = false;
    try {
      ok = truthy(evaluate(action.condition, this.env(inst, inst.logical.step)));
    } catch {
      ok = false; // a signal that is not there yet keeps the step waiting
    }
    if (ok) {
      this.untilWaiters.delete(inst);
      this.clearTimer(inst);
      this.succeed(inst, { context: { ...this.ctx } });
    }
  }

  private decideApproval(inst: Inst, decision: 'approve' | 'reject', by: string | null, comment: string | null): void {
    this.clearTimer(inst);
    const approver = by ?? (typeof inst.approvalArgs?.approver === 'string' ? inst.approvalArgs.approver : 'unknown');
    if (decision === 'approve')
      this.succeed(inst, { approved: true, approver, decision: 'approve', ...(comment !== null ? { comment } : {}) });
    else this.attemptFailed(inst, `rejected${by ? ` by ${by}` : ''}${comment ? `: ${comment}` : ''}`, false, false);
  }

  // ───────────────────────────── outcomes ─────────────────────────────

  private onOutcome(inst: Inst, token: number, outcome: AttemptOutcome): void {
    if (inst.token !== token || inst.status !== 'running') return;
    inst.handle = null;
    this.clearTimer(inst);
    if (outcome.cost !== undefined && Number.isFinite(outcome.cost)) {
      const delta = outcome.cost - inst.attemptCapCost;
      inst.cost += delta;
      this.totalCost += delta;
      inst.costDelta = delta;
    }
    if (outcome.ok) this.succeed(inst, outcome.output, outcome.logs);
    else this.attemptFailed(inst, outcome.error, false, true, outcome.logs);
  }

  private stopRunning(inst: Inst): void {
    this.runningSet.delete(inst);
    this.release(inst);
    inst.waiting = null;
    this.untilWaiters.delete(inst);
  }

  private succeed(inst: Inst, output: unknown, logs?: readonly string[]): void {
    this.stopRunning(inst);
    const guarded = this.plan.guardrails.length > 0;
    const blocking = guarded
      ? this.recordViolations(
          inst,
          postStepViolations(this.plan.guardrails, this.guardStep(inst), output, this.env(inst, inst.logical.step)),
        )
      : null;
    if (blocking) {
      inst.output = output;
      return this.finalFail(inst, 'failed', blocking.message, true);
    }
    inst.status = 'completed';
    inst.output = output;
    inst.completedAt = this.now();
    inst.completionOrder = this.completionCounter++;
    this.completedLog.push({ inst, at: inst.completedAt });
    this.emit('step_completed', inst.key, {
      ...this.takeCostDelta(inst),
      output,
      attempt: inst.attempts,
      duration: inst.completedAt - (inst.startedAt ?? inst.completedAt),
      resource: inst.resource,
      ...(logs && logs.length ? { logs } : {}),
    });
    this.postHook(inst);
    this.instTerminal(inst);
    if (!guarded) return;
    const assertBlock = this.recordViolations(null, assertViolations(this.plan.guardrails, this.env(null, inst.logical.step)));
    if (assertBlock) this.abortRun('failed', assertBlock.message);
  }

  private postHook(inst: Inst): void {
    const hook = this.deps.hooks?.postExecution;
    if (!hook) return;
    const info = this.hookInfo(inst);
    const result = { status: inst.status, output: inst.output, error: inst.error };
    this.effect(() => {
      try {
        const r = hook(info, result, { plan: this.plan.plan, runId: this.runId });
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch(() => undefined);
      } catch {
        // A post-execution hook observes; its failure does not change the step's outcome.
      }
    });
  }

  private backoff(inst: Inst): number {
    const retry = inst.logical.step.retry;
    let ms = 0;
    if (retry.backoff === 'fixed') ms = retry.delay_ms;
    else if (retry.backoff === 'exponential') ms = retry.delay_ms * 2 ** Math.max(0, inst.phaseAttempts - 1);
    if (retry.max_delay_ms !== null) ms = Math.min(ms, retry.max_delay_ms);
    if (retry.jitter && ms > 0) ms = Math.round(ms * (0.5 + 0.5 * (this.deps.random ?? Math.random)()));
    return ms;
  }

  /**
   * An attempt failed. In order: retry (with backoff) on the same resource, rebind to the next
   * fallback resource, the step's `fallback` call, and only then the step fails.
   */
  private attemptFailed(
    inst: Inst,
    error: string,
    timedOut: boolean,
    retryable: boolean,
    logs?: readonly string[],
    /** Not retryable, yet the step's `fallback` call is still tried (the primary could not be made). */
    fallbackAnyway = false,
  ): void {
    this.stopRunning(inst);
    this.clearTimer(inst);
    inst.error = error;
    const step = inst.logical.step;
    if (retryable && this.mode === 'normal') {
      const budget = inst.phase === 'fallback' ? 1 : 1 + step.retry.max;
      if (inst.phaseAttempts < budget) {
        const delay = this.backoff(inst);
        inst.status = 'queued';
        this.emit('step_retried', inst.key, { ...this.takeCostDelta(inst), attempt: inst.attempts, error, delay_ms: delay, ...(logs?.length ? { logs } : {}) });
        this.requeueAfter(inst, delay);
        return;
      }
      if (inst.phase === 'main' && step.action.type === 'call' && inst.resourceIndex < step.binding.fallbacks.length) {
        inst.resourceIndex++;
        this.requeueReset(inst, error, {
          resourceIndex: inst.resourceIndex,
          rebind: step.binding.fallbacks[inst.resourceIndex - 1],
        });
        return;
      }
      if (this.switchToFallback(inst, error)) return;
    } else if (fallbackAnyway && this.mode === 'normal' && this.switchToFallback(inst, error)) return;
    this.finalFail(inst, timedOut ? 'timeout' : 'failed', error);
  }

  /**
   * Queues `inst` again at once with a fresh retry budget, after it moved to another resource or
   * to its fallback call; the `step_retried` event says which (`detail`).
   */
  private requeueReset(inst: Inst, error: string, detail: Record<string, unknown>): void {
    inst.phaseAttempts = 0;
    inst.status = 'queued';
    this.emit('step_retried', inst.key, {
      ...this.takeCostDelta(inst),
      attempt: inst.attempts,
      error,
      delay_ms: 0,
      reset: true,
      ...detail,
    });
    this.heap.push(inst);
  }

  /** Moves a failed primary call on to the step's `fallback` call; false when there is none. */
  private switchToFallback(inst: Inst, error: string): boolean {
    const step = inst.logical.step;
    if (inst.phase !== 'main' || !step.fallback) return false;
    inst.phase = 'fallback';
    inst.resourceIndex = 0;
    this.requeueReset(inst, error, { phase: 'fallback', fallback: step.fallback.capability });
    return true;
  }

  private requeueAfter(inst: Inst, delay: number): void {
    if (delay <= 0) {
      this.heap.push(inst);
      return;
    }
    const token = ++inst.token;
    inst.timer = this.deps.clock.setTimer(delay, () =>
      this.act(() => {
        if (inst.token !== token || inst.status !== 'queued') return;
        inst.timer = null;
        this.heap.push(inst);
      }),
    );
  }

  private finalFail(inst: Inst, status: 'failed' | 'timeout' | 'cancelled', error: string, guardBlocked = false): void {
    this.stopRunning(inst);
    this.clearTimer(inst);
    inst.status = status;
    inst.error = error;
    inst.completedAt = this.now();
    this.emit('step_failed', inst.key, { ...this.takeCostDelta(inst), error, status, final: true, attempt: inst.attempts, ...(guardBlocked ? { blocked: true } : {}) });
    this.postHook(inst);
    this.instTerminal(inst);
    if (guardBlocked) return this.abortRun('failed', error);
    if (this.mode === 'normal') this.applyFailurePolicy(inst.logical.step, inst.key, `${status === 'timeout' ? 'timed out' : 'failed'}: ${error}`);
  }

  private applyFailurePolicy(step: StepIR, key: string, error: string): void {
    if (step.on_failure === 'continue' || this.mode !== 'normal') return;
    const message = `step ${key} ${error}`;
    if (this.failure === null) this.failure = message;
    if (this.plan.on_failure === 'abort') this.abortRun('failed', message);
    else if (this.plan.on_failure === 'rollback') this.rollback();
    // `continue`: independent steps go on; the run ends failed (checkDone).
  }

  // ───────────────────────────── completion bookkeeping ─────────────────────────────

  private instTerminal(inst: Inst): void {
    const l = inst.logical;
    if (inst.index === null) {
      this.logicalTerminal(l);
      return;
    }
    for (const g of l.groupDependents) this.groupDepDone(g.instances[inst.index]);
    this.itemTerminal(inst);
    l.terminalCount++;
    if (l.terminalCount === l.instances.length) this.logicalTerminal(l);
  }

  private groupDepDone(inst: Inst | undefined): void {
    if (!inst || inst.status !== 'pending' || inst.waitIn <= 0) return;
    inst.waitIn--;
    if (inst.waitIn === 0) this.decideQ.push(inst);
  }

  private logicalTerminal(l: Logical): void {
    if (l.terminal) return;
    l.terminal = true;
    this.openLogical--;
    for (const d of l.dependents) {
      d.remaining--;
      if (d.remaining === 0) this.expandQ.push(d);
    }
  }

  private checkDone(): void {
    if (this.mode !== 'normal') return;
    if (this.opts.suspendOnApproval && this.runStatus === 'running' && this.idleOnApprovals()) return this.suspend();
    if (this.openLogical > 0 || this.runningSet.size > 0) return;
    if (this.failure !== null) return this.finish('failed', this.failure);
    const env = this.env(null, null);
    const after = this.recordViolations(
      null,
      afterRuleViolations(
        this.plan.guardrails,
        this.completedLog.map((c) => ({ step: this.guardStep(c.inst), at: c.at })),
      ),
    );
    if (after) return this.finish('failed', after.message);
    const asserted = this.recordViolations(null, assertViolations(this.plan.guardrails, env));
    if (asserted) return this.finish('failed', asserted.message);
    for (const s of this.plan.success) {
      let ok = false;
      let why = '';
      try {
        ok = truthy(evaluate(s.condition, env));
      } catch (err) {
        why = `: ${(err as Error).message}`;
      }
      if (!ok) return this.finish('failed', `success criterion ${s.label ? `"${s.label}" ` : ''}not met${why}`);
    }
    if (this.plan.output) {
      try {
        this.outputValue = evaluate(this.plan.output, env);
      } catch (err) {
        return this.finish('failed', `plan output: ${(err as Error).message}`);
      }
    }
    this.finish('completed', null);
  }

  /**
   * Only approvals are in progress and nothing else can start before one is answered: what is
   * still queued waits for a resource or item slot an approval holds (not for a timer).
   */
  private idleOnApprovals(): boolean {
    if (this.runningSet.size === 0) return false;
    for (const i of this.runningSet) if (i.waiting !== 'approval') return false;
    for (const i of this.instances.values()) if (i.status === 'queued' && (i.timer !== null || !this.heldBack(i))) return false;
    return true;
  }

  private suspend(): void {
    const waiting = [...this.runningSet].map((i) => i.key);
    this.mode = 'finished';
    this.runStatus = 'paused';
    this.clearTimers();
    this.emit('execution_paused', null, { reason: 'waiting for approval', waiting });
  }

  /** Stops everything in flight and ends the run (`failed`, `timeout` or `cancelled`). */
  private abortRun(status: 'failed' | 'timeout' | 'cancelled', reason: string): void {
    if (this.mode === 'finished' || this.mode === 'aborting') return;
    const wasRollingBack = this.mode === 'rolling_back';
    this.mode = 'aborting';
    if (this.failure === null || status !== 'failed') this.failure = reason;
    this.stopAll(status === 'cancelled' ? 'run cancelled' : `run ${status}: ${reason}`);
    void wasRollingBack;
    this.finish(status, reason);
  }

  private stopAll(why: string): void {
    for (const inst of [...this.runningSet]) {
      inst.token++;
      inst.handle?.abort(why);
      inst.handle = null;
      inst.child?.cancel(why);
      inst.child = null;
      this.finalFail(inst, 'cancelled', why);
    }
    for (const inst of this.instances.values())
      if (inst.status === 'pending' || inst.status === 'queued') {
        inst.token++;
        this.clearTimer(inst);
        inst.status = 'cancelled';
      }
  }

  /** Plan `on_failure rollback`: stop, then compensate completed steps in reverse completion order. */
  private rollback(): void {
    this.mode = 'rolling_back';
    this.stopAll('rolling back');
    const todo = [...this.instances.values()]
      .filter((i) => i.status === 'completed' && i.logical.step.compensate && !i.compensated)
      .sort((a, b) => (b.completionOrder ?? 0) - (a.completionOrder ?? 0));
    const next = (): void => {
      if (this.mode !== 'rolling_back') return;
      const inst = todo.shift();
      if (!inst) return this.finish('failed', this.failure ?? 'rolled back');
      const comp = inst.logical.step.compensate!;
      const cap = this.plan.capabilities[comp.capability];
      let input: { [k: string]: unknown };
      try {
        input = this.evalArgs(inst, comp.args);
      } catch (err) {
        this.emit('step_compensated', inst.key, { ok: false, error: `arguments: ${(err as Error).message}` });
        return next();
      }
      if (!cap) {
        this.emit('step_compensated', inst.key, { ok: false, error: `unknown capability ${comp.capability}` });
        return next();
      }
      const request = {
        runId: this.runId,
        stepId: inst.key,
        baseStepId: inst.logical.step.id,
        attempt: 1,
        purpose: 'compensate' as const,
        capability: cap,
        input,
        resource: comp.binding ? (comp.binding.resource ? (this.plan.resources[comp.binding.resource] ?? null) : null) : this.resourceOf(inst),
        timeoutMs: cap.timeout_ms,
        secrets: { ...(this.deps.configSecrets ?? {}), ...(inst.secretsUsed ?? {}) },
        plan: this.plan,
      };
      let settled = false;
      let timer: TimerId | null = null;
      const settle = (ok: boolean, error: string | null) => {
        if (settled) return;
        settled = true;
        if (timer !== null) this.deps.clock.cancelTimer(timer);
        inst.compensated = true;
        this.emit('step_compensated', inst.key, ok ? { ok: true } : { ok: false, error });
        next();
      };
      this.effect(() => {
        const handle = this.deps.executor.start(request, (o) => this.act(() => settle(o.ok, o.ok ? null : o.error)));
        if (cap.timeout_ms !== null)
          timer = this.deps.clock.setTimer(cap.timeout_ms, () =>
            this.act(() => {
              handle.abort('timeout');
              settle(false, `compensation timed out after ${cap.timeout_ms}ms`);
            }),
          );
      });
    };
    next();
  }

  private finish(status: RunStatus, error: string | null): void {
    if (this.mode === 'finished') return;
    this.mode = 'finished';
    this.runStatus = status;
    this.completedAt = this.now();
    if (status !== 'completed') this.failure = error ?? this.failure;
    else this.failure = null;
    this.clearTimers();
    const duration = this.completedAt - this.startedAt;
    if (status === 'completed')
      this.emit('execution_completed', null, { output: this.outputValue, cost: round6(this.totalCost), duration });
    else if (status === 'cancelled') this.emit('execution_cancelled', null, { reason: error, duration });
    else this.emit('execution_failed', null, { status, error, cost: round6(this.totalCost), duration });
  }

  private clearTimers(): void {
    if (this.deadlineTimer !== null) this.deps.clock.cancelTimer(this.deadlineTimer);
    this.deadlineTimer = null;
    // A pending timer would keep `orch run` alive after the run ended.
    for (const t of this.rateTimers.values()) this.deps.clock.cancelTimer(t);
    this.rateTimers.clear();
    for (const inst of this.instances.values()) this.clearTimer(inst);
  }

  // ───────────────────────────── views and environments ─────────────────────────────

  private instView(inst: Inst): StepView {
    return {
      output: inst.status === 'completed' ? inst.output : null,
      status: inst.status,
      started: inst.startedAt !== null,
      completed: inst.status === 'completed',
      failed: FAILED.has(inst.status),
      skipped: inst.status === 'skipped',
      attempts: inst.attempts,
      duration: inst.startedAt !== null && inst.completedAt !== null ? inst.completedAt - inst.startedAt : 0,
      cost: inst.cost,
      resource: inst.resource,
    };
  }

  private logicalView(l: Logical): StepView {
    if (!l.step.for_each) {
      const inst = l.instances[0];
      if (inst) return this.instView(inst);
      return {
        output: null,
        status: l.wholeStatus ?? 'pending',
        started: false,
        completed: false,
        failed: l.wholeStatus !== null && FAILED.has(l.wholeStatus),
        skipped: l.wholeStatus === 'skipped',
        attempts: 0,
        duration: 0,
        cost: 0,
        resource: null,
      };
    }
    const insts = l.instances;
    let status: StepStatus;
    if (l.wholeStatus) status = l.wholeStatus;
    else if (!l.expanded) status = 'pending';
    else if (!l.terminal) status = insts.some((i) => i.status === 'running') ? 'running' : insts.some((i) => i.startedAt !== null) ? 'running' : 'pending';
    else if (insts.some((i) => FAILED.has(i.status))) status = insts.find((i) => FAILED.has(i.status))!.status;
    else if (insts.every((i) => i.status === 'skipped')) status = 'skipped';
    else status = 'completed';
    const starts = insts.map((i) => i.startedAt).filter((t): t is number => t !== null);
    const ends = insts.map((i) => i.completedAt).filter((t): t is number => t !== null);
    return {
      output: l.expanded && !l.wholeStatus ? insts.map((i) => (i.status === 'completed' ? i.output : null)) : l.wholeStatus === 'completed' ? [] : null,
      status,
      started: starts.length > 0,
      completed: status === 'completed',
      failed: FAILED.has(status),
      skipped: status === 'skipped',
      attempts: insts.reduce((a, i) => a + i.attempts, 0),
      duration: starts.length && ends.length ? Math.max(...ends) - Math.min(...starts) : 0,
      cost: insts.reduce((a, i) => a + i.cost, 0),
      resource: insts.find((i) => i.resource)?.resource ?? null,
    };
  }

  private planVars(): { [k: string]: unknown } {
    return {
      cost: this.plan.estimates.cost,
      duration: this.plan.estimates.duration_ms,
      steps: this.plan.steps.length,
      local_ratio: this.plan.estimates.local_ratio,
    };
  }

  /** The expression environment of an instance (or of the run, with `inst` null). */
  private env(inst: Inst | null, step: StepIR | null): EvalEnv {
    const fe = step?.for_each ?? null;
    const index = inst?.index ?? null;
    return {
      vars: { input: this.inputValue, context: this.ctx, run: this.actuals(), plan: this.planVars() },
      items: fe && inst && index !== null ? { [fe.item]: inst.item } : undefined,
      step: (id) => {
        const l = this.logical.get(id);
        if (!l) return undefined;
        if (step && index !== null && this.sameGroup(l.step, step)) {
          const di = l.instances[index];
          if (di) return this.instView(di);
        }
        return this.logicalView(l);
      },
      secret: (name) => {
        if (!this.deps.secret) throw new Error(`secret("${name}") cannot be resolved here`);
        const v = this.deps.secret(name);
        if (inst) (inst.secretsUsed ??= {})[name] = v;
        return v;
      },
      now: () => this.now(),
    };
  }
}

function isApproval(cap: CapabilityIR): boolean {
  return cap.handler !== null && 'builtin' in cap.handler && cap.handler.builtin === 'approval';
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return 'a record';
  return `a ${typeof v}`;
}
