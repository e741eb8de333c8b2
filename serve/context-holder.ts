/**
 * Which `orch serve` subscribes to the context's sources (LANGUAGE.md §9.4): the one holding the
 * backend's `context` lock — at once on SQLite, one server of a cluster on Postgres, the others
 * standing by and taking over when the holder's connection closes. So a message reaches one
 * server and starts one run, not one per server. Losing the lock (its connection dropped) closes
 * the subscriptions until it is held again.
 */
import type { ClusterLock } from '../runtime/index.js';
import type { ContextSources } from './context-sources.js';

export interface ContextHolder {
  /** Whether this server holds the subscriptions now. */
  holding(): boolean;
  release(): Promise<void>;
}

export interface ContextHolderOptions {
  readonly lock: ClusterLock;
  readonly sources: ContextSources;
  readonly log: (line: string) => void;
  /** Told each time this server starts holding (before it subscribes) or stops (before it unsubscribes). */
  readonly onChange?: (holding: boolean) => void;
}

/** Resolves once the subscriptions are made where the lock is held at once; else as soon as asked. */
export async function holdContext(o: ContextHolderOptions): Promise<ContextHolder> {
  let holding = false;
  let released = false;
  // Starts and stops one after another: a loss during a start closes what that start opened.
  let turn: Promise<void> = Promise.resolve();
  const queue = (f: () => Promise<void>): Promise<void> => (turn = turn.then(f).catch((err: unknown) => o.log(`the context's sources: ${(err as Error).message}`)));
  let first: Promise<void> | null = null;
  o.lock.hold({
    held: () => {
      first = queue(async () => {
        if (released) return;
        holding = true;
        o.log('this server holds the context: subscribing to its sources');
        o.onChange?.(true);
        await o.sources.start();
      });
    },
    waiting: () => o.log("another server holds the context's sources: standing by"),
    lost: () =>
      void queue(async () => {
        holding = false;
        o.log("lost the context's lock (its connection dropped): the sources are closed until it is held again");
        o.onChange?.(false);
        await o.sources.close();
      }),
  });
  if (first) await first;
  return {
    holding: () => holding,
    release: async () => {
      released = true;
      holding = false;
      // Closed before the lock goes: the next holder never subscribes beside this one.
      await queue(() => o.sources.close());
      await o.lock.release();
    },
  };
}
