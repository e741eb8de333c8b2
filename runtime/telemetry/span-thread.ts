/**
 * The tracing thread (`span-sink.ts`): turns span records into the SDK's finished spans and hands
 * them to its BatchSpanProcessor and OTLP/HTTP exporter (the standard `OTEL_*` variables apply),
 * which batch, serialize and send them.
 *
 * Spans are made here already ended (`EndedSpan`, the SDK's `ReadableSpan`), not by a `Tracer`:
 * every fact of a span — ids, parent, times, attributes, events, status — is known when its end
 * record arrives, and what a tracer adds on the way (a sampler, a context, a live span checking
 * each attribute as it is set) was, on the 10,000-step bench, as much CPU again as the exporter's
 * own work for the span (docs/telemetry.md). What is exported is what the SDK's spans were: the
 * same resource, scope, ids, parent context, flags, times (`millisToHrTime`), attributes
 * (`sanitizeAttributes` for any that did not come from here), span limits (`OTEL_SPAN_*`) and
 * statuses.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type Link, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import { getNumberFromEnv, hrTimeDuration, millisToHrTime, sanitizeAttributes } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ExportHealth } from './export-health.js';
import type { TelemetrySettings } from './settings.js';
import { AttemptFlag, attemptAttributes, EndFlag, idOf, openStepAttributes, POOL_IDS, Rec, StartFlag, stepAttributes, type Attrs, type Batch, type LinkCells, type RunCells } from './span-records.js';

const settings = workerData as TelemetrySettings;

/**
 * This thread yields to the run's while it keeps up: exporting is background work that nothing
 * waits on (the batch processor holds spans for seconds anyway), and on a busy machine every slice
 * of a core it takes is one the scheduler's thread or a handler's waits for. On Linux a thread has
 * a priority of its own (`/proc/thread-self` names it; `setpriority` on a thread id is that
 * thread's). When the records it is handed wait longer than `BEHIND_MS` it goes back to the
 * process's priority until it has caught up, so a machine busy for long cannot pile records up
 * without bound; so it does while a flush waits on it (`Runtime.close`: `orch run` exits after
 * its spans are sent). Raising a nice value needs no privilege but lowering it back does (root,
 * CAP_SYS_NICE or a large enough RLIMIT_NICE): the thread yields only where it can take its
 * priority back, which it tries first (one step above the process's priority, at once undone).
 * Elsewhere it keeps the process's priority.
 */
class Pace {
  private readonly tid: number | null = null;
  private readonly normal: number = 0;
  private yielding = false;

  constructor() {
    try {
      const id = Number(readlinkSync('/proc/thread-self').split('/').pop());
      if (!Number.isInteger(id) || id <= 0 || id === process.pid) return;
      const normal = getPriority(id);
      if (normal <= -20) return;
      setPriority(id, normal - 1); // throws where the priority could not be taken back
      setPriority(id, normal);
      this.normal = normal;
      this.tid = id;
    } catch {
      return; // no /proc, or no right to lower a nice value: the process's priority
    }
    this.set(true);
  }

  /** Records handed over `lagMs` ago arrived now. */
  arrived(lagMs: number): void {
    if (this.yielding ? lagMs > BEHIND_MS : lagMs < CAUGHT_UP_MS) this.set(!this.yielding);
  }

  /** Someone waits (a flush): the process's priority until records arrive on time again. */
  hurry(): void {
    if (this.yielding) this.set(false);
  }

  private set(yielding: boolean): void {
    if (this.tid === null) return;
    try {
      setPriority(this.tid, yielding ? Math.min(19, this.normal + NICER) : this.normal);
      this.yielding = yielding;
    } catch {
      // Not allowed here: the priority stays as it is.
    }
  }
}
/** How much nicer than the process the thread runs while it keeps up (Linux nice: 0 normal, 19 the least). */
const NICER = 10;
/** Records waiting this long: the thread runs at the process's priority until they wait less than `CAUGHT_UP_MS`. */
const BEHIND_MS = 1000;
const CAUGHT_UP_MS = 200;
const pace = new Pace();

const envNumber = (name: string): number | undefined => {
  const n = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
};

// OTEL_RESOURCE_ATTRIBUTES adds to the resource; the service name is OTEL_SERVICE_NAME or `orch`.
const resource: Resource = defaultResource()
  .merge(detectResources({ detectors: [envDetector] }))
  .merge(resourceFromAttributes({ 'service.name': settings.serviceName }));
