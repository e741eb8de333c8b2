/**
 * Keeps a run's journal commits in order and runs what waits for each (the effects of that state
 * change) only once it is durable. A synchronous journal (SQLite) commits on the spot and the
 * effects follow at once, as before; a journal that answers with a promise (a network database)
 * gets the run's next commit only after the previous one settled, so its commits never overlap
 * and the run row never goes back to an older status.
 */
import type { CommitHook, JournalSink, RunEvent, RunSummary } from './types.js';

export class CommitQueue {
  private inFlight = 0;
  private chain: Promise<unknown> = Promise.resolve();

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
    if (this.inFlight > 0) return this.follow(() => this.commitLater(summary, events, hooks), after);
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
