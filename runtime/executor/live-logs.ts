/**
 * A handler's log lines, sent to the main thread as they are written as well as with the
 * attempt's result: an attempt that never returns one (it hung and its step timed out, or its
 * worker exited) would otherwise take everything it wrote with it. A BroadcastChannel needs no
 * per-task port, so an attempt that writes nothing costs nothing here.
 */
import { BroadcastChannel } from 'node:worker_threads';
const CHANNEL = 'orch-step-logs';

interface LogMessage {
  readonly key: string;
  readonly line: string;
}

let out: BroadcastChannel | null = null;

/** In the worker: `line` of the attempt `key` (`WorkerTask.logKey`). */
export function sendLine(key: string, line: string): void {
  if (!out) {
    out = new BroadcastChannel(CHANNEL);
    // The worker's lifetime is piscina's business, not this channel's.
    out.unref();
  }
  out.postMessage({ key, line } satisfies LogMessage);
}

let nextKey = 0;

/** In the main thread: the lines of the attempts in flight, by the key their task carries. */
export class LiveLogs {
  private readonly lines = new Map<string, string[]>();
  private channel: BroadcastChannel | null = null;

  /** A key for a new attempt, whose lines are kept from now until `close`. */
  open(): string {
    if (!this.channel) {
      this.channel = new BroadcastChannel(CHANNEL);
      this.channel.unref();
      // Every executor of the process hears every worker: each keeps the keys it opened.
      this.channel.onmessage = (ev) => {
        const m = (ev as { data: LogMessage }).data;
        this.lines.get(m.key)?.push(m.line);
      };
    }
    const key = String(++nextKey);
    this.lines.set(key, []);
    return key;
  }

  /** The lines so far. */
  peek(key: string): readonly string[] {
    return this.lines.get(key) ?? [];
  }

  /** The lines so far; none are kept for `key` from now on. */
  close(key: string): string[] {
    const lines = this.lines.get(key) ?? [];
    this.lines.delete(key);
    return lines;
  }

  dispose(): void {
    this.channel?.close();
    this.channel = null;
    this.lines.clear();
  }
}
