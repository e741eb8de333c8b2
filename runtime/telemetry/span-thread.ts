/**
 * The tracing thread (`span-sink.ts`): applies span records to the OpenTelemetry SDK — spans with
 * the ids the main thread gave them (an `IdGenerator` that hands those out), a BatchSpanProcessor
 * and the OTLP/HTTP exporter (the standard `OTEL_*` variables apply) — and exports them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ROOT_CONTEXT, TraceFlags, trace, type Attributes, type Context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { TelemetrySettings } from './settings.js';
import { attemptAttributes, CELLS, openStepAttributes, Rec, stepAttributes, type Attrs, type Cell, type LinkCells, type RunCells } from './span-records.js';

const settings = workerData as TelemetrySettings;

/** The ids of the span being started: made on the main thread, where handlers need them first. */
const given: IdGenerator & { traceId: string; spanId: string } = {
  traceId: '',
  spanId: '',
  generateTraceId() {
    return this.traceId;
  },
  generateSpanId() {
    return this.spanId;
  },
};

const envNumber = (name: string): number | undefined => {
  const n = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
};

const provider = new BasicTracerProvider({
  idGenerator: given,
  // The main thread decides what is sampled (a caller's flag, else everything) and tells each
  // span's children: a sampler of its own here (OTEL_TRACES_SAMPLER) would drop a run span and
  // keep its steps. So: follow the parent, record every root.
  sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  // OTEL_RESOURCE_ATTRIBUTES adds to the resource; the service name is OTEL_SERVICE_NAME or `orch`.
  resource: defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': settings.serviceName })),
  // A large run ends thousands of spans a second: the default queue of 2048 would drop some while
  // an export is on its way (the OTEL_BSP_* variables still win).
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }), {
      maxQueueSize: envNumber('OTEL_BSP_MAX_QUEUE_SIZE') ?? 65_536,
      maxExportBatchSize: envNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 2048,
    }),
  ],
});
const tracer = provider.getTracer('orch');

const Kind = { span: 0, step: 1, attempt: 2 } as const;

/**
 * A span the main thread opened. The SDK's span is made when it ends, with everything known
 * (one pass over its attributes, and no SDK object kept alive while the step runs); its ids,
 * times and parent are the main thread's, so nothing of it differs from a span started at once.
 * One shape for every span; a step's and an attempt's attributes are built once, at the end.
 */
class Open {
  events: [name: string, attrs: Attrs, at: number][] | null = null;
  /** The context its children start in, made once. */
  context: Context | null = null;

  constructor(
    readonly kind: 0 | 1 | 2,
    readonly name: string,
    readonly traceId: string,
    readonly parentId: string,
    readonly sampled: boolean,
    readonly remoteParent: boolean,
    readonly start: number,
    /** A span's attributes from its start (`Kind.span` only). */
    readonly attrs: Attrs | null,
    readonly links: LinkCells | null,
    /** Its run's id and plan (a run span: its own; a step or attempt: its run's). */
    readonly run: RunCells | null,
    /** A step's or an attempt's step id. */
    readonly base: string,
    /** A step's key (null when it is the base); an attempt's capability. */
    readonly key: string | null,
    /** An attempt's number, resource, queued ms and fallback. */
    readonly attempt: number = 0,
    readonly resource: string | null = null,
    readonly queuedMs: number = 0,
    readonly fallback: boolean = false,
  ) {}
}

const open = new Map<string, Open>();

/** The context a child of `s`'s parent starts in (its parent's, made once, when that is open here). */
function parentContext(s: Open): Context {
  if (!s.parentId) return ROOT_CONTEXT;
  const parent = open.get(s.parentId);
  if (parent) return (parent.context ??= contextOf(s.traceId, s.parentId, s.sampled, false));
  return contextOf(s.traceId, s.parentId, s.sampled, s.remoteParent);
}

function contextOf(traceId: string, spanId: string, sampled: boolean, isRemote: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote });
}

