/**
 * The main thread's side of tracing: span handles whose ids are made here (so a handler's
 * `traceparent` is known the moment its attempt starts) and whose starts, events and ends are
 * queued as records and handed over in batches (every 50 ms) to a thread that drives the
 * OpenTelemetry SDK and its OTLP exporter (`span-thread.ts`), one per process and exporter.
 * Building, serializing and sending spans is the costly part of tracing; it runs beside the
 * scheduler instead of in its thread.
 *
 * The records are kept small because this thread pays for every byte of them (measured on the
 * 10,000-step bench, docs/telemetry.md): they are laid end to end in one flat array of strings and
 * numbers (`span-records.ts`), cloned as it is, not as JSON; a step or an attempt names no
 * attribute, only its values — the tracing thread knows their names and takes the run's (and the
 * step's) from the parent span, which is open there.
 */
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { packagePath } from '../../compiler/index.js';
import type { TelemetrySettings } from './settings.js';
import { Rec, type Attrs, type AttrValue, type Cell, type RunCells } from './span-records.js';

export type { AttrValue, Attrs } from './span-records.js';

export interface SpanContextRef {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** A span being recorded: its attributes gather here until it ends. */
export class SpanHandle implements SpanContextRef {
  private attrs: Attrs | null = null;
  private code: 0 | 1 | 2 = 0;
  private message: string | null = null;
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
    if (!this.ended) this.sink.push(Rec.event, this.spanId, name, at, attrs);
  }

  ok(): void {
    this.code = 1;
  }

  error(message: string): void {
    this.code = 2;
    this.message = message;
  }

  end(at: number): void {
    if (this.ending()) this.sink.push(Rec.end, this.spanId, at, this.code, this.message, this.attrs);
  }

  /** A step span's end: the attributes every step has, by value (`span-records.ts`). */
  endStep(at: number, kind: string | null, cost: number, attempt: number, status: string): void {
    if (this.ending()) this.sink.push(Rec.endStep, this.spanId, at, this.code, this.message, this.attrs, kind, cost, attempt, status);
  }

  /** An attempt span's end with its cost (attributes set on it win over it: a model's reported cost). */
  endAttempt(at: number, cost: number): void {
    if (this.ending()) this.sink.push(Rec.endAttempt, this.spanId, at, this.code, this.message, this.attrs, cost);
  }

  private ending(): boolean {
    if (this.ended) return false;
    this.ended = true;
    return true;
  }
}

const ZERO_SPAN = '0'.repeat(16);
const ZERO_TRACE = '0'.repeat(32);

/** Span ids as the SDK makes them: random, 16 hex digits (32 for a trace), never all zero. */
class Ids {
  private readonly pool = Buffer.alloc(8 * 1024);
  /** The pool as hex, cut into ids: one conversion per refill instead of one per id. */
  private hex = '';
  private at = 0;

  next(bytes: 8 | 16): string {
    const digits = bytes * 2;
    if (this.at + digits > this.hex.length) {
      randomFillSync(this.pool);
      this.hex = this.pool.toString('hex');
      this.at = 0;
    }
    const id = this.hex.slice(this.at, this.at + digits);
    this.at += digits;
    return id === ZERO_SPAN || id === ZERO_TRACE ? this.next(bytes) : id;
  }
}

/**
 * Records are handed over every `HAND_OVER_MS`, or at once when this many cells are queued. Once
 * a turn was too often: a turn of the runtime bench ends 3–4 steps, and every message wakes the
 * tracing thread, which cost both threads more than the records themselves (docs/telemetry.md).
 * Nothing waits on a span being handed over (the exporter batches for seconds anyway); `flush`
 * hands over what is queued first.
 */
const HAND_OVER_MS = 50;
const MAX_QUEUED_CELLS = 64 * 1024;

/** The sinks of this process, by exporter (`SpanSink.for`). */
const sinks = new Map<string, SpanSink>();

export class SpanSink {
  /**
   * The process's sink for `settings`: one tracing thread per exporter, kept for the life of the
   * process (unref'd) and shared by every runtime in it. A thread started per runtime began cold
   * each time: on the 10,000-step bench, V8 compiling the SDK and exporter anew for every fresh
   * thread cost more CPU than the spans (docs/telemetry.md).
   */
  static for(settings: TelemetrySettings): SpanSink {
    const key = `${settings.tracesUrl}\n${settings.serviceName}`;
    let sink = sinks.get(key);
    if (!sink || sink.exited) {
      sink = new SpanSink(settings);
      sinks.set(key, sink);
    }
    return sink;
  }

