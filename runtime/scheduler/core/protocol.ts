/**
 * The scheduler core's protocol: the events it reacts to and the commands it answers with.
 * The core never touches a clock, an executor, the journal or a timer: the driver (`../run.ts`)
 * gives every event its time and carries out the commands.
 */
import type { CapabilityIR, LlmIR, PlanIR, ResourceIR, StepStatus } from '../../../compiler/index.js';
import type { Identity } from './identity.js';
import type { SignalRead } from '../../evaluate.js';
import type { AttemptRequest, AttemptUsage, FailureOwner, FinalFailure, RunEvent, StepHookInfo, ToolCheck } from '../types.js';

/** Something that happened, as the driver reports it (with the clock's time: `handle(event, at)`). */
export type CoreEvent =
  /** Begin the run (fresh, or resumed from the restored journal). */
  | { readonly type: 'started' }
  /** A turn of the driver ended: queue what became ready and start what the limits allow. */
  | { readonly type: 'pump' }
  | {
      readonly type: 'attempt_succeeded';
      readonly attempt: string;
      readonly token: number;
      readonly output: unknown;
      readonly logs?: readonly string[];
      readonly cost?: number;
      readonly usage?: AttemptUsage;
    }
  | {
      readonly type: 'attempt_failed';
      readonly attempt: string;
      readonly token: number;
      readonly error: string;
      readonly logs?: readonly string[];
      readonly cost?: number;
      /** The executor knows another attempt would fail the same way (`AttemptOutcome.final`): no retry. */
      readonly final?: FinalFailure;
      /** Whose failure it is (`AttemptOutcome.owner`): whether another resource is worth a try. */
      readonly owner?: FailureOwner;
      readonly usage?: AttemptUsage;
    }
  /** The worker running the attempt died (a cluster worker): the step runs again as a new attempt. */
  /** `reason`: the worker gave the attempt back itself (cut off from the database), rather than died. */
  | { readonly type: 'attempt_lost'; readonly attempt: string; readonly token: number; readonly worker: string; readonly error: string; readonly reason?: string }
  /**
   * The executor queued the attempt until a thread is free (`AttemptHandle.onStart`): its timeout
   * waits for `attempt_began`, when its handler starts.
   */
  | { readonly type: 'attempt_queued'; readonly attempt: string; readonly token: number }
  | { readonly type: 'attempt_began'; readonly attempt: string; readonly token: number }
  /** What a running attempt has reported so far (its running total), as it reports it. */
  | { readonly type: 'attempt_usage'; readonly attempt: string; readonly token: number; readonly usage: AttemptUsage }
  /** Log lines a running attempt wrote, as they arrive (before its outcome, which has the rest). */
  | { readonly type: 'attempt_logs'; readonly attempt: string; readonly token: number; readonly lines: readonly string[] }
  /** A sub-plan run ended (`crashed`: it could not run at all, e.g. its journal failed). */
  | {
      readonly type: 'subplan_finished';
      readonly key: string;
      readonly token: number;
      readonly status: string;
      readonly output: unknown;
      readonly error: string | null;
      readonly crashed?: boolean;
      /** What the sub-plan run cost: added to the step, so the parent's budgets count it. */
      readonly cost?: number;
    }
  /**
   * What the running sub-plan now waits for, when only approvals can move it (its approval steps
   * as it names them, `step` or `sub/step`); empty once something else can happen in it again.
   */
  | { readonly type: 'subplan_waiting'; readonly key: string; readonly token: number; readonly waiting: readonly string[] }
  | { readonly type: 'timer_fired'; readonly timer: string }
  /** The preExecution policy hook answered (`failure`: it threw or rejected). */
  | {
      readonly type: 'policy_decided';
      readonly key: string;
      readonly token: number;
      readonly allow: boolean;
      readonly reason?: string;
      readonly failure?: string;
    }
  /**
   * The executor compared the live tool with the one the plan was compiled against (`check_tool`):
   * `problem` says how it differs (changed, vanished), absent when it is the same.
   */
  | { readonly type: 'tool_checked'; readonly key: string; readonly token: number; readonly problem?: string }
  | {
      readonly type: 'signal';
      readonly stepId: string;
      readonly decision: 'approve' | 'reject';
      readonly by: string | null;
      readonly comment: string | null;
      /** §8.8: the authenticated person deciding; null when no people are configured (`by` is then a label). */
      readonly identity: Identity | null;
    }
  | { readonly type: 'pause' }
  /** Stop starting steps; once no handler runs, stop as `interrupted` (resumable). */
  | { readonly type: 'interrupt'; readonly reason: string }
  | { readonly type: 'resume' }
  | { readonly type: 'cancel'; readonly reason: string }
  /** Cancel one step (an instance key, or a step id: all its instances, those still to come too). */
  | { readonly type: 'cancel_step'; readonly stepId: string; readonly reason: string }
  | { readonly type: 'context_updated'; readonly patch: { readonly [key: string]: unknown } }
  /** Stop deciding (detached runtime, failed journal): nothing more happens in this process. */
  | { readonly type: 'halt' };

