/**
 * The main thread's side of tracing: span handles whose ids are made here (so a handler's
 * `traceparent` is known the moment its attempt starts) and whose starts, events and ends are
 * queued as records and handed over in batches (every 50 ms) to a thread that drives the
 * OpenTelemetry SDK and its OTLP exporter (`span-thread.ts`), one per process and exporter.
 * Building, serializing and sending spans is the costly part of tracing; it runs beside the
 * scheduler instead of in its thread.
 *
 * The records are kept small because this thread pays for every byte of them (measured on the
 * 10,000-step bench, docs/telemetry.md): mostly numbers written into a typed array whose buffer
 * is transferred (`span-records.ts`) — a span is named by the number of its id in the id pools,
 * and a step or an attempt names no attribute, only its values: the tracing thread knows their
 * names and takes the run's (and the step's) from the parent span, which is open there.
 */
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { packagePath } from '../../compiler/index.js';
import { shownUrl } from '../transport-error.js';
import type { HealthReport } from './export-health.js';
import { traceIdSampled, type TelemetrySettings } from './settings.js';
import { AttemptFlag, EndFlag, idOf, POOL_IDS, Rec, StartFlag, type Attrs, type AttrValue, type Batch, type RunCells } from './span-records.js';

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
    /** Its id's place in the id pools: how the records name it. */
    readonly ref: number,
    /** The id pool its id is in (hex). */
    private readonly pool: string,
    readonly traceId: string,
    readonly sampled: boolean,
  ) {}

  /** Its span id, made a string only when asked for (a `traceparent`, a run's stored trace). */
  get spanId(): string {
    return idOf(this.pool, this.ref, 1);
  }

  set(key: string, value: AttrValue): void {
    (this.attrs ??= {})[key] = value;
  }

  setAll(attrs: Attrs): void {
    Object.assign((this.attrs ??= {}), attrs);
  }

  event(name: string, attrs: Attrs, at: number): void {
    if (!this.ended) this.sink.event(this.ref, name, at, attrs);
  }

  ok(): void {
    this.code = 1;
  }

  error(message: string): void {
    this.code = 2;
    this.message = message;
  }

  end(at: number): void {
    if (this.ending()) this.sink.end(Rec.end, this.ref, at, this.code, this.message, this.attrs);
  }

  /** A step span's end: the attributes every step has, by value (`span-records.ts`). */
  endStep(at: number, kind: string | null, cost: number, attempt: number, status: string): void {
    if (!this.ending()) return;
    this.sink.endStep(this.ref, at, this.code, this.message, this.attrs, kind, cost, attempt, status);
  }

  /** An attempt span's end with its cost (attributes set on it win over it: a model's reported cost). */
  endAttempt(at: number, cost: number): void {
    if (!this.ending()) return;
    this.sink.end(Rec.endAttempt, this.ref, at, this.code, this.message, this.attrs, cost);
  }

  private ending(): boolean {
    if (this.ended) return false;
    this.ended = true;
    return true;
  }
}

/**
 * Span ids as the SDK makes them: random, 16 hex digits (32 for a trace), never all zero; drawn
 * in order from pools of random bytes, one hex conversion per pool. An id is named by its ref,
 * its place in the pools; each pool's hex goes to the tracing thread before any record naming
 * an id in it.
 */
class Ids {
  private readonly bytes = Buffer.alloc(POOL_IDS * 8);
  /** The current pool as hex. */
  hex = '';
  private pool = -1;
  private at = POOL_IDS;

  /** The ref of a new id of `units` × 8 bytes; a new pool is announced through `announce`. */
  next(units: 1 | 2, announce: (hex: string) => void): number {
    if (this.at + units > POOL_IDS) {
      randomFillSync(this.bytes);
      // No id is all zero (invalid): a zero 8-byte unit gets a one.
      for (let i = 0; i < POOL_IDS * 8; i += 8) if (this.bytes.readUInt32LE(i) === 0 && this.bytes.readUInt32LE(i + 4) === 0) this.bytes[i + 7] = 1;
      this.hex = this.bytes.toString('hex');
      this.pool++;
      this.at = 0;
      announce(this.hex);
    }
    const ref = this.pool * POOL_IDS + this.at;
    this.at += units;
    return ref;
  }
}

/**
 * Records are handed over every `HAND_OVER_MS`, or at once when the numbers fill the batch. Once
 * a turn was too often: a turn of the runtime bench ends 3–4 steps, and every message wakes the
 * tracing thread, which cost both threads more than the records themselves (docs/telemetry.md).
 * Nothing waits on a span being handed over (the exporter batches for seconds anyway); `flush`
 * hands over what is queued first.
 */
const HAND_OVER_MS = 50;
/** Numbers a batch holds (256 KiB): about 1,100 steps of the bench, some 60 ms of it. */
const BATCH_NUMBERS = 32 * 1024;
/** Strings named by number at most: beyond it the table starts again (a long-lived process). */
const MAX_INTERNED = 4096;

