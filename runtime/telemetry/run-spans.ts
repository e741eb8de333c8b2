/**
 * Runs as OpenTelemetry spans (LANGUAGE.md §8.7, docs/telemetry.md), made from journal events as
 * the scheduler emits them: `orch.run PLAN` per run, `orch.step STEP` per step instance,
 * `orch.attempt STEP` per attempt of a call. Event times are the spans' times. The spans are built
 * and exported by the tracing thread (`span-sink.ts`); loaded only when tracing is on.
 */
import type { CapabilityIR } from '../../compiler/index.js';
import { runView, TRACE_HIDDEN, type SecretView } from '../redact-classes.js';
import { isApproval } from '../scheduler/core/resolve.js';
import { baseId } from '../scheduler/core/state.js';
import type { AttemptOutcome, Executor, RunEvent, RunReader } from '../scheduler/types.js';
import { modelOf } from '../models/prompt.js';
import { genAiAttributes, usageOf } from './gen-ai.js';
import { tidyCost } from './span-records.js';
import type { TelemetrySettings } from './settings.js';
import { SpanSink, type Attrs, type SpanContextRef, type SpanHandle } from './span-sink.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';
import type { AttemptInfo, BeginRun, RunTracing, StoredTrace, WorkerAttempt, WorkerTracing } from './tracing.js';

/**
 * An event's data as spans read it: by field name, whatever the event's type. Spans are made from
 * the facts any event carries (cost, attempt, error), and from fields a newer writer may add
 * (an attempt's `usage`), so they read loosely where the scheduler's folds read exhaustively.
 */
type EventFields = { readonly [field: string]: unknown };

interface StepSpans {
  readonly span: SpanHandle;
  readonly base: string;
  /** `orch.kind`, once it started: call, approval, wait … */
  kind: string | null;
  attempt: SpanHandle | null;
  attemptNo: number;
  /** The estimate charged when the attempt started (the end event's `cost_delta` corrects it). */
  attemptCost: number;
  cost: number;
  /** When it was last queued: the attempt records how long it waited for a slot. */
  queuedAt: number | null;
  /** The model the attempt asks for, when the built-in model handler answers it (`gen_ai.request.model`). */
  requestModel: string | null;
}

interface RunSpans {
  readonly runId: string;
  readonly span: SpanHandle;
  readonly plan: string;
  readonly remoteAttempts: boolean;
  readonly steps: Map<string, StepSpans>;
  /** Sub-plan runs begun under a step of this one (ended with it). */
  readonly children: Set<string>;
}

export class RunSpanTracing implements RunTracing, WorkerTracing {
  private readonly sink: SpanSink;
  private readonly runs = new Map<string, RunSpans>();
  /**
   * Each traced run's values of class `personal` and above (an inert view when its plan declares
   * none), so that an error text quoting one reaches no span — an OTLP collector has no tier (§9.3):
   * the runtime's redactor knows only `secret("NAME")` values.
   */
  private readonly secrets = new Map<string, SecretView>();

  constructor(
    settings: TelemetrySettings,
    private readonly redact: (text: string) => string,
    warn?: (line: string) => void,
  ) {
    this.sink = SpanSink.for(settings, warn);
  }

  // ───────────────────────────── runs ─────────────────────────────

  beginRun(o: BeginRun): StoredTrace {
    // A resumed run's span continues the trace under the run's first span, and links it.
    // Whether the first span was recorded is not stored: the sampler decides it again as for a root (by trace id, as it did).
    const first: SpanContextRef | null = o.stored ? { traceId: o.stored.trace_id, spanId: o.stored.span_id, sampled: this.sink.sampled(o.stored.trace_id, null) } : null;
    const parent = first ?? o.parent ?? null;
    const span = this.sink.start(
      `orch.run ${o.plan}`,
      parent,
      Date.now(),
      { 'orch.run_id': o.runId, 'orch.plan': o.plan, ...(o.resumed ? { 'orch.resumed': true } : {}) },
      { remote: parent !== null, run: [o.runId, o.plan], ...(first ? { links: [first] } : {}) },
    );
    this.runs.set(o.runId, { runId: o.runId, span, plan: o.plan, remoteAttempts: o.remoteAttempts, steps: new Map(), children: new Set() });
    return o.stored ?? { trace_id: span.traceId, span_id: span.spanId };
  }

