/**
 * The durable journal: every run event (LANGUAGE.md §6) in SQLite (WAL), written in the same
 * transaction as the run summary it leads to. Also the control channel between processes
 * (`orch pause|cancel|signal` insert control rows; the process running the run polls them) and
 * the run registry `orch runs` reads.
 */
import { decodeBatch, encodeBatches } from '../event-batch-text.js';
import { BATCH_SCHEMA, eventCountSql, EventTypeCodes, MAX_RUN_KEY, MAX_SEQ, migrateEvents, SEQ_SPAN } from './event-batches.js';
import { inflatedIr, irBlobSync, keepText } from '../ir-blob.js';
import { checkedRunTimes, JournalCorrupt } from '../../journal-corrupt.js';
import { dirname } from 'node:path';
import { makeFolders } from '../../make-folders.js';
import { makeEvent } from '../../scheduler/journal-events.js';
import type { EventData, EventType, JournalSink, RunEvent, RunSummary } from '../../scheduler/types.js';
import type { PruneResult } from '../retention.js';
import { openSharedSqlite, type SqlDatabase, type SqlStatement } from './driver.js';
import { triggerColumn, type ControlRow, type RunRow } from '../async-journal.js';

export type { ControlRow, RunRow };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  plan TEXT NOT NULL,
  parent_id TEXT,
  status TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  completed_at INTEGER,
  cost REAL NOT NULL DEFAULT 0,
  error TEXT,
  ir TEXT,
  input TEXT,
  owner_pid INTEGER,
  heartbeat_at INTEGER,
  trigger TEXT
);
${BATCH_SCHEMA}
CREATE TABLE IF NOT EXISTS controls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  step_id TEXT,
  payload TEXT,
  created_at INTEGER NOT NULL,
  consumed_at INTEGER
);
CREATE INDEX IF NOT EXISTS controls_open ON controls (run_id, consumed_at);
CREATE TABLE IF NOT EXISTS run_plans (
  run_id TEXT PRIMARY KEY,
  ir BLOB NOT NULL
);
`;

/**
 * A run's IR is kept apart from its row, deflated: SQLite rewrites a whole row on every UPDATE,
 * and the run row changes with each status and cost change while the IR (about 800 bytes per
 * step as JSON, a fifth of that deflated) never does. Journals written before keep it in `runs.ir`.
 */
/** Batches read per query by `events()` (a batch holds one commit's events, a few to a few hundred). */
const BATCH_PAGE = 1000;
/** Run keys remembered by a journal; past this the memory is dropped (a long `orch serve`). */
const KEY_CACHE = 1000;

const SELECT_RUN = `SELECT r.id, r.plan, r.parent_id, r.status, r.started_at, r.completed_at, r.cost, r.error,
  COALESCE(p.ir, r.ir) AS ir, r.input, r.owner_pid, r.heartbeat_at, r.trigger FROM runs r LEFT JOIN run_plans p ON p.run_id = r.id`;

/** Journals written before a run row kept its trigger gain the column, NULL (not known) in their rows. */
function migrateJournal(db: SqlDatabase): void {
  migrateEvents(db);
  const cols = db.prepare('PRAGMA table_info(runs)').all() as { name: string }[];
  if (!cols.some((c) => c.name === 'trigger')) db.exec('ALTER TABLE runs ADD COLUMN trigger TEXT');
}

function withIrText(row: (Omit<RunRow, 'ir'> & { ir: string | Uint8Array | null }) | undefined): RunRow | undefined {
  if (row) checkedRunTimes(row);
  if (!row || row.ir === null || typeof row.ir === 'string') return row as RunRow | undefined;
  return { ...row, ir: inflatedIr(row.id, row.ir) };
}

/**
 * Another store on the journal's connection (the shared limits) whose writes ride in a commit's
 * transaction instead of one of their own: a turn of a run then commits once, not twice.
 */
export interface CommitGuest {
  /**
   * Called inside the commit's transaction: does the guest's pending writes (in a savepoint of
   * its own, so a failure of them leaves the commit whole) and says how to settle them once the
   * commit is durable or rolled back; null when it had nothing to write.
   */
  join(): { committed(): void; failed(err: unknown): void } | null;
}

export class SqliteJournal implements JournalSink {
  readonly path: string;
  private readonly db: SqlDatabase;
  private readonly insertBatch: SqlStatement;
  private readonly upsertRun: SqlStatement;
  private readonly selectBatches: SqlStatement;
  private readonly selectLastSeq: SqlStatement;
  private readonly selectKey: SqlStatement;
  private readonly insertKey: SqlStatement;
  private readonly types: EventTypeCodes;
  /** Run id → its key in `run_keys` (see event-batches.ts). */
  private readonly keys = new Map<string, number>();
  private readonly commitTx: (summary: RunSummary, events: readonly RunEvent[], joined: ReturnType<CommitGuest['join']>[]) => void;
  private readonly guests = new Set<CommitGuest>();
  private readonly lastSummary = new Map<string, string>();
  /** Replaces secret values in journal text; set by the runtime once secrets are known. */
  redactText: (text: string) => string = keepText;

  constructor(path: string) {
    this.path = path;
    if (path !== ':memory:') makeFolders(dirname(path));
    this.db = openSharedSqlite(path, SCHEMA, migrateJournal);
    this.types = new EventTypeCodes(this.db);
    this.insertBatch = this.db.prepare('INSERT INTO event_batches (id, last_seq, ts, events) VALUES (?, ?, ?, ?)');
    this.selectBatches = this.db.prepare('SELECT id, ts, events FROM event_batches WHERE id BETWEEN ? AND ? ORDER BY id LIMIT ?');
    this.selectLastSeq = this.db.prepare('SELECT last_seq FROM event_batches WHERE id BETWEEN ? AND ? ORDER BY id DESC LIMIT 1');
    this.selectKey = this.db.prepare('SELECT key FROM run_keys WHERE run_id = ?');
    this.insertKey = this.db.prepare('INSERT OR IGNORE INTO run_keys (run_id) VALUES (?)');
    this.upsertRun = this.db.prepare(`
      INSERT INTO runs (id, plan, parent_id, status, started_at, completed_at, cost, error, owner_pid, heartbeat_at)
      VALUES (@runId, @plan, @parentRunId, @status, @startedAt, @completedAt, @cost, @error, @pid, @now)
      ON CONFLICT(id) DO UPDATE SET status = excluded.status, completed_at = excluded.completed_at,
        cost = excluded.cost, error = excluded.error, owner_pid = excluded.owner_pid, heartbeat_at = excluded.heartbeat_at`);
    this.commitTx = this.db.transaction((summary: RunSummary, events: readonly RunEvent[], joined: ReturnType<CommitGuest['join']>[]) => {
      // The run row only changes with status, cost or error: skip rewriting it otherwise.
      const key = `${summary.status}\u0000${summary.cost}\u0000${summary.error}\u0000${summary.completedAt}`;
      if (this.lastSummary.get(summary.runId) !== key) {
        // Exactly the statement's parameters: node:sqlite rejects unknown named ones.
        this.upsertRun.run({
          runId: summary.runId,
          plan: summary.plan,
          parentRunId: summary.parentRunId,
          status: summary.status,
          startedAt: summary.startedAt,
          completedAt: summary.completedAt,
          cost: summary.cost,
          error: summary.error === null ? null : this.redactText(summary.error),
          pid: process.pid,
          now: Date.now(),
        });
        this.lastSummary.set(summary.runId, key);
      }
      // Guests first: a commit refused for its events takes their writes down with it.
      for (const g of this.guests) joined.push(g.join());
      this.appendEvents(events);
    }, 'immediate');
  }

  /** The connection, for a store that shares it (and its commits) with the journal. */
  get connection(): SqlDatabase {
    return this.db;
  }

  /** `guest` writes inside each commit from now on; the function returned ends that. */
  addGuest(guest: CommitGuest): () => void {
    this.guests.add(guest);
    return () => void this.guests.delete(guest);
  }

  /**
   * Writes events as batch rows (inside a transaction). A seq the run already has is refused, and
   * the transaction with it, as the old one-row-per-event key did: two writers of one run must
   * not both succeed.
   */
  private appendEvents(events: readonly RunEvent[]): void {
    for (const b of encodeBatches(events, (t) => this.types.code(t))) {
      if (b.first < 1 || b.last > MAX_SEQ) throw new Error(`journal: run ${b.runId} has more events than a run may hold (${MAX_SEQ.toLocaleString('en-US')})`);
      const base = this.runKey(b.runId) * SEQ_SPAN;
      const stored = this.selectLastSeq.get(base, base + MAX_SEQ) as { last_seq: number } | undefined;
      if (stored && stored.last_seq >= b.first)
        throw new Error(`journal: run ${b.runId} already has event ${b.first} (its last is ${stored.last_seq}); the commit is refused`);
      this.insertBatch.run(base + b.first, b.last, b.ts, this.redactText(b.events));
    }
  }

  /** The key of a run's batches, given on its first write (inside a transaction). */
  private runKey(runId: string): number {
    let key = this.findKey(runId);
    if (key === undefined) {
      this.insertKey.run(runId);
      key = this.findKey(runId)!;
    }
    if (key > MAX_RUN_KEY) throw new Error(`journal: ${this.path} holds more runs than it can key (${MAX_RUN_KEY.toLocaleString('en-US')}); start a new one`);
    return key;
  }

  private findKey(runId: string): number | undefined {
    let key = this.keys.get(runId);
    if (key === undefined) {
      key = (this.selectKey.get(runId) as { key: number } | undefined)?.key;
      if (key === undefined) return undefined;
      if (this.keys.size >= KEY_CACHE) this.keys.clear();
      this.keys.set(runId, key);
    }
    return key;
  }

  /**
   * After a write transaction rolled back: run keys and type codes given inside it are gone from
   * the database, and SQLite may give the same numbers to other runs and types; the run row it
   * wrote is gone too, so the next commit writes it again. Nothing learnt may outlive it.
   */
  private forgetUncommitted(): void {
    this.keys.clear();
    this.types.forget();
    this.lastSummary.clear();
  }

  /** Forgets the keys of a run and its sub-plan runs (a run id used again after a prune gets a new key). */
  private forgetKeys(runId: string): void {
    for (const id of this.keys.keys()) if (id === runId || id.startsWith(`${runId}/`)) this.keys.delete(id);
  }

  commit(summary: RunSummary, events: readonly RunEvent[]): void {
    const joined: ReturnType<CommitGuest['join']>[] = [];
    try {
      this.commitTx(summary, events, joined);
    } catch (err) {
      this.forgetUncommitted();
      for (const j of joined) j?.failed(err);
      throw err;
    }
    for (const j of joined) j?.committed();
  }

  /** Stores what resuming needs (the IR and the input) before the first event. */
  registerRun(runId: string, planName: string, ir: unknown, input: unknown, startedAt: number, parentId: string | null = null, trigger?: string | null): void {
    this.registerBlob(runId, planName, irBlobSync(ir, this.redactText), input, startedAt, parentId, trigger);
  }

  /** `registerRun` with the IR already in its stored form (`irBlob`). */
  registerBlob(runId: string, planName: string, plan: Buffer | null, input: unknown, startedAt: number, parentId: string | null = null, trigger?: string | null): void {
    this.forgetKeys(runId);
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, plan, parent_id, status, started_at, ir, input, owner_pid, heartbeat_at, trigger)
           VALUES (?, ?, ?, 'running', ?, NULL, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET ir = NULL, input = excluded.input`,
        )
        .run(runId, planName, parentId, startedAt, this.redactText(JSON.stringify(input ?? {})), process.pid, Date.now(), triggerColumn(trigger));
      if (plan) this.db.prepare('INSERT OR REPLACE INTO run_plans (run_id, ir) VALUES (?, ?)').run(runId, plan);
      else this.db.prepare('DELETE FROM run_plans WHERE run_id = ?').run(runId);
    })();
  }

  /**
   * `orch upgrade` of a run no process executes: its recorded IR replaced and `plan_upgraded`
   * appended after its last event, in one transaction (its status stays).
   */
  upgradeOffline(runId: string, ir: unknown, data: EventData<'plan_upgraded'>): boolean {
    const blob = irBlobSync(ir, this.redactText);
    try {
      return this.db.transaction(() => {
        // A process that resumed the run since the caller looked holds its IR in memory.
        if (this.ownedElsewhere(runId)) return false;
        const base = this.runKey(runId) * SEQ_SPAN;
        const last = (this.selectLastSeq.get(base, base + MAX_SEQ) as { last_seq: number } | undefined)?.last_seq ?? 0;
        this.appendEvents([makeEvent(runId, last + 1, Date.now(), 'plan_upgraded', null, data)]);
        this.db.prepare('INSERT OR REPLACE INTO run_plans (run_id, ir) VALUES (?, ?)').run(runId, blob);
        return true;
      }, 'immediate')();
    } catch (err) {
      this.forgetUncommitted();
      throw err;
    }
  }

  load(runId: string): RunEvent[] {
    return [...this.events(runId)];
  }

  /**
   * A run's events in order, read a page at a time: folding a 100,000-step run's journal (300,000
   * events) need not hold them all at once, and events that die young cost the GC little.
   */
  *events(runId: string): Generator<RunEvent> {
    const key = this.findKey(runId);
    if (key === undefined) return;
    const base = key * SEQ_SPAN;
    const name = (code: number | string) => this.types.name(code as number);
    for (let from = base; ; ) {
      const rows = this.selectBatches.all(from, base + MAX_SEQ, BATCH_PAGE) as { id: number; ts: number; events: string }[];
      for (const r of rows) yield* decodeBatch(runId, r.id - base, r.ts, r.events, name);
      if (rows.length < BATCH_PAGE) return;
      from = rows[rows.length - 1]!.id + 1;
    }
  }

  getRun(runId: string): RunRow | undefined {
    return withIrText(this.db.prepare(`${SELECT_RUN} WHERE r.id = ?`).get(runId) as Parameters<typeof withIrText>[0]);
  }

  /**
   * Runs newest first (top-level only unless `all`). A row whose times are not times is a
   * `JournalCorrupt`: thrown, or given to `damaged` and left out, so one row hides no other.
   */
  listRuns(all = false, damaged?: (err: JournalCorrupt) => void): RunRow[] {
    const rows = this.db
      .prepare(
        `SELECT r.id, r.plan, r.parent_id, r.status, r.started_at, r.completed_at, r.cost, r.error, r.owner_pid, r.heartbeat_at, r.trigger,
                ${eventCountSql('k.key')} AS event_count
         FROM runs r LEFT JOIN run_keys k ON k.run_id = r.id ${all ? '' : 'WHERE r.parent_id IS NULL'} ORDER BY r.started_at DESC, r.id`,
      )
      .all() as RunRow[];
    if (!damaged) return rows.map((r) => checkedRunTimes(r));
    return rows.filter((r) => {
      try {
        checkedRunTimes(r);
        return true;
      } catch (err) {
        if (!(err instanceof JournalCorrupt)) throw err;
        damaged(err);
        return false;
      }
    });
  }

  /** Runs whose last status is not terminal (candidates for resuming). */
  unfinishedRuns(): RunRow[] {
    return this.db
      .prepare(`${SELECT_RUN} WHERE r.parent_id IS NULL AND r.status IN ('running', 'paused') ORDER BY r.started_at`)
      .all()
      .map((r) => withIrText(r as Parameters<typeof withIrText>[0])!);
  }

  addControl(runId: string, kind: ControlRow['kind'], stepId: string | null = null, payload: unknown = null): void {
    this.db
      .prepare('INSERT INTO controls (run_id, kind, step_id, payload, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, kind, stepId, payload === null ? null : JSON.stringify(payload), Date.now());
  }

  /** Unconsumed control rows of a run, marked consumed in the same transaction. */
  pendingControls(runId: string): ControlRow[] {
    return this.db.prepare('SELECT id, run_id, kind, step_id, payload FROM controls WHERE run_id = ? AND consumed_at IS NULL ORDER BY id').all(runId) as ControlRow[];
  }

  takeControls(runId: string): ControlRow[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT id, run_id, kind, step_id, payload FROM controls WHERE run_id = ? AND consumed_at IS NULL ORDER BY id')
        .all(runId) as ControlRow[];
      if (rows.length)
        this.db.prepare('UPDATE controls SET consumed_at = ? WHERE run_id = ? AND consumed_at IS NULL AND id <= ?').run(Date.now(), runId, rows[rows.length - 1]!.id);
      return rows;
    })();
  }

  heartbeat(runId: string): void {
    this.db.prepare('UPDATE runs SET owner_pid = ?, heartbeat_at = ? WHERE id = ?').run(process.pid, Date.now(), runId);
  }

  /**
   * Whether some live process (not this one) is executing the run right now: its pid is alive
   * and it wrote a heartbeat recently. The window is generous because wrongly taking over a run
   * that is still executing would interleave two writers; a loaded machine can delay heartbeats.
   */
  /**
   * Calls counted against a rate limit (its key: `rateWindow(policy, capability)` of the `rate_limit`) since
   * `since`, by every run of this journal (the shared limits' `rate_hits`); 0 when no run has
   * used the shared limits yet.
   */
  rateHitsSince(key: string, since: number): number {
    try {
      const row = this.db.prepare('SELECT COUNT(*) AS n FROM rate_hits WHERE key = ? AND at > ?').get(key, since) as { n: number } | undefined;
      return row?.n ?? 0;
    } catch (err) {
      if (/no such table/.test((err as Error).message)) return 0;
      throw err;
    }
  }

  ownedElsewhere(runId: string, staleMs = 30_000): boolean {
    // The owner's columns only: the whole row brings the run's IR, inflated (half a second for
    // 100,000 steps), and a resume asks this twice before its first step.
    const row = this.db.prepare('SELECT owner_pid, heartbeat_at FROM runs WHERE id = ?').get(runId) as Pick<RunRow, 'owner_pid' | 'heartbeat_at'> | undefined;
    if (!row || row.owner_pid === null || row.owner_pid === process.pid) return false;
    if (row.heartbeat_at !== null && Date.now() - row.heartbeat_at > staleMs) return false;
    try {
      process.kill(row.owner_pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * For a run no process executes: appends one event after its last one and sets its status
   * (`orch cancel` / `orch pause` of an interrupted run).
   */
  appendOffline<T extends EventType>(runId: string, type: T, data: EventData<T>, status: string): void {
    try {
      this.db.transaction(() => {
        const base = this.runKey(runId) * SEQ_SPAN;
        const last = (this.selectLastSeq.get(base, base + MAX_SEQ) as { last_seq: number } | undefined)?.last_seq ?? 0;
        const now = Date.now();
        this.appendEvents([makeEvent(runId, last + 1, now, type, null, data)]);
        const terminal = status === 'cancelled' || status === 'failed' || status === 'completed';
        this.db
          .prepare('UPDATE runs SET status = ?, completed_at = COALESCE(?, completed_at), owner_pid = NULL WHERE id = ?')
          .run(status, terminal ? now : null, runId);
      }, 'immediate')();
    } catch (err) {
      this.forgetUncommitted();
      throw err;
    }
  }

  /** This process stops executing the run (and its sub-plan runs): any process may resume it now. */
  disown(runId: string): void {
    this.db
      // Sub-plan runs by exact prefix, not LIKE: a user's --run-id may hold `_` or `%`.
      .prepare("UPDATE runs SET owner_pid = NULL WHERE (id = ? OR substr(id, 1, length(?) + 1) = ? || '/') AND owner_pid = ?")
      .run(runId, runId, runId, process.pid);
  }

  /**
   * Deletes the runs that finished before `before` (epoch ms), with their sub-plan runs, events
   * and controls, in one transaction. Running and paused runs are never touched, whatever their age.
   */
  prune(before: number): PruneResult {
    return this.db.transaction((): PruneResult => {
      // A sub-plan run's id is its parent's id, a slash and more: compared exactly, not with LIKE
      // (a user's --run-id may hold `_` or `%`).
      const doomed = `
        SELECT r.id FROM runs r JOIN runs top
          ON r.id = top.id OR substr(r.id, 1, length(top.id) + 1) = top.id || '/'
        WHERE top.parent_id IS NULL AND top.status IN ('completed', 'failed', 'cancelled', 'timeout')
          AND top.completed_at IS NOT NULL AND top.completed_at < ?`;
      let events = 0;
      const keys = this.db.prepare(`SELECT k.run_id, k.key FROM run_keys k WHERE k.run_id IN (${doomed})`).all(before) as { run_id: string; key: number }[];
      for (const k of keys) {
        events += (this.db.prepare(`SELECT ${eventCountSql('?')} AS n`).get(k.key, k.key, k.key) as { n: number }).n;
        this.db.prepare('DELETE FROM event_batches WHERE id BETWEEN ? AND ?').run(k.key * SEQ_SPAN, k.key * SEQ_SPAN + MAX_SEQ);
        this.keys.delete(k.run_id);
      }
      this.db.prepare(`DELETE FROM run_keys WHERE run_id IN (${doomed})`).run(before);
      this.db.prepare(`DELETE FROM controls WHERE run_id IN (${doomed})`).run(before);
      this.db.prepare(`DELETE FROM run_plans WHERE run_id IN (${doomed})`).run(before);
      const runs = this.db.prepare(`DELETE FROM runs WHERE id IN (${doomed})`).run(before).changes;
      return { runs: Number(runs), events: Number(events) };
    })();
  }

  close(): void {
    this.db.close();
  }
}