/** Where a process says tracing's problems when nobody asked otherwise (`orch serve` passes its log). */
function defaultWarn(line: string): void {
  process.stderr.write(`orch: ${line}\n`);
}

/** The sinks of this process, by exporter (`SpanSink.for`). */
const sinks = new Map<string, SpanSink>();

export class SpanSink {
  /**
   * The process's sink for `settings`: one tracing thread per exporter, kept for the life of the
   * process (unref'd) and shared by every runtime in it. A thread started per runtime began cold
   * each time: on the 10,000-step bench, V8 compiling the SDK and exporter anew for every fresh
   * thread cost more CPU than the spans (docs/telemetry.md).
   */
  static for(settings: TelemetrySettings, warn: (line: string) => void = defaultWarn): SpanSink {
    const key = `${settings.tracesUrl}\n${settings.serviceName}\n${settings.protocol}\n${settings.sampler?.parentBased ?? true}\n${settings.sampler?.ratio ?? 1}`;
    let sink = sinks.get(key);
    if (!sink || sink.exited) {
      sink = new SpanSink(settings, warn);
      sinks.set(key, sink);
    }
    return sink;
  }

  /**
   * Why the endpoint cannot be reached now (export-health.ts), or null. While it is, a flush does
   * not wait: what is queued is dropped with the process, and a run is never slowed by tracing.
   */
  private unreachable: string | null = null;
  /** Told the operator already (once per process and endpoint). */
  private warned = false;

  private nums = new Float64Array(BATCH_NUMBERS);
  private n = 0;
  private strs: string[] = [];
  private objs: unknown[] = [];
  private readonly interned = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly ids = new Ids();
  private readonly announce = (hex: string): void => {
    this.room(2);
    this.nums[this.n++] = Rec.pool;
    this.strs.push(hex);
  };
  private readonly thread: Worker;
  private flushes = 0;
  private readonly flushed = new Map<number, () => void>();
  private exited = false;

