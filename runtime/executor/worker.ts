/**
 * The piscina worker: loads a handler module (cached per worker) and calls
 * `export(input, ctx)`. Runs in a worker thread; a throw, a rejection, `process.exit` or running
 * out of memory here becomes a failed attempt in the main thread, never a runtime crash. The
 * output leaves the worker as JSON text within the size limit, or as an error saying why not.
 */
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { format } from 'node:util';
import { describeThrown, formatBytes, logBudget, toJsonOutput } from './json-output.js';
import { sendLine, sendStarted, sendUsage } from './live-logs.js';
import { claimToStart, markFinished } from './chunking.js';
import { RunningAttempt, RunningAttempts } from './abort-channel.js';
import { capturing } from './output-capture.js';
import { asAttempt } from './stray-errors.js';

export interface WorkerTask {
  readonly module: string;
  readonly export: string;
  readonly input: unknown;
  readonly attempt: number;
  readonly runId: string;
  readonly stepId: string;
  /** Name of the resource the attempt is bound to (`ctx.resource`). */
  readonly resource: string | null;
  readonly secrets: { readonly [name: string]: string };
  /** Largest output (JSON text, UTF-8 bytes); also the budget for `ctx.log` lines and error text. */
  readonly maxOutputBytes: number;
  /**
   * The attempt's key, when given: each log line is also sent as it is written (live-logs.ts), and
   * the executor's abort of the attempt reaches `ctx.signal` (abort-channel.ts).
   */
  readonly logKey?: string;
  /**
   * Its claim in the workers' shared buffer (abort-channel.ts `AloneClaims`), when it is sent
   * alone with one; -1 otherwise. Set by the executor as it sends the task.
   */
  claim: number;
  /** W3C traceparent of the attempt's span (`ctx.traceparent`), when the run is traced. */
  readonly traceparent?: string;
  /** Tell the executor when the handler starts (live-logs.ts `sendStarted`): its timeout counts from then. */
  readonly tellStart: boolean;
}

type TaskOutcome =
  /** `output`: the handler's output as JSON text. */
  | { readonly ok: true; readonly output: string; readonly logs: string[] }
  /** The handler threw, or returned something that is not a JSON value within the limit. */
  | { readonly ok: false; readonly error: string; readonly logs: string[]; readonly unloadable?: true; readonly permanent?: true };

export type WorkerResult = TaskOutcome & {
  /** How long the handler took (ms), its module's load left out: the executor's pace (chunking.ts). */
  readonly ms: number;
  /** What the handler reported with `ctx.usage()` (LANGUAGE.md §8.1), summed; absent when it reported nothing. */
  readonly usage?: ReportedUsage;
};

export interface ReportedUsage {
  input_tokens?: number;
  output_tokens?: number;
  cost?: number;
  model?: string;
}

/** `ctx.usage({...})`: every field optional, numbers ≥ 0 add up, the last model wins; anything else is ignored. */
export function addUsage(into: ReportedUsage, u: unknown): void {
  if (u === null || typeof u !== 'object') return;
  const r = u as Record<string, unknown>;
  for (const k of ['input_tokens', 'output_tokens', 'cost'] as const) {
    const v = r[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) into[k] = (into[k] ?? 0) + v;
  }
  if (typeof r.model === 'string') into.model = r.model.slice(0, 200);
}

const attempts = new RunningAttempts();
/** The claims of attempts sent alone (abort-channel.ts), shared with the executor. */
const aloneClaims = ((): Int32Array | null => {
  const buffer = (workerData as { abortClaims?: unknown } | null)?.abortClaims;
  return buffer instanceof SharedArrayBuffer ? new Int32Array(buffer) : null;
})();

const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(module: string): Promise<Record<string, unknown>> {
  let mod = modules.get(module);
  if (!mod) {
    mod = import(pathToFileURL(module).href) as Promise<Record<string, unknown>>;
    modules.set(module, mod);
    mod.catch(() => modules.delete(module));
  }
  return mod;
}

/**
 * Several attempts handed over in one message (chunking.ts), run one after the other as the pool
 * would have run them had they queued: concurrent handlers in one worker would mix the output
 * each one's log captures.
 */
export async function runChunk(chunk: { readonly tasks: readonly WorkerTask[]; readonly claims: SharedArrayBuffer }): Promise<(WorkerResult | null)[]> {
  const claims = new Int32Array(chunk.claims);
  const results: (WorkerResult | null)[] = [];
  // null: the executor took the attempt back before this worker came to it.
  for (let i = 0; i < chunk.tasks.length; i++) {
    if (!claimToStart(claims, i)) results.push(null);
    else {
      results.push(await runTask(chunk.tasks[i]!));
      // An aborted attempt that returned within its grace does not get the worker ended.
      markFinished(claims, i);
    }
  }
  return results;
}

