/**
 * A handler's log lines, sent to the main thread as they are written as well as with the
 * attempt's result: the run journals them while the attempt runs (an operator watching a long
 * step sees what it says), and an attempt that never returns a result — it hung and its step
 * timed out, or its worker exited — does not take what it wrote with it. A BroadcastChannel needs
 * no per-task port, so an attempt that writes nothing costs nothing here.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { AttemptUsage } from '../scheduler/types.js';

const CHANNEL = 'orch-step-logs';

type LogMessage =
  | { readonly key: string; readonly line: string }
  | { readonly key: string; readonly usage: AttemptUsage }
  /** The attempt's handler starts (its task left the pool's queue): sent for attempts with a timeout. */
  | { readonly key: string; readonly started: true };

let out: BroadcastChannel | null = null;

/** In the worker: `line` of the attempt `key` (`WorkerTask.logKey`). */
export function sendLine(key: string, line: string): void {
  send({ key, line });
}

/** In the worker: what the attempt `key` has reported so far with `ctx.usage()` (its running total). */
export function sendUsage(key: string, usage: AttemptUsage): void {
  send({ key, usage: { ...usage } });
}

/** In the worker: the attempt `key` starts now (`WorkerTask.tellStart`). */
export function sendStarted(key: string): void {
  send({ key, started: true });
}

function send(m: LogMessage): void {
  if (!out) {
    out = new BroadcastChannel(CHANNEL);
    // The worker's lifetime is piscina's business, not this channel's.
    out.unref();
  }
  out.postMessage(m);
}

interface Attempt {
  /** Lines that arrived and were not given to `logged` (there is none); made on the first. */
  pending: string[] | null;
  /** How many lines `logged` was given. */
  given: number;
  readonly logged: ((lines: readonly string[]) => void) | undefined;
  readonly reported: ((usage: AttemptUsage) => void) | undefined;
  readonly started: (() => void) | undefined;
}

let nextKey = 0;

/** In the main thread: the lines of the attempts in flight, by the key their task carries. */
export class LiveLogs {
  private readonly attempts = new Map<string, Attempt>();
  private channel: BroadcastChannel | null = null;

  /**
   * A key for a new attempt, whose lines go to `logged` (or are kept), usage to `reported` and
   * the start of its handler to `started` until `close`.
   */
  open(logged?: (lines: readonly string[]) => void, reported?: (usage: AttemptUsage) => void, started?: () => void): string {
    if (!this.channel) {
      this.channel = new BroadcastChannel(CHANNEL);
      this.channel.unref();
      // Every executor of the process hears every worker: each keeps the keys it opened.
      this.channel.onmessage = (ev) => this.arrived((ev as { data: LogMessage }).data);
    }
    const key = String(++nextKey);
    this.attempts.set(key, { pending: null, given: 0, logged, reported, started });
    return key;
  }

  private arrived(m: LogMessage): void {
    const a = this.attempts.get(m.key);
    if (!a) return; // its result came first, with every line
    if ('usage' in m) return a.reported?.(m.usage);
    if ('started' in m) return a.started?.();
    if (!a.logged) return void (a.pending ??= []).push(m.line);
    a.given++;
    a.logged([m.line]);
  }

  /**
   * The attempt ended: of `all` its lines (when its result has them), those not given to
   * `logged` yet; without a result, the lines that arrived and were not given. Nothing more is
   * kept for `key`.
   */
  close(key: string, all?: readonly string[]): readonly string[] {
    const a = this.attempts.get(key);
    this.attempts.delete(key);
    if (!a) return all ?? [];
    // Lines arrive in the order they were written, on either path: those given are a prefix.
    if (all) return a.given === 0 ? all : all.slice(a.given);
    return a.pending ?? [];
  }

  /**
   * `close` for an attempt that ended without a result (its worker exited): once the lines it
   * sent before the end have arrived. They come on this channel, its end on the pool's: two
   * queues whose order the event loop does not keep — one turn later they are all here.
   */
  closeUnanswered(key: string): Promise<readonly string[]> {
    return new Promise((resolve) => setImmediate(() => resolve(this.close(key))));
  }

  dispose(): void {
    this.channel?.close();
    this.channel = null;
    this.attempts.clear();
  }
}
