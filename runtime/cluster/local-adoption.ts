/**
 * Adoption when a run on Postgres resumes in this process (`--local`, or no live worker): the
 * attempts a dead owner had on workers are not treated as interrupted. This executor wraps the
 * in-process one; of each step in flight at the interruption (`recover`):
 * - an outcome a worker recorded: the step's next attempt receives it and folds the row in the
 *   commit of what it leads to — the handler is not called again;
 * - still dispatched (no worker claimed it): taken back (`abandoned`, its `job` payload cleared,
 *   so no worker ever claims it from the step queue) and run here;
 * - running on a worker: waited on (its NOTIFY-less poll, with the sweeper, since there may be no
 *   other process to declare that worker dead); should the worker die or refuse it, the attempt
 *   runs here.
 * Every other attempt goes to the inner executor untouched.
 */
import type pg from 'pg';
import type { ClusterDatabase } from '../backend/index.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, Executor } from '../scheduler/types.js';
import { foldHook, parseOutcome, recoverableAttempts, recoveredKey, runStep, type RecoveredAttempt } from './attempt-rows.js';
import { sweepDeadWorkers } from './jobs.js';
import { clusterTiming } from './timing.js';

export class AdoptingExecutor implements Executor {
  /** What `recover` found on workers, by run and step key, until the step's next attempt starts. */
  private readonly adopted = new Map<string, RecoveredAttempt>();
  readonly prepare?: Executor['prepare'];
  readonly discard?: Executor['discard'];
  readonly checkTool?: Executor['checkTool'];
  private closed = false;

  private constructor(
    private readonly inner: Executor,
    private readonly pool: pg.Pool,
  ) {
    if (inner.prepare) this.prepare = inner.prepare.bind(inner);
    if (inner.discard) this.discard = inner.discard.bind(inner);
    if (inner.checkTool) this.checkTool = inner.checkTool.bind(inner);
  }

  static async open(inner: Executor, db: ClusterDatabase): Promise<AdoptingExecutor> {
    return new AdoptingExecutor(inner, await db.pool(2));
  }

  async recover(runId: string, inFlight: ReadonlyMap<string, number>): Promise<ReadonlySet<string>> {
    const { adopted, neverRan } = await recoverableAttempts(this.pool, runId, inFlight);
    for (const [key, at] of adopted) this.adopted.set(runStep(runId, key), at);
    return new Set([...adopted.keys(), ...neverRan]);
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    const known = recoveredKey(req);
    const at = known === null ? undefined : this.adopted.get(known);
    if (known === null || at === undefined) return this.inner.start(req, done, logged);
    this.adopted.delete(known);
    return new Adoption(this, req, at, done, logged).handle;
  }

  /** Runs `req` here after all (the adopted attempt never ran, or its worker died or refused it). */
  runHere(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    return this.inner.start(req, done, logged);
  }

  /** The adopted row now, or null (pruned). */
  async row(req: AttemptRequest, at: RecoveredAttempt): Promise<{ status: string; outcome: string | null } | null> {
    const { rows } = await this.pool.query<{ status: string; outcome: string | null }>(
      `SELECT status, outcome FROM orch.attempts WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND fence = $4`,
      [req.runId, req.stepId, at.attempt, at.fence],
    );
    return rows[0] ?? null;
  }

  /** Takes an attempt no worker claimed yet back from the workers: true when no worker ever will. */
  async takeBack(req: AttemptRequest, at: RecoveredAttempt): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE orch.attempts SET status = 'abandoned', folded = true, finished_at = now(), job = NULL
        WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND fence = $4 AND status = 'dispatched'`,
      [req.runId, req.stepId, at.attempt, at.fence],
    );
    return r.rowCount === 1;
  }

  /** The run gave up on an adopted attempt (timeout, cancel): its worker can no longer record a result. */
  async abandon(req: AttemptRequest, at: RecoveredAttempt): Promise<void> {
    await this.pool.query(
      `UPDATE orch.attempts SET status = 'abandoned', folded = true, finished_at = now(), job = NULL
        WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND fence = $4 AND status IN ('dispatched', 'running')`,
      [req.runId, req.stepId, at.attempt, at.fence],
    );
  }

  /** Declares silent workers dead, so that an adopted attempt of a dead one comes back. */
  sweep(): void {
    sweepDeadWorkers(this.pool).catch(() => undefined);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.adopted.clear();
    await this.pool.end();
  }
}

/** One adopted attempt: answered from its row, waited on, or run here after all. */
class Adoption {
  readonly handle: AttemptHandle;
  private settled = false;
  private here: AttemptHandle | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSweep = 0;

  constructor(
    private readonly ex: AdoptingExecutor,
    private readonly req: AttemptRequest,
    private readonly at: RecoveredAttempt,
    private readonly done: (outcome: AttemptOutcome) => void,
    private readonly logged?: (lines: readonly string[]) => void,
  ) {
    this.handle = { abort: (reason) => this.abort(reason) };
    if (at.outcome !== null) {
      const outcome = { ...at.outcome, commitHook: foldHook(req.runId, req.stepId, at.attempt, at.fence) };
      queueMicrotask(() => this.finish(outcome));
    } else queueMicrotask(() => void this.look());
  }

  /** One look at the row: its outcome, or the attempt runs here, or another look later. */
  private async look(): Promise<void> {
    this.timer = null;
    if (this.settled || this.here) return;
    try {
      const row = await this.ex.row(this.req, this.at);
      if (this.settled || this.here) return;
      if (row === null) return this.runHere();
      if (row.status === 'succeeded' || row.status === 'failed')
        return this.finish({ ...parseOutcome(row.outcome), commitHook: foldHook(this.req.runId, this.req.stepId, this.at.attempt, this.at.fence) });
      // Abandoned (its worker died) or refused: the step's own attempt runs here.
      if (row.status !== 'dispatched' && row.status !== 'running') return this.runHere();
      if (row.status === 'dispatched' && (await this.ex.takeBack(this.req, this.at))) return this.runHere();
      if (Date.now() - this.lastSweep >= clusterTiming().sweepMs) {
        this.lastSweep = Date.now();
        this.ex.sweep();
      }
    } catch {
      // A busy database: the next look.
    }
    if (!this.settled && !this.here && !this.ex.isClosed) {
      this.timer = setTimeout(() => void this.look(), clusterTiming().outcomePollMs);
      this.timer.unref?.();
    }
  }

  private runHere(): void {
    if (this.settled || this.ex.isClosed) return;
    this.here = this.ex.runHere(this.req, (o) => this.finish(o), this.logged);
  }

  private finish(outcome: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.done(outcome);
  }

  private abort(reason: string): void {
    if (this.settled) return;
    if (this.here) return this.here.abort(reason);
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.at.outcome === null && !this.ex.isClosed) this.ex.abandon(this.req, this.at).catch(() => undefined);
  }
}
