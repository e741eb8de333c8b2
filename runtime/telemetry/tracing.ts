/**
 * The runtime's view of tracing: a small interface the runtime calls when tracing is on
 * (`./load-tracing.ts` brings the OpenTelemetry SDK in only then). With no endpoint set no span
 * is made and the scheduler sees no difference.
 *
 * Spans are made from the run's journal events (`RunTracing.observe`), the same facts the
 * journal keeps: the scheduler core is not told about tracing at all.
 */
import type { Executor, RunEvent, RunReader } from '../scheduler/types.js';
import type { SpanRef } from './traceparent.js';

/** What `plan_created` keeps of a run's trace (LANGUAGE.md §8.7): read back on resume. */
export interface StoredTrace {
  /** The run's trace id (32 hex digits): the same for every process that advances the run. */
  readonly trace_id: string;
  /** The span id of the run's first `orch.run` span. */
  readonly span_id: string;
}

export interface BeginRun {
  readonly runId: string;
  readonly plan: string;
  /** A fresh run: the caller's span (`traceparent` of `POST /runs`), if any. */
  readonly parent?: SpanRef | null;
  /** A resumed run: the trace its journal keeps (null: it began untraced, a new trace starts). */
  readonly stored?: StoredTrace | null;
  readonly resumed: boolean;
  /** Its attempts run on `orch worker` processes, which make the attempt spans themselves. */
  readonly remoteAttempts: boolean;
}

/**
 * A model call's usage as a handler or the built-in model handler reports it (LANGUAGE.md §8.1):
 * an attempt outcome's optional `usage`, or the `usage` of its end event's data.
 */
export interface AttemptUsage {
  readonly model?: string;
  readonly endpoint?: string;
  readonly input_tokens?: number;
  readonly output_tokens?: number;
  readonly cost?: number;
  /** GenAI operation (`chat`, `embeddings` …); `chat` when a model is named and this is not. */
  readonly operation?: string;
}

export interface RunTracing {
  /** Opens the span of a run starting or resuming in this process; what to journal of it. */
  beginRun(o: BeginRun): StoredTrace;
  /** Every journal event of the runs begun here, sub-plan runs included, as it is emitted. */
  observe(event: RunEvent, run: RunReader): void;
  /** The executor with each attempt's `traceparent` set (`ctx.traceparent`, job payloads). */
  executor(inner: Executor): Executor;
  /** This process stopped advancing the run (ended, suspended, detached): its open spans end. */
  endRun(runId: string): void;
  /** Exports every span ended so far (the tracing thread is up once it resolves). */
  flush(): Promise<void>;
  /** Ends what is open and exports everything buffered (before the process exits). */
  shutdown(): Promise<void>;
}

/** What an `orch worker` traces: the attempts it runs, as children of their owner's step span. */
export interface WorkerTracing {
  /** Opens the attempt span under `parent` (the job's traceparent); null without one. */
  attempt(parent: string | null | undefined, o: AttemptInfo): WorkerAttempt | null;
  shutdown(): Promise<void>;
}

export interface AttemptInfo {
  readonly runId: string;
  readonly stepKey: string;
  readonly attempt: number;
  readonly resource: string | null;
  readonly capability: string;
  readonly worker: string;
  /** The model a built-in model call asks for (`gen_ai.request.model`); null for any other call. */
  readonly requestModel?: string | null;
}

export interface WorkerAttempt {
  /** The attempt span's traceparent: the handler's `ctx.traceparent`. */
  readonly traceparent: string;
  /** `usage`: what the outcome reported (read as `AttemptUsage`, ignored when it is not one). */
  end(outcome: { readonly ok: boolean; readonly error?: string; readonly cost?: number; readonly usage?: unknown }): void;
}
