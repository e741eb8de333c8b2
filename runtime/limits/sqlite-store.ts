/**
 * The shared limits of every run of one SQLite journal, kept in the journal database itself so
 * that `orch run` processes sharing a `--db` and `orch serve` count against the same slots. Each
 * call is one short `BEGIN IMMEDIATE` transaction (the write lock up front: two processes never
 * deadlock upgrading a read). The contract is `SharedLimitStore` (runtime/scheduler/core/limits.ts).
 */
import { randomUUID } from 'node:crypto';
import { openSqlite, type SqlDatabase, type SqlStatement } from '../journal/sqlite-driver.js';
import type { SharedClaim, SharedGrant, SharedLimitStore } from '../scheduler/core/limits.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS limit_leases (
  id TEXT PRIMARY KEY,
  resource TEXT NOT NULL,
  holder TEXT NOT NULL,
  run_id TEXT,
  step_key TEXT,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS limit_leases_resource ON limit_leases (resource, expires_at);
CREATE INDEX IF NOT EXISTS limit_leases_holder ON limit_leases (holder);
CREATE TABLE IF NOT EXISTS rate_hits (
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  run_id TEXT
);
CREATE INDEX IF NOT EXISTS rate_hits_key ON rate_hits (key, at);
`;

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
  private lastSweep = 0;

  constructor(path: string, opts: { readonly leaseMs?: number } = {}) {
    this.leaseMs = opts.leaseMs ?? 3000;
    this.db = openSqlite(path);
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.countLeases = this.db.prepare('SELECT COUNT(*) AS n FROM limit_leases WHERE resource = ? AND expires_at > ?');
    this.windowHits = this.db.prepare('SELECT COUNT(*) AS n, MIN(at) AS first FROM rate_hits WHERE key = ? AND at > ?');
    this.insertLease = this.db.prepare(
      'INSERT INTO limit_leases (id, resource, holder, run_id, step_key, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertHit = this.db.prepare('INSERT INTO rate_hits (key, at, run_id) VALUES (?, ?, ?)');
    this.deleteLease = this.db.prepare('DELETE FROM limit_leases WHERE id = ?');
    this.renewLeases = this.db.prepare('UPDATE limit_leases SET expires_at = ? WHERE holder = ? AND expires_at > ?');
    this.dropExpired = this.db.prepare('DELETE FROM limit_leases WHERE expires_at <= ?');
    this.dropOldHits = this.db.prepare('DELETE FROM rate_hits WHERE at < ?');
  }

  async acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    return this.immediate(() => this.acquireNow(claim, now));
  }

  async release(leaseId: string): Promise<void> {
    this.immediate(() => this.deleteLease.run(leaseId));
  }

  async renew(holder: string, now: number): Promise<void> {
    // Only live leases: one that expired was given to nobody yet but may be any moment.
    this.immediate(() => this.renewLeases.run(now + this.leaseMs, holder, now));
  }

  async close(): Promise<void> {
    this.db.close();
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
    const id = randomUUID();
    this.insertLease.run(id, res.name, claim.holder, claim.runId, claim.stepKey, now, now + this.leaseMs);
    return { kind: 'granted', leaseId: id };
  }

  /** One write transaction taken with the lock up front (`busy_timeout` waits for it). */
  private immediate<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (err) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // Nothing to roll back: BEGIN itself failed.
      }
      throw err;
    }
  }
}
