/**
 * What a runtime hands each run's scheduler (`SchedulerDeps`): its executor wrapped with the
 * built-in model handler and the tracer, the journal behind the one redactor, the secrets, hooks
 * and limits of the plan's project config — and the tracers, one per exporter configuration, that
 * see the runs' events.
 */
import type { PlanIR } from '../compiler/index.js';
import type { AsyncJournal } from './backend/index.js';
import { RETENTION_INTERVAL_MS } from './backend/index.js';
import { placeholderSecrets } from './cluster/job-secrets.js';
import { redactConfigSecrets, redactNamedSecrets, secretResolver, type OrchConfig } from './config.js';
import { EMPTY_MODELS, ModelExecutor, modelClientFor } from './models/index.js';
import type { SignalRead } from './evaluate.js';
import type { Redactor } from './redact.js';
import { redactingJournal } from './redacting-journal.js';
import type { RunExecutors } from './run-executors.js';
import type { LimitsProvider } from './scheduler/index.js';
import type { Clock, Executor, JournalSink, RunEvent, RunReader, SchedulerDeps } from './scheduler/types.js';
import { telemetrySettings } from './telemetry/settings.js';
import { loadTracing } from './telemetry/load-tracing.js';
import type { RunTracing, StoredTrace } from './telemetry/tracing.js';

export interface RunWiringParts {
  readonly clock: Clock;
  readonly limits: LimitsProvider;
  /** The journal runs commit to (none: runs without a journal). */
  readonly sink: JournalSink | null;
  /** The same journal, pruned by the config's `retention`. */
  readonly store: AsyncJournal | null;
  readonly executors: RunExecutors;
  /** One redactor for everything a runtime writes: a secret seen once is blanked everywhere. */
  readonly redactor: Redactor;
  /** Where trouble at the runtime's edges is told, once (an OTLP endpoint that cannot be reached); default stderr. */
  readonly warn?: (line: string) => void;
  /** §9.4: the live context signals, when a context store keeps them. */
  readonly signal?: (name: string) => SignalRead;
}

export class RunWiring {
  /** One tracer per exporter configuration, its SDK loaded on first use; null when tracing is off. */
  private readonly tracings = new Map<string, Promise<RunTracing | null>>();
  private retainedAt = -Infinity;

  constructor(private readonly parts: RunWiringParts) {}

  async tracingFor(config: OrchConfig): Promise<RunTracing | null> {
    const settings = telemetrySettings(config.telemetry);
    if (!settings) return null;
    const key = `${settings.tracesUrl} ${settings.serviceName} ${settings.protocol}`;
    let t = this.tracings.get(key);
    if (!t) {
      // Tracing observes runs; when it cannot start (no built tracing thread), runs go on untraced.
      t = loadTracing(settings, (text) => String(this.parts.redactor.value(text)), this.parts.warn).catch(() => null);
      this.tracings.set(key, t);
    }
    return t;
  }

  /** Exports every span ended so far, of every exporter traced to; the tracing thread is up once it resolves. */
  async flushTraces(): Promise<void> {
    for (const t of this.tracings.values()) await (await t)?.flush();
  }

  async shutdownTraces(): Promise<void> {
    for (const t of this.tracings.values()) await (await t)?.shutdown();
  }

  deps(plan: PlanIR, config: OrchConfig, executor: Executor, onEvent?: (e: RunEvent, r: RunReader) => void, tracing: RunTracing | null = null): SchedulerDeps {
    const { redactor, executors } = this.parts;
    // Blanked before any step runs (LANGUAGE.md §8).
    redactConfigSecrets(config, redactor);
    redactNamedSecrets(plan, config, redactor);
    if (config.maxOutputBytes != null) executors.limitOutputs(plan.base_dir, config.maxOutputBytes);
    if (config.retentionMs != null) this.applyRetention(config.retentionMs);
    // Steps on workers: no secret value leaves this process. `secret("NAME")` stands for the value
    // a worker resolves from its own environment and config (runtime/cluster/job-secrets.ts), and
    // model calls are answered there, with its endpoints and prices.
    const onWorkers = executors.onWorkers(executor);
    const secret = onWorkers ? placeholderSecrets((p) => redactor.add(p)) : secretResolver(config, redactor);
    // `kind llm` calls with a prompt are answered by the built-in model handler, here (§8.1); the
    // tracer sees every attempt, the model calls included.
    const modelled = onWorkers ? executor : new ModelExecutor(executor, { models: config.models ?? EMPTY_MODELS, secret, client: modelClientFor, redact: (t) => redactor.text(t), configName: config.file ?? 'the run (no orch.config)' });
    return {
      clock: this.parts.clock,
      executor: tracing ? tracing.executor(modelled) : modelled,
      modelPrices: config.models?.prices,
      journal: this.parts.sink ? redactingJournal(this.parts.sink, redactor) : undefined,
      hooks: config.hooks,
      secret,
      // Without a live context store, a run's own values still go stale (§9.4).
      ...(this.parts.signal ? { signal: this.parts.signal } : { contextAges: true }),
      configSecrets: config.secrets,
      redact: (v: unknown) => redactor.value(v),
      // Changes arriving in one event-loop turn share a transaction (measured: ~11 events, 3–4
      // steps, per commit on the 10k-step bench), and an idle run commits on the very next turn.
      // Holding a commit over more turns to make it bigger did not pay: the workers' hand-offs
      // wait on this thread either way.
      defer: (f: () => void) => setImmediate(f),
      limits: this.parts.limits,
      observe: observer(tracing, onEvent ? (e: RunEvent, r: RunReader) => onEvent(redactor.value(e), r) : undefined),
    };
  }

  /** The config's `retention`, at most once an hour per runtime (a run start triggers it). */
  private applyRetention(ms: number): void {
    const now = Date.now();
    const store = this.parts.store;
    if (!store || now - this.retainedAt < RETENTION_INTERVAL_MS) return;
    this.retainedAt = now;
    // Pruning is housekeeping: a failure is retried an hour later, it never fails the run.
    store.prune(now - ms).catch(() => undefined);
  }
}

/** What sees a run's events: the tracer's spans (raw events: it redacts the text it keeps), then the caller. */
function observer(tracing: RunTracing | null, onEvent: ((e: RunEvent, r: RunReader) => void) | undefined): ((e: RunEvent, r: RunReader) => void) | undefined {
  if (!tracing) return onEvent;
  if (!onEvent) return (e, r) => tracing.observe(e, r);
  return (e, r) => {
    tracing.observe(e, r);
    onEvent(e, r);
  };
}

/** The trace a run's `plan_created` keeps, if it was traced. */
export function storedTrace(first: RunEvent | undefined): StoredTrace | null {
  const d = first?.type === 'plan_created' ? first.data : null;
  return d && typeof d.trace_id === 'string' && typeof d.span_id === 'string' ? { trace_id: d.trace_id, span_id: d.span_id } : null;
}
