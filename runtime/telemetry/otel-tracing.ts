/**
 * Runs as OpenTelemetry spans (LANGUAGE.md §8.7, docs/telemetry.md), made from journal events as
 * the scheduler emits them: `orch.run PLAN` per run, `orch.step STEP` per step instance,
 * `orch.attempt STEP` per attempt of a call. Event times are the spans' times. Loaded only when
 * tracing is on (`tracing.ts`).
 */
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { CapabilityIR } from '../../compiler/index.js';
import { baseId } from '../scheduler/core/state.js';
import type { AttemptOutcome, Executor, RunEvent, RunReader } from '../scheduler/types.js';
import { genAiAttributes, usageOf } from './gen-ai.js';
import type { TelemetrySettings } from './settings.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';
import type { AttemptInfo, BeginRun, RunTracing, StoredTrace, WorkerAttempt, WorkerTracing } from './tracing.js';

interface StepSpans {
  readonly span: Span;
  readonly ctx: Context;
  readonly base: string;
  attempt: Span | null;
  attemptNo: number;
  /** The estimate charged when the attempt started (the end event's `cost_delta` corrects it). */
  attemptCost: number;
  cost: number;
  /** When it was last queued: the attempt records how long it waited for a slot. */
  queuedAt: number | null;
}

interface RunSpans {
  readonly runId: string;
  readonly span: Span;
  readonly ctx: Context;
  readonly plan: string;
  readonly remoteAttempts: boolean;
  readonly steps: Map<string, StepSpans>;
  /** Sub-plan runs begun under a step of this one (ended with it). */
  readonly children: Set<string>;
}

