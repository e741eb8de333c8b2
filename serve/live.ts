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

export type LiveListener = (e: LiveEvent) => void;

export class LiveHub {
  private readonly listeners = new Set<LiveListener>();

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(e: LiveEvent): void {
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
