/**
 * A source's messages into the engine a batch at a time (LANGUAGE.md §9.4): what arrives in one
 * event-loop turn — the broker's messages read from the socket together — is handed over at the
 * turn's end (`setImmediate`) as one batch: one durable write and one decision per `when` trigger
 * instead of one of each per message. The values reach the store in the order they came.
 */
import type { SignalSet } from './trigger-engine.js';

export interface SignalBatcher {
  push(set: SignalSet): void;
  /** Hands over what is pending now and waits for every batch handed over. */
  flush(): Promise<void>;
}

export function signalBatcher(ingest: (sets: readonly SignalSet[]) => Promise<unknown>, log: (line: string) => void): SignalBatcher {
  let pending: SignalSet[] = [];
  let scheduled: NodeJS.Immediate | null = null;
  const inFlight = new Set<Promise<void>>();
  const handOver = (): void => {
    scheduled = null;
    const sets = pending;
    pending = [];
    if (sets.length === 0) return;
    const done = ingest(sets).then(
      () => undefined,
      (err: unknown) => log(`source ${[...new Set(sets.map((s) => s.source))].join(', ')}: ${(err as Error).message}`),
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };
  return {
    push(set) {
      pending.push(set);
      scheduled ??= setImmediate(handOver);
    },
    async flush() {
      if (scheduled) clearImmediate(scheduled);
      handOver();
      // A snapshot, not a swap: a webhook's flush must not take batches out of the set a later
      // flush (the server closing) waits for.
      await Promise.all([...inFlight]);
    },
  };
}
