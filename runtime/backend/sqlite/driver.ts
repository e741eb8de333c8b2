/**
 * The one SQLite interface the journal (and `orch serve`'s trigger state) is written against, so
 * that which engine runs underneath is decided here alone:
 *
 * - `node:sqlite` (Node's built-in `DatabaseSync`) wherever the running Node has it unflagged
 *   (22.13+, 24, 26 …): nothing native to build, and no addon destructor running at environment
 *   teardown — better-sqlite3 ≤ 12 aborts the process there on Node 24 (see docs/architecture.md).
 * - `better-sqlite3` otherwise (Node 20), loaded lazily so nothing requires it — nor its `.node`
 *   file — on a Node that does not need it.
 *
 * `ORCH_SQLITE_DRIVER=node:sqlite|better-sqlite3` forces one (bench comparisons, tests).
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/** A value SQLite stores: what both engines bind and return (integers as JS numbers). */
export type SqlValue = string | number | bigint | Buffer | Uint8Array | null;
export type SqlParams = readonly SqlValue[] | [{ readonly [name: string]: SqlValue }];

export interface SqlStatement {
  run(...params: SqlParams): { readonly changes: number | bigint };
  get(...params: SqlParams): unknown;
  all(...params: SqlParams): unknown[];
}

export interface SqlDatabase {
  /** Which engine this connection uses. */
  readonly driver: SqliteDriverName;
  readonly open: boolean;
  /** Runs one or more statements without results (schema, pragmas). */
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /**
   * Wraps `fn` so each call runs in one transaction: committed on return, rolled back on throw.
   * `immediate` takes the write lock at BEGIN (waiting out busy_timeout): a transaction that reads
   * before it writes otherwise fails with SQLITE_BUSY_SNAPSHOT, unretried, when another process
   * wrote in between.
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R, mode?: 'deferred' | 'immediate'): (...args: A) => R;
  /** Idempotent. */
  close(): void;
}

export interface OpenOptions {
  /** Opens an existing file read-only; a missing file is an error. */
  readonly readonly?: boolean;
}

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** Opens a database file (or `:memory:`) with the engine this Node uses. */
export function openSqlite(path: string, opts: OpenOptions = {}): SqlDatabase {
  return sqliteDriver() === 'node:sqlite' ? openBuiltin(path, opts) : openBetterSqlite(path, opts);
}

/** How long opening a shared file keeps retrying a lock SQLite would not wait for. */
const SHARED_OPEN_TIMEOUT_MS = 5000;

/**
 * Opens a file several processes share — WAL, `synchronous = NORMAL`, a 5 s busy timeout — and
 * applies `schema` (idempotent DDL), then `migrate`, in one transaction under the write lock.
 *
 * Two processes that open the same fresh file at once race on it: switching it to WAL and
 * creating its tables upgrade a read lock to a write lock, and SQLite answers an upgrade that
 * could deadlock with "database is locked" at once rather than waiting out busy_timeout. Those
 * steps are retried (with jitter, for up to 5 s) instead of failing `orch run`.
 */
export function openSharedSqlite(path: string, schema: string, migrate?: (db: SqlDatabase) => void): SqlDatabase {
  const db = openSqlite(path);
  try {
    const retrying = retryingLocks(db);
    retrying('PRAGMA busy_timeout = 5000');
    retrying('PRAGMA journal_mode = WAL');
    // WAL + NORMAL: a committed transaction survives a process crash (kill -9); only an OS crash
    // could lose the last transactions, the usual trade-off of embedded journals.
    retrying('PRAGMA synchronous = NORMAL');
    applySchema(db, schema, migrate);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Applies `schema`, then `migrate`, in one transaction under the write lock, to a connection
 * `openSharedSqlite` opened (a second store sharing the journal's connection brings its tables).
 */
export function applySchema(db: SqlDatabase, schema: string, migrate?: (db: SqlDatabase) => void): void {
  retryingLocks(db)(() => {
    db.exec(`BEGIN IMMEDIATE; ${schema}`);
    migrate?.(db);
    db.exec('COMMIT');
  });
}

/** Runs `work`, retrying (with jitter, for up to 5 s) while SQLite answers that the file is locked. */
function retryingLocks(db: SqlDatabase): (work: string | (() => void)) => void {
  const deadline = Date.now() + SHARED_OPEN_TIMEOUT_MS;
  return (work) => {
    for (;;) {
      try {
        if (typeof work === 'string') db.exec(work);
        else work();
        return;
      } catch (err) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // No transaction was open.
        }
        if (!isBusy(err) || Date.now() > deadline) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 40);
      }
    }
  };
}

