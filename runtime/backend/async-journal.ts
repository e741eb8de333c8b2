/**
 * The journal as an asynchronous interface: what `SqliteJournal` does, with every operation
 * returning a promise, so that a journal on a network database (`PgJournal`) and the SQLite one
 * (through `asyncJournal`) are interchangeable and held to one contract
 * (runtime/test/journal-contract.test.ts). The semantics of each operation are those documented
 * on `SqliteJournal`.
 */
import type { CommitHook, EventData, EventType, RunEvent, RunSummary } from '../scheduler/types.js';
import type { PruneResult } from './retention.js';
import type { JournalCorrupt } from '../journal-corrupt.js';

/** A run's row: its summary, what resuming needs (IR, input) and who executes it. */
export interface RunRow {
  readonly id: string;
  readonly plan: string;
  readonly parent_id: string | null;
  readonly status: string;
  readonly started_at: number;
  readonly completed_at: number | null;
  readonly cost: number;
  readonly error: string | null;
  readonly ir: string | null;
  readonly input: string | null;
  readonly owner_pid: number | null;
  readonly heartbeat_at: number | null;
  readonly event_count?: number;
  /** Which trigger started the run, as `triggerColumn` stores it (`triggerOfRow` reads it). */
  readonly trigger?: string | null;
}

/**
 * The run row's `trigger` column, kept with the row so a run list needs no run's events: the
 * trigger's name, `''` when no trigger started the run, NULL when the starter did not say (rows
 * written before the column, `orch run`).
 */
export function triggerColumn(trigger: string | null | undefined): string | null {
  return trigger === undefined ? null : (trigger ?? '');
}

/** The trigger that started a row's run: a name, `null` for none, `undefined` when not known. */
export function triggerOfRow(row: Pick<RunRow, 'trigger'>): string | null | undefined {
  const t = row.trigger;
  return t === null || t === undefined ? undefined : t === '' ? null : t;
}

/** A control for a run (pause, cancel, an answer, …), taken once by the process executing it. */
export interface ControlRow {
  readonly id: number;
  readonly run_id: string;
  readonly kind: 'pause' | 'resume' | 'cancel' | 'signal' | 'context' | 'cancel_step' | 'upgrade';
  readonly step_id: string | null;
  readonly payload: string | null;
}

/**
 * A write refused because another process took the run over (its lease moved on): this process
 * must stop advancing the run, which stays unfinished for its new owner.
 */
export class LeaseLost extends Error {
  readonly code = 'ORCH_LEASE_LOST';
  constructor(readonly runId: string) {
    super(`run ${runId} was taken over by another process`);
    this.name = 'LeaseLost';
  }
}

export interface AsyncJournal {
  /** Where the journal lives, for messages (a path, or a URL without its password). */
  readonly location: string;
  /** Replaces secret values in journal text; set by the runtime once secrets are known. */
  redactText: (text: string) => string;
  /** The run summary and the events it follows from, in ONE transaction. */
  /** `hooks`: run inside the commit's transaction (Postgres only; SQLite runs never have any). */
  commit(summary: RunSummary, events: readonly RunEvent[], hooks?: readonly CommitHook[]): Promise<void>;
  /** Stores what resuming needs (the IR and the input) before the first event. */
  registerRun(runId: string, planName: string, ir: unknown, input: unknown, startedAt: number, parentId?: string | null, trigger?: string | null): Promise<void>;
  load(runId: string): Promise<RunEvent[]>;
  /** The run's first event (its `plan_created`: who started it, §9.1), without reading the rest. */
  first(runId: string): Promise<RunEvent | undefined>;
  getRun(runId: string): Promise<RunRow | undefined>;
  /**
   * Runs newest first (top-level only unless `all`), with their event counts, without IR and
   * input. A damaged row (`JournalCorrupt`) throws, or with `damaged` is given to it and left out.
   */
  listRuns(all?: boolean, damaged?: (err: JournalCorrupt) => void): Promise<RunRow[]>;
  /** Top-level runs whose status is not terminal (running or paused), oldest first. */
  unfinishedRuns(): Promise<RunRow[]>;
  addControl(runId: string, kind: ControlRow['kind'], stepId?: string | null, payload?: unknown): Promise<void>;
  /** Unconsumed control rows of a run, marked consumed in the same transaction: each is taken once. */
  takeControls(runId: string): Promise<ControlRow[]>;
  /** Unconsumed control rows of a run, left for their consumer (what is asked of it and not yet taken). */
  pendingControls(runId: string): Promise<ControlRow[]>;
  /** Rejects with `LeaseLost` when another process took the run over. */
  heartbeat(runId: string): Promise<void>;
  /**
   * Takes a run for this process before resuming it: false while another live process holds it.
   * On Postgres it is one statement, so of several processes asking at once one gets it.
   * `staleMs`: on Postgres, how old the owner's heartbeat must be for the run to be taken over
   * (default 10 s); SQLite, on one machine, asks the owner's pid instead.
   */
  acquire(runId: string, staleMs?: number): Promise<boolean>;
  /**
   * Whether another live process is executing the run: SQLite asks the owner pid (one machine);
   * Postgres, whose owners may be on other machines, trusts only a heartbeat fresher than `staleMs`.
   */
  ownedElsewhere(runId: string, staleMs?: number): Promise<boolean>;
  /** For a run no process executes: one event after its last one, and its new status. */
  appendOffline<T extends EventType>(runId: string, type: T, data: EventData<T>, status: string): Promise<void>;
  /**
   * `orch upgrade` of a run no process executes: its recorded IR replaced and `plan_upgraded`
   * appended after its last event, in one transaction. False (nothing written) when a live
   * process holds the run, as seen inside that transaction.
   */
  upgradeOffline(runId: string, ir: unknown, data: EventData<'plan_upgraded'>): Promise<boolean>;
  /** This process stops executing the run and its sub-plan runs. */
  disown(runId: string): Promise<void>;
  /** Calls counted against the rate-limit key `key` after `since` (epoch ms), by every process on the database. */
  rateHitsSince(key: string, since: number): Promise<number>;
  /** Deletes finished top-level runs (and their sub-plan runs) that completed before `before`. */
  prune(before: number): Promise<PruneResult>;
  close(): Promise<void>;
}
