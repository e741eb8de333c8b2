/**
 * Folds a run's journal into what resuming needs: the last known record of every step instance,
 * whether the run was paused, the context, and the next sequence number. It applies the same
 * fold (`core/fold.ts`) the live scheduler applies to every event it emits. Pure.
 */
import { cancelUnstarted, endsUnstarted, foldRun, foldStep, newFacts, newRecord, type StepRecord } from './core/fold.js';
import { JournalCorrupt, reason } from '../journal-corrupt.js';
import type { Starter } from '../people/identity.js';
import type { RunOrigin } from './core/run-origin.js';
import type { RunEvent } from './types.js';

export type RestoredStep = StepRecord;

export interface RestoredRun {
  readonly steps: Map<string, RestoredStep>;
  readonly paused: boolean;
  readonly terminal: boolean;
  readonly startedAt: number | null;
  readonly lastSeq: number;
  readonly context: { [key: string]: unknown };
  /** §9.4: when each context value was set (its event's time). */
  readonly contextAt?: { readonly [key: string]: number };
  /** v0.2: the last iteration each loop started, the winner of each decided race, whole-step cancels. */
  readonly iterations: { readonly [loop: string]: number };
  readonly winners: { readonly [race: string]: string };
  readonly cancelRequests: readonly string[];
  /** Who started the run (v0.3 journals: a person who used `POST /runs`, else none). */
  readonly startedBy?: Starter | null;
  /** §9.1: where else the run came from (its cause, its chain, whether it is bound to people). */
  readonly origin?: Omit<RunOrigin, 'started_by'>;
  /** The `warn` budgets already journaled as exceeded (`warnedKey`). */
  readonly warned?: readonly string[];
  /**
   * §9.4: every context value the run was given, in journal order with its event's time — what a
   * `hold` needs to go on across a resume (the current values alone do not say when a `true` ended).
   */
  readonly contextHistory?: readonly ContextSample[];
}

export interface ContextSample {
  readonly name: string;
  readonly value: unknown;
  readonly at: number;
}

export function replay(events: Iterable<RunEvent>): RestoredRun {
  const steps = new Map<string, RestoredStep>();
  const facts = newFacts();
  const contextHistory: ContextSample[] = [];
  for (const e of events) {
    try {
      foldRun(facts, e);
    } catch (err) {
      // The fold takes each event's data as its type says (journal-events.ts): one that is not
      // (a row edited by hand) throws here, and is said to be the journal's fault.
      if (err instanceof TypeError) throw new JournalCorrupt(e.runId, `event ${e.seq} (${e.type})`, `lacks the fields its type has (${reason(err)})`);
      throw err;
    }
    if (e.type === 'plan_created' || e.type === 'context_updated')
      for (const [name, value] of Object.entries(e.type === 'plan_created' ? e.data.context : e.data.patch)) contextHistory.push({ name, value, at: e.ts });
    if (endsUnstarted(e)) for (const s of steps.values()) cancelUnstarted(s, e);
    if (e.stepId === null || !(e.type.startsWith('step_') || e.type === 'attempt_lost' || e.type === 'approval_decided' || e.type === 'compensation_started')) continue;
    let s = steps.get(e.stepId);
    if (!s) steps.set(e.stepId, (s = newRecord()));
    foldStep(s, e, facts);
  }
  const { paused, terminal, startedAt, lastSeq, context, contextAt, iterations, winners, cancelRequests, startedBy, origin, warned } = facts;
  return { steps, paused, terminal, startedAt, lastSeq, context, contextAt, iterations, winners, cancelRequests, startedBy, origin, warned, contextHistory };
}
