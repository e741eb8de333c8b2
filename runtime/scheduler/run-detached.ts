/** `Run.done` of a run stopped by `detach()`: it is unfinished in the journal, not failed. */
export class RunDetached extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} was left unfinished (resumable)`);
    this.name = 'RunDetached';
  }
}
