/**
 * Fan-out of live run events (journal events, already redacted by the runtime) to whoever
 * watches: the dashboard's Server-Sent Events streams and scripts. Publishing never waits on a
 * subscriber; a subscriber that throws is dropped.
 */
import type { JournalEntry } from './run-starter.js';

export interface LiveEvent {
  readonly runId: string;
  readonly planId: string;
  readonly event: JournalEntry;
}

export type LiveListener<T = LiveEvent> = (e: T) => void;

/** Of run events by default; the context's journaled events (§9.4) go through one of their own. */
export class LiveHub<T = LiveEvent> {
  private readonly listeners = new Set<LiveListener<T>>();

  subscribe(listener: LiveListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(e: T): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        this.listeners.delete(l);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
