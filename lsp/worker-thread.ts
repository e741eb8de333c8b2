/**
 * A request/reply channel to one worker thread script of the language server (`check-worker`,
 * `verify-worker`), so long compiler work never keeps the server from answering other requests.
 * If the worker cannot be started or dies, `request` returns undefined and callers run the work
 * in-process instead — slower to answer other requests meanwhile, but never wrong.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What a worker script posts back for request `id`. */
export type WorkerReply<R> = { readonly id: number; readonly result: R } | { readonly id: number; readonly error: string };

/** The worker script next to this module: `.js` in dist/, `.mjs` in the extension's bundle. */
function workerScript(name: string): URL | undefined {
  for (const file of [`./${name}.js`, `./${name}.mjs`]) {
    const url = new URL(file, import.meta.url);
    if (url.protocol === 'file:' && existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

export class WorkerThread<Q extends object, R> {
  private worker: Worker | undefined;
  private failed = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();

  /**
   * `name`: the worker module's base name, e.g. `check-worker`. `youngGenerationMb`: V8's young
   * generation for it (split into semi-spaces), when not the default.
   */
  constructor(
    private readonly name: string,
    private readonly youngGenerationMb?: number,
  ) {}

  /**
   * Starts the worker now rather than at the first request: its start-up (loading the compiler's
   * modules, ~0.3–0.4 s) then overlaps whatever comes before that request. A no-op when it runs
   * or cannot be started.
   */
  start(): void {
    this.ensure();
  }

  /** The worker's answer to `request`, or undefined when no worker is available. */
  request(request: Q): Promise<R> | undefined {
    const worker = this.ensure();
    if (!worker) return undefined;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private ensure(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    const script = workerScript(this.name);
    if (!script) {
      this.failed = true;
      return undefined;
    }
    try {
      const young = this.youngGenerationMb;
      const w = new Worker(script, young ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {});
      w.unref();
      w.on('message', (reply: WorkerReply<R>) => {
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.pending.delete(reply.id);
        if ('error' in reply) p.reject(new Error(reply.error));
        else p.resolve(reply.result);
      });
      const fail = (err: unknown): void => {
        this.worker = undefined;
        this.failed = true;
        for (const p of this.pending.values()) p.reject(err instanceof Error ? err : new Error(String(err)));
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (this.worker === w) fail(new Error(`${this.name} exited with code ${code}`));
      });
      this.worker = w;
      return w;
    } catch {
      this.failed = true;
      return undefined;
    }
  }

  dispose(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
  }
}

/**
 * The worker side: answers each `{ id, …request }` message with `handle(request)`'s result, or
 * with the error's message.
 */
export function serveWorker<Q, R>(port: { on(e: 'message', f: (m: Q & { id: number }) => void): unknown; postMessage(m: WorkerReply<R>): void }, handle: (request: Q) => R | Promise<R>): void {
  port.on('message', (req) => {
    void Promise.resolve()
      .then(() => handle(req))
      .then(
        (result) => port.postMessage({ id: req.id, result }),
        (err: unknown) => port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

/**
 * Reads unsaved buffers first, then the disk — the compiler's `SourceHost` inside a worker,
 * which cannot see the server's open documents.
 */
export function bufferHost(files: Readonly<Record<string, string>>, readDisk: (path: string) => string): { readFile(path: string): string | undefined } {
  return {
    readFile(path: string): string | undefined {
      const open = files[path];
      if (open !== undefined) return open;
      try {
        return readDisk(path);
      } catch {
        return undefined;
      }
    },
  };
}