/** What `provider.getTracer('orch')` gave every span. */
const scope = { name: 'orch', version: undefined, schemaUrl: undefined };
/**
 * The span limits a tracer provider read from the environment (its defaults otherwise): events a
 * span keeps (its last ones), attributes a span and an event keep (their first ones), the length
 * of an attribute's string values. Orch's spans stay far below the counts unless they are set low.
 */
const limits = {
  events: getNumberFromEnv('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
  attributes: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128,
  eventAttributes: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT') ?? 128,
  /** As a span takes it: 0 or less is no limit. */
  valueLength: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Infinity,
};
if (limits.valueLength <= 0) limits.valueLength = Infinity;
/** Whether any limit is low enough to matter: else attributes are passed as they are. */
const limited = limits.attributes < 64 || limits.eventAttributes < 64 || limits.valueLength !== Infinity;

/** `attrs` within `count` keys (the first ones) and the value length limit; the number dropped. */
function within(attrs: Attributes, count: number): [Attributes, number] {
  if (!limited) return [attrs, 0];
  const out: Attributes = {};
  let kept = 0;
  let dropped = 0;
  const max = limits.valueLength;
  const cut = (v: unknown) => (typeof v === 'string' && v.length > max ? v.slice(0, max) : v);
  for (const key in attrs) {
    if (kept >= count) {
      dropped++;
      continue;
    }
    const v = attrs[key];
    out[key] = (Array.isArray(v) ? v.map(cut) : cut(v)) as Attributes[string];
    kept++;
  }
  return [out, dropped];
}

// A large run ends thousands of spans a second: the default queue of 2048 would drop some while
// an export is on its way (the OTEL_BSP_* variables still win).
// Protobuf when asked (`OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`): its serializer writes the
// bytes directly, where JSON builds the whole request as objects, then a string, then bytes —
// on the 10,000-step bench, about 4 points of the traced rate (docs/telemetry.md).
const batching = {
  maxQueueSize: envNumber('OTEL_BSP_MAX_QUEUE_SIZE') ?? 65_536,
  maxExportBatchSize: envNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 2048,
};
// A flush (`forceFlush`) exports every batch the queue holds at once, and the exporter refuses
// requests beyond its limit of those in flight (30 by default): spans would be lost whenever the
// queue holds more batches than that — 32 at the defaults above, 128 with batches of 512. One more
// than the queue can hold, for the export a full batch started meanwhile.
const concurrencyLimit = Math.max(30, Math.ceil(batching.maxQueueSize / Math.min(batching.maxExportBatchSize, batching.maxQueueSize)) + 1);
// The main thread hears at once when the endpoint cannot be reached (export-health.ts).
const health = new ExportHealth((r) => parentPort!.postMessage(r));
const exporterConfig = { url: settings.tracesUrl, concurrencyLimit, httpAgentOptions: health.agentFactory };
const exporter = health.exporter(settings.protocol === 'http/protobuf' ? new ProtobufExporter(exporterConfig) : new JsonExporter(exporterConfig));
const processor = new BatchSpanProcessor(exporter, batching);
health.probe(settings.tracesUrl);

/** A finished span as the SDK's processors and exporters read one. */
class EndedSpan implements ReadableSpan {
  readonly kind = SpanKind.INTERNAL;
  readonly ended = true;
  readonly resource = resource;
  readonly instrumentationScope = scope;
  readonly droppedLinksCount = 0;

  constructor(
    readonly name: string,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly links: Link[],
    readonly events: TimedEvent[],
    readonly droppedEventsCount: number,
    readonly droppedAttributesCount: number,
  ) {}

  spanContext(): SpanContext {
    return this.context;
  }

  get duration(): HrTime {
    return hrTimeDuration(this.startTime, this.endTime);
  }
}

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
const OK: SpanStatus = { code: SpanStatusCode.OK };
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

const Kind = { span: 0, step: 1, attempt: 2 } as const;

/**
 * A span the main thread opened. The SDK's span is made when it ends, with everything known
 * (one pass over its attributes, and no SDK object kept alive while the step runs); its ids,
 * times and parent are the main thread's, so nothing of it differs from a span started at once.
 * One shape for every span; a step's and an attempt's attributes are built once, at the end.
 */
class Open {
  events: TimedEvent[] | null = null;
  droppedEvents = 0;
  /** Its span context as its children's parent, made once. */
  asParent: SpanContext | null = null;

  constructor(
    readonly kind: 0 | 1 | 2,
    readonly name: string,
    /** Its span id (hex). */
    readonly id: string,
    readonly traceId: string,
    /** Its parent when that was opened here (a step's run, an attempt's step), else null. */
    readonly parent: Open | null,
    /** Its parent's span id when that is another process's or given by id ('' for a root). */
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

/** The spans open here, by ref (`span-records.ts`). */
const open = new Map<number, Open>();

/** The parent's span context as the SDK kept it: made once for a parent opened here. */
function parentOf(s: Open): SpanContext | undefined {
  const parent = s.parent;
  if (parent) return (parent.asParent ??= spanContext(s.traceId, parent.id, s.sampled, false));
  if (!s.parentId) return undefined;
  return spanContext(s.traceId, s.parentId, s.sampled, s.remoteParent);
}

function spanContext(traceId: string, spanId: string, sampled: boolean, isRemote: boolean): SpanContext {
  return { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote };
}

/** The span ended: to the batch processor, when it is sampled (as the SDK's parent-based sampler did). */
function end(ref: number, s: Open, at: number, code: number, message: string | null, attrs: Attributes): void {
  open.delete(ref);
  if (!s.sampled) return;
  const startTime = millisToHrTime(s.start);
  // As the SDK's `Span.end`: an end before the start is the start.
  const endTime = at >= s.start ? millisToHrTime(at) : startTime;
  const links = s.links ? s.links.map(([traceId, spanId]): Link => ({ context: { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true } })) : NO_LINKS;
  const status: SpanStatus = code === SpanStatusCode.OK ? OK : code === SpanStatusCode.ERROR ? (message !== null ? { code, message } : { code }) : UNSET;
  const context = { traceId: s.traceId, spanId: s.id, traceFlags: TraceFlags.SAMPLED, traceState: undefined };
  const [attributes, droppedAttributes] = within(attrs, limits.attributes);
  processor.onEnd(new EndedSpan(s.name, context, parentOf(s), startTime, endTime, status, attributes, links, s.events ?? NO_EVENTS, s.droppedEvents, droppedAttributes));
}

/** Attributes that did not come from this thread's own builders, checked as a span's `setAttribute` checks them. */
function checked(attrs: Attrs | null): Attrs | null {
  if (!attrs) return null;
  const valid = sanitizeAttributes(attrs);
  // `sanitizeAttributes` keeps a null or undefined value (an event keeps it); a span drops it.
  for (const key in valid) if (valid[key] == null) delete valid[key];
  return valid as Attrs;
}

/** The id pools (hex) by number: the current one and the one before (a record names ids of those only). */
const pools = new Map<number, string>();
let pools_ = 0;
/** The strings named by number (`Rec.intern`). */
let interned: string[] = [];

/** A span id's hex from its ref. */
function idHex(ref: number): string {
  return idOf(pools.get(Math.floor(ref / POOL_IDS)) ?? '', ref, 1);
}

/**
 * The records of one hand-over (`span-records.ts`), in order. Each is read whole before it is
 * acted on, so a span that cannot be made is left out and the next record is read where it starts.
 */
function apply(b: Batch): void {
  const { nums, n, strs, objs } = b;
  let i = 0;
  let si = 0;
  let oi = 0;
  while (i < n) {
    const kind = nums[i++]!;
    try {
      switch (kind) {
        case Rec.pool: {
          const no = pools_++;
          pools.set(no, strs[si++]!);
          pools.delete(no - 2);
          break;
        }
        case Rec.intern: {
          if (nums[i++] === 1) interned = [];
          interned.push(strs[si++]!);
          break;
        }
        case Rec.start: {
          const ref = nums[i]!;
          const flags = nums[i + 1]!;
          const at = nums[i + 2]!;
          i += 3;
          const name = strs[si]!;
          const traceId = strs[si + 1]!;
          const parentId = strs[si + 2]!;
          si += 3;
          const attrs = objs[oi++] as Attrs;
          const links = flags & StartFlag.links ? (objs[oi++] as LinkCells) : null;
          const run = flags & StartFlag.run ? (objs[oi++] as RunCells) : null;
          const sampled = (flags & StartFlag.sampled) !== 0;
          open.set(ref, new Open(Kind.span, name, idHex(ref), traceId, null, parentId, sampled, (flags & StartFlag.remote) !== 0, at, attrs, links, run, '', null));
          break;
        }
        case Rec.step: {
          const ref = nums[i]!;
          const run = open.get(nums[i + 1]!);
          const at = nums[i + 2]!;
          const hasKey = nums[i + 3] === 1;
          i += 4;
          const base = strs[si++]!;
          const key = hasKey ? strs[si++]! : null;
          // Its run ended first: the main thread never does that.
          if (run?.run) open.set(ref, new Open(Kind.step, `orch.step ${base}`, idHex(ref), run.traceId, run, '', run.sampled, false, at, null, null, run.run, base, key));
          break;
        }
        case Rec.attempt: {
          const ref = nums[i]!;
          const step = open.get(nums[i + 1]!);
          const at = nums[i + 2]!;
          const attempt = nums[i + 3]!;
          const queuedMs = nums[i + 4]!;
          const flags = nums[i + 5]!;
          const capability = interned[nums[i + 6]!]!;
          i += 7;
          const resource = flags & AttemptFlag.resource ? strs[si++]! : null;
          // Its step ended first: the main thread never does that.
          if (step?.run)
            open.set(
              ref,
              new Open(Kind.attempt, `orch.attempt ${step.base}`, idHex(ref), step.traceId, step, '', step.sampled, false, at, null, null, step.run, step.base, capability, attempt, resource, queuedMs, (flags & AttemptFlag.fallback) !== 0),
            );
          break;
        }
        case Rec.event: {
          const s = open.get(nums[i]!);
          const at = nums[i + 1]!;
          i += 2;
          const name = strs[si++]!;
          const attrs = objs[oi++] as Attrs;
          if (s) event(s, name, at, attrs);
          break;
        }
        case Rec.end:
        case Rec.endStep:
        case Rec.endAttempt: {
          const ref = nums[i]!;
          const at = nums[i + 1]!;
          const code = nums[i + 2]!;
          const flags = nums[i + 3]!;
          i += 4;
          const message = flags & EndFlag.message ? strs[si++]! : null;
          const extra = flags & EndFlag.attrs ? (objs[oi++] as Attrs) : null;
          const m = i;
          i += kind === Rec.endStep ? 4 : kind === Rec.endAttempt ? 1 : 0;
          const s = open.get(ref);
          if (s) ended(ref, s, kind, at, code, message, extra, nums, m);
          break;
        }
        default:
          return; // not a record: the rest of the batch cannot be read
      }
    } catch {
      // A span that cannot be made is left out; tracing never stops the thread.
    }
  }
}

function event(s: Open, name: string, at: number, attrs: Attrs): void {
  const events = (s.events ??= []);
  if (limits.events === 0) {
    s.droppedEvents++;
    return;
  }
  if (events.length >= limits.events) {
    events.shift();
    s.droppedEvents++;
  }
  const [attributes, droppedAttributesCount] = within(sanitizeAttributes(attrs), limits.eventAttributes);
  events.push({ name, attributes, time: millisToHrTime(at), droppedAttributesCount });
}

/** `nums` from `m`: an `endStep`'s kind, cost, attempt and status; an `endAttempt`'s cost. */
function ended(ref: number, s: Open, kind: number, at: number, code: number, message: string | null, raw: Attrs | null, nums: Float64Array, m: number): void {
  const extra = checked(raw);
  let attrs: Attrs;
  if (s.kind === Kind.step)
    attrs =
      kind === Rec.endStep
        ? stepAttributes(s.run!, s.base, s.key, nums[m]! >= 0 ? interned[nums[m]!]! : null, nums[m + 1]!, nums[m + 2]!, interned[nums[m + 3]!]!, extra)
        : openStepAttributes(s.run!, s.base, s.key, extra);
  else if (s.kind === Kind.attempt)
    attrs = attemptAttributes(s.run!, s.base, s.attempt, s.key!, s.resource, s.queuedMs, s.fallback, kind === Rec.endAttempt ? nums[m]! : null, extra);
  else attrs = extra ? Object.assign(checked(s.attrs)!, extra) : checked(s.attrs)!;
  end(ref, s, at, code, message, attrs as Attributes);
}

parentPort!.on('message', (m: Partial<Batch> & { flush?: number }) => {
  if (m.nums) {
    pace.arrived(Date.now() - m.at!);
    apply(m as Batch);
  }
  if (m.flush !== undefined) {
    pace.hurry();
    const n = m.flush;
    // The thread lives as long as the process (`SpanSink.for`): a flush exports, nothing shuts down.
    const done = processor
      .forceFlush()
      .catch(() => undefined)
      .finally(() => parentPort!.postMessage({ flushed: n }));
    health.watchFlush(done);
  }
});
