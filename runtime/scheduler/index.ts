/**
 * The scheduler — the same code runs `orch run` and `orch verify`. `core/` decides (a state
 * machine: `handle(event, at) → commands`, no I/O); `Run` (`run.ts`) drives it: it stamps events with
 * the clock's time, commits journal commands, arms timers and starts attempts.
 *
 * ## How to drive the scheduler
 *
 * ```ts
 * import { Run, VirtualClock } from '../runtime/scheduler/index.js';
 * const clock = new VirtualClock(0);
 * const run = new Run(plan, {
 *   clock,                                   // Clock: now / setTimer / cancelTimer (real or virtual)
 *   executor: {                              // Executor: one attempt of a capability call
 *     start(req, done) {                     // req: stepId, attempt, capability, input, resource …
 *       const t = clock.setTimer(100, () => done({ ok: true, output: { id: 'x' } }));
 *       return { abort: () => clock.cancelTimer(t) };
 *     },
 *   },
 *   observe(event, reader) {                 // every state transition, right after it happened
 *     reader.stepView('send');               // StepView (for invariants), reader.actuals() …
 *   },
 *   // journal?: JournalSink                 // SQLite in `orch run`; omitted by the verifier
 *   // hooks?, secret?, random?, defer?
 * }, { runId: 'sim-1', input: { … }, context: { … } });
 * const done = run.start();                  // emits plan_created, execution_started, queues roots
 * clock.runAll();                            // fire timers until nothing is left to do
 * const result = await done;                 // ExecutionResult (LANGUAGE.md §6)
 * ```
 *
 * Rules the core relies on:
 * - `executor.start` must call `done` asynchronously (e.g. from a clock timer), exactly once,
 *   unless it was aborted first. The scheduler owns step timeouts (it arms a clock timer and
 *   aborts the attempt), so a simulated executor does not need to model them.
 * - Without `defer`, every state change is committed and its effects run synchronously, so a
 *   virtual-clock run is fully deterministic for a given executor and `random`. With `defer`
 *   (`orch run`) changes in one event-loop turn share one journal transaction.
 * - `observe` is called once per journal event, after the state change it records; the reader
 *   then shows exactly that state. Observers must not call back into the run.
 * - Controls: `pause()`, `resume()`, `cancel(reason)`, `cancelStep(stepId)`, `signal(stepId, 'approve'|'reject', by)`,
 *   `updateContext(patch)`. `result()` gives the execution result at any time.
 * - Resuming: `new Run(plan, deps, { runId, restored: replay(eventsFromJournal) })` continues an
 *   interrupted run (completed steps are never re-run; in-flight ones run again with the next
 *   `attempt`, or fail as failed-unknown when not idempotent unless `rerunInFlight`).
 */
export { Run, RunDetached, type RunOptions } from './run.js';
export {
  InProcessLimits,
  InRunLimits,
  LimitCounters,
  budgetLedger,
  rateRules,
  rateWindow,
  type RateRule,
  type BudgetClaim,
  type Grant,
  type ItemSlot,
  type Lease,
  type LimitsProvider,
  type LimitsService,
  type SharedClaim,
  type SharedGrant,
  type SharedLimitStore,
  type SlotRequest,
} from './core/limits.js';
export { replay, type RestoredRun, type RestoredStep } from './replay.js';
export { resultFromJournal } from './journal-result.js';
export { realClock, VirtualClock } from './clock.js';
export type * from './types.js';
