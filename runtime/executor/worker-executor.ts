/**
 * The real executor: each attempt runs in a piscina pool of worker threads. Aborting an attempt
 * (timeout, cancel, race lost) settles it at once: one still waiting in the pool's queue is taken
 * back (its handler is never called), a running one's `ctx.signal` fires in its worker
 * (abort-channel.ts), and a handler still running `ABORT_GRACE_MS` later has its
 * piscina task aborted, which terminates that worker (piscina replaces it), so a handler that
 * ignores its signal cannot hold a thread. The worker hands back outputs as JSON text within the size limit (or an error); they are
 * parsed and validated against the capability's output schema here, in the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CapabilityIR } from '../../compiler/index.js';
import { fillDefaults, typedOutput } from './value-defaults.js';
import { packagePath } from '../../compiler/index.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, AttemptUsage, Executor, ToolCheck } from '../scheduler/types.js';
import { AttemptSignal } from './attempt-signal.js';
import { ABORT_GRACE_MS, AloneClaims, handlerAbortReason, sendAbort } from './abort-channel.js';
import { chunkSizes, HandlerPace, newClaims, SLOW_TICK_MS, startedCount, stillRunning, takeBack } from './chunking.js';
import { locateHandler, projectRoot, type HandlerLocation } from './handler-path.js';
import { DEFAULT_MAX_OUTPUT_BYTES, describeThrown } from './json-output.js';
import { LiveLogs } from './live-logs.js';
import type { WorkerResult, WorkerTask } from './worker.js';
import type { EdgeHandler } from './edge.js';
import { McpTools } from '../mcp/tools.js';
import { ChannelSender } from '../channels/sender.js';

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
  /**
   * Whether attempts of fast idempotent handlers may share a message to a worker while the
   * workers are busy (chunking.ts). Default true; false hands every attempt over alone.
   */
  readonly chunking?: boolean;
  /**
   * Where a capability's handler lives (default `locateHandler`): an `orch worker` passes one
   * that remembers its answers for a moment, since each of its jobs is a fresh IR object.
   */
  readonly locate?: (cap: CapabilityIR, baseDir: string, root: string) => HandlerLocation;
  /**
   * Handlers run in this thread instead of a worker (./edge.ts). Default: MCP tools and the
   * message channels of `notify` and `email`.
   */
  readonly edges?: readonly EdgeHandler[];
}

/**
 * The worker must be compiled JS, also when the runtime itself runs from TS sources (vitest):
 * always use the built copy in dist/.
 */
export function workerScript(): string {
  const file = packagePath('dist', 'runtime', 'executor', 'worker-entry.cjs');
  if (!existsSync(file)) throw new Error(`the worker script ${file} is missing; build first (npx tsc -p tsconfig.build.json)`);
  return file;
}

/** Attempts handed to a worker in one task (chunking.ts). */
interface Chunk {
  readonly signal: AttemptSignal;
  /** Which attempts the worker has started, and which were taken back (chunking.ts). */
  readonly claims: Int32Array;
  readonly members: readonly Attempt[];
  /** Attempts started when the watchdog last looked. */
  started: number;
  /** The executor ended its worker, to abort one of its attempts. */
  killed: boolean;
  /** Settles when the pool answers for the chunk (results or none); set as it is handed over. */
  answered: Promise<void> | null;
}

/** One attempt on its way through the pool. */
interface Attempt {
  readonly req: AttemptRequest;
  task: WorkerTask;
  /** `module#export`: whose pace decides whether it may share a message. */
  readonly handler: string;
  readonly done: (outcome: AttemptOutcome) => void;
  readonly logged: ((lines: readonly string[]) => void) | undefined;
  /** What the handler reports with `ctx.usage()`, as it reports it (its running total). */
  readonly reported: ((usage: AttemptUsage) => void) | undefined;
  state:
    | { readonly at: 'ready' }
    /** `answered`: settles when the pool answers for its task. */
    | { readonly at: 'alone'; readonly signal: AttemptSignal; readonly answered: Promise<void>; readonly claim: number }
    | { readonly at: 'chunk'; readonly chunk: Chunk; readonly index: number }
    | { readonly at: 'done' };
  /** Log lines of a first run in a chunk that lost its worker (the attempt then ran again). */
  carried: readonly string[];
  /** Told when its handler starts (`AttemptHandle.onStart`), and whether it has. */
  onStart: (() => void) | null;
  started: boolean;
}

