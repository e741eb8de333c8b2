/**
 * The shared limits of every run of one SQLite journal, kept in the journal database itself so
 * that `orch run` processes sharing a `--db` and `orch serve` count against the same slots. The
 * contract is `SharedLimitStore` (runtime/scheduler/core/limits.ts).
 *
 * Calls made in one turn of the event loop are carried out together: inside that turn's journal
 * commit when the store shares the journal's connection (one transaction per turn for the run's
 * events and its leases), else in one short `BEGIN IMMEDIATE` transaction of their own (the write
 * lock up front: two processes never deadlock upgrading a read). A busy run releases and claims
 * many slots per turn, and one commit for all of them is what keeps the shared limits about as
 * fast as the journal alone. Releases and renewals go first, so a claim in the same batch can
 * take a slot given back in it; every call is still all or nothing on its own.
 */
import { applySchema, openSharedSqlite, type SqlDatabase, type SqlStatement } from '../journal/sqlite-driver.js';
import type { SqliteJournal } from '../journal/sqlite-journal.js';
import type { SharedClaim, SharedGrant, SharedLimitStore } from '../scheduler/core/limits.js';

/**
 * Leases are keyed by an integer SQLite gives out (AUTOINCREMENT: never reused, so a lease id an
 * expired holder still releases cannot name someone else's lease), not a random UUID: a UUID key
 * is one more index b-tree written at a random place by every claim and release. No index by
 * holder either: only `renew` (about once a second) asks by holder, and the table holds nothing
 * but live leases, while every claim and release would write that index. Journals of
 * earlier versions keep their `limit_leases` table (UUID keys), unused; leases live seconds.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS slot_leases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  resource TEXT NOT NULL,
  holder TEXT NOT NULL,
  run_id TEXT,
  step_key TEXT,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS slot_leases_resource ON slot_leases (resource, expires_at);
CREATE TABLE IF NOT EXISTS rate_hits (
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  run_id TEXT
);
CREATE INDEX IF NOT EXISTS rate_hits_key ON rate_hits (key, at);
`;

interface Op {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Rate hits older than this are deleted (no `rate_limit` window is that long in practice). */
const KEEP_HITS_MS = 24 * 3600_000;

export class SqliteLimitStore implements SharedLimitStore {
  readonly leaseMs: number;
  private readonly db: SqlDatabase;
  private readonly countLeases: SqlStatement;
  private readonly windowHits: SqlStatement;
  private readonly insertLease: SqlStatement;
  private readonly insertHit: SqlStatement;
  private readonly deleteLease: SqlStatement;
  private readonly renewLeases: SqlStatement;
  private readonly dropExpired: SqlStatement;
  private readonly dropOldHits: SqlStatement;
  /** One write transaction taken with the lock up front (`busy_timeout` waits for it). */
  private readonly runOps: (ops: readonly Op[]) => unknown[];
  private lastSweep = 0;
  private batch: Op[] = [];
  private batchScheduled = false;
  /** Sharing the journal's connection: leaves its commits (see `joinCommit`). */
  private readonly leaveJournal: (() => void) | null = null;
  private fallback: ReturnType<typeof setTimeout> | null = null;

  /**
   * `journal`: this process's journal on the same file. The store then uses its connection, and
   * the calls of a turn are written inside that turn's journal commit when there is one — one
   * transaction per turn, not two — and in a transaction of their own 1 ms later otherwise.
   */
  constructor(path: string, opts: { readonly leaseMs?: number; readonly journal?: SqliteJournal } = {}) {
    this.leaseMs = opts.leaseMs ?? 3000;
    if (opts.journal) {
      this.db = opts.journal.connection;
      applySchema(this.db, SCHEMA);
      this.leaveJournal = opts.journal.addGuest({ join: () => this.joinCommit() });
    } else this.db = openSharedSqlite(path, SCHEMA);
    this.countLeases = this.db.prepare('SELECT COUNT(*) AS n FROM slot_leases WHERE resource = ? AND expires_at > ?');
    this.windowHits = this.db.prepare('SELECT COUNT(*) AS n, MIN(at) AS first FROM rate_hits WHERE key = ? AND at > ?');
    this.insertLease = this.db.prepare(
      'INSERT INTO slot_leases (resource, holder, run_id, step_key, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.insertHit = this.db.prepare('INSERT INTO rate_hits (key, at, run_id) VALUES (?, ?, ?)');
    this.deleteLease = this.db.prepare('DELETE FROM slot_leases WHERE id = ?');
    this.renewLeases = this.db.prepare('UPDATE slot_leases SET expires_at = ? WHERE holder = ? AND expires_at > ?');
    this.dropExpired = this.db.prepare('DELETE FROM slot_leases WHERE expires_at <= ?');
    this.dropOldHits = this.db.prepare('DELETE FROM rate_hits WHERE at < ?');
    this.runOps = this.db.transaction((ops: readonly Op[]) => ops.map((op) => op.fn()), 'immediate');
  }

  acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    return this.enqueue(false, () => this.acquireNow(claim, now));
  }

