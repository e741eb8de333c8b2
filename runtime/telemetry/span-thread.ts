/**
 * The tracing thread (`span-sink.ts`): applies span records to the OpenTelemetry SDK — spans with
 * the ids the main thread gave them (an `IdGenerator` that hands those out), a BatchSpanProcessor
 * and the OTLP/HTTP exporter (the standard `OTEL_*` variables apply) — and exports them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ROOT_CONTEXT, TraceFlags, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { TelemetrySettings } from './settings.js';
import type { SpanOp } from './span-sink.js';

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
const open = new Map<string, Span>();

function parentOf(op: Extract<SpanOp, { o: 's' }>): Context {
  if (!op.p) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: op.t, spanId: op.p, traceFlags: op.f ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: op.r });
}

function apply(op: SpanOp): void {
  switch (op.o) {
    case 's': {
      given.traceId = op.t;
      given.spanId = op.id;
      const links = op.l?.map((l) => ({ context: { traceId: l.t, spanId: l.id, traceFlags: TraceFlags.SAMPLED, isRemote: true } }));
      const span = tracer.startSpan(op.n, { startTime: op.at, attributes: op.a as Attributes, ...(links ? { links } : {}) }, parentOf(op));
      open.set(op.id, span);
      return;
    }
    case 'e':
      open.get(op.id)?.addEvent(op.n, op.a as Attributes, op.at);
      return;
    case 'x': {
      const span = open.get(op.id);
      if (!span) return;
      open.delete(op.id);
      if (op.a) span.setAttributes(op.a as Attributes);
      if (op.c !== 0) span.setStatus(op.m !== undefined ? { code: op.c, message: op.m } : { code: op.c });
      span.end(op.at);
      return;
    }
  }
}

parentPort!.on('message', (m: { ops?: string; flush?: number }) => {
  if (m.ops) {
    for (const op of JSON.parse(m.ops) as SpanOp[]) {
      try {
        apply(op);
      } catch {
        // A span that cannot be made is left out; tracing never stops the thread.
      }
    }
  }
  if (m.flush !== undefined) {
    const n = m.flush;
    void provider
      .forceFlush()
      .then(() => provider.shutdown())
      .catch(() => undefined)
      .finally(() => parentPort!.postMessage({ flushed: n }));
  }
});
