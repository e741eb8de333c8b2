/**
 * What user code that runs in the `orch` process itself (`orch.config.*` as it loads, its policy
 * hooks) writes to `process.stdout` goes to stderr (LANGUAGE.md §7.3: `--json` output stays pure
 * JSON). The launcher points `console` at stderr already; this covers a raw
 * `process.stdout.write`, which would otherwise land in the middle of orch's own JSON. Handlers
 * run in worker threads, whose output is their step's log.
 *
 * The calls run as user code in an AsyncLocalStorage store, which their awaits, timers and
 * promises keep, so a write made later by a hook that is still going is routed too — while orch's
 * own writes, made outside any store, go to stdout as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const userCode = new AsyncLocalStorage<true>();
let routed = false;

/** Patches `process.stdout.write` once: writes made inside `asUserCode` go to stderr. */
function routeUserWrites(): void {
  if (routed) return;
  routed = true;
  const own = process.stdout.write;
  process.stdout.write = function write(this: NodeJS.WriteStream, ...args: Parameters<typeof own>): boolean {
    if (userCode.getStore() === true) return (process.stderr.write as (...a: typeof args) => boolean)(...args);
    return (own as (...a: typeof args) => boolean).apply(this, args);
  } as typeof own;
}

/** Runs `fn` (user code in this process) with its stdout writes sent to stderr. */
export function asUserCode<T>(fn: () => T): T {
  routeUserWrites();
  return userCode.run(true, fn);
}
