/**
 * The journal of an Orch cluster in Postgres: the operations and semantics of `SqliteJournal`
 * (events written in the transaction of the run summary they lead to, the run registry, the
 * control channel, retention) behind the asynchronous `AsyncJournal` interface. Text is redacted
 * with `redactText` before it is stored and a run's IR is kept deflated in `orch.run_plans`,
 * exactly as in SQLite, so the two hold the same bytes.
 *
 * Events are stored as SQLite stores them, one row per commit and run (`orch.event_batches`,
 * ../event-batch-text.ts, types by name); the view `orch.events` shows one row per event.
 *
 * Where several processes may now act on one run at once, rows are locked: `takeControls` takes
 * each control once (`FOR UPDATE SKIP LOCKED`), `appendOffline` locks the run row before it picks
 * the next event number. Two writers of one run that go on from the same committed events both
 * write a batch starting at the next seq: the primary key `(run_id, first_seq)` lets one succeed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { inflatedIr, irBlob, keepText } from '../ir-blob.js';
import type pg from 'pg';
import { runCommitHooks, settled } from '../../scheduler/commit-hooks.js';
import { makeEvent } from '../../scheduler/journal-events.js';
import { decodeBatch, encodeBatches } from '../event-batch-text.js';
import type { CommitHook, EventData, EventType, RunEvent, RunSummary } from '../../scheduler/types.js';
import { LeaseLost, triggerColumn, type AsyncJournal } from '../async-journal.js';
import type { PruneResult } from '../retention.js';
import type { ControlRow, RunRow } from '../async-journal.js';
import { openMigratedPool } from './migrations.js';
import { transaction } from './pool.js';
import { displayUrl } from '../url.js';
import { clusterTiming, DEFAULT_CLUSTER_TIMING } from '../../cluster/timing.js';

const RUN_COLUMNS = 'r.id, r.plan, r.parent_id, r.status, r.started_at, r.completed_at, r.cost, r.error, r.trigger';
const SELECT_RUN = `SELECT ${RUN_COLUMNS}, p.ir, r.input, r.owner_pid, r.heartbeat_at
  FROM orch.runs r LEFT JOIN orch.run_plans p ON p.run_id = r.id`;

/**
 * A run and its sub-plan runs (`id/…`), compared exactly: a user's --run-id may hold `_` or `%`,
 * which LIKE would take as wildcards.
 */
const FAMILY = (id: string, param: string) => `(${id} = ${param} OR left(${id}, length(${param}) + 1) = ${param} || '/')`;

/**
 * How long after its last heartbeat a run's owner counts as gone (heartbeats come every second):
 * the default; `clusterTiming().ownerStaleMs` is the one used.
 */
export const OWNER_STALE_MS = DEFAULT_CLUSTER_TIMING.ownerStaleMs;

/**
 * The database's clock in epoch ms: liveness is judged by one clock, not by each machine's (their
 * clocks may disagree by seconds).
 */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** The top-level run a (sub-plan) run id belongs to: its lease covers the whole family. */
const topOf = (runId: string) => {
  const slash = runId.indexOf('/');
  return slash < 0 ? runId : runId.slice(0, slash);
};

type Row = Omit<RunRow, 'ir'> & { ir?: Buffer | null };

interface BatchColumns {
  readonly run_id: string;
  readonly first_seq: number;
  readonly ts: number;
  readonly events: string;
}

/** A batch's types are stored by name. */
const typeName = (t: number | string): string => String(t);
const decode = (r: BatchColumns) => decodeBatch(r.run_id, r.first_seq, r.ts, r.events, typeName);

/**
 * Holds, until the transaction ends, the right to write batches of these runs (`insertBatches`
 * says why): an advisory lock per run, taken in one order so that two commits never wait on
 * each other's.
 */
function lockEvents(db: pg.ClientBase, runIds: Iterable<string>): Promise<unknown> {
  const keys = [...new Set(runIds)].map((id) => `events:${id}`).sort();
  return db.query({ name: 'orch_commit_events_lock', text: 'SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k', values: [keys] });
}

/** The last event number of a run (0: none yet), read once no commit of another process can add one. */
async function lastSeq(db: pg.ClientBase, runId: string): Promise<number> {
  await lockEvents(db, [runId]);
  const { rows } = await db.query<{ s: number }>('SELECT last_seq AS s FROM orch.event_batches WHERE run_id = $1 ORDER BY first_seq DESC LIMIT 1', [runId]);
  return rows[0]?.s ?? 0;
}