  release(leaseId: string): Promise<void> {
    // An id this store did not give (not an integer) names no lease: releasing it is a no-op.
    return this.enqueue(true, () => void (/^\d+$/.test(leaseId) && this.deleteLease.run(Number(leaseId))));
  }

  renew(holder: string, now: number): Promise<void> {
    // Only live leases: one that expired was given to nobody yet but may be any moment.
    return this.enqueue(true, () => void this.renewLeases.run(now + this.leaseMs, holder, now));
  }

  async close(): Promise<void> {
    this.leaveJournal?.();
    if (this.batch.length > 0) this.runBatch();
    // A shared connection is the journal's to close.
    if (!this.leaveJournal) this.db.close();
  }

  private enqueue<T>(givesBack: boolean, fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const op: Op = { fn, resolve: resolve as (v: unknown) => void, reject };
      if (givesBack) this.batch.unshift(op);
      else this.batch.push(op);
      if (!this.batchScheduled) {
        this.batchScheduled = true;
        if (this.leaveJournal) this.fallback = setTimeout(() => this.runBatch(), 1);
        else setImmediate(() => this.runBatch());
      }
    });
  }

  /**
   * Every call queued since the last batch, in one transaction. If any call throws, the whole
   * batch rolls back and every call is rejected: the contract reads a rejection as "not this
   * time" (claims are asked again, a lease not released expires on its own).
   */
  private runBatch(): void {
    const ops = this.take();
    if (ops.length === 0) return;
    if (!this.db.open) {
      for (const op of ops) op.reject(new Error('the limits store is closed'));
      return;
    }
    let results: unknown[];
    try {
      results = this.runOps(ops);
    } catch (err) {
      for (const op of ops) op.reject(err);
      return;
    }
    ops.forEach((op, i) => op.resolve(results[i]));
  }

  private take(): Op[] {
    this.batchScheduled = false;
    if (this.fallback) clearTimeout(this.fallback);
    this.fallback = null;
    const ops = this.batch;
    this.batch = [];
    return ops;
  }

  /**
   * Inside a journal commit: the pending calls in a savepoint (`runOps` nests), settled once the
   * commit is durable — or rejected with it, their writes rolled back with it.
   */
  private joinCommit(): { committed(): void; failed(err: unknown): void } | null {
    const ops = this.take();
    if (ops.length === 0) return null;
    let results: unknown[];
    try {
      results = this.runOps(ops);
    } catch (err) {
      for (const op of ops) op.reject(err);
      return null;
    }
    return {
      committed: () => ops.forEach((op, i) => op.resolve(results[i])),
      failed: (err) => ops.forEach((op) => op.reject(err)),
    };
  }

  private acquireNow(claim: SharedClaim, now: number): SharedGrant {
    if (now - this.lastSweep > this.leaseMs) {
      this.lastSweep = now;
      this.dropExpired.run(now);
      this.dropOldHits.run(now - KEEP_HITS_MS);
    }
    const res = claim.resource;
    if (res && (this.countLeases.get(res.name, now) as { n: number }).n >= res.limit) return { kind: 'held', resource: res.name };
    for (const rate of claim.rates) {
      const w = this.windowHits.get(rate.key, now - rate.perMs) as { n: number; first: number | null };
      if (w.n >= rate.count) return { kind: 'rate_limited', key: rate.key, retryAt: (w.first ?? now) + rate.perMs };
    }
    for (const rate of claim.rates) this.insertHit.run(rate.key, now, claim.runId);
    if (!res) return { kind: 'granted', leaseId: null };
    const row = this.insertLease.get(res.name, claim.holder, claim.runId, claim.stepKey, now, now + this.leaseMs) as { id: number };
    return { kind: 'granted', leaseId: String(row.id) };
  }

}