export default async function runTask(task: WorkerTask): Promise<WorkerResult> {
  // Taken back (aborted) while it waited in the pool's queue: its handler is not called.
  if (task.claim >= 0 && aloneClaims !== null && !claimToStart(aloneClaims, task.claim))
    return { ok: false, error: 'attempt aborted before it started', logs: [], ms: 0 };
  const key = task.logKey;
  if (task.tellStart && key !== undefined) sendStarted(key);
  // Registered before anything is awaited: an abort that arrives while the module loads counts.
  const running = key !== undefined ? attempts.begin(key) : new RunningAttempt();
  try {
    return await runHandler(task, running);
  } finally {
    if (key !== undefined) attempts.end(key);
  }
}

async function runHandler(task: WorkerTask, running: RunningAttempt): Promise<WorkerResult> {
  const logs: string[] = [];
  const budget = logBudget(task.maxOutputBytes);
  const keep = (line: string) => {
    const kept = budget(line);
    if (kept === null) return;
    logs.push(kept);
    if (task.logKey !== undefined) sendLine(task.logKey, kept);
  };
  const log = (...args: unknown[]) => keep(format(...args));
  // stdout lines as written, stderr lines marked: both are the step's log, never orch's output.
  const written = (stream: 'stdout' | 'stderr', text: string) => keep(stream === 'stderr' ? `[stderr] ${text}` : text);
  // What a module prints while it loads (its top-level code) is the log of the step that loads it.
  let loaded: Record<string, unknown>;
  try {
    loaded = await capturing(written, () => load(task.module));
  } catch (err) {
    // A module that throws as it loads (a syntax error, a missing import) would throw again: a
    // handler that cannot be loaded (LANGUAGE.md §9.1), not a failed attempt to retry.
    return { ok: false, error: truncate(`handler module ${task.module} cannot be loaded: ${describeThrown(err)}`, task.maxOutputBytes), logs, unloadable: true, ms: 0 };
  }
  const fn = loaded[task.export];
  // Not a handler failure but a missing one: reported as such, so the step is not retried for it.
  if (typeof fn !== 'function') return { ok: false, error: `${task.module} does not export a function named "${task.export}"`, logs, unloadable: true, ms: 0 };
  // The handler's pace, without the module's first load (one attempt per worker pays that).
  const t0 = performance.now();
  let usage: ReportedUsage | undefined;
  // Only a usage with something in it: calls with nothing valid report nothing.
  // Stores, not `{ ...o, ms }`: on Node 20 a spread followed by a new key gives every result a
  // hidden class of its own (one per attempt); stores take the literal's transitions. The keys and
  // their order are the same, so the executor receives the same object.
  const timed = (o: TaskOutcome): WorkerResult => {
    const r = o as TaskOutcome & { ms?: number; usage?: ReportedUsage };
    r.ms = performance.now() - t0;
    if (usage && Object.keys(usage).length > 0) r.usage = usage;
    return r as WorkerResult;
  };
  // Aborted before it started (it waited in the pool's queue): its handler is not called.
  if (running.reason !== null) return timed({ ok: false, error: `attempt aborted before it started: ${running.reason}`, logs });
  let output: unknown;
  try {
    output = await capturing(written, () =>
      asAttempt(`step ${task.stepId} (attempt ${task.attempt})`, async () =>
        (fn as (input: unknown, ctx: unknown) => unknown)(task.input, {
          // Made when the handler first reads it (abort-channel.ts `RunningAttempt`).
          get signal() {
            return running.signal;
          },
          attempt: task.attempt,
          runId: task.runId,
          stepId: task.stepId,
          resource: task.resource,
          secrets: task.secrets,
          traceparent: task.traceparent,
          log,
          usage: (u: unknown) => {
            addUsage((usage ??= {}), u);
            // Sent as it is reported too: an attempt that times out never returns its result (§8.2).
            if (task.logKey !== undefined && Object.keys(usage).length > 0) sendUsage(task.logKey, usage);
          },
        }),
      ),
    );
  } catch (err) {
    // Whatever was thrown (a string, a symbol, an object with a cycle) becomes bounded text here.
    // An error marked `permanent` (http_request's refused request) is not retried (LANGUAGE.md §9.1).
    return timed({ ok: false, error: truncate(describeThrown(err), task.maxOutputBytes), logs, ...(isPermanent(err) ? { permanent: true as const } : {}) });
  }
  const json = toJsonOutput(output, task.maxOutputBytes);
  return timed(json.ok ? { ok: true, output: json.json, logs } : { ok: false, error: json.error, logs });
}

function isPermanent(err: unknown): boolean {
  try {
    return !!err && typeof err === 'object' && (err as { permanent?: unknown }).permanent === true;
  } catch {
    return false; // a getter that throws
  }
}

function truncate(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return `${Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8')}… (cut at ${formatBytes(maxBytes)})`;
}
