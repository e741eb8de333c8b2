/**
 * `Run`, the driver of one run: it feeds the scheduler core (`./core/`) events stamped with the
 * clock's time and carries out the commands it answers with — journal commits (one transaction
 * per turn, before any effect of it), executor attempts, timers, policy hooks and sub-plan runs.
 * See `./index.ts` for how to drive it.
 */
import type { BlockView, PlanIR, StepView } from '../../compiler/index.js';
import { CommitQueue } from './commit-queue.js';
import { SchedulerCore } from './core/core.js';
import type { Command, CoreEvent } from './core/protocol.js';
import { TERMINAL, baseId } from './core/state.js';
import { notAnApproval } from './core/resolve.js';
import { InProcessLimits, rateRules } from './core/limits.js';
import { policyAnswer } from './core/policy-answer.js';
import { withCopies } from './hook-copies.js';
import { describeThrown } from '../executor/json-output.js';
import { endedPerItem, knowsStep, runsSubplan, unknownStep } from './control-paths.js';
import { replay } from './replay.js';
import { RunDetached, type DetachedBecause } from './run-detached.js';
import { SubplanRuns } from './subplan-runs.js';
import type { RunOptions } from './run-options.js';
import type { Identity } from '../people/identity.js';
import { subplanOrigin } from '../people/run-chain.js';
import { MODEL_CALLS } from '../models/prompt.js';
import { readSignal, type SignalRead } from '../evaluate.js';
import { signalReader } from './core/env.js';
import { asUserCode } from '../user-output.js';
import type { AttemptHandle, CommitHook, ExecutionResult, RunEvent, RunReader, RunStatus, RunSummary, SchedulerDeps, TimerId } from './types.js';

export type { RunOptions };
export { RunDetached };

const PUMP: CoreEvent = { type: 'pump' };

export class Run implements RunReader {
  readonly runId: string;
  readonly plan: PlanIR;
  private readonly core: SchedulerCore;
  private readonly timers = new Map<string, TimerId>();
  private readonly handles = new Map<string, AttemptHandle>();
  private readonly subplans = new SubplanRuns<Run>();
  private outbox: RunEvent[] = [];
  private effects: (() => void)[] = [];
  /** What the executor does inside this turn's commit (`Executor.prepare`). */
  private hooks: CommitHook[] = [];
  private depth = 0;
  private flushScheduled = false;
  /** An event arrived while a turn was being flushed (a synchronous policy answer). */
  private answered = false;
  private started = false;
  /** What `onApprovalWait` was last told, joined: it hears changes only. */
  private toldWaiting = '';
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
  /** The core said the run ended (or suspended): once committed, the result is ready. */
  private finished = false;
  private readonly commits: CommitQueue;

  private readonly deps: SchedulerDeps;