/** What the driver must do. `journal` commands of one turn are committed before any effect runs. */
export type Command =
  | { readonly type: 'journal'; readonly event: RunEvent }
  | { readonly type: 'arm_timer'; readonly timer: string; readonly ms: number }
  | { readonly type: 'cancel_timer'; readonly timer: string }
  /** `attempt`: the id outcomes come back with (a step key, or `compensate:` + key). */
  | { readonly type: 'start_attempt'; readonly attempt: string; readonly token: number; readonly request: AttemptRequest }
  | { readonly type: 'abort_attempt'; readonly attempt: string; readonly reason: string }
  /** Ask the preExecution hook; answer with `policy_decided` (synchronously when it can). */
  | { readonly type: 'check_policy'; readonly key: string; readonly token: number; readonly info: StepHookInfo }
  /**
   * Before the first step of a run that calls an MCP tool starts (LANGUAGE.md §8.3): ask the
   * executor whether the live tool still is the locked one; answer with `tool_checked`.
   */
  | { readonly type: 'check_tool'; readonly key: string; readonly token: number; readonly check: ToolCheck }
  | {
      readonly type: 'post_hook';
      readonly info: StepHookInfo;
      readonly result: { readonly status: StepStatus; readonly output: unknown; readonly error: string | null };
    }
  | {
      readonly type: 'start_subplan';
      readonly key: string;
      readonly token: number;
      readonly name: string;
      readonly plan: PlanIR;
      readonly childId: string;
      readonly input: { readonly [key: string]: unknown };
      /**
       * When the attempt in flight as the run was interrupted started (it is launched again): its
       * sub-plan run, begun since, continues from its journal. Null for a new attempt: a new
       * sub-plan run (under the same id, after the events of the attempts before it).
       */
      readonly resumeSince: number | null;
    }
  | {
      readonly type: 'control_subplan';
      readonly key: string;
      readonly op: 'pause' | 'resume' | 'cancel' | 'context' | 'detach';
      readonly reason?: string;
      readonly patch?: { readonly [key: string]: unknown };
    }
  /** The run reached a terminal status (or suspended on approvals); the result can be built. */
  | { readonly type: 'finish' };

/** The core's fixed inputs besides events: lookups and an entropy source, no I/O. */
export interface CoreConfig {
  /** Resolves `secret("NAME")` from the configuration; an unknown name throws. */
  readonly secret?: (name: string) => string;
  readonly configSecrets?: { readonly [name: string]: string };
  /** §9.4: the live state of each context signal (an effect read like `secret`); without it the run's own context. */
  readonly signal?: (name: string) => SignalRead;
  /**
   * §9.4, without `signal`: the run's own context values go stale as their `max_age` passes from
   * when they were journaled (`orch run`, the runtime's runs). Off for `orch verify`, where a
   * fresh signal reports at every instant.
   */
  readonly contextAges?: boolean;
  /** Uniform [0,1) for retry jitter (seeded in `orch verify`). */
  readonly random?: () => number;
  /** Whether a preExecution hook is configured (then every start asks it first). */
  readonly preExecutionHook: boolean;
  readonly postExecutionHook: boolean;
  /**
   * What the sub-plan run by instance `key` has spent so far (its own sub-plans included), while
   * it runs: budgets count it before it ends (LANGUAGE.md §7.2).
   */
  readonly subplanCost?: (key: string) => number;
  /** Sees each journal event as it is emitted, with the core in exactly that state. */
  readonly onEvent?: (event: RunEvent) => void;
  /** orch.config `prices` by model (§8.1): budgets reserve a model call's worst case with them (§8.2). */
  readonly modelPrices?: { readonly [model: string]: { readonly input_per_mtok: number; readonly output_per_mtok: number } };
  /** How the built-in model handler calls a model; without it no call reserves its worst case. */
  readonly modelCalls?: ModelCalls;
}

/**
 * What the core needs to know of the built-in model handler (§8.1) to reserve a `kind llm` call's
 * worst case (§8.2): the model it uses and the token bound of the prompt it would send. The core
 * owns this interface so it imports no model code; the driver passes `runtime/models`' rendering,
 * the very one the handler sends, so the two agree.
 */
export interface ModelCalls {
  model(cap: CapabilityIR, resource: ResourceIR | null): string | null;
  promptTokens(cap: CapabilityIR & { readonly llm: LlmIR }, input: { readonly [k: string]: unknown }, previousError: string | null): number;
}
