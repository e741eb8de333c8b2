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
import { attemptAttributes, CELLS, Rec, stepAttributes, stepShared, type Attrs, type Cell, type LinkCells } from './span-records.js';

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

/**
 * A span the main thread opened. The SDK's span is made when it ends, with everything known
 * (one pass over its attributes, and no SDK object kept alive while the step runs); its ids,
 * times and parent are the main thread's, so nothing of it differs from a span started at once.
 */
interface Open {
  readonly name: string;
  readonly traceId: string;
  readonly parentId: string;
  readonly sampled: boolean;
  readonly remoteParent: boolean;
  readonly start: number;
  readonly attrs: Attrs;
  readonly links: LinkCells | null;
  /** What its children take (`span-records.ts`). */
  readonly shared: Attrs | null;
  /** A step span's step id: its attempts' name. */
  readonly base: string;
  events: [name: string, attrs: Attrs, at: number][] | null;
  /** The context its children start in, made once. */
  context: Context | null;
}

const open = new Map<string, Open>();

function opened(id: string, o: Omit<Open, 'events' | 'context'>): void {
  open.set(id, { ...o, events: null, context: null });
}

/** The context a child of `parentId` starts in (its parent's, when that is open here). */
function parentContext(s: Open): Context {
  if (!s.parentId) return ROOT_CONTEXT;
  const parent = open.get(s.parentId);
  if (parent) return (parent.context ??= contextOf(s.traceId, s.parentId, s.sampled, false));
  return contextOf(s.traceId, s.parentId, s.sampled, s.remoteParent);
}

function contextOf(traceId: string, spanId: string, sampled: boolean, isRemote: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote });
}

function end(id: string, at: number, code: number, message: string | null, attrs: Attrs): void {
  const s = open.get(id);
  if (!s) return;
  open.delete(id);
  given.traceId = s.traceId;
  given.spanId = id;
  const links = s.links?.map(([traceId, spanId]) => ({ context: { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true } }));
  const span = tracer.startSpan(s.name, { startTime: s.start, attributes: attrs as Attributes, ...(links ? { links } : {}) }, parentContext(s));
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
      return opened(id, {
        parentId: c[i + 1] as string,
        traceId: c[i + 2] as string,
        sampled: (flags & 1) === 1,
        remoteParent: (flags & 2) === 2,
        name: c[i + 4] as string,
        start: c[i + 5] as number,
        attrs: c[i + 6] as Attrs,
        links: c[i + 7] as LinkCells | null,
        shared: c[i + 8] as Attrs | null,
        base: '',
      });
    }
    case Rec.step: {
      const run = open.get(c[i + 1] as string);
      if (!run) return; // its run ended first: the main thread never does that
      const base = c[i + 3] as string;
      return opened(id, {
        parentId: c[i + 1] as string,
        traceId: run.traceId,
        sampled: run.sampled,
        remoteParent: false,
        name: `orch.step ${base}`,
        start: c[i + 2] as number,
        attrs: stepAttributes(run.shared, base, c[i + 4] as string | null),
        links: null,
        shared: stepShared(run.shared, base),
        base,
      });
    }
    case Rec.attempt: {
      const step = open.get(c[i + 1] as string);
      if (!step) return; // its step ended first: the main thread never does that
      return opened(id, {
        parentId: c[i + 1] as string,
        traceId: step.traceId,
        sampled: step.sampled,
        remoteParent: false,
        name: `orch.attempt ${step.base}`,
        start: c[i + 2] as number,
        attrs: attemptAttributes(step.shared, c[i + 3] as number, c[i + 4] as string, c[i + 5] as string | null, c[i + 6] as number, c[i + 7] === 1),
        links: null,
        shared: null,
        base: step.base,
      });
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
      const a = s.attrs;
      if (kind === Rec.endStep) {
        if (c[i + 5] !== null) a['orch.kind'] = c[i + 5] as string;
        a['orch.cost'] = c[i + 6] as number;
        a['orch.attempt'] = c[i + 7] as number;
        a['orch.status'] = c[i + 8] as string;
      } else if (kind === Rec.endAttempt) a['orch.cost'] = c[i + 5] as number;
      if (c[i + 4] !== null) Object.assign(a, c[i + 4] as Attrs);
      return end(id, c[i + 1] as number, c[i + 2] as number, c[i + 3] as string | null, a);
    }
  }
}

parentPort!.on('message', (m: { cells?: Cell[]; flush?: number; stop?: boolean }) => {
  if (m.cells) apply(m.cells);
  if (m.flush !== undefined) {
    const n = m.flush;
    void provider
      .forceFlush()
      .then(() => (m.stop ? provider.shutdown() : undefined))
      .catch(() => undefined)
      .finally(() => parentPort!.postMessage({ flushed: n }));
  }
});
