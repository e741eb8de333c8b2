/**
 * An `orch worker`'s row in `orch.workers`: its id, its heartbeat, and — once the sweeper declared
 * it dead (frozen, partitioned, paused past 5 s) — a new registration under a new id. Everything
 * the old id did is fenced by then: its running attempts were abandoned with it, so their results
 * are refused; a dead id claims nothing (`queue.ts` `exchange`), and an attempt a claim in flight
 * took under it all the same is abandoned by the next sweep (`sweepDeadWorkers`).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';

export interface WorkerIdentity {
  readonly resources: readonly string[];
  readonly slots: number;
}

/** A worker id: `host:pid:random` (a pid alone says nothing across machines). */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class WorkerRegistration {
  private current: string;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly who: WorkerIdentity,
    id: string,
  ) {
    this.current = id;
  }

  /** Registers a new worker (state `alive`, heartbeat now). */
  static async register(pool: pg.Pool, who: WorkerIdentity): Promise<WorkerRegistration> {
    const reg = new WorkerRegistration(pool, who, newWorkerId());
    await reg.insert();
    return reg;
  }

  /** The id this worker claims and records results under now. */
  get id(): string {
    return this.current;
  }

  private async insert(): Promise<void> {
    await this.pool.query(`INSERT INTO orch.workers (id, host, pid, resources, slots) VALUES ($1, $2, $3, $4, $5)`, [
      this.current,
      hostname(),
      process.pid,
      [...this.who.resources],
      this.who.slots,
    ]);
  }

  /**
   * Writes the heartbeat of `id` (the current id unless given; from `on`, a connection of its own):
   * false when that id is no longer alive.
   */
  async beat(on: pg.Pool, id: string = this.current): Promise<boolean> {
    const r = await on.query(`UPDATE orch.workers SET heartbeat_at = now() WHERE id = $1 AND state = 'alive'`, [id]);
    return r.rowCount !== 0;
  }

  /** Registers again under a new id (the old one was declared dead); the old id. */
  async again(): Promise<string> {
    const previous = this.current;
    const next = newWorkerId();
    this.current = next;
    try {
      await this.insert();
    } catch (err) {
      this.current = previous;
      throw err;
    }
    return previous;
  }

  /** Deregisters (state `stopped`) unless declared dead meanwhile. */
  async stop(): Promise<void> {
    await this.pool.query(`UPDATE orch.workers SET state = 'stopped' WHERE id = $1 AND state = 'alive'`, [this.current]);
  }
}
