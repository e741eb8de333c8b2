/**
 * When the worker pool hands several attempts over in one message.
 *
 * Handing a task to a worker thread costs the main thread more than a no-op handler costs the
 * worker: structured-cloning the task, waking the thread, and settling its result. On a 10,000-step
 * no-op DAG that hand-off was a fifth of the main thread's time, and a run on two cores is bound by
 * its main thread. Attempts that would only wait in the pool's queue anyway can share a message:
 * the worker runs them one after another, as it would have run them from the queue.
 *
 * Which attempts may share one:
 * - Their capability is `idempotent`. If an attempt of a chunk kills its worker, or is aborted
 *   (cancelled) while it runs and does not stop within the grace its signal gives it, the worker
 *   ends with the results of the attempts it already ran, and those run again, each alone. Only a capability that says running twice is harmless may be
 *   run so.
 * - They have no timeout. A chunk's results come back together, so an attempt finished before a
 *   slow one of its chunk is reported when that one ends: its timeout could expire meanwhile.
 * - Their handler is fast: it took under `FAST_MS` on average over its recent attempts here, so a
 *   slow attempt in a chunk is an exception. The first attempts of a handler go alone, to learn
 *   its pace.
 * - Workers are busy: while a worker is idle, a ready attempt goes to it alone, at once.
 *
 * Nothing waits behind a slow attempt for long, and nothing runs twice for being in a chunk unless
 * its worker is lost: each attempt of a chunk has a claim in shared memory that the worker sets
 * before it starts the attempt and the executor sets to take it back. Whoever sets it first wins.
 * An attempt aborted before its worker came to it is simply taken back; a chunk whose worker has
 * been on one attempt for a tick (`SLOW_TICK_MS`) gives back the rest, which go on alone. The
 * worker marks an attempt finished when it goes on: one aborted while it runs has its signal
 * fired (abort-channel.ts), and its worker is ended only if it is still on it after the grace.
 */

/** A handler whose attempts take less than this on average (ms) may share a message. */
export const FAST_MS = 2;
/** Attempts seen before a handler's pace is trusted. */
const LEARN = 4;
/** The most attempts one message carries: bounds how long the first one's result waits. */
export const MAX_CHUNK = 16;

/**
 * How many attempts each message takes, for `ready` attempts that may share one, when the pool of
 * `threads` workers has `busy` tasks (running or queued) already. Idle workers get one each; the
 * rest is spread over the threads in chunks of at most `max`. The sizes add up to `ready`.
 */
export function chunkSizes(ready: number, busy: number, threads: number, max = MAX_CHUNK): number[] {
  const sizes: number[] = [];
  const idle = Math.min(ready, Math.max(0, threads - busy));
  for (let i = 0; i < idle; i++) sizes.push(1);
  let rest = ready - idle;
  if (rest === 0) return sizes;
  const per = Math.max(1, Math.min(max, Math.ceil(rest / Math.max(1, threads))));
  while (rest > 0) {
    const n = Math.min(per, rest);
    sizes.push(n);
    rest -= n;
  }
  return sizes;
}

/** The recent pace of each handler (by `module#export`), as the worker measured it. */
export class HandlerPace {
  private readonly pace = new Map<string, { seen: number; meanMs: number; chunkable: boolean }>();

  /** One attempt of `handler` took `ms` in its worker. */
  observe(handler: string, ms: number): void {
    const p = this.pace.get(handler);
    if (!p) return void this.pace.set(handler, { seen: 1, meanMs: ms, chunkable: true });
    p.seen++;
    // A moving mean: a handler that slows down (a backend under load) stops sharing messages soon.
    p.meanMs += (ms - p.meanMs) / Math.min(p.seen, 8);
  }

  /** A chunk holding `handler` lost its worker: its attempts go alone from now on. */
  exclude(handler: string): void {
    const p = this.pace.get(handler);
    if (p) p.chunkable = false;
    else this.pace.set(handler, { seen: 0, meanMs: Infinity, chunkable: false });
  }

  fast(handler: string): boolean {
    const p = this.pace.get(handler);
    return p !== undefined && p.chunkable && p.seen >= LEARN && p.meanMs < FAST_MS;
  }
}

/** How often the executor looks for a chunk stuck on one attempt (ms). */
export const SLOW_TICK_MS = 50;

const WAITING = 0;
const STARTED = 1;
const TAKEN_BACK = 2;
/** Started and over (the worker went on): an abort of it has nothing left to end. */
const FINISHED = 3;

/** The claims of a chunk of `n` attempts, all waiting; its buffer goes to the worker. */
export function newClaims(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

/** In the worker: whether attempt `i` is still its to start (and now started). */
export function claimToStart(claims: Int32Array, i: number): boolean {
  return Atomics.compareExchange(claims, i, WAITING, STARTED) === WAITING;
}

/** In the executor: whether attempt `i` was not started yet (and now never will be, there). */
export function takeBack(claims: Int32Array, i: number): boolean {
  return Atomics.compareExchange(claims, i, WAITING, TAKEN_BACK) === WAITING;
}

/** In the worker: attempt `i`, which it started, is over. */
export function markFinished(claims: Int32Array, i: number): void {
  Atomics.store(claims, i, FINISHED);
}

/** In the executor: whether the worker started attempt `i` and is still on it. */
export function stillRunning(claims: Int32Array, i: number): boolean {
  return Atomics.load(claims, i) === STARTED;
}

/** How many attempts of the chunk its worker has started (finished ones included). */
export function startedCount(claims: Int32Array): number {
  let n = 0;
  for (let i = 0; i < claims.length; i++) {
    const c = Atomics.load(claims, i);
    if (c === STARTED || c === FINISHED) n++;
  }
  return n;
}