/** SQLITE_BUSY (or one of its extended codes) from either engine. */
function isBusy(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_BUSY')) return true;
  if (typeof e.errcode === 'number' && (e.errcode & 0xff) === 5) return true;
  return typeof e.message === 'string' && /database is locked/.test(e.message);
}

let chosen: SqliteDriverName | undefined;

/** The engine `openSqlite` uses in this process. */
export function sqliteDriver(): SqliteDriverName {
  if (chosen) return chosen;
  const forced = process.env.ORCH_SQLITE_DRIVER;
  if (forced === 'node:sqlite' || forced === 'better-sqlite3') chosen = forced;
  else if (forced) throw new Error(`ORCH_SQLITE_DRIVER must be node:sqlite or better-sqlite3, not ${JSON.stringify(forced)}`);
  else chosen = builtinSqlite() ? 'node:sqlite' : 'better-sqlite3';
  return chosen;
}

// ───────────────────────────── node:sqlite ─────────────────────────────

/** The part of `node:sqlite` used here (@types/node 20 does not describe the module). */
interface BuiltinStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface BuiltinDatabase {
  readonly isOpen: boolean;
  readonly isTransaction: boolean;
  exec(sql: string): void;
  prepare(sql: string): BuiltinStatement;
  close(): void;
}
interface BuiltinModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => BuiltinDatabase;
}

let builtin: BuiltinModule | null | undefined;

/**
 * `node:sqlite` when this Node exposes it without a flag, else null. Node 22.13–24 announce it
 * with an ExperimentalWarning on stderr at load; that one warning is not the user's business
 * (every `orch` command would print it), so it alone is dropped while the module loads.
 */
function builtinSqlite(): BuiltinModule | null {
  if (builtin !== undefined) return builtin;
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : warning.message;
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'ExperimentalWarning' && /SQLite/i.test(text)) return;
    return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    const mod = get?.call(process, 'node:sqlite') as Partial<BuiltinModule> | undefined;
    builtin = typeof mod?.DatabaseSync === 'function' ? (mod as BuiltinModule) : null;
  } catch {
    builtin = null;
  } finally {
    process.emitWarning = emitWarning;
  }
  return builtin;
}

function openBuiltin(path: string, opts: OpenOptions): SqlDatabase {
  const mod = builtinSqlite();
  if (!mod) throw new Error(`node:sqlite is not available on Node ${process.version}`);
  const db = new mod.DatabaseSync(path, opts.readonly ? { readOnly: true } : {});
  let savepoints = 0;
  return {
    driver: 'node:sqlite',
    get open() {
      return db.isOpen;
    },
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql) as SqlStatement,
    transaction:
      <A extends unknown[], R>(fn: (...args: A) => R, mode: 'deferred' | 'immediate' = 'deferred') =>
      (...args: A): R => {
        // Nested calls become savepoints, as with better-sqlite3's transaction().
        const nested = db.isTransaction;
        const name = `orch_sp${++savepoints}`;
        db.exec(nested ? `SAVEPOINT ${name}` : mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
        try {
          const result = fn(...args);
          db.exec(nested ? `RELEASE ${name}` : 'COMMIT');
          return result;
        } catch (err) {
          if (db.isTransaction) db.exec(nested ? `ROLLBACK TO ${name}; RELEASE ${name}` : 'ROLLBACK');
          throw err;
        } finally {
          savepoints--;
        }
      },
    close: () => {
      if (db.isOpen) db.close();
    },
  };
}

// ───────────────────────────── better-sqlite3 ─────────────────────────────

function openBetterSqlite(path: string, opts: OpenOptions): SqlDatabase {
  let Database: typeof BetterSqlite3;
  try {
    Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw new Error(
      // First line only: Node's "Require stack" lists local paths and says nothing more.
      `the run journal needs SQLite: Node ${process.version} has no built-in node:sqlite (Node 22.13+), and better-sqlite3 does not load on this Node (ABI ${process.versions.modules}): ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const db = new Database(path, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  return {
    driver: 'better-sqlite3',
    get open() {
      return db.open;
    },
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => db.prepare(sql) as unknown as SqlStatement,
    transaction: (fn, mode = 'deferred') => (mode === 'immediate' ? db.transaction(fn).immediate : db.transaction(fn)),
    close: () => {
      if (db.open) db.close();
    },
  };
}
