/**
 * One run's state as the scheduler core's decisions read and change it, and the few things a
 * decision does besides changing it: journal an event (folded into the records at once), issue a
 * command, arm or cancel a timer. The decisions (the modules next to this one) take a `RunState`;
 * `SchedulerCore` (./core.ts) adds the driver's entry point and the reading API on top.
 */
import type { PlanIR, RelabelIR, StepStatus } from '../../../compiler/index.js';
import { MinHeap } from '../heap.js';
import type { RestoredRun } from '../replay.js';
import type { RunContext } from '../../context/run-context.js';
import { makeEvent, type EventData, type EventType, type RunEventOf } from '../journal-events.js';
import type { RunEvent, RunStatus } from '../types.js';
import { type RunFacts, type StepRecord, cancelUnstarted, endsUnstarted, foldRun, foldStep, newFacts } from './fold.js';
import type { Identity, Starter } from './identity.js';
import { InRunLimits, type Lease, type LimitsService, type RateRule } from './limits.js';
import type { Command, CoreConfig } from './protocol.js';
import type { RunOrigin } from './run-origin.js';
import { type PlanBlocks, planBlocks } from './scopes.js';
import { type BlockInst, type Inst, type Logical, buildGraph, readyBefore } from './state.js';

export interface CoreOptions {
  readonly runId: string;
  readonly input?: unknown;
  readonly context?: { readonly [key: string]: unknown };
  /** §9.4: when each `context` value was set, where it was set before this run (a sub-plan's parent's); default the run's start. */
  readonly contextAt?: { readonly [key: string]: number };
  readonly parentRunId?: string | null;
  /** The finished run this one retries (journaled in `plan_created`). */
  readonly retryOf?: string | null;
  /** The run's trace when it is traced (LANGUAGE.md §8.7): journaled in `plan_created`, kept across resumes. */
  readonly trace?: { readonly trace_id: string; readonly span_id: string } | null;
  /** The folded journal of an interrupted run: resume instead of starting afresh. */
  readonly restored?: RestoredRun;
  /**
   * A fresh run under an id whose journal holds events already (a sub-plan's next attempt: its
   * run id is the step's): its events are numbered after them.
   */
  readonly seqAfter?: number;
  /** On resume, run `idempotent false` steps that were in flight again instead of failing them. */
  readonly rerunInFlight?: boolean;
  /** Steps in flight at the interruption the executor recovered (`Executor.recover`): safe to start again, not failed as unknown. */
  readonly recovered?: ReadonlySet<string>;
  /**
   * When nothing can happen any more except human approvals, stop: journal `execution_paused`
   * (`reason: "waiting for approval"`) and settle `done` with status `paused`. `orch run` uses it
   * so the process exits and `orch signal` continues the run later; `orch serve` keeps waiting.
   */
  readonly suspendOnApproval?: boolean;
  /** The slot and rate-window keeper; by default this run's own, in memory. */
  readonly limits?: LimitsService;
  /** The consent scopes granted to the run (`orch run --consent`, config, `POST /runs`). */
  readonly consent?: readonly string[];
  /** A sub-plan's share of its parent's cost budgets (see `./budget.ts`). */
  readonly costCeilings?: readonly CostCeiling[];
  /** A sub-plan's: the rate limits of the runs above it, which its calls count against too (`rateRules`). */
  readonly inheritedRates?: readonly RateRule[];
  /** §8.8, §9.1: who started the run (journaled in `plan_created`); a sub-plan run inherits its parent's. */
  readonly startedBy?: Starter | null;
  /** §9.1: where else the run came from (journaled in `plan_created`): its cause, its chain, `people_bound`. */
  readonly origin?: Omit<RunOrigin, 'started_by'>;
  /** §9.2: the step instances a forked run takes from the run it forks (`step_adopted`), journaled when it begins. */
  readonly adopted?: Adoption;
  /** §9.3: the endorse/declassify calls of the trigger `with` that gave the run its input, journaled after `plan_created`. */
  readonly startRelabels?: readonly RelabelIR[];
}

/** What `orch fork` adopts: each instance key's output, from run `from` (`given`: `--output`'s). */
export interface Adoption {
  readonly from: string;
  readonly steps: readonly { readonly key: string; readonly output: unknown; readonly given?: true; readonly attempts?: number; readonly resource?: string | null }[];
}

export type Mode = 'normal' | 'rolling_back' | 'aborting' | 'finished';

/** A cost limit: this plan's `budget cost`, or what a parent's budget had left for this sub-plan. */
export interface CostCeiling {
  readonly limit: number;
  /** How the budget is named in events and errors: `budget cost <= 0.5 of policy lean`. */
  readonly label: string;
  readonly warn: boolean;
  /** The unit its amounts are written in (`usd`): the policy's, which a sub-plan without one does not know. */
  readonly currency?: string;
  /**
   * A parent's budget: what is spent against it outside this run — by the parent and its other
   * running sub-plans — read each time a step of this run may start, so that parallel spending
   * on either side is counted.
   */
  readonly outside?: () => number;
  /** The shared ledger of this budget (blocking policy budgets), and the run that owns it. */
  readonly shared?: { readonly key: string; readonly owner: string };
}

