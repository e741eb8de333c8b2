/**
 * Errors a handler's code raises outside its own call stack — a callback that throws, a promise
 * nobody awaits that rejects — belong to the attempt whose code made them, not to whatever attempt
 * happens to run in the worker thread when they surface (LANGUAGE.md §7.3: a misbehaving handler
 * fails its own attempt). Left to Node, such an error ends the thread, and the attempt running in
 * it at that moment failed with another step's error.
 *
 * Each handler call runs as its attempt (an AsyncLocalStorage store, which timers and promises
 * the handler creates carry along). A stray error whose attempt still runs fails it, as a throw
 * would; one whose attempt already ended is written to the log of the step running now, saying
 * whose it is (as other text a handler leaves behind, output-capture.ts), and nothing fails.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { describeThrown } from './json-output.js';

interface Owner {
  readonly label: string;
  fail: ((err: unknown) => void) | null;
}

const owners = new AsyncLocalStorage<Owner>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const stray = (err: unknown): void => {
    const owner = owners.getStore();
    if (owner?.fail) return owner.fail(err);
    process.stderr.write(`[uncaught error of ${owner ? `${owner.label}, after it ended` : 'a handler module'}] ${describeThrown(err)}\n`);
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);
}

/** Runs `call` as the attempt `label`: a stray error its code raises while it runs rejects the result. */
export function asAttempt<T>(label: string, call: () => Promise<T>): Promise<T> {
  install();
  const owner: Owner = { label, fail: null };
  return new Promise<T>((resolve, reject) => {
    owner.fail = reject;
    owners.run(owner, call).then(resolve, reject);
  }).finally(() => {
    owner.fail = null;
  });
}