  private cells: Cell[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly ids = new Ids();
  private readonly thread: Worker;
  private flushes = 0;
  private readonly flushed = new Map<number, () => void>();
  private exited = false;

  private constructor(settings: TelemetrySettings) {
    const script = packagePath('dist', 'runtime', 'telemetry', 'span-thread.js');
    if (!existsSync(script)) throw new Error(`the tracing thread ${script} is missing; build first (npx tsc -p tsconfig.build.json)`);
    this.thread = new Worker(script, { workerData: settings });
    // Tracing must never keep a process alive, nor crash it: `flush` holds it while it exports.
    this.thread.unref();
    this.thread.on('error', () => undefined);
    this.thread.on('message', (m: { flushed?: number }) => {
      if (m.flushed === undefined) return;
      const done = this.flushed.get(m.flushed);
      this.flushed.delete(m.flushed);
      done?.();
    });
    this.thread.on('exit', () => {
      this.exited = true;
      for (const done of this.flushed.values()) done();
      this.flushed.clear();
    });
  }

  /**
   * Opens a span under `parent` (a root of a new trace without one); `remote`: the parent is
   * another process's; `run`: a run span's run id and plan, which its step spans take.
   */
  start(
    name: string,
    parent: SpanContextRef | null,
    at: number,
    attrs: Attrs,
    o: { remote?: boolean; links?: readonly SpanContextRef[]; run?: RunCells } = {},
  ): SpanHandle {
    const traceId = parent?.traceId ?? this.ids.next(16);
    const sampled = parent?.sampled ?? true;
    const h = new SpanHandle(this, traceId, this.ids.next(8), sampled);
    const links = o.links && o.links.length ? o.links.map((l) => [l.traceId, l.spanId] as const) : null;
    this.push(Rec.start, h.spanId, parent?.spanId ?? '', traceId, (sampled ? 1 : 0) | (o.remote ? 2 : 0), name, at, attrs, links, o.run ?? null);
    return h;
  }

  /** A step instance's span under its run's (`orch.step BASE`); `key` when it differs from `base`. */
  step(run: SpanHandle, at: number, base: string, key: string | null): SpanHandle {
    const h = new SpanHandle(this, run.traceId, this.ids.next(8), run.sampled);
    this.push(Rec.step, h.spanId, run.spanId, at, base, key);
    return h;
  }

  /** An attempt's span under its step's (`orch.attempt BASE`). */
  attempt(step: SpanHandle, at: number, attempt: number, capability: string, resource: string | null, queuedMs: number, fallback: boolean): SpanHandle {
    const h = new SpanHandle(this, step.traceId, this.ids.next(8), step.sampled);
    this.push(Rec.attempt, h.spanId, step.spanId, at, attempt, capability, resource, queuedMs, fallback ? 1 : 0);
    return h;
  }

  push(...record: Cell[]): void {
    if (this.exited) return;
    for (const c of record) this.cells.push(c);
    if (this.cells.length >= MAX_QUEUED_CELLS) return this.send();
    // Unref'd: a process with nothing else to do exits; `flush` (at `Runtime.close`) hands over what is left.
    this.timer ??= setTimeout(() => this.send(), HAND_OVER_MS).unref();
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.cells.length === 0) return;
    const cells = this.cells;
    this.cells = [];
    // Cloned as it is: a flat array of strings and numbers clones faster than its JSON is written.
    // `at`: the tracing thread paces itself by how long records wait for it (`span-thread.ts`).
    this.thread.postMessage({ cells, at: Date.now() });
  }

  /** Sends what is queued and waits until the thread has exported every span ended so far. */
  flush(): Promise<void> {
    if (this.exited) return Promise.resolve();
    this.send();
    this.thread.ref();
    const n = ++this.flushes;
    return new Promise<void>((resolve) => {
      this.flushed.set(n, () => {
        if (this.flushed.size === 0) this.thread.unref();
        resolve();
      });
      this.thread.postMessage({ flush: n });
    });
  }
}
