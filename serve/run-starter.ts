/**
 * What `orch serve` needs from the runtime, and nothing more. The trigger engine and the HTTP
 * layer talk only to this interface, so they can be exercised against an in-memory fake and then
 * wired to the real journaled runtime by `runtime-starter.ts`.
 */
import type { PlanIR, RelabelIR } from '../compiler/index.js';
import type { Identity, Starter, WorkerRow } from '../runtime/index.js';

export type RunStatus =
  | 'pending' | 'queued' | 'running' | 'paused' | 'interrupted' | 'completed' | 'failed' | 'cancelled' | 'timeout';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'timeout']);

/** The execution result of LANGUAGE.md §6, with `status` live while the run is in flight. */
export interface RunView {
  readonly planId: string;
  readonly runId: string;
  readonly status: string;
  readonly steps: readonly {
    readonly stepId: string;
    readonly status: string;
    readonly output?: unknown;
    readonly error?: unknown;
    readonly attempts?: number;
    readonly resource?: string | null;
    readonly duration?: number | null;
    readonly startedAt?: string | null;
    readonly completedAt?: string | null;
  }[];
  readonly output?: unknown;
  readonly error?: unknown;
  readonly metadata?: { readonly [key: string]: unknown };
  readonly startedAt?: string | null;
  readonly completedAt?: string | null;
  /** Which trigger started the run (`null`: none did), from its journal; absent when not known. */
  readonly trigger?: string | null;
}

export interface RunSummary {
  readonly runId: string;
  readonly planId: string;
  readonly status: string;
  readonly startedAt?: string | null;
  readonly completedAt?: string | null;
  readonly cost?: number;
  /** As `RunView.trigger`. */
  readonly trigger?: string | null;
}

