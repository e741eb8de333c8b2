/**
 * Runs diagnostics checks on a worker thread (`check-worker`), one at a time. If the worker
 * cannot be started or dies, checks run in-process instead — slower to answer other requests
 * meanwhile, but never wrong.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../language/diagnostic.js';
import type { CheckReply, CheckRequest } from './check-worker.js';

/** The worker script next to this module: `.js` in dist/, `.mjs` in the extension's bundle. */
function workerScript(): URL | undefined {
  for (const name of ['./check-worker.js', './check-worker.mjs']) {
    const url = new URL(name, import.meta.url);
    if (url.protocol === 'file:' && existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

export class CheckThread {
  private worker: Worker | undefined;
  private failed = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (d: readonly Diagnostic[]) => void; reject: (e: Error) => void }>();

  /** Diagnostics of `entry` over the given unsaved buffers, or undefined when no worker is available. */
  run(entry: string, files: Record<string, string>): Promise<readonly Diagnostic[]> | undefined {
    const worker = this.ensure();
    if (!worker) return undefined;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, entry, files } satisfies CheckRequest);
    });
  }

  private ensure(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    const script = workerScript();
    if (!script) {
      this.failed = true;
      return undefined;
    }
    try {
      const w = new Worker(script);
      w.unref();
      w.on('message', (reply: CheckReply) => {
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.pending.delete(reply.id);
        if ('error' in reply) p.reject(new Error(reply.error));
        else p.resolve(reply.diagnostics);
      });
      const fail = (err: unknown): void => {
        this.worker = undefined;
        this.failed = true;
        for (const p of this.pending.values()) p.reject(err instanceof Error ? err : new Error(String(err)));
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (this.worker === w) fail(new Error(`check worker exited with code ${code}`));
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
