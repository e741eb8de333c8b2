/**
 * The shared limits of an Orch cluster, in Postgres (`orch.limit_leases`, `orch.rate_hits`): the
 * same contract and the same semantics as `SqliteLimitStore` (`SharedLimitStore` in
 * runtime/scheduler/core/limits.ts), for processes on any number of machines.
 *
 * Counting and inserting must be one step per key, or two processes could both see the last slot
 * free and both take it. Under READ COMMITTED each `acquire` first takes a transaction-scoped
 * advisory lock per resource and rate key it touches (in one global order, so two claims never
 * deadlock); the counts that follow see every lease committed before the lock was granted.
 * Releases are pushed to other processes with NOTIFY, on a connection of its own (`onRelease`).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { openMigratedPool } from './migrations.js';
import { listen, type Listener } from './listener.js';
import { transaction } from './pool.js';
import type { SharedClaim, SharedGrant, SharedLimitStore } from '../../scheduler/core/limits.js';
import { budgetRowIds, BUDGET_LEASE, callIds, EPSILON, heldLeaseIds, KEPT, RATE_CALLS, rateCalls } from '../budget-ledger.js';

/** Rate hits older than this are deleted (as in SQLite: no `rate_limit` window is that long). */
const KEEP_HITS_MS = 24 * 3600_000;
const CHANNEL = 'orch_limit_release';
/** After the release channel's connection drops, connect again after this long. */
/** Deletes the rows of ledger $1 when no run is open on it any more (no live unclosed lease at $2). */
const DROP_IF_IDLE = `DELETE FROM orch.budget_leases WHERE key = $1
  AND NOT EXISTS (SELECT 1 FROM orch.budget_leases WHERE key = $1 AND NOT closed AND expires_at > $2)`;

export interface PgLimitStoreOptions {
  readonly leaseMs?: number;
  /** Connections in the pool (each `acquire` holds one for its transaction). */
  readonly poolSize?: number;
}