function end(id: string, s: Open, at: number, code: number, message: string | null, attrs: Attrs): void {
  given.traceId = s.traceId;
  given.spanId = id;
  const links = s.links?.map(([traceId, spanId]) => ({ context: { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true } }));
  const span = tracer.startSpan(s.name, links ? { startTime: s.start, attributes: attrs as Attributes, links } : { startTime: s.start, attributes: attrs as Attributes }, parentContext(s));
  open.delete(id);
  if (s.events) for (const [name, a, t] of s.events) span.addEvent(name, a as Attributes, t);
  if (code !== 0) span.setStatus(message !== null ? { code, message } : { code });
  span.end(at);
}

/** The records of one hand-over (`span-records.ts`), in order. */
function apply(cells: readonly Cell[]): void {
  for (let i = 0; i < cells.length; ) {
    const kind = cells[i] as number;
    const at = i + 1;
    i = at + (CELLS[kind] ?? cells.length);
    try {
      record(kind, cells, at);
    } catch {
      // A span that cannot be made is left out; tracing never stops the thread.
    }
  }
}

function record(kind: number, c: readonly Cell[], i: number): void {
  const id = c[i] as string;
  switch (kind) {
    case Rec.start: {
      const flags = c[i + 3] as number;
      const shared = c[i + 8] as RunCells | null;
      const parentId = c[i + 1] as string;
      open.set(id, new Open(Kind.span, c[i + 4] as string, c[i + 2] as string, parentId, (flags & 1) === 1, (flags & 2) === 2, c[i + 5] as number, c[i + 6] as Attrs, c[i + 7] as LinkCells | null, shared, '', null));
      return;
    }
    case Rec.step: {
      const runId = c[i + 1] as string;
      const run = open.get(runId);
      if (!run?.run) return; // its run ended first: the main thread never does that
      const base = c[i + 3] as string;
      open.set(id, new Open(Kind.step, `orch.step ${base}`, run.traceId, runId, run.sampled, false, c[i + 2] as number, null, null, run.run, base, c[i + 4] as string | null));
      return;
    }
    case Rec.attempt: {
      const stepId = c[i + 1] as string;
      const step = open.get(stepId);
      if (!step?.run) return; // its step ended first: the main thread never does that
      const a = new Open(Kind.attempt, `orch.attempt ${step.base}`, step.traceId, stepId, step.sampled, false, c[i + 2] as number, null, null, step.run, step.base, c[i + 4] as string, c[i + 3] as number, c[i + 5] as string | null, c[i + 6] as number, c[i + 7] === 1);
      open.set(id, a);
      return;
    }
    case Rec.event: {
      const s = open.get(id);
      if (s) (s.events ??= []).push([c[i + 1] as string, c[i + 3] as Attrs, c[i + 2] as number]);
      return;
    }
    case Rec.end:
    case Rec.endStep:
    case Rec.endAttempt: {
      const s = open.get(id);
      if (!s) return;
      const extra = c[i + 4] as Attrs | null;
      let attrs: Attrs;
      if (s.kind === Kind.step)
        attrs =
          kind === Rec.endStep
            ? stepAttributes(s.run!, s.base, s.key, c[i + 5] as string | null, c[i + 6] as number, c[i + 7] as number, c[i + 8] as string, extra)
            : openStepAttributes(s.run!, s.base, s.key, extra);
      else if (s.kind === Kind.attempt)
        attrs = attemptAttributes(s.run!, s.base, s.attempt, s.key!, s.resource, s.queuedMs, s.fallback, kind === Rec.endAttempt ? (c[i + 5] as number) : null, extra);
      else attrs = extra ? Object.assign(s.attrs!, extra) : s.attrs!;
      return end(id, s, c[i + 1] as number, c[i + 2] as number, c[i + 3] as string | null, attrs);
    }
  }
}

parentPort!.on('message', (m: { cells?: Cell[]; flush?: number }) => {
  if (m.cells) apply(m.cells);
  if (m.flush !== undefined) {
    const n = m.flush;
    // The thread lives as long as the process (`SpanSink.for`): a flush exports, nothing shuts down.
    void provider
      .forceFlush()
      .catch(() => undefined)
      .finally(() => parentPort!.postMessage({ flushed: n }));
  }
});
