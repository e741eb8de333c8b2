/**
 * The abort signal of one attempt on the worker pool. Piscina takes any object with `once`/`off`
 * for 'abort' (its `AbortSignalEventEmitter`); Node's AbortController is an EventTarget whose
 * creation, listener registration and removal cost several microseconds a step — a tenth of what
 * the scheduler spends on a no-op step. An attempt has at most one listener: the pool's.
 */
export class AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  private listener: (() => void) | null = null;

  once(_event: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  off(_event: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = null;
  }

  /** Piscina 5 calls this name; its typings say `off`. */
  removeListener(event: 'abort', listener: () => void): void {
    this.off(event, listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = null;
    listener?.();
  }
}