export class PgLimitStore implements SharedLimitStore {
  readonly leaseMs: number;
  private lastSweep = 0;
  private readonly listeners = new Set<() => void>();
  private listener: Listener | null = null;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    opts: PgLimitStoreOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? 3000;
  }

  /** Opens a store on a database `orch db migrate` has brought to this Orch's schema. */
  static async open(url: string, opts: PgLimitStoreOptions = {}): Promise<PgLimitStore> {
    return new PgLimitStore(url, await openMigratedPool(url, opts.poolSize ?? 4), opts);
  }

  async acquire(claim: SharedClaim, now: number): Promise<SharedGrant> {
    if (claim.budgets?.length) return this.reserveBudgets(claim, now);
    return transaction(this.pool, async (db) => {
      const keys = [...new Set([...(claim.resource ? [`resource:${claim.resource.name}`] : []), ...claim.rates.map((r) => `rate:${r.key}`)])].sort();
      if (keys.length) await db.query('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k', [keys]);
      if (now - this.lastSweep > this.leaseMs) {
        this.lastSweep = now;
        await db.query('DELETE FROM orch.limit_leases WHERE expires_at <= $1', [now]);
        await db.query('DELETE FROM orch.rate_hits WHERE at < $1', [now - KEEP_HITS_MS]);
        await db.query('DELETE FROM orch.budget_leases WHERE expires_at <= $1', [now]);
      }
      const res = claim.resource;
      if (res) {
        const live = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orch.limit_leases WHERE resource = $1 AND expires_at > $2', [res.name, now]);
        if (live.rows[0]!.n >= res.limit) return { kind: 'held', resource: res.name };
      }
      for (const rate of claim.rates) {
        // A pending hit may start any moment, or by its pending instant: it leaves a window after the earlier.
        const w = await db.query<{ n: number; first: string | null }>(
          'SELECT count(*)::int AS n, min(CASE WHEN started THEN at ELSE least(at, $3) END) AS first FROM orch.rate_hits WHERE key = $1 AND at > $2',
          [rate.key, now - rate.perMs, now],
        );
        const { n, first } = w.rows[0]!;
        if (n >= rate.count) return { kind: 'rate_limited', key: rate.key, retryAt: (first === null ? now : Number(first)) + rate.perMs };
      }
      // Pending, at the latest instant their step may start (\`started\` moves them to its start).
      const calls = claim.rates.length
        ? {
            calls: rateCalls(
              (
                await db.query<{ id: string }>(
                  'INSERT INTO orch.rate_hits (key, at, run_id, started) SELECT k, $2, $3, false FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i) ORDER BY i RETURNING id::text',
                  [claim.rates.map((r) => r.key), now + this.leaseMs, claim.runId],
                )
              ).rows.map((r) => r.id),
            ),
          }
        : {};
      if (!res) return { kind: 'granted', leaseId: null, ...calls };
      const id = randomUUID();
      await db.query(
        'INSERT INTO orch.limit_leases (id, resource, holder, run_id, step_key, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [id, res.name, claim.holder, claim.runId, claim.stepKey, now, now + this.leaseMs],
      );
      return { kind: 'granted', leaseId: id, ...calls };
    });
  }

  /** One ledger per budget key, counted and written under that key's advisory lock (as a resource's slots). */
  private reserveBudgets(claim: SharedClaim, now: number): Promise<SharedGrant> {
    const budgets = claim.budgets!;
    return transaction(this.pool, async (db) => {
      const keys = [...new Set(budgets.map((b) => `budget:${b.key}`))].sort();
      await db.query('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k', [keys]);
      let held: string | null = null;
      for (const b of budgets) {
        const r = await db.query<{ spent: number; reserved: number }>(
          `SELECT COALESCE(sum(amount) FILTER (WHERE settled), 0)::float8 AS spent, COALESCE(sum(amount) FILTER (WHERE NOT settled), 0)::float8 AS reserved
             FROM orch.budget_leases WHERE key = $1 AND expires_at > $2`,
          [b.key, now],
        );
        const { spent, reserved } = r.rows[0]!;
        if (spent + b.amount > b.limit + EPSILON) return { kind: 'over_budget', key: b.key, spent };
        if (spent + reserved + b.amount > b.limit + EPSILON) held ??= b.key;
      }
      if (held !== null) return { kind: 'held', resource: held };
      const ids = await db.query<{ id: string }>(
        `INSERT INTO orch.budget_leases (key, owner, holder, step_key, amount, expires_at)
           SELECT k, o, $3, $4, a, $5 FROM unnest($1::text[], $2::text[], $6::float8[]) AS t(k, o, a) RETURNING id::text`,
        [budgets.map((b) => b.key), budgets.map((b) => b.owner), claim.holder, claim.stepKey, now + this.leaseMs, budgets.map((b) => b.amount)],
      );
      return { kind: 'granted', leaseId: `b${ids.rows.map((x) => x.id).join(',')}` };
    });
  }

  async settle(leaseId: string, actual: number): Promise<void> {
    if (!BUDGET_LEASE.test(leaseId)) return;
    const amount = Number.isFinite(actual) && actual > 0 ? actual : 0;
    await this.pool.query(
      `WITH done AS (UPDATE orch.budget_leases SET amount = $2, settled = true WHERE id = ANY($1::bigint[]) RETURNING key)
       SELECT pg_notify('${CHANNEL}', key) FROM done`,
      [budgetRowIds(leaseId), amount],
    );
  }

  async openRun(owner: string, key: string, holder: string, now: number): Promise<void> {
    await transaction(this.pool, async (db) => {
      await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`budget:${key}`]);
      await db.query(DROP_IF_IDLE, [key, now]);
      await db.query(
        'INSERT INTO orch.budget_leases (key, owner, holder, step_key, amount, settled, closed, expires_at) VALUES ($1, $2, $3, NULL, 0, true, false, $4)',
        [key, owner, holder, now + this.leaseMs],
      );
    });
  }

  async closeRun(owner: string, now: number): Promise<void> {
    await transaction(this.pool, async (db) => {
      const keys = (await db.query<{ key: string }>('SELECT DISTINCT key FROM orch.budget_leases WHERE owner = $1 ORDER BY key', [owner])).rows.map((r) => r.key);
      if (keys.length === 0) return;
      await db.query('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k', [keys.map((k) => `budget:${k}`)]);
      await db.query('DELETE FROM orch.budget_leases WHERE owner = $1 AND step_key IS NULL', [owner]);
      await db.query('UPDATE orch.budget_leases SET closed = true, settled = true, expires_at = $2 WHERE owner = $1', [owner, KEPT]);
      for (const key of keys) await db.query(DROP_IF_IDLE, [key, now]);
      await db.query(`SELECT pg_notify('${CHANNEL}', k) FROM unnest($1::text[]) AS k`, [keys]);
    });
  }

  /**
   * Moves the hits to their step's start: earlier than their pending instant, so no window gets
   * fuller and no key's lock is needed (a claim counting meanwhile sees them before or after).
   */
  async started(calls: string, at: number): Promise<void> {
    if (!RATE_CALLS.test(calls)) return;
    await this.pool.query('UPDATE orch.rate_hits SET at = $2, started = true WHERE id = ANY($1::bigint[]) AND NOT started', [callIds(calls), at]);
  }

  async release(leaseId: string): Promise<void> {
    if (RATE_CALLS.test(leaseId)) {
      await this.pool.query('DELETE FROM orch.rate_hits WHERE id = ANY($1::bigint[]) AND NOT started', [callIds(leaseId)]);
      return;
    }
    if (BUDGET_LEASE.test(leaseId)) {
      await this.pool.query(
        `WITH gone AS (DELETE FROM orch.budget_leases WHERE id = ANY($1::bigint[]) RETURNING key)
         SELECT pg_notify('${CHANNEL}', key) FROM gone`,
        [budgetRowIds(leaseId)],
      );
      return;
    }
    // The notification is sent when the delete commits, and only if there was a lease to delete.
    await this.pool.query(
      `WITH gone AS (DELETE FROM orch.limit_leases WHERE id = $1 RETURNING resource)
       SELECT pg_notify('${CHANNEL}', resource) FROM gone`,
      [leaseId],
    );
  }

  async renew(holder: string, now: number, held: readonly string[]): Promise<void> {
    const { slots, budgetRows } = heldLeaseIds(held);
    // Only live leases: one that expired may already be counted as free by another process.
    await this.pool.query('UPDATE orch.limit_leases SET expires_at = $1 WHERE holder = $2 AND expires_at > $3 AND id = ANY($4::text[])', [
      now + this.leaseMs,
      holder,
      now,
      slots,
    ]);
    await this.pool.query(
      'UPDATE orch.budget_leases SET expires_at = $1 WHERE holder = $2 AND NOT closed AND expires_at > $3 AND (step_key IS NULL OR id = ANY($4::bigint[]))',
      [now + this.leaseMs, holder, now, budgetRows],
    );
  }

  onRelease(listener: () => void): () => void {
    this.listeners.add(listener);
    // A dropped connection is opened again; releases missed meanwhile are caught by the client's polling.
    if (!this.closed) this.listener ??= listen(this.url, CHANNEL, { notified: () => this.listeners.forEach((l) => l()) });
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const l = this.listener;
    this.listener = null;
    await l?.close();
    await this.pool.end();
  }
}
