/**
 * Why a run stopped here unfinished: this process let it go (`orch serve` shutting down, a plan
 * switched), or another process took it over (its lease moved on while this one was silent).
 */
export type DetachedBecause = 'let-go' | 'taken-over';

/** `Run.done` of a run stopped by `detach()`: it is unfinished in the journal, not failed. */
export class RunDetached extends Error {
  constructor(
    readonly runId: string,
    readonly because: DetachedBecause = 'let-go',
  ) {
    super(because === 'taken-over' ? `run ${runId} was taken over by another process` : `run ${runId} was left unfinished (resumable)`);
    this.name = 'RunDetached';
  }
}
