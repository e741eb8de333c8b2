/** How one run is started or resumed (`Run`'s options): its identity, what it resumes from, and how it reports. */
import type { CoreOptions } from './core/run-state.js';
import type { ExecutionResult } from './types.js';

/** The core's options (what a run is: its identity, what it resumes, who started it) and how it reports. */
export interface RunOptions extends CoreOptions {
  /** The same as `recovered`, for the sub-plan runs of this run (and theirs), by sub-plan run id. */
  readonly recoveredSubplans?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Called synchronously with the result once the run ended and it was committed (before `done`
   * settles). Parent runs use it for sub-plans so a virtual-clock run stays synchronous.
   */
  readonly onFinish?: (result: ExecutionResult) => void;
  /**
   * A sub-plan's parent hears what the sub-plan waits for whenever that changes: the approvals,
   * when nothing else can happen in it; `[]` once something can (the parent is paused meanwhile).
   */
  readonly onApprovalWait?: (waiting: readonly string[]) => void;
}
