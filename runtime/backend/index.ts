/**
 * The backend seam as the rest of the runtime uses it: the `Backend` interface and its stores'
 * contracts, `openBackend` (the one reader of a `--db` value) and `memoryBackend`. The stores of
 * each backend (`sqlite/`, `pg/`, `memory/`) are reached only through a `Backend`.
 */
export type { Backend, BackendCapabilities, BackendKind, ClusterDatabase, RuntimeJournal, SessionStore } from './backend.js';
export { databaseOf, DEFAULT_DB, openBackend } from './open-backend.js';
export { memoryBackend } from './memory/backend.js';
export { LeaseLost, triggerOfRow, type AsyncJournal, type ControlRow, type RunRow } from './async-journal.js';
export { JournalCorrupt } from '../journal-corrupt.js';
export type { TriggerStateStore } from './trigger-state.js';
export { soleHolder, type ClusterLock, type ClusterLockHandlers } from './cluster-lock.js';
export type { ContextEventQuery, ContextEventRow, ContextEventType, ContextJournal, StoredContextEvent } from './context-journal.js';
export { parseAge, RETENTION_INTERVAL_MS, type BackendPruneResult, type PruneResult } from './retention.js';
export type { MigrateResult } from './pg/migrations.js';
/** SQLite's own engine and file layout, for the benches that measure them (no store opens through these). */
export { openSqlite, sqliteDriver, type SqlDatabase, type SqliteDriverName } from './sqlite/driver.js';
export { SEQ_SPAN } from './sqlite/event-batches.js';
