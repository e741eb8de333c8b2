/**
 * The piscina worker: loads a handler module (cached per worker) and calls
 * `export(input, ctx)`. Runs in a worker thread; a throw, a rejection, `process.exit` or running
 * out of memory here becomes a failed attempt in the main thread, never a runtime crash.
 */
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

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
  /** Aborts `ctx.signal` shortly before the scheduler gives up on the attempt. */
  readonly timeoutMs: number | null;
}

export interface WorkerResult {
  readonly output: unknown;
  readonly logs: string[];
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

export default async function runTask(task: WorkerTask): Promise<WorkerResult> {
  let mod = modules.get(task.module);
  if (!mod) {
    mod = import(pathToFileURL(task.module).href) as Promise<Record<string, unknown>>;
    modules.set(task.module, mod);
    mod.catch(() => modules.delete(task.module));
  }
  const loaded = await mod;
  const fn = loaded[task.export];
  if (typeof fn !== 'function') throw new Error(`${task.module} does not export a function named "${task.export}"`);
  const logs: string[] = [];
  const controller = new AbortController();
  const timer = task.timeoutMs !== null ? setTimeout(() => controller.abort(new Error('timeout')), task.timeoutMs) : null;
  try {
    const output = await (fn as (input: unknown, ctx: unknown) => unknown)(task.input, {
      signal: controller.signal,
      attempt: task.attempt,
      runId: task.runId,
      stepId: task.stepId,
      resource: task.resource,
      secrets: task.secrets,
      log: (...args: unknown[]) => logs.push(format(...args)),
    });
    return { output: output === undefined ? null : output, logs };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