export interface JournalEntry {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A finished run as the chain triggers and metrics see it. */
export interface FinishedRun {
  readonly runId: string;
  readonly planId: string;
  /** The module declaring its plan: two served modules may both declare a plan of that name. */
  readonly module?: string;
  readonly status: string;
  readonly output: unknown;
}

/** Why a control request could not be honoured; the HTTP layer maps it to 404 / 409. */
export type ControlResult =
  | { readonly ok: true; readonly status: string }
  | { readonly ok: false; readonly reason: 'not_found' | 'conflict' | 'forbidden'; readonly message: string };

export interface DecisionMeta {
  readonly by: string;
  readonly comment: string | null;
  /** §8.8: the authenticated person deciding (checked by the runtime); absent without people. */
  readonly identity?: Identity | null;
}

export interface RunSource {
  readonly plan: PlanIR;
  readonly input: unknown;
}

export interface StartMeta {
  /** The trigger that started the run, or `null` for `POST /runs`. */
  readonly trigger: string | null;
  /** The live context signals at start (what `wait until context.x` sees first). */
  readonly context: { readonly [key: string]: unknown };
  /** Consent scopes granted to the run (`"consent": [...]` of `POST /runs`). */
  readonly consent?: readonly string[];
  /** The caller's W3C `traceparent` header: a traced run joins the caller's trace (LANGUAGE.md §8.7). */
  readonly traceparent?: string;
  /** §9.1: who started the run: the person who asked, or `system:trigger/NAME`. */
  readonly startedBy?: Starter;
  /** §9.1: the person whose signal fired the `when` trigger that starts the run. */
  readonly causedBy?: Starter;
  /** §9.1: the run whose end fired the `after` trigger that starts this one. */
  readonly chainedFrom?: string;
  /** §9.3: the endorse/declassify calls of the starting trigger's `with`, journaled in the run. */
  readonly relabels?: readonly RelabelIR[];
  /** §9.1: the server knows people (an `auth` block): the run's approvals are decided only by them. */
  readonly peopleBound?: boolean;
}

/** §9.1: what a retry records: who asked for it, and whether the server asking knows people. */
export interface RetryMeta {
  readonly startedBy?: Starter;
  readonly peopleBound?: boolean;
}

/** What `POST /runs/ID/upgrade` answers (and `GET` for a dry run). */
export interface UpgradeReport {
  readonly runId: string;
  readonly compatible: boolean;
  readonly applied: boolean;
  /** Handed to the process running the run: it moves at its next turn that waits only for approvals and waits. */
  readonly requested: boolean;
  readonly fromHash: string;
  readonly toHash: string;
  readonly reasons: readonly { readonly step: string | null; readonly reason: string }[];
  readonly diff: unknown;
  /** The loaded version is one the run was upgraded away from (`orch upgrade`): it is not offered back. */
  readonly behind?: boolean;
}

export interface RunStarter {
  /** Creates a journaled run and starts it in the background; resolves once it is journaled. */
  start(plan: PlanIR, input: unknown, meta: StartMeta): Promise<{ readonly runId: string }>;
  get(runId: string): Promise<RunView | null>;
  list(): Promise<readonly RunSummary[]>;
  timeline(runId: string): Promise<readonly JournalEntry[] | null>;
  pause(runId: string): Promise<ControlResult>;
  resume(runId: string): Promise<ControlResult>;
  cancel(runId: string): Promise<ControlResult>;
  /** Calls counted against a rate limit since `since` across the runs of this journal (shared limits). */
  rateHitsSince(key: string, since: number): Promise<number>;
  /** Starts a failed, timed-out or cancelled run again as a new run (`Runtime.retry`). */
  retry(runId: string, meta?: RetryMeta): Promise<{ readonly ok: true; readonly runId: string } | Extract<ControlResult, { ok: false }>>;
  /** Cancels one step of a run (LANGUAGE.md §7.4): here, in the process running it, or at its next resume. */
  cancelStep(runId: string, stepId: string): Promise<ControlResult>;
  /** Decides an approval step; `by` and `comment` are journaled with the decision. */
  decide(runId: string, stepId: string, decision: 'approve' | 'reject', meta?: DecisionMeta): Promise<ControlResult>;
  /**
   * LANGUAGE.md §8.6: moves a run to the version of its plan this server loaded (`dryRun`: only
   * reports whether it may, with the diff). Null for an unknown run. Optional: fakes need not.
   */
  upgrade?(runId: string, opts: { readonly dryRun: boolean }): Promise<UpgradeReport | null>;
  /**
   * The cluster's live workers as `orch workers` lists them (unreachable ones flagged, with the
   * attempts each holds); null where the backend has no workers (SQLite). Optional: fakes need not.
   */
  workers?(): Promise<readonly WorkerRow[] | null>;
  /** The plan a run executes and its (redacted) input, from memory or its journal. */
  source(runId: string): Promise<RunSource | null>;
  /** Called with every journal event of the runs this process executes (redacted), as it happens. */
  onEvent(listener: (e: { readonly runId: string; readonly planId: string; readonly event: JournalEntry }) => void): void;
  /** Merges live context signals into the runs in flight (`wait until context.x` sees them). */
  signalContext(values: { readonly [key: string]: unknown }): Promise<void>;
  /** Called once for every run that reaches a terminal status while this process watches it. */
  onFinished(listener: (run: FinishedRun) => void): void;
  /** Resumes every run left unfinished by a previous process; resolves to their ids. */
  resumeUnfinished(): Promise<readonly string[]>;
  /** Runs currently in flight in this process (queue depth for the metrics). */
  activeCount(): number;
  /** Waits until no run is in flight, at most `ms`; resolves to whether none is left. */
  drain(ms: number): Promise<boolean>;
  /**
   * Releases the runtime; runs still in flight stay unfinished in the journal (resumed next start).
   * `phase` hears what it waits for, so that a stop that hangs can say on what.
   */
  close(phase?: (waitingFor: string) => void): Promise<void>;
}
