/**
 * The main thread's side of tracing: span handles whose ids are made here (so a handler's
 * `traceparent` is known the moment its attempt starts) and whose starts, events and ends are
 * queued as small records and handed, once per turn of the event loop, to a thread that drives the
 * OpenTelemetry SDK and its OTLP exporter (`span-thread.ts`). Building, serializing and sending
 * spans is the costly part of tracing; it runs beside the scheduler instead of in its thread.
 */
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { packagePath } from '../../compiler/index.js';
import type { TelemetrySettings } from './settings.js';

export type AttrValue = string | number | boolean | readonly string[];
export type Attrs = { [key: string]: AttrValue };

/** One thing that happened to a span, as the span thread applies it. */
export type SpanOp =
  /** start: trace, span, parent span ('' for a root), sampled, remote parent, name, time, attributes, links */
  | { readonly o: 's'; readonly t: string; readonly id: string; readonly p: string; readonly f: boolean; readonly r: boolean; readonly n: string; readonly at: number; readonly a: Attrs; readonly l?: readonly { readonly t: string; readonly id: string }[] }
  | { readonly o: 'e'; readonly id: string; readonly n: string; readonly at: number; readonly a: Attrs }
  /** end, with the attributes set since the start and the status (0 unset, 1 ok, 2 error) */
  | { readonly o: 'x'; readonly id: string; readonly at: number; readonly a: Attrs | null; readonly c: 0 | 1 | 2; readonly m?: string };

export interface SpanContextRef {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** A span being recorded: its attributes gather here until it ends. */
export class SpanHandle implements SpanContextRef {
  private attrs: Attrs | null = null;
  private code: 0 | 1 | 2 = 0;
  private message: string | undefined;
  ended = false;

  constructor(
    private readonly sink: SpanSink,
    readonly traceId: string,
    readonly spanId: string,
    readonly sampled: boolean,
  ) {}

  set(key: string, value: AttrValue): void {
    (this.attrs ??= {})[key] = value;
  }

  setAll(attrs: Attrs): void {
    Object.assign((this.attrs ??= {}), attrs);
  }

  event(name: string, attrs: Attrs, at: number): void {
    if (!this.ended) this.sink.push({ o: 'e', id: this.spanId, n: name, at, a: attrs });
  }

  ok(): void {
    this.code = 1;
  }

  error(message: string): void {
    this.code = 2;
    this.message = message;
  }

  end(at: number): void {
    if (this.ended) return;
    this.ended = true;
    this.sink.push({ o: 'x', id: this.spanId, at, a: this.attrs, c: this.code, ...(this.message !== undefined ? { m: this.message } : {}) });
  }
}

/** Span ids as the SDK makes them: random, 16 hex digits (32 for a trace), never all zero. */
class Ids {
  private readonly pool = Buffer.alloc(8 * 1024);
  private at = this.pool.length;

  next(bytes: 8 | 16): string {
    if (this.at + bytes > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const id = this.pool.toString('hex', this.at, this.at + bytes);
    this.at += bytes;
    return /^0+$/.test(id) ? this.next(bytes) : id;
  }
}

export class SpanSink {
  private ops: SpanOp[] = [];
  private scheduled = false;
  private readonly ids = new Ids();
  private readonly thread: Worker;
  private flushes = 0;
  private readonly flushed = new Map<number, () => void>();
  private closed: Promise<void> | null = null;
  private exited = false;

  constructor(settings: TelemetrySettings) {
    const script = packagePath('dist', 'runtime', 'telemetry', 'span-thread.js');
    if (!existsSync(script)) throw new Error(`the tracing thread ${script} is missing; build first (npx tsc -p tsconfig.build.json)`);
    this.thread = new Worker(script, { workerData: settings });
    // Tracing must never keep a process alive, nor crash it: `shutdown` holds it while it flushes.
    this.thread.unref();
    this.thread.on('error', () => undefined);
    this.thread.on('message', (m: { flushed?: number }) => {
      if (m.flushed !== undefined) this.flushed.get(m.flushed)?.();
    });
    this.thread.on('exit', () => {
      this.exited = true;
      for (const done of this.flushed.values()) done();
    });
  }

  /** Opens a span under `parent` (a root of a new trace without one); `remote`: the parent is another process's. */
  start(name: string, parent: SpanContextRef | null, at: number, attrs: Attrs, o: { remote?: boolean; links?: readonly SpanContextRef[] } = {}): SpanHandle {
    const traceId = parent?.traceId ?? this.ids.next(16);
    const sampled = parent?.sampled ?? true;
    const h = new SpanHandle(this, traceId, this.ids.next(8), sampled);
    this.push({
      o: 's',
      t: traceId,
      id: h.spanId,
      p: parent?.spanId ?? '',
      f: sampled,
      r: o.remote === true,
      n: name,
      at,
      a: attrs,
      ...(o.links && o.links.length ? { l: o.links.map((l) => ({ t: l.traceId, id: l.spanId })) } : {}),
    });
    return h;
  }

  push(op: SpanOp): void {
    if (this.closed) return;
    this.ops.push(op);
    if (this.ops.length >= 8192) return this.send();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  private send(): void {
    this.scheduled = false;
    if (this.ops.length === 0) return;
    const ops = this.ops;
    this.ops = [];
    // As one JSON string: copying thousands of small records as text is cheaper than cloning them.
    this.thread.postMessage({ ops: JSON.stringify(ops) });
  }

  /** Sends what is queued, waits for the thread to export everything, and stops it. */
  shutdown(): Promise<void> {
    this.closed ??= (async () => {
      if (this.exited) return;
      this.send();
      this.thread.ref();
      const n = ++this.flushes;
      await new Promise<void>((resolve) => {
        this.flushed.set(n, resolve);
        this.thread.postMessage({ flush: n });
      });
      await this.thread.terminate().catch(() => undefined);
    })();
    return this.closed;
  }
}