function withIrText(row: Row | undefined): RunRow | undefined {
  if (!row) return undefined;
  if (!('ir' in row)) return row as RunRow;
  return { ...row, ir: row.ir ? inflatedIr(row.id, row.ir) : null };
}

/**
 * Postgres text cannot hold U+0000, which SQLite stores; a handler's error message may carry one.
 * (JSON text never does: JSON.stringify escapes it.)
 */
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

export interface PgJournalOptions {
  readonly poolSize?: number;
}

export class PgJournal implements AsyncJournal {
  readonly location: string;
  redactText: (text: string) => string = keepText;
  private readonly lastSummary = new Map<string, string>();
  /** This process as a run owner: a pid alone is not unique across machines. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** The lease epoch of each top-level run this process holds; its commits are fenced by it. */
  private readonly epochs = new Map<string, number>();

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
  ) {
    this.location = displayUrl(url);
  }

  /** Opens the journal of a database `orch db migrate` has brought to this Orch's schema. */
  static async open(url: string, opts: PgJournalOptions = {}): Promise<PgJournal> {
    return new PgJournal(await openMigratedPool(url, opts.poolSize ?? 4, { pipeline: true }), url);
  }

  async commit(summary: RunSummary, events: readonly RunEvent[], hooks: readonly CommitHook[] = []): Promise<void> {
    // The run row only changes with status, cost or error: skip rewriting it otherwise.
    const key = `${summary.status}\u0000${summary.cost}\u0000${summary.error}\u0000${summary.completedAt}`;
    const rowChanged = this.lastSummary.get(summary.runId) !== key;
    const top = topOf(summary.runId);
    const epoch = this.epochs.get(top);
    try {
      await transaction(this.pool, async (db) => {
        // Every statement is sent at once (`transaction`): with BEGIN, one round trip; COMMIT, a second.
        // The fence: if the run was taken over, nothing of this commit lands. FOR SHARE holds a
        // take-over (an UPDATE of the row) until this commit is in, so the two never interleave.
        // Sent first, it is answered first: the statements behind it find the row locked, and
        // should it be gone, nothing of the transaction is committed (below).
        const held =
          epoch === undefined
            ? null
            : // Named: prepared once per connection, not parsed and planned with every commit.
              db.query({ name: 'orch_commit_fence', text: 'SELECT 1 FROM orch.runs WHERE id = $1 AND owner = $2 AND owner_epoch = $3 FOR SHARE', values: [top, this.owner, epoch] });
        const sent: Promise<unknown>[] = held ? [held] : [];
        if (rowChanged)
          sent.push(db.query({
            name: 'orch_commit_run',
            text: `INSERT INTO orch.runs (id, plan, parent_id, status, started_at, completed_at, cost, error, owner_pid, heartbeat_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${NOW_MS})
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, completed_at = excluded.completed_at,
               cost = excluded.cost, error = excluded.error, owner_pid = excluded.owner_pid, heartbeat_at = excluded.heartbeat_at`,
            values: [
              summary.runId,
              summary.plan,
              summary.parentRunId,
              summary.status,
              summary.startedAt,
              summary.completedAt,
              summary.cost,
              summary.error === null ? null : withoutNul(this.redactText(summary.error)),
              process.pid,
            ],
          }));
        // One row per run the commit has events of (the runtime commits ~75 of one run at a time).
        sent.push(...this.insertBatches(db, events));
        // What the executor adds with these events (`Executor.prepare`: the jobs of started steps).
        // One statement per batch group (every attempt a turn dispatches, every outcome it folds).
        sent.push(runCommitHooks(db, hooks));
        await settled(sent);
        if (held && (await held).rowCount === 0) throw new LeaseLost(top);
      });
    } catch (err) {
      // A commit cut short by the server (a session it ended after this process stalled inside
      // the transaction, a dropped connection) says nothing of the lease; ask, so that a run
      // taken over meanwhile is let go rather than failed.
      if (epoch !== undefined && !(err instanceof LeaseLost) && !(await this.stillOwns(top, epoch))) throw new LeaseLost(top);
      throw err;
    }
    // Remembered only once committed: a failed commit must rewrite the row next time.
    if (rowChanged) this.lastSummary.set(summary.runId, key);
  }

  /**
   * The statements writing `events` as batch rows, one per run (sent at once by the caller). Each
   * a single row of plain parameters: a text array or JSON document would have the driver escape
   * the batch character by character and the server unescape it. A batch is written only after
   * the run's last one (as SQLite checks): a seq the run already has fails the statement, and the
   * commit with it, as the key of one row per event did.
   *
   * That check reads the run's last batch, which a concurrent commit's batch is not yet part of:
   * each run's batches are written under a transaction-long advisory lock on it (taken first, in
   * one order), so a second commit waits for the first and its check — a statement of its own,
   * reading after the wait — sees that batch. The lock writes nothing: a `FOR UPDATE` of the run
   * row would write the row's lock and a WAL record with every commit, and a constraint against
   * overlapping seq ranges needs `btree_gist` and a GiST index entry with every batch.
   */
  private insertBatches(db: pg.ClientBase, events: readonly RunEvent[]): Promise<unknown>[] {
    const batches = encodeBatches(events, (t) => t, (e) => this.redactText(JSON.stringify(e.data)));
    if (batches.length === 0) return [];
    return [lockEvents(db, batches.map((b) => b.runId)), ...batches.map(async (b) => {
      const r = await db.query({
        name: 'orch_commit_events',
        text: `INSERT INTO orch.event_batches (run_id, first_seq, last_seq, ts, events)
               SELECT $1, $2, $3, $4, $5
               WHERE NOT EXISTS (SELECT FROM (SELECT last_seq FROM orch.event_batches WHERE run_id = $1 ORDER BY first_seq DESC LIMIT 1) l WHERE l.last_seq >= $2)`,
        values: [b.runId, b.first, b.last, b.ts, b.events],
      });
      if (r.rowCount === 0) throw new Error(`journal: run ${b.runId} already has event ${b.first}; the commit is refused`);
    })];
  }

  /** Whether this process still holds `top`'s lease at `epoch` (assumed so when that cannot be read). */
  private async stillOwns(top: string, epoch: number): Promise<boolean> {
    try {
      const held = await this.pool.query('SELECT 1 FROM orch.runs WHERE id = $1 AND owner = $2 AND owner_epoch = $3', [top, this.owner, epoch]);
      return held.rowCount !== 0;
    } catch {
      return true;
    }
  }

  async registerRun(runId: string, planName: string, ir: unknown, input: unknown, startedAt: number, parentId: string | null = null, trigger?: string | null): Promise<void> {
    const plan = await irBlob(ir, this.redactText);
    await transaction(this.pool, async (db) => {
      // A new top-level run is this process's from the start (epoch 1); sub-plan runs belong to
      // their parent's owner.
      const { rows } = await db.query<{ owner: string | null; owner_epoch: number }>(
        `INSERT INTO orch.runs (id, plan, parent_id, status, started_at, input, owner_pid, heartbeat_at, owner, owner_epoch, trigger)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, ${NOW_MS}, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET input = excluded.input
         RETURNING owner, owner_epoch::int AS owner_epoch`,
        [runId, planName, parentId, startedAt, this.redactText(JSON.stringify(input ?? {})), process.pid, parentId === null ? this.owner : null, parentId === null ? 1 : 0, triggerColumn(trigger)],
      );
      if (parentId === null && rows[0]?.owner === this.owner) this.epochs.set(runId, rows[0].owner_epoch);
      if (plan)
        await db.query('INSERT INTO orch.run_plans (run_id, ir) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET ir = excluded.ir', [runId, plan]);
      else await db.query('DELETE FROM orch.run_plans WHERE run_id = $1', [runId]);
    });
  }

  async load(runId: string): Promise<RunEvent[]> {
    const { rows } = await this.pool.query<BatchColumns>('SELECT run_id, first_seq, ts, events FROM orch.event_batches WHERE run_id = $1 ORDER BY first_seq', [runId]);
    return rows.flatMap(decode);
  }

  async first(runId: string): Promise<RunEvent | undefined> {
    const { rows } = await this.pool.query<BatchColumns>('SELECT run_id, first_seq, ts, events FROM orch.event_batches WHERE run_id = $1 ORDER BY first_seq LIMIT 1', [runId]);
    const r = rows[0];
    // The run's first event only: one of a type this version does not know reads as none.
    const e = r === undefined ? undefined : decode(r)[0];
    return e?.seq === r?.first_seq ? e : undefined;
  }

  async rateHitsSince(key: string, since: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orch.rate_hits WHERE key = $1 AND at > $2', [key, since]);
    return rows[0]?.n ?? 0;
  }

  async getRun(runId: string): Promise<RunRow | undefined> {
    const { rows } = await this.pool.query<Row>(`${SELECT_RUN} WHERE r.id = $1`, [runId]);
    return withIrText(rows[0]);
  }

  async listRuns(all = false): Promise<RunRow[]> {
    // Ids in byte order, as SQLite sorts them, whatever the database's collation.
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS}, r.owner_pid, r.heartbeat_at,
              (SELECT COALESCE(sum(b.last_seq - b.first_seq + 1), 0) FROM orch.event_batches b WHERE b.run_id = r.id) AS event_count
       FROM orch.runs r ${all ? '' : 'WHERE r.parent_id IS NULL'} ORDER BY r.started_at DESC, r.id COLLATE "C"`,
    );
    return rows;
  }

  async unfinishedRuns(): Promise<RunRow[]> {
    const { rows } = await this.pool.query<Row>(
      `${SELECT_RUN} WHERE r.parent_id IS NULL AND r.status IN ('running', 'paused') ORDER BY r.started_at, r.id COLLATE "C"`,
    );
    return rows.map((r) => withIrText(r)!);
  }

  async addControl(runId: string, kind: ControlRow['kind'], stepId: string | null = null, payload: unknown = null): Promise<void> {
    await this.pool.query('INSERT INTO orch.controls (run_id, kind, step_id, payload, created_at) VALUES ($1, $2, $3, $4, $5)', [
      runId,
      kind,
      stepId,
      payload === null ? null : JSON.stringify(payload),
      Date.now(),
    ]);
  }

  async takeControls(runId: string): Promise<ControlRow[]> {
    return transaction(this.pool, async (db) => {
      // Rows another consumer is taking right now are skipped, not waited for: each row is
      // returned to exactly one caller.
      const { rows } = await db.query<ControlRow>(
        `SELECT id, run_id, kind, step_id, payload FROM orch.controls
         WHERE run_id = $1 AND consumed_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED`,
        [runId],
      );
      if (rows.length) await db.query('UPDATE orch.controls SET consumed_at = $1 WHERE id = ANY($2::bigint[])', [Date.now(), rows.map((r) => r.id)]);
      return rows;
    });
  }

  async pendingControls(runId: string): Promise<ControlRow[]> {
    const { rows } = await this.pool.query<ControlRow>('SELECT id, run_id, kind, step_id, payload FROM orch.controls WHERE run_id = $1 AND consumed_at IS NULL ORDER BY id', [runId]);
    return rows;
  }

  async heartbeat(runId: string): Promise<void> {
    const epoch = this.epochs.get(runId);
    if (epoch === undefined) {
      await this.pool.query(`UPDATE orch.runs SET owner_pid = $1, heartbeat_at = ${NOW_MS} WHERE id = $2`, [process.pid, runId]);
      return;
    }
    const r = await this.pool.query(`UPDATE orch.runs SET owner_pid = $1, heartbeat_at = ${NOW_MS} WHERE id = $2 AND owner = $3 AND owner_epoch = $4`, [
      process.pid,
      runId,
      this.owner,
      epoch,
    ]);
    if (r.rowCount === 0) {
      this.epochs.delete(runId);
      throw new LeaseLost(runId);
    }
  }

  /**
   * Takes the run's lease when nobody holds it: never taken, given back (`disown`), this process's
   * already, or its owner silent for `staleMs` by the database's clock. The epoch goes up, so the
   * previous owner's commits are refused from now on.
   */
  async acquire(runId: string, staleMs = clusterTiming().ownerStaleMs): Promise<boolean> {
    const { rows } = await this.pool.query<{ owner_epoch: number }>(
      `UPDATE orch.runs SET owner = $2, owner_pid = $3, heartbeat_at = ${NOW_MS}, owner_epoch = owner_epoch + 1
       WHERE id = $1 AND parent_id IS NULL
         AND (owner_pid IS NULL OR heartbeat_at IS NULL OR owner = $2 OR heartbeat_at < ${NOW_MS} - $4)
       RETURNING owner_epoch::int AS owner_epoch`,
      [runId, this.owner, process.pid, staleMs],
    );
    if (rows.length === 0) return false;
    this.epochs.set(runId, rows[0]!.owner_epoch);
    return true;
  }

  /**
   * A pid means nothing on another machine (and containers share pids), so only the heartbeat
   * counts: the owner writes one every second while it runs the run, and clears `owner_pid` when
   * it stops (`disown`). A killed owner's run is free once its heartbeat is `staleMs` old.
   */
  async ownedElsewhere(runId: string, staleMs = clusterTiming().ownerStaleMs): Promise<boolean> {
    const { rows } = await this.pool.query<{ owner_pid: number | null; owner: string | null; fresh: boolean | null }>(
      `SELECT owner_pid, owner, heartbeat_at >= ${NOW_MS} - $2 AS fresh FROM orch.runs WHERE id = $1`,
      [runId, staleMs],
    );
    const row = rows[0];
    if (!row || row.owner_pid === null || row.fresh !== true) return false;
    return row.owner !== this.owner;
  }

  async appendOffline<T extends EventType>(runId: string, type: T, data: EventData<T>, status: string): Promise<void> {
    await transaction(this.pool, async (db) => {
      // Two processes appending at once would pick the same seq: the run row serializes them.
      await db.query('SELECT 1 FROM orch.runs WHERE id = $1 FOR UPDATE', [runId]);
      const now = Date.now();
      await Promise.all(this.insertBatches(db, [makeEvent(runId, (await lastSeq(db, runId)) + 1, now, type, null, data)]));
      const terminal = status === 'cancelled' || status === 'failed' || status === 'completed';
      await db.query('UPDATE orch.runs SET status = $1, completed_at = COALESCE($2, completed_at), owner_pid = NULL WHERE id = $3', [
        status,
        terminal ? now : null,
        runId,
      ]);
    });
  }

  async upgradeOffline(runId: string, ir: unknown, data: EventData<'plan_upgraded'>): Promise<boolean> {
    const plan = await irBlob(ir, this.redactText);
    return transaction(this.pool, async (db) => {
      // Like appendOffline: the run row serializes two processes appending at once; a process
      // that took the run since the caller looked (fresh heartbeat) holds its IR in memory.
      const held = await db.query<{ live: boolean | null }>(
        `SELECT owner_pid IS NOT NULL AND heartbeat_at >= ${NOW_MS} - $2 AS live FROM orch.runs WHERE id = $1 FOR UPDATE`,
        [runId, OWNER_STALE_MS],
      );
      if (held.rows[0]?.live === true) return false;
      await Promise.all(this.insertBatches(db, [makeEvent(runId, (await lastSeq(db, runId)) + 1, Date.now(), 'plan_upgraded', null, data)]));
      await db.query('INSERT INTO orch.run_plans (run_id, ir) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET ir = excluded.ir', [runId, plan]);
      return true;
    });
  }

  async disown(runId: string): Promise<void> {
    const epoch = this.epochs.get(runId);
    this.epochs.delete(runId);
    // Only the lease this process still holds is given back; one taken over stays with its owner.
    await this.pool.query(
      `UPDATE orch.runs SET owner_pid = NULL, owner = NULL
       WHERE ${FAMILY('id', '$1')} AND owner_pid = $2 AND (parent_id IS NOT NULL OR owner IS NULL OR (owner = $3 AND owner_epoch = $4))`,
      [runId, process.pid, this.owner, epoch ?? -1],
    );
  }

  async prune(before: number): Promise<PruneResult> {
    return transaction(this.pool, async (db) => {
      const doomed = `
        SELECT r.id FROM orch.runs r JOIN orch.runs top ON ${FAMILY('r.id', 'top.id')}
        WHERE top.parent_id IS NULL AND top.status IN ('completed', 'failed', 'cancelled', 'timeout')
          AND top.completed_at IS NOT NULL AND top.completed_at < $1`;
      const events = await db.query<{ n: number }>(
        `WITH gone AS (DELETE FROM orch.event_batches WHERE run_id IN (${doomed}) RETURNING last_seq - first_seq + 1 AS n)
         SELECT COALESCE(sum(n), 0)::int AS n FROM gone`,
        [before],
      );
      await db.query(`DELETE FROM orch.controls WHERE run_id IN (${doomed})`, [before]);
      await db.query(`DELETE FROM orch.run_plans WHERE run_id IN (${doomed})`, [before]);
      // What workers ran for them, and the handler versions they were run with.
      await db.query(`DELETE FROM orch.attempts WHERE run_id IN (${doomed})`, [before]);
      await db.query(`DELETE FROM orch.run_handlers WHERE run_id IN (${doomed})`, [before]);
      const runs = await db.query(`DELETE FROM orch.runs WHERE id IN (${doomed})`, [before]);
      return { runs: runs.rowCount ?? 0, events: events.rows[0]!.n };
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