export class OtelTracing implements RunTracing, WorkerTracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly runs = new Map<string, RunSpans>();

  constructor(
    settings: TelemetrySettings,
    private readonly redact: (text: string) => string,
  ) {
    const exporter = new OTLPTraceExporter({ url: settings.tracesUrl });
    this.provider = new BasicTracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ 'service.name': settings.serviceName })),
      // A large run ends thousands of spans in a second: a queue of the default 2048 would drop
      // some while an export is on its way (the OTEL_BSP_* variables still win).
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: envNumber('OTEL_BSP_MAX_QUEUE_SIZE') ?? 65_536, maxExportBatchSize: envNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 2048 })],
    });
    this.tracer = this.provider.getTracer('orch');
  }

  // ───────────────────────────── runs ─────────────────────────────

  beginRun(o: BeginRun): StoredTrace {
    const parent = o.stored
      ? remoteContext(o.stored.trace_id, o.stored.span_id)
      : o.parent
        ? remoteContext(o.parent.traceId, o.parent.spanId, o.parent.sampled)
        : ROOT_CONTEXT;
    // A resumed run's span continues the trace under the run's first span, and links it.
    const links: Link[] = o.stored ? [{ context: trace.getSpanContext(parent)! }] : [];
    const span = this.tracer.startSpan(
      `orch.run ${o.plan}`,
      { attributes: { 'orch.run_id': o.runId, 'orch.plan': o.plan, ...(o.resumed ? { 'orch.resumed': true } : {}) }, links },
      parent,
    );
    this.open(o.runId, o.plan, span, parent, o.remoteAttempts);
    const sc = span.spanContext();
    return o.stored ?? { trace_id: sc.traceId, span_id: sc.spanId };
  }

  private open(runId: string, plan: string, span: Span, parent: Context, remoteAttempts: boolean): RunSpans {
    const r: RunSpans = { runId, span, ctx: trace.setSpan(parent, span), plan, remoteAttempts, steps: new Map(), children: new Set() };
    this.runs.set(runId, r);
    return r;
  }

  observe(event: RunEvent, run: RunReader): void {
    try {
      const r = this.runs.get(event.runId) ?? this.subplan(event, run);
      if (r) this.apply(r, event, run);
    } catch {
      // Tracing observes; a failure of it never changes the run.
    }
  }

  /** A sub-plan run (`PARENT/KEY`) under its `run` step's span, on its first event here. */
  private subplan(event: RunEvent, run: RunReader): RunSpans | undefined {
    const slash = event.runId.lastIndexOf('/');
    if (slash < 0) return undefined;
    const parent = this.runs.get(event.runId.slice(0, slash));
    if (!parent) return undefined;
    // A resumed parent may not have started its `run` step again here: its span opens now.
    const step = this.step(parent, { ...event, stepId: event.runId.slice(slash + 1) });
    const resumed = event.type === 'execution_started' && event.data.resumed === true;
    const span = this.tracer.startSpan(
      `orch.run ${run.plan.plan}`,
      { startTime: event.ts, attributes: { 'orch.run_id': event.runId, 'orch.plan': run.plan.plan, 'orch.parent_run_id': parent.runId, ...(resumed ? { 'orch.resumed': true } : {}) } },
      step.ctx,
    );
    parent.children.add(event.runId);
    return this.open(event.runId, run.plan.plan, span, step.ctx, parent.remoteAttempts);
  }

  private apply(r: RunSpans, e: RunEvent, run: RunReader): void {
    const d = e.data;
    switch (e.type) {
      case 'step_log':
        return;
      case 'step_queued': {
        const s = this.step(r, e);
        s.queuedAt = e.ts;
        return;
      }
      case 'step_started':
        return this.started(r, this.step(r, e), e, run);
      case 'step_retried': {
        const s = r.steps.get(e.stepId!);
        if (!s) return;
        this.endAttempt(s, e, String(d.error ?? 'failed'));
        s.span.addEvent(
          'retry',
          { 'orch.attempt': num(d.attempt), 'orch.retry.delay_ms': num(d.delay_ms), 'orch.error': this.redact(String(d.error ?? '')), ...(d.reset ? { 'orch.retry.reset': true } : {}) },
          e.ts,
        );
        return;
      }
      case 'step_completed':
      case 'step_failed':
      case 'step_skipped':
      case 'step_cancelled':
        return this.ended(r, e);
      case 'execution_completed':
        r.span.setAttribute('orch.cost', num(d.cost));
        r.span.setStatus({ code: SpanStatusCode.OK });
        return this.close(r, e.ts, 'completed');
      case 'execution_failed':
        r.span.setAttribute('orch.cost', num(d.cost));
        r.span.setStatus({ code: SpanStatusCode.ERROR, message: this.redact(String(d.error ?? d.status ?? 'failed')) });
        return this.close(r, e.ts, String(d.status ?? 'failed'));
      case 'execution_cancelled':
        r.span.addEvent('cancelled', { 'orch.reason': this.redact(String(d.reason ?? '')) }, e.ts);
        return this.close(r, e.ts, 'cancelled');
      case 'execution_paused':
        r.span.addEvent('paused', d.reason ? { 'orch.reason': String(d.reason), 'orch.waiting': strings(d.waiting) } : {}, e.ts);
        return;
      case 'execution_resumed':
        r.span.addEvent('resumed', {}, e.ts);
        return;
      case 'budget_exceeded':
      case 'guardrail_violation':
      case 'consent_denied':
      case 'step_compensated':
        r.span.addEvent(e.type, this.flat(e), e.ts);
        return;
      default:
        return;
    }
  }

  /** The span of a step instance, opened by its first event here (queued, or started on resume). */
  private step(r: RunSpans, e: RunEvent): StepSpans {
    const key = e.stepId!;
    let s = r.steps.get(key);
    if (s) return s;
    const base = baseId(key);
    const attributes: Attributes = { 'orch.run_id': r.runId, 'orch.plan': r.plan, 'orch.step': base };
    if (key !== base) attributes['orch.step_key'] = key;
    const span = this.tracer.startSpan(`orch.step ${base}`, { startTime: e.ts, attributes }, r.ctx);
    s = { span, ctx: trace.setSpan(r.ctx, span), base, attempt: null, attemptNo: 0, attemptCost: 0, cost: 0, queuedAt: null };
    r.steps.set(key, s);
    return s;
  }

  private started(r: RunSpans, s: StepSpans, e: RunEvent, run: RunReader): void {
    const d = e.data;
    const attempt = num(d.attempt);
    const resource = typeof d.resource === 'string' ? d.resource : null;
    const capName = typeof d.capability === 'string' ? d.capability : null;
    const cap: CapabilityIR | undefined = capName ? (run.plan.capabilities[capName] as CapabilityIR | undefined) : undefined;
    s.attemptNo = attempt;
    s.attemptCost = num(d.cost);
    if (resource !== null) s.span.setAttribute('orch.resource', resource);
    const queuedMs = s.queuedAt !== null ? e.ts - s.queuedAt : 0;
    s.queuedAt = null;
    if (cap && isApproval(cap)) {
      s.span.setAttribute('orch.kind', 'approval');
      s.span.addEvent('approval requested', { 'orch.attempt': attempt }, e.ts);
      return;
    }
    if (!cap) {
      const kind = run.plan.steps.find((st) => st.id === s.base)?.action.type ?? 'step';
      s.span.setAttribute('orch.kind', kind);
      if (kind !== 'run') s.span.addEvent(kind === 'wait' ? 'wait' : kind === 'wait_until' ? 'wait until' : kind, { 'orch.attempt': attempt }, e.ts);
      return;
    }
    s.span.setAttribute('orch.kind', 'call');
    if (r.remoteAttempts) return; // the worker that runs it makes its span
    const attributes: Attributes = {
      'orch.run_id': r.runId,
      'orch.plan': r.plan,
      'orch.step': s.base,
      'orch.attempt': attempt,
      'orch.capability': cap.name,
      'orch.cost': s.attemptCost,
    };
    if (resource !== null) attributes['orch.resource'] = resource;
    if (queuedMs > 0) attributes['orch.queued_ms'] = queuedMs;
    if (d.phase === 'fallback') attributes['orch.fallback'] = true;
    s.attempt = this.tracer.startSpan(`orch.attempt ${s.base}`, { startTime: e.ts, attributes }, s.ctx);
  }

  /** The attempt ended with the step's end or retry event (`error` when it failed). */
  private endAttempt(s: StepSpans, e: RunEvent, error: string | null): void {
    const cost = s.attemptCost + (typeof e.data.cost_delta === 'number' ? e.data.cost_delta : 0);
    s.cost += cost;
    const a = s.attempt;
    if (!a) return;
    s.attempt = null;
    a.setAttribute('orch.cost', cost);
    const usage = usageOf(e.data.usage);
    if (usage) a.setAttributes(genAiAttributes(usage));
    if (error !== null) a.setStatus({ code: SpanStatusCode.ERROR, message: this.redact(error) });
    else a.setStatus({ code: SpanStatusCode.OK });
    a.end(e.ts);
  }

  private ended(r: RunSpans, e: RunEvent): void {
    const key = e.stepId!;
    // A step ended before it started (skipped, or cancelled ahead) still shows, with no length.
    if (e.data.whole === true || e.data.ahead === true) return;
    const s = this.step(r, e);
    const d = e.data;
    const failed = e.type === 'step_failed';
    if (s.attempt || e.type === 'step_completed' || failed) this.endAttempt(s, e, failed ? String(d.error ?? 'failed') : null);
    if (e.type === 'step_completed' && s.span.isRecording() && d.output && typeof d.output === 'object' && 'approver' in (d.output as object))
      s.span.addEvent('approval decided', { 'orch.approval.by': String((d.output as { approver?: unknown }).approver ?? '') }, e.ts);
    s.span.setAttribute('orch.cost', s.cost);
    s.span.setAttribute('orch.attempt', s.attemptNo);
    s.span.setAttribute('orch.status', e.type === 'step_completed' ? 'completed' : e.type === 'step_skipped' ? 'skipped' : e.type === 'step_cancelled' ? 'cancelled' : String(d.status ?? 'failed'));
    if (failed) s.span.setStatus({ code: SpanStatusCode.ERROR, message: this.redact(String(d.error ?? 'failed')) });
    else if (e.type === 'step_completed') s.span.setStatus({ code: SpanStatusCode.OK });
    else if (d.reason !== undefined) s.span.setAttribute('orch.reason', this.redact(String(d.reason)));
    s.span.end(e.ts);
    r.steps.delete(key);
  }

  /** The run ended (`status`) or stopped here: what is still open ends with it. */
  private close(r: RunSpans, at: number, status: string | null): void {
    for (const child of r.children) {
      const c = this.runs.get(child);
      if (c) this.close(c, at, null);
    }
    for (const s of r.steps.values()) {
      if (s.attempt) {
        s.attempt.setAttribute('orch.unfinished', true);
        s.attempt.end(at);
      }
      s.span.setAttribute('orch.unfinished', true);
      s.span.end(at);
    }
    r.steps.clear();
    if (status !== null) r.span.setAttribute('orch.status', status);
    else r.span.setAttribute('orch.unfinished', true);
    r.span.end(at);
    this.runs.delete(r.runId);
  }

  endRun(runId: string): void {
    const r = this.runs.get(runId);
    if (r) this.close(r, Date.now(), null);
  }

  private flat(e: RunEvent): Attributes {
    const out: Attributes = {};
    if (e.stepId !== null) out['orch.step'] = e.stepId;
    for (const [k, v] of Object.entries(e.data)) {
      if (typeof v === 'number' || typeof v === 'boolean') out[`orch.${k}`] = v;
      else if (typeof v === 'string') out[`orch.${k}`] = this.redact(v);
    }
    return out;
  }

  // ───────────────────────────── attempts ─────────────────────────────

  executor(inner: Executor): Executor {
    const traced = (req: Parameters<Executor['start']>[0]) => {
      const tp = this.traceparentOf(req.runId, req.stepId);
      return tp === null ? req : { ...req, traceparent: tp };
    };
    const wrapped: Executor = {
      start: (req, done, logged) =>
        inner.start(
          traced(req),
          (o: AttemptOutcome) => {
            const usage = usageOf((o as { usage?: unknown }).usage);
            const a = usage ? this.runs.get(req.runId)?.steps.get(req.stepId)?.attempt : null;
            if (a && usage) a.setAttributes(genAiAttributes(usage));
            done(o);
          },
          logged,
        ),
    };
    if (inner.prepare) wrapped.prepare = (req) => inner.prepare!(traced(req));
    if (inner.discard) wrapped.discard = (req) => inner.discard!(req);
    if (inner.recover) wrapped.recover = (runId, inFlight) => inner.recover!(runId, inFlight);
    return wrapped;
  }

  /** The attempt's span (its step's when a worker makes the attempt span; the run's for a compensation). */
  private traceparentOf(runId: string, key: string): string | null {
    const r = this.runs.get(runId);
    if (!r) return null;
    const s = r.steps.get(key);
    const span = s?.attempt ?? s?.span ?? r.span;
    const sc = span.spanContext();
    return formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) !== 0 });
  }

  attempt(parent: string | null | undefined, o: AttemptInfo): WorkerAttempt | null {
    const ref = parseTraceparent(parent);
    if (!ref) return null;
    const attributes: Attributes = {
      'orch.run_id': o.runId,
      'orch.step': baseId(o.stepKey),
      'orch.attempt': o.attempt,
      'orch.capability': o.capability,
      'orch.worker': o.worker,
    };
    if (o.stepKey !== baseId(o.stepKey)) attributes['orch.step_key'] = o.stepKey;
    if (o.resource !== null) attributes['orch.resource'] = o.resource;
    const span = this.tracer.startSpan(`orch.attempt ${baseId(o.stepKey)}`, { attributes }, remoteContext(ref.traceId, ref.spanId, ref.sampled));
    const sc = span.spanContext();
    return {
      traceparent: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: ref.sampled }),
      end: (outcome) => {
        if (outcome.cost !== undefined) span.setAttribute('orch.cost', outcome.cost);
        const usage = usageOf(outcome.usage);
        if (usage) span.setAttributes(genAiAttributes(usage));
        span.setStatus(outcome.ok ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: this.redact(outcome.error ?? 'failed') });
        span.end();
      },
    };
  }

  async shutdown(): Promise<void> {
    for (const r of [...this.runs.values()]) if (this.runs.has(r.runId)) this.close(r, Date.now(), null);
    await this.provider.forceFlush().catch(() => undefined);
    await this.provider.shutdown().catch(() => undefined);
  }
}

function remoteContext(traceId: string, spanId: string, sampled = true): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
}

function isApproval(cap: CapabilityIR): boolean {
  return cap.handler !== null && 'builtin' in cap.handler && cap.handler.builtin === 'approval';
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function envNumber(name: string): number | undefined {
  const n = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