export interface Rollback {
  readonly todo: Inst[];
  current: { readonly inst: Inst; readonly token: number; readonly timeoutMs: number | null; lease: Lease | null; readonly charged: number; readonly cost: number } | null;
  tokens: number;
  /** The next compensation waits for a resource slot or a rate window (§7.2): the next pump asks again. */
  held: boolean;
}

export class RunState {
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
  /** §9.4: queued instances none of whose resources is available: out of the heap until the context changes. */
  readonly resourceWaiters = new Set<Inst>();
  /** §9.4: the instant the `time-change` timer is armed for (./time-conditions.ts), while it is. */
  timeChangeAt: number | null = null;
  /** §9.4: whether any resource has `available when` (worked out when first asked). */
  availability: boolean | null = null;
  /** Running sub-plans that wait only for approvals: instance key → its token and what they wait for. */
  readonly subplanWaits = new Map<string, { readonly token: number; readonly waiting: readonly string[] }>();
  /**
   * Decisions sent before their approval step (instance) started, in the order they came: each
   * is applied when it starts, as if sent then — so two people's early approvals both count, and
   * without people the first decides (§8.8, v0.2's rule).
   */
  readonly pendingSignals = new Map<string, { decision: 'approve' | 'reject'; by: string | null; comment: string | null; identity: Identity | null }[]>();
  readonly warned = new Set<string>();
  /** MCP tools (`server/tool/hash`) the executor found unchanged in this run: their steps start without asking again. */
  readonly toolsChecked = new Set<string>();
  /** The run's cost ceilings (`costCeilings` in ./budget.ts), worked out when first asked for. */
  ceilings: readonly CostCeiling[] | null = null;
  /** The run's own context store where a derived signal has a `hold` (`runContext` in ./env.ts; null: none), worked out when first asked for. */
  ownContext: RunContext | null | undefined = undefined;
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
  /**
   * An `orch upgrade` is due (LANGUAGE.md §8.6): nothing new starts, so the attempts in flight
   * end and the run reaches a turn where it can move to the new IR; what became ready meanwhile
   * stays queued and starts under the new IR.
   */
  holdStarts = false;
  mode: Mode = 'normal';
  failure: string | null = null;
  /**
   * A resumed run met a step that had failed the run (its `on_failure` is not `continue`) with no
   * end journaled: the process died before the plan's `on_failure` (abort, rollback) finished.
   * Applied once the restored instances are all back, before anything starts.
   */
  restoredFailure: string | null = null;
  completedAt: number | null = null;
  totalCost = 0;
  outputValue: unknown = null;
  rollback: Rollback | null = null;
  /** The commands decided since the driver last took them (`SchedulerCore.handle`). */
  protected out: Command[] = [];
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
    // A warn budget journaled as exceeded before the interruption is not journaled again.
    for (const key of opts.restored?.warned ?? []) this.warned.add(key);
    this.limits = opts.limits ?? new InRunLimits(plan, opts.inheritedRates ? { inheritedRates: opts.inheritedRates } : {});
  }

  get ctx(): { [key: string]: unknown } {
    return this.facts.context;
  }

  get startedAt(): number {
    return this.facts.startedAt ?? this.now;
  }

  command(c: Command): void {
    this.out.push(c);
  }

  /** Records a completion for the guardrails that read the order of completions. */
  logCompleted(inst: Inst, at: number): void {
    if (this.plan.guardrails.length > 0) this.completedLog.push({ inst, at });
  }

  /** Journals an event: folds it into the records first, then hands it to the driver. */
  emit<T extends EventType>(type: T, stepId: string | null, data: EventData<T>): RunEventOf<T> {
    const event = makeEvent(this.runId, this.facts.lastSeq + 1, this.now, type, stepId, data);
    foldRun(this.facts, event);
    // Only instances the journal knows (a never-ready one has no event yet) — as `replay` sees them.
    if (endsUnstarted(event)) for (const inst of this.instances.values()) if (inst.rec.status !== 'pending') cancelUnstarted(inst.rec, event);
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

  /** `now`: the time to measure `elapsed` at (by default the last event's). `started_by`: §8.8, the starter's subject. */
  actuals(now = this.now): { cost: number; elapsed: number; status: RunStatus; started_by: string | null } {
    return { cost: this.totalCost, elapsed: (this.completedAt ?? now) - this.startedAt, status: this.status(), started_by: this.facts.startedBy?.subject ?? null };
  }

  /** The run's status as journaled and shown: `paused` too while it only waits for approvals. */
  status(): RunStatus {
    return this.awaitingApproval && this.runStatus === 'running' ? 'paused' : this.runStatus;
  }
}
