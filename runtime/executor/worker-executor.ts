/**
 * The real executor: each attempt runs in a piscina pool of worker threads. Aborting an attempt
 * (timeout, cancel) aborts the piscina task, which terminates that worker; piscina replaces it.
 * The worker hands back outputs as JSON text within the size limit (or an error); they are
 * parsed and validated against the capability's output schema here, in the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CapabilityIR, JsonSchema } from '../../compiler/index.js';
import { describeValueErrors, validateValue } from '../../compiler/index.js';
import { packagePath } from '../../compiler/index.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, Executor } from '../scheduler/types.js';
import { AttemptSignal } from './attempt-signal.js';
import { locateHandler, projectRoot, type HandlerLocation } from './handler-path.js';
import { DEFAULT_MAX_OUTPUT_BYTES, describeThrown } from './json-output.js';
import { LiveLogs } from './live-logs.js';
import type { WorkerResult, WorkerTask } from './worker.js';

export interface WorkerExecutorOptions {
  /** Worker threads (default: available cores). */
  readonly workers?: number;
  /** Per-worker limits; exceeding them fails the attempt (the worker is replaced). */
  readonly resourceLimits?: { readonly maxOldGenerationSizeMb?: number; readonly maxYoungGenerationSizeMb?: number };
  /**
   * Largest handler output in bytes of JSON (`--max-output`); wins over a project's
   * `maxOutputBytes` (see `limitOutputs`). Default 1 MiB.
   */
  readonly maxOutputBytes?: number;
}

/**
 * The worker must be compiled JS, also when the runtime itself runs from TS sources (vitest):
 * always use the built copy in dist/.
 */
export function workerScript(): string {
  const file = packagePath('dist', 'runtime', 'executor', 'worker.js');
  if (!existsSync(file)) throw new Error(`the worker script ${file} is missing; build first (npx tsc -p tsconfig.build.json)`);
  return file;
}

export class WorkerExecutor implements Executor {
  readonly pool: Piscina;
  private readonly roots = new Map<string, string>();
  /** Located handlers per base_dir and capability object (the IR does not change during a run). */
  private readonly located = new Map<string, WeakMap<CapabilityIR, HandlerLocation>>();
  private readonly maxOutputBytes: number | null;
  /** Output limits from project configs, by project directory. */
  private readonly projectLimits = new Map<string, number>();
  private readonly live = new LiveLogs();

  constructor(opts: WorkerExecutorOptions = {}) {
    const threads = Math.max(1, opts.workers ?? defaultWorkers());
    this.maxOutputBytes = opts.maxOutputBytes ?? null;
    this.pool = new Piscina({
      filename: workerScript(),
      // Threads start on demand: starting one per core up front delayed a short `orch run` by
      // seconds on many-core machines, and `destroy()` waits for threads still starting.
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 60_000,
      resourceLimits: {
        maxOldGenerationSizeMb: opts.resourceLimits?.maxOldGenerationSizeMb ?? 512,
        ...(opts.resourceLimits?.maxYoungGenerationSizeMb ? { maxYoungGenerationSizeMb: opts.resourceLimits.maxYoungGenerationSizeMb } : {}),
      },
    });
    // A worker dying mid-task already rejects that task; this keeps the pool's own error event quiet.
    this.pool.on('error', () => undefined);
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    const where = this.locate(req);
    if (!where.ok) {
      queueMicrotask(() => done({ ok: false, error: where.error }));
      return { abort: () => undefined };
    }
    const task: WorkerTask = {
      module: where.module,
      export: where.export,
      input: withDefaults(req.capability, req.input),
      attempt: req.attempt,
      runId: req.runId,
      stepId: req.stepId,
      resource: req.resource?.name ?? null,
      secrets: req.secrets,
      timeoutMs: req.timeoutMs,
      maxOutputBytes: this.outputLimit(req.plan.base_dir),
      logKey: this.live.open(logged),
    };
    const logKey = task.logKey!;
    const signal = new AttemptSignal();
    (this.pool.run(task, { signal }) as Promise<WorkerResult>).then(
      (r) => {
        // The result carries every line; those already given along the way are left out.
        const logs = this.live.close(logKey, r.logs);
        if (!r.ok) return done({ ok: false, error: r.error, logs });
        const output: unknown = JSON.parse(r.output);
        const check = validateValue(req.capability.output, output);
        if (!check.ok)
          done({
            ok: false,
            error: `output of ${req.capability.name} does not match its output type: ${describeValueErrors(check.errors)}`,
            logs,
          });
        else done({ ok: true, output, logs });
      },
      // No result (the worker exited, ran out of memory, or the attempt was aborted): what it
      // wrote before is all there is.
      (err: unknown) => done({ ok: false, error: describeWorkerError(err), logs: this.live.close(logKey) }),
    );
    return { abort: (reason) => signal.abort(new Error(reason)) };
  }

