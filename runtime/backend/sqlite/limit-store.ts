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
import { applySchema, openSharedSqlite, type SqlDatabase, type SqlStatement } from './driver.js';
import type { SqliteJournal } from './journal.js';
import type { SharedClaim, SharedGrant, SharedLimitStore } from '../../scheduler/core/limits.js';
import { budgetRowIds, BUDGET_LEASE, callIds, EPSILON, heldLeaseIds, KEPT, RATE_CALLS, rateCalls } from '../budget-ledger.js';

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
  run_id TEXT,
  started INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS rate_hits_key ON rate_hits (key, at);
CREATE TABLE IF NOT EXISTS budget_leases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  owner TEXT NOT NULL,
  holder TEXT NOT NULL,
  step_key TEXT,
  amount REAL NOT NULL,
  settled INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_leases_key ON budget_leases (key, expires_at);
CREATE INDEX IF NOT EXISTS budget_leases_owner ON budget_leases (owner);
`;

/**
 * Journals of earlier versions have `rate_hits` without `started` (their hits were stamped at the
 * grant): the column is added, each old hit counted as started. A hit is named by its rowid: a
 * pending one is dropped only by the `release` of its own grant, so a reused rowid (the newest
 * row's, once that one was given back) names no hit its holder still knows.
 */
function addStarted(db: SqlDatabase): void {
  const cols = db.prepare("SELECT name FROM pragma_table_info('rate_hits')").all() as { name: string }[];
  if (!cols.some((c) => c.name === 'started')) db.exec('ALTER TABLE rate_hits ADD COLUMN started INTEGER NOT NULL DEFAULT 1');
}

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
  private readonly startHit: SqlStatement;
  private readonly dropHit: SqlStatement;
  private readonly renewLease: SqlStatement;
  private readonly dropExpired: SqlStatement;
  private readonly dropOldHits: SqlStatement;
  private readonly ledger: SqlStatement;
  private readonly insertBudget: SqlStatement;
  private readonly settleBudget: SqlStatement;
  private readonly deleteBudget: SqlStatement;
  private readonly renewBudget: SqlStatement;
  private readonly renewMarkers: SqlStatement;
  private readonly ownerKeys: SqlStatement;
  private readonly dropMarkers: SqlStatement;
  private readonly closeOwner: SqlStatement;
  private readonly openRows: SqlStatement;
  private readonly dropLedger: SqlStatement;
  private readonly insertMarker: SqlStatement;
  private readonly dropExpiredBudgets: SqlStatement;
  /** One write transaction taken with the lock up front (`busy_timeout` waits for it). */
  private readonly runOps: (ops: readonly Op[]) => unknown[];
  private lastSweep = 0;
  /**
   * Live leases per resource as counted by this batch's first claim on it, kept up to date by the
   * batch's own grants: a run that claims many slots at once (`SharedLimits.waiting`) counts each
   * resource once per transaction, not once per claim. Safe inside the batch's write transaction
   * (nothing else writes meanwhile, and its releases run before its claims); dropped with it.
   */
  private counted = new Map<string, { n: number; now: number }>();
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
      applySchema(this.db, SCHEMA, addStarted);
      this.leaveJournal = opts.journal.addGuest({ join: () => this.joinCommit() });
    } else this.db = openSharedSqlite(path, SCHEMA, addStarted);
    this.countLeases = this.db.prepare('SELECT COUNT(*) AS n FROM slot_leases WHERE resource = ? AND expires_at > ?');
    // A pending hit may start any moment, or by its pending instant: it leaves a window after the earlier.
    this.windowHits = this.db.prepare('SELECT COUNT(*) AS n, MIN(CASE WHEN started THEN at ELSE MIN(at, ?) END) AS first FROM rate_hits WHERE key = ? AND at > ?');
    this.insertLease = this.db.prepare(
      'INSERT INTO slot_leases (resource, holder, run_id, step_key, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.insertHit = this.db.prepare('INSERT INTO rate_hits (key, at, run_id, started) VALUES (?, ?, ?, 0) RETURNING rowid AS id');
    this.startHit = this.db.prepare('UPDATE rate_hits SET at = ?, started = 1 WHERE rowid = ? AND started = 0');
    this.dropHit = this.db.prepare('DELETE FROM rate_hits WHERE rowid = ? AND started = 0');
    this.deleteLease = this.db.prepare('DELETE FROM slot_leases WHERE id = ?');
    this.renewLease = this.db.prepare('UPDATE slot_leases SET expires_at = ? WHERE id = ? AND holder = ? AND expires_at > ?');
    this.dropExpired = this.db.prepare('DELETE FROM slot_leases WHERE expires_at <= ?');
    this.dropOldHits = this.db.prepare('DELETE FROM rate_hits WHERE at < ?');
    this.ledger = this.db.prepare(
      'SELECT COALESCE(SUM(CASE WHEN settled = 1 THEN amount ELSE 0 END), 0) AS spent, COALESCE(SUM(CASE WHEN settled = 0 THEN amount ELSE 0 END), 0) AS reserved FROM budget_leases WHERE key = ? AND expires_at > ?',
    );
    this.insertBudget = this.db.prepare(
      'INSERT INTO budget_leases (key, owner, holder, step_key, amount, settled, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id',
    );
    this.settleBudget = this.db.prepare('UPDATE budget_leases SET amount = ?, settled = 1 WHERE id = ?');
    this.deleteBudget = this.db.prepare('DELETE FROM budget_leases WHERE id = ?');
    this.renewBudget = this.db.prepare('UPDATE budget_leases SET expires_at = ? WHERE id = ? AND holder = ? AND closed = 0 AND expires_at > ?');
    this.renewMarkers = this.db.prepare('UPDATE budget_leases SET expires_at = ? WHERE holder = ? AND step_key IS NULL AND closed = 0 AND expires_at > ?');
    this.ownerKeys = this.db.prepare('SELECT DISTINCT key FROM budget_leases WHERE owner = ?');
    this.dropMarkers = this.db.prepare('DELETE FROM budget_leases WHERE owner = ? AND step_key IS NULL');
    this.closeOwner = this.db.prepare(`UPDATE budget_leases SET closed = 1, settled = 1, expires_at = ${KEPT} WHERE owner = ?`);
    this.openRows = this.db.prepare('SELECT COUNT(*) AS n FROM budget_leases WHERE key = ? AND closed = 0 AND expires_at > ?');
    this.dropLedger = this.db.prepare('DELETE FROM budget_leases WHERE key = ?');
    this.insertMarker = this.db.prepare('INSERT INTO budget_leases (key, owner, holder, step_key, amount, settled, closed, expires_at) VALUES (?, ?, ?, NULL, 0, 1, 0, ?)');
    this.dropExpiredBudgets = this.db.prepare('DELETE FROM budget_leases WHERE expires_at <= ?');
    this.runOps = this.db.transaction((ops: readonly Op[]) => ops.map((op) => op.fn()), 'immediate');
  }

  acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    return this.enqueue(false, () => this.acquireNow(claim, now));
  }

  release(leaseId: string): Promise<void> {
    // An id this store did not give names no lease: releasing it is a no-op.
    if (BUDGET_LEASE.test(leaseId)) return this.enqueue(true, () => void budgetRowIds(leaseId).map(Number).forEach((id) => this.deleteBudget.run(id)));
    if (RATE_CALLS.test(leaseId)) return this.enqueue(true, () => void callIds(leaseId).map(Number).forEach((id) => this.dropHit.run(id)));
    return this.enqueue(true, () => void (/^\d+$/.test(leaseId) && this.deleteLease.run(Number(leaseId))));
  }

  started(calls: string, at: number): Promise<void> {
    if (!RATE_CALLS.test(calls)) return Promise.resolve();
    // Moves the hits earlier (or leaves them): never makes a window fuller, so it goes first too.
    return this.enqueue(true, () => void callIds(calls).map(Number).forEach((id) => this.startHit.run(at, id)));
  }

  settle(leaseId: string, actual: number): Promise<void> {
    if (!BUDGET_LEASE.test(leaseId)) return Promise.resolve();
    const amount = Number.isFinite(actual) && actual > 0 ? actual : 0;
    return this.enqueue(true, () => void budgetRowIds(leaseId).map(Number).forEach((id) => this.settleBudget.run(amount, id)));
  }

  openRun(owner: string, key: string, holder: string, now: number): Promise<void> {
    return this.enqueue(false, () => {
      this.dropIfIdle(key, now);
      this.insertMarker.run(key, owner, holder, now + this.leaseMs);
    });
  }

  closeRun(owner: string, now: number): Promise<void> {
    // Not a give-back: queued in order, after the settlements of the run's last attempts.
    return this.enqueue(false, () => {
      const keys = (this.ownerKeys.all(owner) as { key: string }[]).map((r) => r.key);
      this.dropMarkers.run(owner);
      this.closeOwner.run(owner);
      for (const key of keys) this.dropIfIdle(key, now);
    });
  }

  /** No run is open on the ledger any more: what the ended ones spent leaves it. */
  private dropIfIdle(key: string, now: number): void {
    if ((this.openRows.get(key, now) as { n: number }).n === 0) this.dropLedger.run(key);
  }

  renew(holder: string, now: number, held: readonly string[]): Promise<void> {
    const { slots, budgetRows } = heldLeaseIds(held);
    // Only live leases: one that expired was given to nobody yet but may be any moment.
    return this.enqueue(true, () => {
      for (const id of slots) this.renewLease.run(now + this.leaseMs, Number(id), holder, now);
      for (const id of budgetRows) this.renewBudget.run(now + this.leaseMs, Number(id), holder, now);
      this.renewMarkers.run(now + this.leaseMs, holder, now);
    });
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
    if (this.counted.size > 0) this.counted = new Map();
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
      this.counted.clear();
      this.dropExpired.run(now);
      this.dropOldHits.run(now - KEEP_HITS_MS);
      this.dropExpiredBudgets.run(now);
    }
    if (claim.budgets?.length) return this.reserveBudgets(claim, now);
    const res = claim.resource;
    // A count taken at an earlier `now` in this batch may still hold a lease that lapsed since:
    // never fewer than the live ones, so the limit holds.
    let live = res ? this.counted.get(res.name) : undefined;
    if (res && (live === undefined || live.now > now)) this.counted.set(res.name, (live = { n: (this.countLeases.get(res.name, now) as { n: number }).n, now }));
    if (res && live!.n >= res.limit) return { kind: 'held', resource: res.name };
    for (const rate of claim.rates) {
      const w = this.windowHits.get(now, rate.key, now - rate.perMs) as { n: number; first: number | null };
      if (w.n >= rate.count) return { kind: 'rate_limited', key: rate.key, retryAt: (w.first ?? now) + rate.perMs };
    }
    // Pending, at the latest instant their step may start (`started` moves them to its start).
    const hits = claim.rates.map((rate) => (this.insertHit.get(rate.key, now + this.leaseMs, claim.runId) as { id: number }).id);
    const calls = hits.length > 0 ? { calls: rateCalls(hits) } : {};
    if (!res) return { kind: 'granted', leaseId: null, ...calls };
    const row = this.insertLease.get(res.name, claim.holder, claim.runId, claim.stepKey, now, now + this.leaseMs) as { id: number };
    live!.n++;
    return { kind: 'granted', leaseId: String(row.id), ...calls };
  }

  private reserveBudgets(claim: SharedClaim, now: number): SharedGrant {
    let held: string | null = null;
    for (const b of claim.budgets!) {
      const { spent, reserved } = this.ledger.get(b.key, now) as { spent: number; reserved: number };
      if (spent + b.amount > b.limit + EPSILON) return { kind: 'over_budget', key: b.key, spent };
      if (spent + reserved + b.amount > b.limit + EPSILON) held ??= b.key;
    }
    if (held !== null) return { kind: 'held', resource: held };
    const ids = claim.budgets!.map(
      (b) => (this.insertBudget.get(b.key, b.owner, claim.holder, claim.stepKey, b.amount, now + this.leaseMs) as { id: number }).id,
    );
    return { kind: 'granted', leaseId: `b${ids.join(',')}` };
  }

}
