/**
 * Worker thread that runs the compiler's `check` for the language server, so a long check of a
 * large file never keeps the server from answering completion, hover or symbols meanwhile.
 * Messages in: `{ id, entry, files }` (unsaved buffers by path); out: `{ id, diagnostics }` or
 * `{ id, error }`.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { check } from '../compiler/index.js';

export interface CheckRequest {
  readonly id: number;
  readonly entry: string;
  readonly files: Readonly<Record<string, string>>;
}

export type CheckReply =
  | { readonly id: number; readonly diagnostics: ReturnType<typeof check> }
  | { readonly id: number; readonly error: string };

parentPort?.on('message', (req: CheckRequest) => {
  try {
    const host = {
      readFile(path: string): string | undefined {
        const open = req.files[path];
        if (open !== undefined) return open;
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
      },
    };
    parentPort!.postMessage({ id: req.id, diagnostics: check({ entry: req.entry, host }) } satisfies CheckReply);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies CheckReply);
  }
});