  /** The output limit for handlers of the project whose config says `maxOutputBytes`. */
  limitOutputs(baseDir: string, maxOutputBytes: number): void {
    this.projectLimits.set(this.root(baseDir), maxOutputBytes);
  }

  private outputLimit(baseDir: string): number {
    return this.maxOutputBytes ?? this.projectLimits.get(this.root(baseDir)) ?? DEFAULT_MAX_OUTPUT_BYTES;
  }

  private root(baseDir: string): string {
    let root = this.roots.get(baseDir);
    if (!root) this.roots.set(baseDir, (root = projectRoot(baseDir)));
    return root;
  }

  private locate(req: AttemptRequest): HandlerLocation {
    const baseDir = req.plan.base_dir;
    let byCap = this.located.get(baseDir);
    if (!byCap) this.located.set(baseDir, (byCap = new WeakMap()));
    let where = byCap.get(req.capability);
    if (!where) {
      where = locateHandler(req.capability, baseDir, this.root(baseDir));
      // A missing file may appear later (e.g. written by an earlier step); only cache successes.
      if (where.ok) byCap.set(req.capability, where);
    }
    return where;
  }

  async close(): Promise<void> {
    this.live.dispose();
    await this.pool.destroy();
  }
}

export function defaultWorkers(): number {
  return availableParallelism();
}

function withDefaults(cap: CapabilityIR, input: { readonly [k: string]: unknown }): { [k: string]: unknown } {
  return fillDefaults(cap.input, input) as { [k: string]: unknown };
}

/**
 * Fills in the `default`s the schema gives for missing properties, at every depth: records,
 * list items, map values and optional (`anyOf` with null) values. The value is copied where
 * something is filled in, never changed in place.
 */
export function fillDefaults(schema: JsonSchema, value: unknown): unknown {
  const s = schema as { properties?: Record<string, JsonSchema>; items?: JsonSchema; additionalProperties?: unknown; anyOf?: JsonSchema[] };
  if (value === null || typeof value !== 'object') return value;
  if (s.anyOf) {
    // `T?`: the one alternative that is not null says what a present value is.
    const inner = s.anyOf.filter((a) => (a as { type?: unknown }).type !== 'null');
    return inner.length === 1 ? fillDefaults(inner[0]!, value) : value;
  }
  if (Array.isArray(value)) {
    const items = s.items;
    if (!items) return value;
    let out: unknown[] | null = null;
    value.forEach((v, i) => {
      const filled = fillDefaults(items, v);
      if (filled !== v) (out ??= [...value])[i] = filled;
    });
    return out ?? value;
  }
  const src = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  const set = (k: string, v: unknown) => {
    out ??= { ...src };
    // A key `__proto__` stays a key (an assignment would set the copy's prototype).
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  };
  if (s.properties)
    for (const [k, p] of Object.entries(s.properties)) {
      // Own fields only: `src.__proto__` of a plain object is its prototype, not a field.
      const given = Object.prototype.hasOwnProperty.call(src, k) ? src[k] : undefined;
      if (given === undefined) {
        // A copy (one default value is never shared by two inputs), itself filled: a default
        // record `{}` of a type whose fields have defaults gets those too.
        if (p && 'default' in p) set(k, fillDefaults(p, structuredClone((p as { default: unknown }).default)));
      } else {
        const filled = fillDefaults(p, given);
        if (filled !== given) set(k, filled);
      }
    }
  else if (s.additionalProperties && typeof s.additionalProperties === 'object')
    for (const [k, v] of Object.entries(src)) {
      const filled = fillDefaults(s.additionalProperties as JsonSchema, v);
      if (filled !== v) set(k, filled);
    }
  return out ?? value;
}

function describeWorkerError(err: unknown): string {
  if (!(err instanceof Error)) return `handler failed: ${describeThrown(err)}`;
  const code = (err as { code?: string }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return `handler ran out of memory (worker resource limit): ${err.message}`;
  if (/worker exited with code/i.test(err.message)) return `handler exited the worker: ${err.message}`;
  if (err.name === 'AbortError') return 'attempt aborted';
  return err.message || err.name;
}