  observe(event: RunEvent, run: RunReader): void {
    try {
      const r = this.runs.get(event.runId) ?? this.subplan(event, run);
      if (!r) return;
      let secrets = this.secrets.get(event.runId);
      if (secrets === undefined) this.secrets.set(event.runId, (secrets = runView(run, TRACE_HIDDEN)));
      if (event.type === 'step_completed' || event.type === 'context_updated') secrets.see(event);
      this.apply(r, event, run);
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
    const step = this.step(parent, event.runId.slice(slash + 1), event.ts);
    const resumed = event.type === 'execution_started' && event.data.resumed === true;
    const plan = run.plan.plan;
    const span = this.sink.start(
      `orch.run ${plan}`,
      step.span,
      event.ts,
      { 'orch.run_id': event.runId, 'orch.plan': plan, 'orch.parent_run_id': parent.runId, ...(resumed ? { 'orch.resumed': true } : {}) },
      { run: [event.runId, plan] },
    );
    parent.children.add(event.runId);
    const r: RunSpans = { runId: event.runId, span, plan, remoteAttempts: parent.remoteAttempts, steps: new Map(), children: new Set() };
    this.runs.set(event.runId, r);
    return r;
  }

  private apply(r: RunSpans, e: RunEvent, run: RunReader): void {
    const d: EventFields = e.data;
    switch (e.type) {
      case 'step_log':
        return;
      case 'step_queued':
        this.step(r, e.stepId!, e.ts).queuedAt = e.ts;
        return;
      case 'step_started':
        return this.started(r, this.step(r, e.stepId!, e.ts), e, run);
      case 'step_retried': {
        const s = r.steps.get(e.stepId!);
        if (!s) return;
        this.endAttempt(s, e, String(d.error ?? 'failed'));
        s.span.event(
          'retry',
          { 'orch.attempt': num(d.attempt), 'orch.retry.delay_ms': num(d.delay_ms), 'orch.error': this.text(String(d.error ?? '')), ...(d.reset ? { 'orch.retry.reset': true } : {}) },
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
        r.span.set('orch.cost', tidyCost(num(d.cost)));
        r.span.ok();
        return this.close(r, e.ts, 'completed');
      case 'execution_failed':
        r.span.set('orch.cost', tidyCost(num(d.cost)));
        r.span.error(this.text(String(d.error ?? d.status ?? 'failed')));
        return this.close(r, e.ts, String(d.status ?? 'failed'));
      case 'execution_cancelled':
        // The event carries no cost (completed and failed do): what the run spent up to now.
        r.span.set('orch.cost', tidyCost(num(run.actuals().cost)));
        r.span.event('cancelled', { 'orch.reason': this.text(String(d.reason ?? '')) }, e.ts);
        return this.close(r, e.ts, 'cancelled');
      case 'execution_paused':
        r.span.event('paused', d.reason ? { 'orch.reason': String(d.reason), 'orch.waiting': strings(d.waiting) } : {}, e.ts);
        return;
      case 'execution_resumed':
        r.span.event('resumed', {}, e.ts);
        return;
      case 'budget_exceeded':
        r.span.event(e.type, this.flat(e), e.ts);
        return this.refused(r, e);
      case 'guardrail_violation':
      case 'consent_denied':
      case 'step_compensated':
        r.span.event(e.type, this.flat(e), e.ts);
        return;
      default:
        return;
    }
  }

  /** The span of a step instance, opened by its first event here (queued, or started on resume). */
  private step(r: RunSpans, key: string, at: number): StepSpans {
    let s = r.steps.get(key);
    if (s) return s;
    // Named and given its run's attributes by the tracing thread (`span-records.ts`).
    const base = baseId(key);
    s = { span: this.sink.step(r.span, at, base, key !== base ? key : null), base, kind: null, attempt: null, attemptNo: 0, attemptCost: 0, cost: 0, queuedAt: null, requestModel: null };
    r.steps.set(key, s);
    return s;
  }

  private started(r: RunSpans, s: StepSpans, e: RunEvent, run: RunReader): void {
    const d: EventFields = e.data;
    const attempt = num(d.attempt);
    const resource = typeof d.resource === 'string' ? d.resource : null;
    const capName = typeof d.capability === 'string' ? d.capability : null;
    const cap: CapabilityIR | undefined = capName ? (run.plan.capabilities[capName] as CapabilityIR | undefined) : undefined;
    s.attemptNo = attempt;
    s.attemptCost = num(d.cost);
    if (resource !== null) s.span.set('orch.resource', resource);
    const queuedMs = s.queuedAt !== null ? e.ts - s.queuedAt : 0;
    s.queuedAt = null;
    if (cap && isApproval(cap)) {
      s.kind = 'approval';
      s.span.event('approval requested', { 'orch.attempt': attempt }, e.ts);
      return;
    }
    if (!cap) {
      const kind = run.plan.steps.find((st) => st.id === s.base)?.action.type ?? 'step';
      s.kind = kind;
      if (kind !== 'run') s.span.event(kind === 'wait' ? 'wait' : kind === 'wait_until' ? 'wait until' : kind, { 'orch.attempt': attempt }, e.ts);
      return;
    }
    s.kind = 'call';
    // What the call asks for; the endpoint may answer under another name (a dated version), which
    // the usage records and `gen_ai.response.model` carries.
    s.requestModel = cap.llm && cap.handler === null ? modelOf(cap, resource !== null ? (run.plan.resources[resource] ?? null) : null) : null;
    if (r.remoteAttempts) return; // the worker that runs it makes its span
    s.attempt = this.sink.attempt(s.span, e.ts, attempt, cap.name, resource, queuedMs, d.phase === 'fallback');
  }

  /** The attempt ended with the step's end or retry event (`error` when it failed). */
  private endAttempt(s: StepSpans, e: RunEvent, error: string | null): void {
    const d: EventFields = e.data;
    const cost = s.attemptCost + (typeof d.cost_delta === 'number' ? d.cost_delta : 0);
    s.cost += cost;
    const a = s.attempt;
    if (!a) return;
    s.attempt = null;
    const usage = usageOf(d.usage);
    if (usage) a.setAll(genAiAttributes(usage, s.requestModel));
    if (error !== null) a.error(this.text(error));
    else a.ok();
    a.endAttempt(e.ts, cost);
  }

  private ended(r: RunSpans, e: RunEvent): void {
    // Controls for instances still to come are not step instances of their own.
    const d: EventFields = e.data;
    if (d.whole === true || d.ahead === true) return;
    const key = e.stepId!;
    // A step ended before it started (skipped, or cancelled ahead) still shows, with no length.
    const s = this.step(r, key, e.ts);
    const failed = e.type === 'step_failed';
    if (s.attempt || e.type === 'step_completed' || failed) this.endAttempt(s, e, failed ? String(d.error ?? 'failed') : null);
    if (e.type === 'step_completed' && d.output && typeof d.output === 'object' && 'approver' in (d.output as object))
      s.span.event('approval decided', { 'orch.approval.by': String((d.output as { approver?: unknown }).approver ?? '') }, e.ts);
    const status = e.type === 'step_completed' ? 'completed' : e.type === 'step_skipped' ? 'skipped' : e.type === 'step_cancelled' ? 'cancelled' : String(d.status ?? 'failed');
    if (failed) s.span.error(this.text(String(d.error ?? 'failed')));
    else if (e.type === 'step_completed') s.span.ok();
    else if (d.reason !== undefined) s.span.set('orch.reason', this.text(String(d.reason)));
    s.span.endStep(e.ts, s.kind, s.cost, s.attemptNo, status);
    r.steps.delete(key);
  }

  /**
   * A blocking budget refused the step its start: no step end follows (the run fails), so its span
   * ends here with the refusal rather than staying open until the run closes it as unfinished.
   */
  private refused(r: RunSpans, e: RunEvent): void {
    const d: EventFields = e.data;
    const s = e.stepId !== null && d.warn === false ? r.steps.get(e.stepId) : undefined;
    if (!s) return;
    const spent = d.cost !== undefined ? ` (spent ${tidyCost(num(d.cost))}, the step would add ${tidyCost(num(d.estimate))})` : '';
    s.span.error(this.text(`budget exceeded: ${String(d.label ?? d.budget ?? 'budget')}${spent}; the step was refused`));
    s.span.endStep(e.ts, s.kind, s.cost, s.attemptNo, 'refused');
    r.steps.delete(e.stepId!);
  }

  /** The run ended (`status`) or stopped here (null): what is still open ends with it. */
  private close(r: RunSpans, at: number, status: string | null): void {
    for (const child of r.children) {
      const c = this.runs.get(child);
      if (c) this.close(c, at, null);
    }
    for (const s of r.steps.values()) {
      if (s.attempt) {
        s.attempt.set('orch.unfinished', true);
        s.attempt.end(at);
      }
      if (s.kind !== null) s.span.set('orch.kind', s.kind);
      s.span.set('orch.unfinished', true);
      s.span.end(at);
    }
    r.steps.clear();
    if (status !== null) r.span.set('orch.status', status);
    else r.span.set('orch.unfinished', true);
    r.span.end(at);
    this.runs.delete(r.runId);
    this.secrets.delete(r.runId);
  }

  endRun(runId: string): void {
    const r = this.runs.get(runId);
    if (r) this.close(r, Date.now(), null);
  }

  /** A text as a span may carry it: `secret("NAME")` values and the traced runs' `personal`-and-above values blanked. */
  private text(s: string): string {
    let out = this.redact(s);
    for (const v of this.secrets.values()) out = v.text(out);
    return out;
  }

  private flat(e: RunEvent): Attrs {
    const out: Attrs = {};
    if (e.stepId !== null) out['orch.step'] = e.stepId;
    for (const [k, v] of Object.entries(e.data)) {
      if (typeof v === 'number' || typeof v === 'boolean') out[`orch.${k}`] = v;
      else if (typeof v === 'string') out[`orch.${k}`] = this.text(v);
    }
    return out;
  }

  // ───────────────────────────── attempts ─────────────────────────────

  executor(inner: Executor): Executor {
    const traced = (req: Parameters<Executor['start']>[0]) => {
      const tp = this.traceparentOf(req.runId, req.stepId);
      if (tp === null) return req;
      // Not `{ ...req, traceparent }`: V8 builds that object on its slow path, about 1 µs a
      // step on the scheduler's thread (docs/telemetry.md); a copy then a set is not.
      const copy: { -readonly [K in keyof typeof req]: (typeof req)[K] } = Object.assign({}, req);
      copy.traceparent = tp;
      return copy;
    };
    const wrapped: Executor = {
      start: (req, done, logged, reported) =>
        inner.start(
          traced(req),
          (o: AttemptOutcome) => {
            const usage = usageOf((o as { usage?: unknown }).usage);
            const s = usage ? this.runs.get(req.runId)?.steps.get(req.stepId) : undefined;
            if (s?.attempt && usage) s.attempt.setAll(genAiAttributes(usage, s.requestModel));
            done(o);
          },
          logged,
          reported,
        ),
    };
    if (inner.prepare) wrapped.prepare = (req) => inner.prepare!(traced(req));
    if (inner.discard) wrapped.discard = (req) => inner.discard!(req);
    if (inner.recover) wrapped.recover = (runId, inFlight) => inner.recover!(runId, inFlight);
    if (inner.checkTool) wrapped.checkTool = (check) => inner.checkTool!(check);
    return wrapped;
  }

  /** The attempt's span (its step's when a worker makes the attempt span; the run's for a compensation). */
  private traceparentOf(runId: string, key: string): string | null {
    const r = this.runs.get(runId);
    if (!r) return null;
    const s = r.steps.get(key);
    return formatTraceparent(s?.attempt ?? s?.span ?? r.span);
  }

  attempt(parent: string | null | undefined, o: AttemptInfo): WorkerAttempt | null {
    const ref = parseTraceparent(parent);
    if (!ref) return null;
    const base = baseId(o.stepKey);
    const attrs: Attrs = { 'orch.run_id': o.runId, 'orch.step': base, 'orch.attempt': o.attempt, 'orch.capability': o.capability, 'orch.worker': o.worker };
    if (o.stepKey !== base) attrs['orch.step_key'] = o.stepKey;
    if (o.resource !== null) attrs['orch.resource'] = o.resource;
    const span = this.sink.start(`orch.attempt ${base}`, ref, Date.now(), attrs, { remote: true });
    return {
      traceparent: formatTraceparent(span),
      end: (outcome) => {
        if (outcome.cost !== undefined) span.set('orch.cost', tidyCost(outcome.cost));
        const usage = usageOf(outcome.usage);
        if (usage) span.setAll(genAiAttributes(usage, o.requestModel ?? null));
        if (outcome.ok) span.ok();
        else span.error(this.text(outcome.error ?? 'failed'));
        span.end(Date.now());
      },
    };
  }

  flush(): Promise<void> {
    return this.sink.flush();
  }

  async shutdown(): Promise<void> {
    for (const r of [...this.runs.values()]) if (this.runs.has(r.runId)) this.close(r, Date.now(), null);
    await this.sink.flush();
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}
