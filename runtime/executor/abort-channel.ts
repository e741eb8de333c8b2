/**
 * How the executor's abort of an attempt (race lost, step or run cancelled, timeout) reaches the
 * handler's `ctx.signal` in its worker thread, so the handler can clean up before its thread is
 * ended. Like the live log lines (live-logs.ts) it travels on a BroadcastChannel, by the attempt's
 * key (`WorkerTask.logKey`): no per-task port or shared buffer, so an attempt that is never
 * aborted — every no-op step of a big run — costs one Map entry in its worker and nothing else.
 * Every worker of the process hears every abort; the one running the attempt fires its signal.
 *
 * An abort can overtake its task: sent alone, an attempt may still wait in the pool's queue when
 * it is aborted. Like a chunk's attempts (chunking.ts), each attempt sent alone has a claim, in one
 * shared buffer every worker gets when it starts (`AloneClaims`, piscina's `workerData`): the
 * worker sets it before it starts the attempt, the executor to take the attempt back; whoever is
 * first wins. Taken back, the attempt's handler is never called (its worker answers at once when
 * it comes to it); started, its signal is fired. Should the buffer run out of claims (more than
 * `ALONE_CLAIMS` attempts in the pool at once), an attempt goes without one: then a worker keeps
 * the key of an abort for an attempt it does not run for a while, and an attempt that starts
 * with it is over before its handler is called (a worker picks its next task up before it reads
 * the channel, so this can be too late; the grace then still ends it).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { newClaims } from './chunking.js';

/** Claims of attempts sent alone: attempts in the pool at once (running or queued) that get one. */
export const ALONE_CLAIMS = 1 << 16;

/** In the executor: the claims of attempts sent alone, a slot each while the pool holds its task. */
export class AloneClaims {
  readonly claims = newClaims(ALONE_CLAIMS);
  private readonly free: number[] = [];
  private used = 0;

  /** A claim for an attempt about to be sent, or -1 when every one is taken. */
  acquire(): number {
    return this.free.pop() ?? (this.used < this.claims.length ? this.used++ : -1);
  }

  /** The pool answered for the attempt holding claim `i`: the claim is free again. */
  release(i: number): void {
    if (i < 0) return;
    Atomics.store(this.claims, i, 0);
    this.free.push(i);
  }
}

const CHANNEL = 'orch-step-aborts';

/**
 * How long a handler has, once its signal fired, to return or throw before its worker thread is
 * ended (and replaced): cleanup time, bounded so that a handler ignoring the signal cannot hold a
 * thread.
 */
export const ABORT_GRACE_MS = 1000;

/** How long a worker remembers the abort of an attempt it has not started (longer than the grace). */
const EARLY_KEPT_MS = 10 * ABORT_GRACE_MS;

interface AbortMessage {
  readonly key: string;
  readonly reason: string;
}

/**
 * What a handler's `ctx.signal.reason` says, from the scheduler's reason: `timeout` for a
 * timeout, otherwise `cancelled: …` (`cancelled: lost race reply to fast`, `cancelled: run
 * cancelled`, `cancelled by user`).
 */
export function handlerAbortReason(reason: string): string {
  return reason === 'timeout' || reason.startsWith('cancelled') ? reason : `cancelled: ${reason}`;
}

/** The value of an aborted `ctx.signal.reason`: an `AbortError` whose message says why. */
export function abortError(reason: string): Error {
  const err = new Error(reason);
  err.name = 'AbortError';
  return err;
}

let out: BroadcastChannel | null = null;

/** In the main thread: aborts the handler of attempt `key` wherever it runs in this process. */
export function sendAbort(key: string, reason: string): void {
  if (!out) {
    out = new BroadcastChannel(CHANNEL);
    out.unref();
  }
  out.postMessage({ key, reason } satisfies AbortMessage);
}

/**
 * An attempt running in a worker, as far as its abort goes. Its `AbortController` is made only
 * when its handler reads `ctx.signal`: most handlers never do, and an AbortController is an
 * EventTarget with its own state (a no-op step paid more for it than for its handler).
 */
export class RunningAttempt {
  private controller: AbortController | null = null;
  /** Why it was aborted, once it was. */
  reason: string | null = null;

  /** `ctx.signal`: already aborted when its abort came first. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== null) this.controller.abort(abortError(this.reason));
    }
    return this.controller.signal;
  }

  abort(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.controller?.abort(abortError(reason));
  }
}

/** In a worker: the attempts it runs, by key. */
export class RunningAttempts {
  private readonly running = new Map<string, RunningAttempt>();
  /** Aborts of attempts not started here (yet): key → [reason, until]. */
  private readonly early = new Map<string, readonly [string, number]>();
  private channel: BroadcastChannel | null = null;

  /** Attempt `key`, starting now; already aborted when its abort came first. */
  begin(key: string): RunningAttempt {
    if (!this.channel) {
      this.channel = new BroadcastChannel(CHANNEL);
      // The worker's lifetime is piscina's business, not this channel's.
      this.channel.unref();
      this.channel.onmessage = (ev) => this.arrived((ev as { data: AbortMessage }).data);
    }
    const attempt = new RunningAttempt();
    this.running.set(key, attempt);
    if (this.early.size > 0) {
      const came = this.early.get(key);
      if (came) {
        this.early.delete(key);
        attempt.abort(came[0]);
      }
    }
    return attempt;
  }

  end(key: string): void {
    this.running.delete(key);
  }

  private arrived(m: AbortMessage): void {
    const running = this.running.get(m.key);
    if (running) return running.abort(m.reason);
    const now = Date.now();
    for (const [key, [, until]] of this.early) if (until < now) this.early.delete(key);
    this.early.set(m.key, [m.reason, now + EARLY_KEPT_MS]);
  }
}