  private constructor(
    private readonly settings: TelemetrySettings,
    private readonly warn: (line: string) => void,
  ) {
    const script = packagePath('dist', 'runtime', 'telemetry', 'span-thread.js');
    if (!existsSync(script)) throw new Error(`the tracing thread ${script} is missing; build first (npx tsc -p tsconfig.build.json)`);
    this.thread = new Worker(script, { workerData: settings });
    // Tracing must never keep a process alive, nor crash it: `flush` holds it while it exports.
    this.thread.unref();
    this.thread.on('error', () => undefined);
    this.thread.on('message', (m: { flushed?: number } & HealthReport) => {
      if (m.unreachable !== undefined) return this.cannotReach(m.unreachable);
      if (m.reachable) this.unreachable = null;
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

  /** The configured sampler's decision for a span of \`traceId\` under \`parent\` (none: a root). */
  sampled(traceId: string, parent: SpanContextRef | null): boolean {
    const { parentBased, ratio } = this.settings.sampler ?? { parentBased: true, ratio: 1 };
    return parent && parentBased ? parent.sampled : traceIdSampled(traceId, ratio);
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
    const traceId = parent?.traceId ?? this.traceId();
    const sampled = this.sampled(traceId, parent);
    const h = this.handle(traceId, sampled);
    const links = o.links && o.links.length ? o.links.map((l) => [l.traceId, l.spanId] as const) : null;
    const flags = (sampled ? StartFlag.sampled : 0) | (o.remote ? StartFlag.remote : 0) | (links ? StartFlag.links : 0) | (o.run ? StartFlag.run : 0);
    this.record(Rec.start, 3);
    this.nums[this.n++] = h.ref;
    this.nums[this.n++] = flags;
    this.nums[this.n++] = at;
    this.strs.push(name, traceId, parent?.spanId ?? '');
    this.objs.push(attrs);
    if (links) this.objs.push(links);
    if (o.run) this.objs.push(o.run);
    return h;
  }

  /** A step instance's span under its run's (`orch.step BASE`); `key` when it differs from `base`. */
  step(run: SpanHandle, at: number, base: string, key: string | null): SpanHandle {
    const h = this.handle(run.traceId, run.sampled);
    this.record(Rec.step, 4);
    this.nums[this.n++] = h.ref;
    this.nums[this.n++] = run.ref;
    this.nums[this.n++] = at;
    this.nums[this.n++] = key !== null ? 1 : 0;
    this.strs.push(base);
    if (key !== null) this.strs.push(key);
    return h;
  }

  /** An attempt's span under its step's (`orch.attempt BASE`). */
  attempt(step: SpanHandle, at: number, attempt: number, capability: string, resource: string | null, queuedMs: number, fallback: boolean): SpanHandle {
    const h = this.handle(step.traceId, step.sampled);
    const cap = this.intern(capability);
    this.record(Rec.attempt, 7);
    const nums = this.nums;
    nums[this.n++] = h.ref;
    nums[this.n++] = step.ref;
    nums[this.n++] = at;
    nums[this.n++] = attempt;
    nums[this.n++] = queuedMs;
    nums[this.n++] = (fallback ? AttemptFlag.fallback : 0) | (resource !== null ? AttemptFlag.resource : 0);
    nums[this.n++] = cap;
    if (resource !== null) this.strs.push(resource);
    return h;
  }

  event(ref: number, name: string, at: number, attrs: Attrs): void {
    this.record(Rec.event, 2);
    this.nums[this.n++] = ref;
    this.nums[this.n++] = at;
    this.strs.push(name);
    this.objs.push(attrs);
  }

  /** A span's end (`Rec.end`), or an attempt's with its cost (`Rec.endAttempt`). */
  end(kind: typeof Rec.end | typeof Rec.endAttempt, ref: number, at: number, code: number, message: string | null, attrs: Attrs | null, cost = 0): void {
    this.ending(kind, ref, at, code, message, attrs, kind === Rec.endAttempt ? 1 : 0);
    if (kind === Rec.endAttempt) this.nums[this.n++] = cost;
  }

  endStep(ref: number, at: number, code: number, message: string | null, attrs: Attrs | null, kind: string | null, cost: number, attempt: number, status: string): void {
    const k = kind !== null ? this.intern(kind) : -1;
    const s = this.intern(status);
    this.ending(Rec.endStep, ref, at, code, message, attrs, 4);
    const nums = this.nums;
    nums[this.n++] = k;
    nums[this.n++] = cost;
    nums[this.n++] = attempt;
    nums[this.n++] = s;
  }

  /** An end record's common part, with room for `more` numbers after it. */
  private ending(kind: number, ref: number, at: number, code: number, message: string | null, attrs: Attrs | null, more: number): void {
    this.record(kind, 4 + more);
    const nums = this.nums;
    nums[this.n++] = ref;
    nums[this.n++] = at;
    nums[this.n++] = code;
    nums[this.n++] = (message !== null ? EndFlag.message : 0) | (attrs !== null ? EndFlag.attrs : 0);
    if (message !== null) this.strs.push(message);
    if (attrs !== null) this.objs.push(attrs);
  }

  private traceId(): string {
    const ref = this.ids.next(2, this.announce);
    return idOf(this.ids.hex, ref, 2);
  }

  private handle(traceId: string, sampled: boolean): SpanHandle {
    const ref = this.ids.next(1, this.announce);
    return new SpanHandle(this, ref, this.ids.hex, traceId, sampled);
  }

  /** The number naming `s` in records; the first time, a record saying so. Before the record that uses it. */
  private intern(s: string): number {
    let i = this.interned.get(s);
    if (i !== undefined) return i;
    let forget = 0;
    if (this.interned.size >= MAX_INTERNED) {
      this.interned.clear();
      forget = 1;
    }
    i = this.interned.size;
    this.interned.set(s, i);
    this.room(2);
    this.nums[this.n++] = Rec.intern;
    this.nums[this.n++] = forget;
    this.strs.push(s);
    return i;
  }

  /** Starts a record of `kind` with `count` numbers to follow. */
  private record(kind: number, count: number): void {
    this.room(1 + count);
    this.nums[this.n++] = kind;
  }

  /** Room for `count` more numbers in this batch, else it is handed over now. */
  private room(count: number): void {
    if (this.n + count > BATCH_NUMBERS) this.send();
    // Unref'd: a process with nothing else to do exits; `flush` (at `Runtime.close`) hands over what is left.
    this.timer ??= setTimeout(() => this.send(), HAND_OVER_MS).unref();
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.n === 0) return;
    const batch: Batch = { nums: this.nums, n: this.n, strs: this.strs, objs: this.objs, at: Date.now() };
    this.nums = new Float64Array(BATCH_NUMBERS);
    this.n = 0;
    this.strs = [];
    this.objs = [];
    // Its thread gone (it never exits on its own), what is recorded is dropped.
    if (this.exited) return;
    // The numbers' buffer moves to the thread (no copy); strings and objects are cloned.
    this.thread.postMessage(batch, [batch.nums.buffer as ArrayBuffer]);
  }

  /** The endpoint cannot be reached: said once, and nobody waits on a flush meanwhile. */
  private cannotReach(why: string): void {
    this.unreachable = why;
    if (!this.warned) {
      this.warned = true;
      this.warn(`traces cannot be sent to ${shownUrl(this.settings.tracesUrl)}: ${why}; runs go on without waiting for it`);
    }
    for (const done of this.flushed.values()) done();
    this.flushed.clear();
    this.thread.unref();
  }

  /**
   * Sends what is queued and waits until the thread has exported every span ended so far — not
   * while the endpoint cannot be reached: then at once.
   */
  flush(): Promise<void> {
    if (this.exited) return Promise.resolve();
    this.send();
    if (this.unreachable !== null) return Promise.resolve();
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
