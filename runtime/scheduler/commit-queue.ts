/**
 * Keeps a run's journal commits in order and runs what waits for each (the effects of that state
 * change) only once it is durable. A synchronous journal (SQLite) commits on the spot and the
 * effects follow at once, as before; a journal that answers with a promise (a network database)
 * gets the run's next commit only after the previous one settled, so its commits never overlap
 * and the run row never goes back to an older status.
 *
 * Group commit: the turns that end while a commit is in flight are written together, as one
 * commit, once it settled — their events in order, the latest summary, all their hooks — and
 * their effects follow in order. On Postgres a run then costs one durable commit per round trip
 * to the database rather than one per turn, however many outcomes arrive meanwhile.
 */
import type { CommitHook, JournalSink, RunEvent, RunSummary } from './types.js';

/** Turns waiting behind the commit in flight, to be written as one. */
interface Group {
  summary: RunSummary | null;
  readonly events: RunEvent[];
  readonly hooks: CommitHook[];
  readonly after: (() => void)[];
}

export class CommitQueue {
  private inFlight = 0;
  private chain: Promise<unknown> = Promise.resolve();
  /** The group later turns join until its commit begins. */
  private open: Group | null = null;

  constructor(
    private readonly journal: JournalSink | undefined,
    /** The journal refused a write: the run cannot go on. */
    private readonly failed: (err: unknown) => void,
    /** The run was abandoned: nothing queued is written or carried out any more. */
    private readonly abandoned: () => boolean,
  ) {}

  /** No commit is in flight. */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  /**
   * Writes `events` with the summary they lead to (none: nothing to write), then calls `after`.
   * `hooks` run inside that commit's transaction (nothing written: they do not run).
   */
  submit(summary: RunSummary | null, events: readonly RunEvent[], after: () => void, hooks: readonly CommitHook[] = []): void {
    if (this.inFlight > 0) return this.join(summary, events, after, hooks);
    let pending: void | Promise<void> = undefined;
    if (summary && events.length > 0 && this.journal) {
      try {
        pending = hooks.length ? this.journal.commit(summary, events, hooks) : this.journal.commit(summary, events);
      } catch (err) {
        this.failed(err);
        return;
      }
    }
    if (!pending || typeof pending.then !== 'function') return after();
    const committed = pending.then(
      () => true,
      (err: unknown) => (this.failed(err), false),
    );
    this.follow(() => committed, after);
  }

  private join(summary: RunSummary | null, events: readonly RunEvent[], after: () => void, hooks: readonly CommitHook[]): void {
    const open = this.open;
    if (open !== null) {
      // A turn with no events leaves the summary as the last one that had some.
      if (summary && events.length > 0) open.summary = summary;
      open.events.push(...events);
      open.hooks.push(...hooks);
      open.after.push(after);
      return;
    }
    const group: Group = { summary: summary && events.length > 0 ? summary : null, events: [...events], hooks: [...hooks], after: [after] };
    this.open = group;
    this.follow(
      () => {
        // Its commit begins: later turns start the next group.
        if (this.open === group) this.open = null;
        return this.commitLater(group.summary, group.events, group.hooks);
      },
      () => {
        for (const a of group.after) a();
      },
    );
  }

  private follow(committed: () => Promise<boolean>, after: () => void): void {
    this.inFlight++;
    this.chain = this.chain.then(committed).then((ok) => {
      this.inFlight--;
      if (ok && !this.abandoned()) after();
    });
  }

  private async commitLater(summary: RunSummary | null, events: readonly RunEvent[], hooks: readonly CommitHook[]): Promise<boolean> {
    if (this.abandoned()) return false;
    if (!summary || events.length === 0 || !this.journal) return true;
    try {
      await (hooks.length ? this.journal.commit(summary, events, hooks) : this.journal.commit(summary, events));
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }
}