  constructor(
    plan: PlanIR,
    deps: SchedulerDeps,
    private readonly opts: RunOptions,
  ) {
    // Without a provider (`orch test`, one run of `orch verify`) the run keeps its slots and rate
    // windows in memory — shared with its sub-plans, whose steps and calls count against the same
    // resource and rate limits as its own (§7.2).
    this.deps = deps = deps.limits || opts.limits ? deps : { ...deps, limits: new InProcessLimits() };
    this.plan = plan;
    this.runId = opts.runId;
    this.commits = new CommitQueue(
      deps.journal,
      (err) => this.journalFailed(err),
      () => this.settled?.ok === false,
    );
    const observe = deps.observe;
    this.core = new SchedulerCore(
      plan,
      {
        secret: deps.secret,
        signal: deps.signal ? (name) => this.readOwn(name, deps.signal!) : undefined,
        ...(deps.contextAges ? { contextAges: true } : {}),
        configSecrets: deps.configSecrets,
        random: deps.random,
        preExecutionHook: deps.hooks?.preExecution !== undefined,
        postExecutionHook: deps.hooks?.postExecution !== undefined,
        subplanCost: (key) => this.subplans.get(key)?.liveCost() ?? 0,
        onEvent: observe ? (event) => observe(event, this) : undefined,
        modelPrices: deps.modelPrices,
        modelCalls: MODEL_CALLS,
      },
      { ...opts, limits: opts.limits ?? deps.limits?.forRun(plan, opts.runId, () => this.wake(), opts.inheritedRates) },
    );
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

  /** Starts (or, with `restored`, resumes) the run. Returns `done`. */
  start(): Promise<ExecutionResult> {
    this.begin();
    return this.done;
  }

  /** `start()` for callers that follow the run by its status and events, not its result. */
  begin(): void {
    if (this.started) return;
    this.started = true;
    this.act({ type: 'started' });
  }

  pause(): boolean {
    if (this.core.runStatus !== 'running' || this.core.mode !== 'normal') return false;
    this.act({ type: 'pause' });
    return true;
  }

  /**
   * Ctrl-C: nothing more starts; running handlers finish, then the run stops as `interrupted`
   * (resumable with `orch resume`). False when the run has ended or is stopping already.
   */
  interrupt(reason = 'interrupted'): boolean {
    if (this.core.mode !== 'normal' || (this.core.runStatus !== 'running' && this.core.runStatus !== 'paused')) return false;
    this.act({ type: 'interrupt', reason });
    return true;
  }

  resume(): boolean {
    if (this.core.runStatus !== 'paused') return false;
    this.act({ type: 'resume' });
    return true;
  }

  cancel(reason = 'cancelled by user'): boolean {
    if (this.core.mode === 'finished') return false;
    this.act({ type: 'cancel', reason });
    return true;
  }

  /**
   * Cancels one step (LANGUAGE.md §7.1): an instance key (`send[2]`, `draft#1`) or a step id (all
   * its instances, those still to come too). A pending, queued, waiting or running step ends
   * `cancelled` (a running handler gets its abort signal); its dependants follow their join rule;
   * the run does not fail because of it. Returns 'ok' or why nothing was cancelled.
   */
  cancelStep(stepId: string, reason = 'cancelled by user'): string {
    if (this.core.mode === 'finished') return 'the run has finished';
    const rec = this.core.record(stepId);
    if (rec && TERMINAL.has(rec.status)) return `step ${stepId} has already finished (${rec.status})`;
    const ended = rec ? null : endedPerItem(this.core, stepId);
    if (ended) return `step ${stepId} has already finished (${ended})`;
    if (!rec) {
      const elsewhere = this.elsewhere(stepId, (child, path) => child.cancelStep(path, reason));
      if (elsewhere !== null) return elsewhere;
    }
    this.act({ type: 'cancel_step', stepId, reason });
    return 'ok';
  }

  /**
   * Stops executing this run here without ending it (a server shutting down): what already
   * happened is committed, attempts in flight are aborted without being recorded, nothing new
   * starts and no timer fires. The journal still shows the run in progress, so `resume` (with
   * the usual rules for steps that were in flight) continues it. `done` rejects with RunDetached.
   */
  detach(because: DetachedBecause = 'let-go'): boolean {
    if (this.core.mode === 'finished') return false;
    // Written only behind nothing: with a commit still in flight (stuck on a cut link, say) or
    // queued, these later events could land first — and the earlier ones never, refused once the
    // run is taken over — leaving a hole in the journal (the nemesis found one). Dropped instead,
    // they are redone by whoever resumes the run from its last committed state.
    if (this.outbox.length > 0 && !this.commits.idle) this.outbox = [];
    if (this.outbox.length > 0) {
      const events = this.outbox;
      this.outbox = [];
      try {
        const pending = this.deps.journal?.commit(this.summary(), events);
        // A refused asynchronous commit (a run taken over) must not surface as an unhandled rejection.
        if (pending && typeof pending.then === 'function') pending.then(undefined, () => undefined);
      } catch {
        // Not committed: the resumed run starts from the last committed state instead.
      }
    }
    // Effects not run yet belong to state changes already committed; resuming redoes them.
    this.effects = [];
    this.resultReady = true;
    this.halt('runtime closed');
    this.subplans.detachAll();
    this.rejectDone(new RunDetached(this.runId, because));
    return true;
  }

  /**
   * Delivers an approval decision to `stepId` (an `approval` step, or `id[i]` inside `for each`).
   * A decision for a step that has not started yet is kept until it does.
   */
  signal(stepId: string, decision: 'approve' | 'reject', by: string | null = null, comment: string | null = null, identity: Identity | null = null): string {
    if (this.core.mode === 'finished') return 'the run has finished';
    // A wait, a call, a sub-plan: nothing there takes a decision, which would otherwise be kept for ever.
    const notApproval = stepId.includes('/') ? null : notAnApproval(this.plan, baseId(stepId));
    if (notApproval !== null) return notApproval;
    const rec = this.core.record(stepId);
    if (rec && TERMINAL.has(rec.status)) return `step ${stepId} has already finished (${rec.status})`;
    const perItem = rec ? null : this.core.perItemApprovals(stepId);
    if (perItem) return perItem;
    if (!rec) {
      const elsewhere = this.elsewhere(stepId, (child, path) => child.signal(path, decision, by, comment, identity));
      if (elsewhere !== null) return elsewhere;
    }
    this.act({ type: 'signal', stepId, decision, by, comment, identity });
    return 'ok';
  }

  /**
   * Why `identity` may not make `decision` on the approval `stepId` now (LANGUAGE.md §8.8: not
   * the step's approver, lacks the role, started the run, already approved), or null. Asked before
   * `signal`, so a refused decision is an error to its caller and changes nothing.
   */
  decisionRefusal(stepId: string, decision: 'approve' | 'reject', identity: Identity | null): string | null {
    const inChild = this.subplans.route(stepId, (child, path) => child.decisionRefusal(path, decision, identity));
    return inChild !== undefined ? inChild : this.core.decisionRefusal(stepId, decision, identity);
  }

  /**
   * A control for `stepId`, which has no instance here: handed to the running sub-plan it names
   * (`sub/ok`), or kept for a sub-plan not running yet, with the answer to give; the reason when it
   * names nothing; null when it is this run's (a step or an instance key not made yet).
   */
  private elsewhere(stepId: string, apply: (child: Run, path: string) => string): string | null {
    const inChild = this.subplans.route(stepId, apply);
    if (inChild !== undefined) return inChild;
    if (runsSubplan(this.core, stepId)) {
      this.subplans.keep(stepId, apply);
      return 'ok';
    }
    return knowsStep(this.core, stepId) ? null : unknownStep(this.core, stepId);
  }

  /** Updates live context signals; `wait until` conditions are re-evaluated. */
  updateContext(patch: { readonly [key: string]: unknown }): void {
    if (this.core.mode === 'finished') return;
    this.act({ type: 'context_updated', patch });
  }

  /**
   * Values sent to this run alone (`orch signal RUN --context`). Under a live context (`orch
   * serve`) the run reads its declared signals from there; these count for this run as samples
   * taken now, until the live context has a newer one — the other runs and the triggers never
   * see them (`POST /signals` sets the shared context).
   */
  updateOwnContext(patch: { readonly [key: string]: unknown }): void {
    if (this.core.mode === 'finished') return;
    const now = this.deps.clock.now();
    for (const [name, value] of Object.entries(patch)) if (!this.plan.context_signals?.[name]?.derived) this.own.set(name, { value, set_at: now });
    this.updateContext(patch);
  }

  /** This run's own values of context signals (`updateOwnContext`), by name. */
  private readonly own = new Map<string, { readonly value: unknown; readonly set_at: number }>();

  /** A signal as this run reads it: its own value when newer than the live context's. */
  private readOwn(name: string, live: (name: string) => SignalRead): SignalRead {
    const shared = live(name);
    const mine = this.own.get(name);
    if (!mine || (typeof shared.set_at === 'number' && shared.set_at > mine.set_at)) return shared;
    const max = this.plan.context_signals?.[name]?.max_age_ms ?? null;
    if (mine.value === null || mine.value === undefined) return { value: null, state: 'never_set', age_ms: null, max_age_ms: max };
    const age = Math.max(0, this.deps.clock.now() - mine.set_at);
    return { value: mine.value, state: max === null || age <= max ? 'fresh' : 'stale', age_ms: age, max_age_ms: max, set_at: mine.set_at };
  }

  // ───────────────────────────── RunReader ─────────────────────────────

  status(): RunStatus {
    return this.core.status();
  }

  /** Paused only because it waits for approvals: `resume` cannot help, an answer can. */
  awaitingApproval(): boolean {
    return this.core.awaitingApproval && this.core.runStatus === 'running';
  }

  /** Nothing in flight but approvals and waits: the run can be moved to a new IR now (§8.6). */
  idleOnWaits(): boolean {
    return this.core.idleOnWaits();
  }

  /**
   * An upgrade is due (`true`): nothing new starts until the attempts in flight have ended and the
   * run has moved; `false` (it was refused after all) lets the run go on under its IR.
   */
  holdStarts(on: boolean): void {
    if (this.core.holdStarts === on) return;
    this.core.holdStarts = on;
    if (!on && this.core.mode === 'normal') this.act(PUMP);
  }

  /** The approvals the run waits for, as `signal` takes them (`ok[1]`, `sub/ok`). */
  approvalsWaiting(): readonly string[] {
    return this.core.approvalsWaiting();
  }

  stepView(id: string): StepView | undefined {
    return this.core.stepView(id);
  }

  viewFrom(key: string, id: string): StepView | undefined {
    return this.core.viewFrom(key, id);
  }

  blockView(id: string): BlockView | undefined {
    return this.core.blockView(id);
  }

  running(): readonly string[] {
    return this.core.running();
  }

  /** Queued steps waiting for a resource whose `available when` does not hold (§9.4), with why. */
  resourceWaits(): readonly { readonly key: string; readonly why: string }[] {
    return this.core.resourceWaits();
  }

  actuals(): { cost: number; elapsed: number; status: RunStatus; started_by: string | null } {
    return this.core.actuals(this.deps.clock.now());
  }

  /** What the run has cost so far, a running sub-plan's included. */
  liveCost(): number {
    return this.core.liveCost();
  }

  /** The evaluated `approver` of waiting approval `stepId` (a user, `group:G`), null when it names nobody or does not wait. */
  approverOf(stepId: string): string | null {
    return this.core.approverOf(stepId);
  }

  /** The arguments waiting approval `stepId` evaluated when it started (its input); null when it does not wait. */
  approvalInput(stepId: string): { readonly [k: string]: unknown } | null {
    return this.core.approvalInput(stepId);
  }

  /** §9.4: a signal as this run's conditions read it (the live context's state when there is one). */
  contextSignal(name: string): SignalRead {
    const signal = signalReader(this.core);
    return readSignal({ vars: { context: this.context() }, ...(signal ? { signal } : {}) }, name);
  }

  context(): { readonly [key: string]: unknown } {
    return this.core.ctx;
  }

  input(): unknown {
    return this.core.inputValue;
  }

  /** The execution result (LANGUAGE.md §6); meaningful once `done` settled. */
  result(): ExecutionResult {
    const result = this.core.result(this.deps.clock.now());
    return (this.deps.redact ? this.deps.redact(result) : result) as ExecutionResult;
  }

  summary(): RunSummary {
    return this.core.summary();
  }

  /** A shared slot this run waits for may be free now: pump the core on the next turn. */
  private wake(): void {
    // Not at once: the run that freed the slot is still inside its own turn (its step's end is
    // not journaled yet). Where flushes are deferred (the runtime: the next turn), a deferred
    // flush is that already — a 0 ms timer would hold a granted step up to a millisecond longer;
    // else on the clock, which a virtual clock keeps deterministic.
    if (this.core.mode === 'finished' || this.wakeArmed) return;
    this.wakeArmed = true;
    const woken = () => {
      this.wakeArmed = false;
      if (this.core.mode !== 'finished') this.scheduleFlush();
    };
    if (this.deps.defer) this.deps.defer(woken);
    else this.deps.clock.setTimer(0, woken);
  }
  private wakeArmed = false;

  // ───────────────────────────── carrying out commands ─────────────────────────────

  /** Every outside event goes through here; the commit and the effects follow at depth 0. */
  private act(event: CoreEvent): void {
    this.depth++;
    try {
      this.apply(this.core.handle(event, this.deps.clock.now()));
    } finally {
      this.depth--;
    }
    // Before `started` there is nothing to pump: a turn then could find no instance and end the
    // run (an answer given to a resumed run before it starts is kept until its step exists).
    if (this.depth === 0) {
      if (this.started) this.scheduleFlush();
    } else this.answered = true;
  }

  private apply(commands: readonly Command[]): void {
    let asks: Extract<Command, { type: 'check_policy' | 'check_tool' }>[] | null = null;
    for (const cmd of commands) {
      switch (cmd.type) {
        case 'journal':
          this.outbox.push(cmd.event);
          break;
        case 'arm_timer': {
          const { timer } = cmd;
          this.cancelTimer(timer);
          this.timers.set(
            timer,
            this.deps.clock.setTimer(cmd.ms, () => {
              this.timers.delete(timer);
              this.act({ type: 'timer_fired', timer });
            }),
          );
          break;
        }
        case 'cancel_timer':
          this.cancelTimer(cmd.timer);
          break;
        case 'start_attempt':
          if (this.deps.executor.prepare && this.deps.journal) this.hooks.push(this.deps.executor.prepare(cmd.request));
          this.effects.push(() => this.startAttempt(cmd));
          break;
        case 'abort_attempt': {
          const handle = this.handles.get(cmd.attempt);
          this.handles.delete(cmd.attempt);
          handle?.abort(cmd.reason);
          break;
        }
        case 'check_policy':
        case 'check_tool':
          // Asked once this batch is applied, so a synchronous answer's events follow its events.
          (asks ??= []).push(cmd);
          break;
        case 'post_hook':
          this.effects.push(() => this.postHook(cmd));
          break;
        case 'start_subplan':
          this.effects.push(() => this.startSubplan(cmd));
          break;
        case 'control_subplan':
          this.subplans.control(cmd);
          break;
        case 'finish':
          this.finished = true;
          break;
      }
    }
    if (asks)
      for (const cmd of asks) {
        if (cmd.type === 'check_policy') this.checkPolicy(cmd);
        else this.checkTool(cmd);
      }
  }

  private cancelTimer(timer: string): void {
    const id = this.timers.get(timer);
    if (id === undefined) return;
    this.timers.delete(timer);
    this.deps.clock.cancelTimer(id);
  }

  private startAttempt(cmd: Extract<Command, { type: 'start_attempt' }>): void {
    const { attempt, token } = cmd;
    if (!attempt.startsWith('compensate:') && !this.core.current(attempt, token)) return this.deps.executor.discard?.(cmd.request);
    const handle = this.deps.executor.start(
      cmd.request,
      (o) => {
        if (this.handles.get(attempt) === handle) this.handles.delete(attempt);
        if (o.commitHook && this.deps.journal) this.hooks.push(o.commitHook);
        this.act(
          o.ok
            ? { type: 'attempt_succeeded', attempt, token, output: o.output, logs: o.logs, cost: o.cost, usage: o.usage }
            : o.lost
              ? { type: 'attempt_lost', attempt, token, worker: o.lost.worker, error: o.error, ...(o.lost.reason ? { reason: o.lost.reason } : {}) }
              : { type: 'attempt_failed', attempt, token, error: o.error, logs: o.logs, cost: o.cost, usage: o.usage, ...(o.final ? { final: o.final } : {}), ...(o.owner ? { owner: o.owner } : {}) },
        );
      },
      (lines) => this.act({ type: 'attempt_logs', attempt, token, lines }),
      (usage) => this.act({ type: 'attempt_usage', attempt, token, usage }),
    );
    this.handles.set(attempt, handle);
    // Its timeout counts from its handler's start, not from a wait for a free thread (docs/language.md).
    if (handle.onStart && cmd.request.timeoutMs !== null && !attempt.startsWith('compensate:')) {
      this.act({ type: 'attempt_queued', attempt, token });
      handle.onStart(() => this.act({ type: 'attempt_began', attempt, token }));
    }
  }

  /** An executor that cannot compare tools (a simulation, remote workers) lets the step start: its attempt checks. */
  private checkTool(cmd: Extract<Command, { type: 'check_tool' }>): void {
    const { key, token } = cmd;
    if (!this.core.current(key, token)) return;
    const answer = (problem: string | null) => this.act({ type: 'tool_checked', key, token, ...(problem !== null ? { problem } : {}) });
    if (!this.deps.executor.checkTool) return answer(null);
    // A check that throws knows nothing: the attempt finds out what is wrong.
    let checked: Promise<string | null>;
    try {
      checked = this.deps.executor.checkTool(cmd.check);
    } catch {
      return answer(null);
    }
    checked.then(answer, () => answer(null));
  }

  private checkPolicy(cmd: Extract<Command, { type: 'check_policy' }>): void {
    const { key, token } = cmd;
    if (!this.core.current(key, token)) return;
    // A hook is the user's code: whatever it throws or answers is decided on, never thrown on.
    const failed = (err: unknown) => this.act({ type: 'policy_decided', key, token, allow: false, failure: describeThrown(err) });
    const decided = (answer: unknown) => this.act({ type: 'policy_decided', key, token, ...policyAnswer(answer) });
    let decision: { allow: boolean; reason?: string } | Promise<{ allow: boolean; reason?: string }>;
    try {
      const info = withCopies(cmd.info, ['input'], this.deps.redact);
      const ctx = this.hookContext();
      decision = asUserCode(() => this.deps.hooks!.preExecution!(info, ctx));
    } catch (err) {
      return failed(err);
    }
    let thenable: boolean;
    try {
      thenable = !!decision && typeof (decision as Promise<unknown>).then === 'function';
    } catch (err) {
      return failed(err);
    }
    // Promise.resolve adopts a thenable whose `then` throws as a rejection.
    if (thenable) Promise.resolve(decision).then(decided, failed);
    else decided(decision);
  }

  private hookContext(): ReturnType<SchedulerCore['hookContext']> {
    return withCopies(this.core.hookContext(), ['input', 'context', 'consent'], this.deps.redact);
  }

  private postHook(cmd: Extract<Command, { type: 'post_hook' }>): void {
    const hooks = this.deps.hooks;
    if (!hooks?.postExecution) return;
    try {
      // The outcome's error and output may quote a secret, as its arguments may.
      const result = (this.deps.redact ? this.deps.redact(cmd.result) : cmd.result) as typeof cmd.result;
      const info = withCopies(cmd.info, ['input'], this.deps.redact);
      const ctx = this.hookContext();
      const r = asUserCode(() => hooks.postExecution!(info, withCopies(result, ['output']), ctx));
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch(() => undefined);
    } catch {
      // A post-execution hook observes; its failure does not change the step's outcome.
    }
  }

  private startSubplan(cmd: Extract<Command, { type: 'start_subplan' }>): void {
    const { key, token } = cmd;
    if (!this.core.current(key, token)) return;
    const all = this.deps.journal?.load?.(cmd.childId) ?? [];
    // Each attempt of the step runs the sub-plan afresh under the same id: only the last run in
    // that journal can be this attempt's, and only when this attempt is the interrupted one.
    let last = all.length - 1;
    while (last >= 0 && all[last]!.type !== 'plan_created') last--;
    const loaded = cmd.resumeSince !== null && last >= 0 && all[last]!.ts >= cmd.resumeSince ? all.slice(last) : [];
    const restored = loaded.length ? replay(loaded) : undefined;
    const child = new Run(cmd.plan, this.deps, {
      runId: cmd.childId,
      input: cmd.input,
      context: this.core.ctx,
      contextAt: this.core.facts.contextAt,
      parentRunId: this.runId,
      restored: restored && !restored.terminal ? restored : undefined,
      seqAfter: all.at(-1)?.seq ?? 0,
      rerunInFlight: this.opts.rerunInFlight,
      recovered: this.opts.recoveredSubplans?.get(cmd.childId),
      recoveredSubplans: this.opts.recoveredSubplans,
      costCeilings: this.core.childCeilings(key),
      inheritedRates: rateRules(this.plan, this.opts.inheritedRates),
      consent: this.opts.consent,
      // A sub-plan's run is its parent's: the same starter, bound to people alike, and everyone
      // behind the parent is behind it too (§9.1).
      startedBy: this.core.facts.startedBy,
      origin: subplanOrigin(this.core.facts.origin),
      onFinish: (res) => {
        this.subplans.ended(key, child);
        this.act({ type: 'subplan_finished', key, token, status: res.status, output: res.output, error: res.error, cost: res.metadata.totalCost });
      },
      onApprovalWait: (waiting) => {
        if (this.subplans.get(key) === child) this.act({ type: 'subplan_waiting', key, token, waiting });
      },
    });
    this.subplans.run(key, child, {
      // The child finished before the interruption: its outcome is read from its journal.
      ended: restored?.terminal ? loaded[loaded.length - 1]! : null,
      paused: this.core.runStatus === 'paused',
      finished: (outcome) => this.act({ type: 'subplan_finished', key, token, ...outcome }),
    });
  }

  // ───────────────────────────── commits ─────────────────────────────

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
      // A policy hook that answers at once is answered inside this turn: pump again for what it freed.
      do {
        this.answered = false;
        this.apply(this.core.handle(PUMP, this.deps.clock.now()));
      } while (this.answered);
    } finally {
      this.depth--;
    }
    const events = this.outbox;
    this.outbox = [];
    const effects = this.effects;
    this.effects = [];
    const hooks = this.hooks;
    this.hooks = [];
    const finished = this.finished;
    // Without a journal (verify's simulated runs) there is nothing to summarize for.
    this.commits.submit(events.length > 0 && this.deps.journal ? this.summary() : null, events, () => this.afterCommit(effects, finished), hooks);
  }

  /** What a committed state change leads to: its effects, and the result once the run is over. */
  private afterCommit(effects: readonly (() => void)[], finished: boolean): void {
    for (const e of effects) e();
    if (this.opts.onApprovalWait && !finished) this.tellWaiting(this.opts.onApprovalWait);
    if (finished && !this.resultReady && this.outbox.length === 0 && this.commits.idle) {
      this.resultReady = true;
      const ledgerLeft = this.core.limits.close?.();
      this.settled = { ok: true };
      if (this.opts.onFinish || this.resolveDone) {
        const tell = () => {
          const result = this.result();
          this.opts.onFinish?.(result);
          this.resolveDone?.(result);
        };
        if (ledgerLeft) void ledgerLeft.then(tell, tell);
        else tell();
      }
    }
  }

  private tellWaiting(tell: (waiting: readonly string[]) => void): void {
    const waiting = this.awaitingApproval() ? this.core.approvalsWaiting() : [];
    const joined = waiting.join('\n');
    if (joined === this.toldWaiting) return;
    this.toldWaiting = joined;
    tell(waiting);
  }

  /** The journal is the source of truth: without it nothing may go on. */
  private journalFailed(err: unknown): void {
    if (this.settled) return;
    // The run's lease moved to another process (a fenced write, runtime/backend/async-journal.ts):
    // it is that process's to finish, not failed.
    if ((err as { code?: unknown } | null)?.code === 'ORCH_LEASE_LOST') return this.abandon(new RunDetached(this.runId, 'taken-over'));
    this.abandon(new Error(`journal write failed: ${(err as Error)?.message ?? String(err)}`));
  }

  /** Nothing more happens in this process: in-flight attempts are aborted, timers cancelled. */
  private halt(why: string): void {
    this.apply(this.core.handle({ type: 'halt' }, this.deps.clock.now()));
    for (const handle of this.handles.values()) handle.abort(why);
    this.handles.clear();
    for (const id of this.timers.values()) this.deps.clock.cancelTimer(id);
    this.timers.clear();
    this.core.limits.close?.();
  }

  private abandon(err: Error): void {
    this.halt('journal failure');
    this.rejectDone(err);
  }

  private rejectDone(error: Error): void {
    if (this.settled) return;
    this.settled = { ok: false, error };
    this.rejectDoneFn?.(error);
  }
}