/** The worker says the attempt's handler starts: whoever waits on it is told, once. */
function began(a: Attempt): void {
  if (a.started || a.state.at === 'done') return;
  a.started = true;
  a.onStart?.();
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
  private readonly threads: number;
  private readonly pace = new HandlerPace();
  /** Attempts that may share a message, waiting for the end of the turn (`handOver`). */
  private ready: Attempt[] = [];
  /** Tasks given to the pool and not settled (running or queued there). */
  private tasks = 0;
  private closed = false;
  private readonly chunking: boolean;
  /**
   * Attempts handed to the pool, the messages (tasks) that carried them, and the attempts that ran
   * again alone because their chunk lost its worker: for the bench, and for tests to see chunks.
   */
  readonly handOffs = { attempts: 0, tasks: 0, rerun: 0, takenBack: 0 };
  /** Chunks in the pool, watched for a slow attempt (`watch`). */
  private readonly chunks = new Set<Chunk>();
  private watchdog: NodeJS.Timeout | null = null;
  /** Aborted attempts whose handler may still run, each until it stops or its grace is over. */
  private readonly stopping = new Set<Promise<void>>();
  /** Claims of the attempts sent alone: an abort takes back one not started yet (abort-channel.ts). */
  private readonly aloneClaims = new AloneClaims();

  private readonly edges: readonly EdgeHandler[];
  private readonly locateIn: (cap: CapabilityIR, baseDir: string, root: string) => HandlerLocation;

  constructor(opts: WorkerExecutorOptions = {}) {
    this.edges = opts.edges ?? [new McpTools(), new ChannelSender()];
    this.locateIn = opts.locate ?? locateHandler;
    const threads = Math.max(1, opts.workers ?? defaultWorkers());
    this.threads = threads;
    this.chunking = opts.chunking ?? true;
    this.maxOutputBytes = opts.maxOutputBytes ?? null;
    this.pool = new Piscina({
      filename: workerScript(),
      // Threads start on demand: starting one per core up front delayed a short `orch run` by
      // seconds on many-core machines, and `destroy()` waits for threads still starting.
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData: { abortClaims: this.aloneClaims.claims.buffer },
      resourceLimits: {
        maxOldGenerationSizeMb: opts.resourceLimits?.maxOldGenerationSizeMb ?? 512,
        ...(opts.resourceLimits?.maxYoungGenerationSizeMb ? { maxYoungGenerationSizeMb: opts.resourceLimits.maxYoungGenerationSizeMb } : {}),
      },
    });
    // A worker dying mid-task already rejects that task; this keeps the pool's own error event quiet.
    this.pool.on('error', () => undefined);
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void, reported?: (usage: AttemptUsage) => void): AttemptHandle {
    for (const edge of this.edges) if (edge.handles(req.capability)) return edge.start(req, done, logged);
    const where = this.locate(req);
    if (!where.ok) {
      queueMicrotask(() => done({ ok: false, error: where.error, final: 'unloadable' }));
      return { abort: () => undefined };
    }
    // An attempt with a timeout is told when its handler starts (it may wait for a thread first).
    const timed = req.timeoutMs !== null;
    const task: WorkerTask = {
      module: where.module,
      export: where.export,
      input: withDefaults(req.capability, req.input),
      attempt: req.attempt,
      runId: req.runId,
      stepId: req.stepId,
      resource: req.resource?.name ?? null,
      secrets: req.secrets,
      maxOutputBytes: this.outputLimit(req.plan.base_dir),
      logKey: this.live.open(logged, reported, timed ? () => began(a) : undefined),
      // Always present (undefined untraced): one shape of task whether or not the run is traced.
      traceparent: req.traceparent,
      claim: -1,
      tellStart: timed,
    };
    const a: Attempt = { req, task, handler: `${where.module}#${where.export}`, done, logged, reported, state: { at: 'ready' }, carried: [], onStart: null, started: false };
    if (!this.chunking || !mayShare(req) || !this.pace.fast(a.handler)) this.sendAlone(a);
    else {
      // Held to the end of this turn: the attempts that become ready together are handed over together.
      this.ready.push(a);
      if (this.ready.length === 1) queueMicrotask(() => this.handOver());
    }
    if (!timed) return { abort: (reason) => this.abort(a, reason) };
    return {
      abort: (reason) => this.abort(a, reason),
      onStart: (cb) => {
        if (a.started) queueMicrotask(cb);
        else a.onStart = cb;
      },
    };
  }

  async checkTool(check: ToolCheck): Promise<string | null> {
    const edge = this.edges.find((e) => e.checkTool && e.handles(check.capability));
    return edge ? edge.checkTool!(check) : null;
  }

  /** The attempts that may share a message and became ready this turn go to the pool. */
  private handOver(): void {
    const ready = this.ready.filter((a) => a.state.at === 'ready');
    this.ready = [];
    let i = 0;
    for (const n of chunkSizes(ready.length, this.tasks, this.threads)) {
      if (n === 1) this.sendAlone(ready[i]!);
      else this.sendChunk(ready.slice(i, i + n));
      i += n;
    }
  }

  private sendAlone(a: Attempt): void {
    const signal = new AttemptSignal();
    const claim = this.aloneClaims.acquire();
    a.task.claim = claim;
    this.tasks++;
    this.handOffs.tasks++;
    this.handOffs.attempts++;
    const answered = (this.pool.run(a.task, { signal }) as Promise<WorkerResult>).then(
      (r) => (this.tasks--, this.aloneClaims.release(claim), this.settle(a, r)),
      // No result (the worker exited, ran out of memory, or the attempt was aborted): what it
      // wrote before is all there is.
      (err: unknown) => {
        this.tasks--;
        this.aloneClaims.release(claim);
        return this.live.closeUnanswered(a.task.logKey!).then((logs) => this.finish(a, { ok: false, error: describeWorkerError(err), logs }));
      },
    );
    a.state = { at: 'alone', signal, answered, claim };
  }

  private sendChunk(members: Attempt[]): void {
    const chunk: Chunk = { signal: new AttemptSignal(), claims: newClaims(members.length), members, started: 0, killed: false, answered: null };
    members.forEach((a, index) => (a.state = { at: 'chunk', chunk, index }));
    this.tasks++;
    this.handOffs.tasks++;
    this.handOffs.attempts += members.length;
    this.watch(chunk);
    chunk.answered = (this.pool.run(
      { tasks: members.map((a) => a.task), claims: chunk.claims.buffer },
      { signal: chunk.signal, name: 'runChunk' },
    ) as Promise<(WorkerResult | null)[]>).then(
      (results) => {
        this.unwatch(chunk);
        this.tasks--;
        // null: taken back before the worker came to it (it went on alone, or was aborted).
        members.forEach((a, i) => results[i] && this.indexIn(a, chunk) !== null && this.settle(a, results[i]));
      },
      () => {
        this.unwatch(chunk);
        this.tasks--;
        // The worker is gone and the results with it (it exited, or the executor ended it to abort
        // one of these). Attempts it had not come to go on alone; those it ran or was running run
        // again alone (their capability is idempotent); one that killed the worker then fails by
        // itself.
        if (!chunk.killed) for (const a of members) this.pace.exclude(a.handler);
        for (const a of members) {
          const index = this.indexIn(a, chunk);
          if (index === null) continue;
          const ran = !takeBack(chunk.claims, index);
          if (this.closed) {
            this.finish(a, { ok: false, error: 'attempt aborted: the runtime closed', logs: this.live.close(a.task.logKey!) });
            continue;
          }
          if (ran) {
            // Lines the first run wrote stay the step's; the second run's get a key of their own.
            a.carried = [...a.carried, ...this.live.close(a.task.logKey!)];
            a.task = { ...a.task, logKey: this.live.open(a.logged, a.reported) };
            this.handOffs.rerun++;
          }
          this.sendAlone(a);
        }
      },
    );
  }

  /** Where `a` is in `chunk`; null when it is not there any more (taken back, aborted, settled). */
  private indexIn(a: Attempt, chunk: Chunk): number | null {
    return a.state.at === 'chunk' && a.state.chunk === chunk ? a.state.index : null;
  }

  /**
   * A chunk whose worker has been on one attempt for a whole tick gives back the attempts it has
   * not come to, and they go on alone: a slow or hung attempt holds back no other.
   */
  private watch(chunk: Chunk): void {
    this.chunks.add(chunk);
    this.watchdog ??= setInterval(() => {
      for (const c of this.chunks) {
        const started = startedCount(c.claims);
        // 0: still in the pool's queue, behind other tasks, not behind one of its own.
        if (started > 0 && started === c.started) for (const a of c.members) this.goAlone(a, c);
        c.started = started;
      }
    }, SLOW_TICK_MS).unref();
  }

  private unwatch(chunk: Chunk): void {
    this.chunks.delete(chunk);
    if (this.chunks.size === 0 && this.watchdog) {
      clearInterval(this.watchdog);
      this.watchdog = null;
    }
  }

  /** Takes `a` back from `chunk` if its worker has not come to it, and hands it over alone. */
  private goAlone(a: Attempt, chunk: Chunk): void {
    const index = this.indexIn(a, chunk);
    if (index === null || !takeBack(chunk.claims, index)) return;
    this.handOffs.takenBack++;
    this.sendAlone(a);
  }

  /**
   * The attempt is over for the scheduler at once; its handler, if it runs, is told (its
   * `ctx.signal` fires) and has `ABORT_GRACE_MS` to stop before its worker is ended.
   */
  private abort(a: Attempt, reason: string): void {
    const s = a.state;
    if (s.at === 'alone') {
      a.state = { at: 'done' };
      // Not started (it waits in the pool's queue): its worker will skip it, nothing to end.
      // Started (or without a claim): told, and ended if still running after the grace.
      if (s.claim < 0 || !takeBack(this.aloneClaims.claims, s.claim)) {
        sendAbort(a.task.logKey!, handlerAbortReason(reason));
        this.endAfterGrace(s.answered, () => s.signal.abort(new Error(reason)));
      }
    } else if (s.at === 'chunk') {
      a.state = { at: 'done' };
      const { chunk, index } = s;
      // Its worker is running it (or ran it): told, and ended if still on it after the grace; the
      // others then go on alone.
      if (!takeBack(chunk.claims, index)) {
        sendAbort(a.task.logKey!, handlerAbortReason(reason));
        this.endAfterGrace(chunk.answered!, () => {
          if (!stillRunning(chunk.claims, index)) return;
          chunk.killed = true;
          chunk.signal.abort(new Error(reason));
        });
      }
    } else if (s.at === 'ready') a.state = { at: 'done' };
    else return;
    // As piscina answers an aborted task: on a later tick, never inside the caller.
    queueMicrotask(() => this.deliver(a, { ok: false, error: 'attempt aborted', logs: this.live.close(a.task.logKey!) }));
  }

  /** `end` runs unless the pool answered (the handler stopped) within the grace. */
  private endAfterGrace(answered: Promise<void>, end: () => void): void {
    const timer = setTimeout(end, ABORT_GRACE_MS);
    const stopped = answered.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
    this.stopping.add(stopped);
    void stopped.then(() => this.stopping.delete(stopped));
  }

  /** A result from the worker: parsed and checked against the capability's output type here. */
  private settle(a: Attempt, r: WorkerResult): void {
    // Aborted: settled already, and its pace was cut short.
    if (a.state.at === 'done') return;
    this.pace.observe(a.handler, r.ms);
    // The result carries every line; those already given along the way are left out.
    const logs = this.live.close(a.task.logKey!, r.logs);
    if (!r.ok) return this.finish(a, used(r, { ok: false, error: r.error, logs, ...(r.unloadable ? { final: 'unloadable' as const } : r.permanent ? { final: 'refused' as const } : {}) }));
    const typed = typedOutput(a.req.capability, JSON.parse(r.output));
    this.finish(a, used(r, typed.ok ? { ok: true, output: typed.output, logs } : { ok: false, error: typed.error, logs }));
  }

  private finish(a: Attempt, outcome: AttemptOutcome): void {
    if (a.state.at === 'done') return;
    a.state = { at: 'done' };
    this.deliver(a, outcome);
  }

  /** The outcome to the scheduler, after the lines of a first run its chunk lost (`carried`). */
  private deliver(a: Attempt, outcome: AttemptOutcome): void {
    a.done(a.carried.length ? { ...outcome, logs: [...a.carried, ...(outcome.logs ?? [])] } : outcome);
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

  private locate(req: Pick<AttemptRequest, 'capability' | 'plan'>): HandlerLocation {
    const baseDir = req.plan.base_dir;
    let byCap = this.located.get(baseDir);
    if (!byCap) this.located.set(baseDir, (byCap = new WeakMap()));
    let where = byCap.get(req.capability);
    if (!where) {
      where = this.locateIn(req.capability, baseDir, this.root(baseDir));
      // A missing file may appear later (e.g. written by an earlier step); only cache successes.
      if (where.ok) byCap.set(req.capability, where);
    }
    return where;
  }

  /**
   * Whether an attempt like `req` would share a message with others now that the threads are
   * busy (chunking.ts): an idempotent capability without a timeout whose handler was fast on
   * these threads. An edge's (a tool, a channel) never ran on them, so it is never fast.
   */
  shares(req: Pick<AttemptRequest, 'capability' | 'timeoutMs' | 'plan'>): boolean {
    if (!this.chunking || !mayShare(req)) return false;
    const where = this.locate(req);
    return where.ok && this.pace.fast(`${where.module}#${where.export}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    // Aborted handlers get their grace (each ends in time): cleanup is what the signal is for.
    await Promise.all(this.stopping);
    this.live.dispose();
    await Promise.all([this.pool.destroy(), ...this.edges.map((e) => e.close())]);
  }
}

/**
 * `ctx.usage()`: the attempt's cost when it said one (§8.1; the ModelExecutor prices tokens). An
 * attempt that reported none — every plain step — keeps its outcome as it is, with no copy.
 */
function used(r: WorkerResult, outcome: AttemptOutcome): AttemptOutcome {
  if (!r.usage) return outcome;
  return { ...outcome, usage: r.usage, ...(r.usage.cost !== undefined ? { cost: r.usage.cost } : {}) };
}

/** chunking.ts says why: a capability that may run again, and no timeout that a held result could miss. */
function mayShare(req: Pick<AttemptRequest, 'capability' | 'timeoutMs'>): boolean {
  return req.capability.idempotent && req.timeoutMs === null;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

function withDefaults(cap: CapabilityIR, input: { readonly [k: string]: unknown }): { [k: string]: unknown } {
  return fillDefaults(cap.input, input) as { [k: string]: unknown };
}


function describeWorkerError(err: unknown): string {
  if (!(err instanceof Error)) return `handler failed: ${describeThrown(err)}`;
  const code = (err as { code?: string }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return `handler ran out of memory (worker resource limit): ${err.message}`;
  if (/worker exited with code/i.test(err.message)) return `handler exited the worker: ${err.message}`;
  if (err.name === 'AbortError') return 'attempt aborted';
  return err.message || err.name;
}
