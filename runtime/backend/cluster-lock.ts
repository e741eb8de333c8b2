/**
 * One process at a time among those sharing a database (the contract of each backend's lock):
 * what makes exactly one `orch serve` of a cluster hold the context's subscriptions and fire its
 * `when` triggers (LANGUAGE.md §9.4). Where only one process can use the database (SQLite,
 * memory) it is held at once; on Postgres it is a session advisory lock on a connection of its
 * own, so it is let go the moment its holder's connection closes — a crash included — and the
 * next waiting server takes it.
 */

export interface ClusterLockHandlers {
  /** This process holds it now. */
  held(): void;
  /** Another process holds it: this one waits (told once per wait). */
  waiting?(): void;
  /** This process stopped holding it (its connection dropped): it is trying again. */
  lost(): void;
}

export interface ClusterLock {
  /** Starts trying to hold it, for as long as the process wants it (until `release`). */
  hold(h: ClusterLockHandlers): void;
  /** Lets it go (or stops waiting for it). */
  release(): Promise<void>;
}

/** A lock no other process can want: held as soon as asked, in the same turn. */
export function soleHolder(): ClusterLock {
  return {
    hold: (h) => h.held(),
    release: async () => undefined,
  };
}
