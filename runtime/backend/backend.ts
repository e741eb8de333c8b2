/**
 * The seam between the runtime and where it keeps things: one `Backend` per database, chosen
 * once (`openBackend`, the only code that reads a `--db` value) and asked, never guessed, what
 * it can do. Each backend holds every store of its kind in a folder of its own — `sqlite/` (one
 * machine, a file), `pg/` (a cluster's database), `memory/` (this process only: `orch test`) —
 * and nothing outside `runtime/backend/` imports those folders (.dependency-cruiser.cjs).
 *
 * Every store has one contract, run against every backend (runtime/test/*-contract.test.ts).
 */
import type pg from 'pg';
import type { PeopleStore } from '../people/people-store.js';
import type { SharedLimitStore } from '../scheduler/core/limits.js';
import type { JournalSink } from '../scheduler/types.js';
import type { AsyncJournal } from './async-journal.js';
import type { ClusterLock } from './cluster-lock.js';
import type { ContextJournal } from './context-journal.js';
import type { MigrateResult } from './pg/migrations.js';
import type { BackendPruneResult } from './retention.js';
import type { SqliteJournal } from './sqlite/journal.js';
import type { TriggerStateStore } from './trigger-state.js';

export type BackendKind = 'sqlite' | 'postgres' | 'memory';

/** What a backend can do, asked by the commands that need it (never read from its URL). */
export interface BackendCapabilities {
  /** Steps may run on `orch worker` processes (the step queue lives in the database). */
  readonly workers: boolean;
  /**
   * Processes on many machines may share it: an owner is judged by its heartbeat, so a server
   * takes over a run whose owner went silent at any time, not only when it starts.
   */
  readonly sharedServers: boolean;
  /** What it keeps outlives this process (resume, controls from another process, `orch runs`). */
  readonly durable: boolean;
  /** Its schema is brought up to date by `orch db migrate`, not on open. */
  readonly migrations: boolean;
}

/** What a `Runtime` needs of a journal besides the `AsyncJournal` operations. */
export interface RuntimeJournal {
  readonly store: AsyncJournal;
  /** The SQLite journal itself (null elsewhere), for callers that read it synchronously. */
  readonly sqlite: SqliteJournal | null;
  /** What runs commit to (SQLite's and memory's commit synchronously: a commit and its effects in one turn). */
  readonly sink: JournalSink;
  /**
   * Reads the events of a run's sub-plan runs before it resumes (`sink.load` is synchronous);
   * the ids of those it read (none where `load` reads the store as asked).
   */
  preload(runId: string): Promise<readonly string[]>;
  /** The run stopped executing here (finished, or suspended at an approval). */
  finished(runId: string): Promise<void>;
}

/** Browser sessions: the part of the people store sign-in and sign-out use. */
export type SessionStore = Pick<PeopleStore, 'createSession' | 'session' | 'deleteSession' | 'deleteSessionsOf' | 'close'>;

/** Connections to a cluster's database, for the step queue (`runtime/cluster/`). */
export interface ClusterDatabase {
  /** Where it is, for messages (no password). */
  readonly displayName: string;
  /** A pool on the database, refused with "run `orch db migrate`" when its schema is not this Orch's. */
  pool(max: number, opts?: { readonly genericPlans?: boolean }): Promise<pg.Pool>;
  /** A pool that does not check the schema first (a worker's heartbeat, on a pool of its own). */
  rawPool(max: number): pg.Pool;
  /** A client of its own (LISTEN needs one). */
  client(): pg.Client;
}

export interface Backend {
  readonly kind: BackendKind;
  /** Where it keeps things, for messages: a path, a URL without its password, or `memory`. */
  readonly displayName: string;
  readonly capabilities: BackendCapabilities;
  /** Whether anything was ever kept there (a SQLite file not there yet: nothing has been run). */
  exists(): boolean;
  /** The journal: opened on first use, one per backend, closed by `close`. */
  journal(): Promise<RuntimeJournal>;
  /**
   * Resource slots, rate windows and budget ledgers shared by every process on this database;
   * null when only this process can use it (then the runtime keeps them in memory). The caller
   * closes it.
   */
  limits(): Promise<SharedLimitStore | null>;
  /** Sessions, API tokens, the audit trail and sign-in failure counts. The caller closes it. */
  people(): Promise<PeopleStore>;
  /** The sessions of the people store. The caller closes it. */
  sessions(): Promise<SessionStore>;
  /** `orch serve`'s trigger state: last ticks, condition edges, claims, context. The caller closes it. */
  triggerState(): Promise<TriggerStateStore>;
  /** The context's own events (§9.4), apart from any run. The caller closes it. */
  contextJournal(): Promise<ContextJournal>;
  /** Brings the schema up to date (`orch db migrate`); nothing to do where it is made on open. */
  migrate(): Promise<MigrateResult>;
  /**
   * Deletes finished top-level runs (with their sub-plan runs) that completed before `before`,
   * and the context's events journaled before it (§9.4: pruned with the journal's retention).
   */
  prune(before: number): Promise<BackendPruneResult>;
  /**
   * A lock one process at a time holds among those on this database, by name (`context`: who
   * subscribes to the sources and fires the `when` triggers, §9.4). Held at once where only one
   * process can use the database.
   */
  lock(name: string): ClusterLock;
  /** The cluster's database, where `capabilities.workers`; null elsewhere. */
  readonly cluster: ClusterDatabase | null;
  /** Closes the journal (if it was opened). */
  close(): Promise<void>;
}
