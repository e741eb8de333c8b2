/**
 * An `orch worker`'s decisions about the attempts it holds, as a state machine (issue #48): pure —
 * no database, no clock, no timer, no thread — in the style of `scheduler/core` and `heartbeat.ts`.
 * The shell (worker.ts) feeds it what happened (`handle(event, at)`, with the time and the id the
 * worker holds now) and carries out the commands it answers with, in order.
 *
 * What it holds, and why each rule:
 * - **A line and the threads.** Claimed attempts wait in `line` (claim order) until handed to the
 *   threads: one per free slot, and beyond that those that may share a message (fast, idempotent,
 *   no timeout), which the executor runs in chunks on busy threads — one message for many.
 * - **One exchange at a time** (`batching.ts` decides when): it records what finished since the
 *   last and claims what the window has room for. Should it fail, its results and releases wait
 *   for the next (their fence still guards them), and the worker looks up what the lost answer
 *   may have claimed for it (`adopt`) before it exchanges again.
 * - **Given back, never completed.** An attempt released unstarted (surplus beyond a window that
 *   shrank) goes back to the queue; one whose handler a cut-off aborted is recorded `abandoned`
 *   with the reason, whatever its handler returned, so that its owner journals it lost and the
 *   step's next run is an attempt of its own (issue #49).
 * - **Declared dead: nothing claimed under the old id starts.** The sweeper abandoned those
 *   attempts and they may run elsewhere by now; those running finish and their results are refused.
 */
import { drained, ExchangePace, mayHold, nextExchange, stillWanted } from './batching.js';
import { attemptKey } from './attempt-rows.js';
import type { StepJob } from './jobs.js';
import type { AbandonNotice, ExchangeAnswer, Release, Result } from './queue.js';

/** How long finished results may wait for more to share their exchange, at most (`mayHold`). */
export const HOLD_MS = 5;

/** A claimed attempt and the worker id it was claimed under (its result is recorded under that id). */
export interface Claim {
  readonly job: StepJob;
  readonly worker: string;
  /** Handed over as an attempt that may not share a message (slow or unknown): its owner's abandon is listened for. */
  slow?: boolean;
  /** Why it was aborted, the worker cut off from the database: recorded `abandoned` when it ends, never as its outcome. */
  cutOff?: string;
}

/** When an event happens, and the id the worker holds then (it changes when it registers again). */
export interface WorkerNow {
  readonly now: number;
  readonly id: string;
}

export type WorkerEvent =
  /** Ready attempts may be waiting (a dispatch, the poll, a registration). */
  | { readonly kind: 'wake' }
  /**
   * Its LISTEN for dispatches landed: what was dispatched while it did not listen must be looked
   * for by a claim made after it (`lookDue`).
   */
  | { readonly kind: 'listening' }
  /** A turn: start the exchange that is due, if one is. */
  | { readonly kind: 'pump' }
  /** The `pump-soon` turn came. */
  | { readonly kind: 'pump-turn' }
  /** The `hold` timer ended. */
  | { readonly kind: 'hold-ended' }
  | { readonly kind: 'exchanged'; readonly answer: ExchangeAnswer }
  | { readonly kind: 'exchange-failed'; readonly error: string }
  /** After a failed exchange: the attempts the database has running under `id` (its answer may have been lost). */
  | { readonly kind: 'adopted'; readonly id: string; readonly jobs: readonly StepJob[] }
  /** That look-up failed too (the database still unreachable). */
  | { readonly kind: 'adopt-failed'; readonly id: string; readonly error: string }
  /** A handed attempt's handler ended (or could not run) with this result. */
  | { readonly kind: 'finished'; readonly claim: Claim; readonly result: Result }
  /** Its owner gave up on an attempt (race lost, cancelled, timed out). */
  | { readonly kind: 'abandoned'; readonly notice: AbandonNotice }
  /** The heartbeat found `old` declared dead: register again. */
  | { readonly kind: 'declared-dead'; readonly old: string }
  | { readonly kind: 'registered'; readonly previous: string; readonly deadAfterMs: number }
  | { readonly kind: 'register-failed'; readonly error: string }
  /** No heartbeat answered for `silentMs` of a `deadAfterMs` lease (heartbeat.ts). */
  | { readonly kind: 'cut-off'; readonly silentMs: number; readonly deadAfterMs: number }
  | { readonly kind: 'stop'; readonly why: string };

export type WorkerCommand =
  | { readonly kind: 'exchange'; readonly as: string; readonly report: readonly Result[]; readonly claim: number; readonly release: readonly Release[] }
  /** Hand the attempt to the threads. */
  | { readonly kind: 'start'; readonly claim: Claim }
  /** Fire a handed attempt's `ctx.signal`. */
  | { readonly kind: 'abort'; readonly claim: Claim; readonly reason: string }
  /** Send `hold-ended` after `ms`. */
  | { readonly kind: 'hold'; readonly ms: number }
  | { readonly kind: 'cancel-hold' }
  /** Send `pump-turn` once the attempts finishing together have all been told (the next macrotask). */
  | { readonly kind: 'pump-soon' }
  /** After `afterMs`, look up the attempts running under `id` and send `adopted`. */
  | { readonly kind: 'adopt'; readonly afterMs: number; readonly id: string }
  | { readonly kind: 'register-again' }
  /** What the worker wants to listen to may have changed (`ListenSwitch.tune`). */
  | { readonly kind: 'tune' }
  /** Stopping: no more heartbeat or poll. */
  | { readonly kind: 'stop-timers' }
  | { readonly kind: 'log'; readonly line: string }
  /** Stopped, nothing held, nothing to record: the worker may close. */
  | { readonly kind: 'drained' };

export interface WorkerCoreOptions {
  /** Attempts at once (`--slots`). */
  readonly slots: number;
  /** Whether an attempt may share a message on a busy thread (the executor's rule, read as it is handed over). */
  readonly shares: (job: StepJob) => boolean;
}

export const jobId = (job: StepJob): string => `${attemptKey(job.run, job.key, job.attempt)}\u0000${job.fence}`;
const releaseOf = ({ job }: Claim): Release => ({ run: job.run, key: job.key, attempt: job.attempt, fence: job.fence });
/** A cut-off attempt's record: `abandoned` by this worker, with why (its owner journals it lost). */
const givenBack = ({ job, worker }: Claim, reason: string): Result => ({
  run: job.run,
  key: job.key,
  attempt: job.attempt,
  fence: job.fence,
  worker,
  status: 'abandoned',
  outcome: JSON.stringify({ ok: false, error: `given back: ${reason}` }),
});

/** The exchange in flight: what it carried, put back should it fail. */
interface InFlight {
  readonly as: string;
  readonly asked: number;
  readonly released: number;
  readonly report: Result[];
}

export class WorkerCore {
  /** Claimed attempts waiting for a slot, in claim order. */
  private readonly line: Claim[] = [];
  /** Claimed attempts handed to the threads and not finished. */
  private readonly handed = new Set<Claim>();
  /** Every attempt held (in line or handed), by `jobId`. */
  private readonly mine = new Set<string>();
  /** Finished attempts whose results are not recorded yet. */
  private results: Result[] = [];
  /** When the oldest unrecorded result finished. */
  private heldSince = 0;
  private exchanging: InFlight | null = null;
  private holdArmed = false;
  private pumpQueued = false;
  private failures = 0;
  private slowRunning = 0;
  private renewing = false;
  private isStopping = false;
  private wasDrained = false;
  private readonly pace = new ExchangePace();
  /** Ready attempts may be waiting. */
  wanted = true;
  /**
   * A LISTEN landed and no claim was sent since: a dispatch committed while the worker did not
   * listen was heard by nobody here. With fast attempts running, the next report (due within
   * milliseconds) carries that claim; otherwise it is a claim alone, at once.
   */
  private lookDue = false;
  /** Its last claim came back short: the queue ran dry for its tasks (no backlog). */
  private dry = false;
  /** It was declared dead and could not register again. */
  declaredDead = false;

  constructor(private readonly o: WorkerCoreOptions) {}

  /** Attempts claimed and not finished (in line or handed). */
  get running(): number {
    return this.line.length + this.handed.size;
  }
  get executing(): number {
    return this.handed.size;
  }
  get inFlight(): boolean {
    return this.exchanging !== null;
  }
  /** Its recent attempts were fast (`ExchangePace`). */
  get fast(): boolean {
    return this.pace.fast;
  }
  get stopping(): boolean {
    return this.isStopping;
  }
  /** Handed attempts that may not share a message: the owner's abandons are worth listening for. */
  get slow(): number {
    return this.slowRunning;
  }
  /**
   * Whether to listen for dispatches, given whether it does (`ListenSwitch`). It listens while it
   * has an idle slot, and again only once idle for good (nothing running, no exchange in flight,
   * its last claim short); a busy worker hears of new attempts from its next exchange or the poll,
   * so that a backlog's busy workers are not woken by every NOTIFY of the database. But a fast
   * worker whose last claim found the queue dry keeps listening while busy: its attempts end
   * within milliseconds in a report that carries the claim a dispatch heard meanwhile asks for —
   * where switching off cost a LISTEN, an UNLISTEN and a claim alone (mostly empty) per batch.
   */
  wantsDispatches(listening: boolean): boolean {
    if (this.isStopping) return listening;
    if (this.pace.fast && this.dry) return true;
    return listening ? this.running < this.o.slots : this.running === 0 && !this.inFlight && !this.wanted;
  }

  /** The attempts claimed and not finished, in line then handed (for tests and `orch workers`). */
  held(): readonly Claim[] {
    return [...this.line, ...this.handed];
  }

  handle(event: WorkerEvent, at: WorkerNow): WorkerCommand[] {
    const out: WorkerCommand[] = [];
    switch (event.kind) {
      case 'wake':
        this.wanted = true;
        this.pump(at, out);
        break;
      case 'listening':
        this.lookDue = true;
        this.pump(at, out);
        break;
      case 'pump':
        this.pump(at, out);
        break;
      case 'pump-turn':
        this.pumpQueued = false;
        this.pump(at, out);
        break;
      case 'hold-ended':
        this.holdArmed = false;
        this.pump(at, out);
        break;
      case 'exchanged':
        this.exchanged(event.answer, at, out);
        break;
      case 'exchange-failed':
        this.exchangeFailed(event.error, at, out);
        break;
      case 'adopted':
        this.adopted(event.id, event.jobs, at, out);
        break;
      case 'adopt-failed':
        this.adoptFailed(event.id, at, out);
        break;
      case 'finished':
        this.finished(event.claim, event.result, at, out);
        break;
      case 'abandoned':
        this.abandoned(event.notice, out);
        break;
      case 'declared-dead':
        this.declaredDeadAs(event.old, out);
        break;
      case 'registered':
        this.renewing = false;
        out.push({ kind: 'log', line: `orch worker ${event.previous} was declared dead (no heartbeat for more than ${event.deadAfterMs / 1000} s): registered again as ${at.id}` });
        this.wanted = true;
        this.pump(at, out);
        break;
      case 'register-failed':
        this.renewing = false;
        this.declaredDead = true;
        out.push({ kind: 'log', line: `orch worker ${at.id}: declared dead and cannot register again: ${event.error}` });
        this.stop('declared dead', at, out);
        break;
      case 'cut-off':
        this.cutOff(event.silentMs, event.deadAfterMs, at, out);
        break;
      case 'stop':
        this.stop(event.why, at, out);
        break;
    }
    return out;
  }

  /** One exchange at a time: record what finished, claim what the free slots can take. */
  private pump(at: WorkerNow, out: WorkerCommand[]): void {
    const { slots } = this.o;
    const window = slots * this.pace.prefetch;
    const ageMs = this.results.length > 0 ? at.now - this.heldSince : 0;
    // Waiting for a slot: in line here, or handed to the threads beyond their slots (in chunks).
    const waiting = this.line.length + Math.max(0, this.executing - slots);
    const holding = !this.inFlight && mayHold({ results: this.results.length, waiting, window, ageMs, holdMs: HOLD_MS, cover: Math.max(1, slots >> 1) });
    // Not handed to the threads yet, and beyond a window that shrank: for another worker to take.
    const surplus = Math.min(this.line.length, Math.max(0, this.running - window));
    // The look a LISTEN owes waits for the next report only while one is due soon (fast attempts
    // running): a claim alone for it found nothing four times in five (docs/cluster.md).
    const reporting = this.results.length > 0 && !holding;
    const look = this.lookDue && (reporting || !this.pace.fast || this.running === 0);
    const state = {
      slots,
      window,
      running: this.running,
      results: this.results.length,
      inFlight: this.inFlight,
      wanted: (this.wanted || look) && !this.renewing,
      stopping: this.isStopping,
      holding,
      fast: this.pace.fast,
      surplus,
    };
    const next = nextExchange(state);
    if (next === null) {
      if (holding && !this.holdArmed) {
        this.holdArmed = true;
        out.push({ kind: 'hold', ms: Math.max(0, HOLD_MS - ageMs) });
      }
      if (drained(state) && !this.wasDrained) {
        this.wasDrained = true;
        out.push({ kind: 'drained' });
      }
      return;
    }
    if (this.holdArmed) {
      this.holdArmed = false;
      out.push({ kind: 'cancel-hold' });
    }
    const as = at.id;
    const report = this.results;
    this.results = [];
    const release = next.release ? this.giveBack(surplus, as) : [];
    // A claim made after the LISTEN landed sees every dispatch committed before it.
    if (next.claim > 0) this.lookDue = false;
    this.exchanging = { as, asked: next.claim, released: release.length, report };
    out.push({ kind: 'exchange', as, report, claim: next.claim, release });
  }

  /**
   * The last `n` claims in line under `as`, out of it: their rows go back to `dispatched` with the
   * exchange about to start. Should it fail, `adopt` finds them still this worker's and runs them.
   */
  private giveBack(n: number, as: string): Release[] {
    const back: Release[] = [];
    for (let i = this.line.length - 1; i >= 0 && back.length < n; i--) {
      const claim = this.line[i]!;
      if (claim.worker !== as) continue;
      this.line.splice(i, 1);
      this.mine.delete(jobId(claim.job));
      back.push(releaseOf(claim));
    }
    return back;
  }

  private exchanged(answer: ExchangeAnswer, at: WorkerNow, out: WorkerCommand[]): void {
    const { as, asked, released } = this.exchanging!;
    this.failures = 0;
    for (const r of answer.refused) {
      if (r.status === 'refused') continue;
      out.push({ kind: 'log', line: `refused: the result of ${r.run}/${r.key}#${r.attempt} (this worker was presumed dead, or the owner gave up on it)` });
    }
    this.wanted = stillWanted(asked, answer.claimed.length, this.wanted, released);
    if (asked > 0) this.dry = answer.claimed.length < asked;
    for (const job of answer.claimed) {
      // Claimed under an id declared dead meanwhile: the sweeper abandons it, none starts here.
      if (as !== at.id) out.push({ kind: 'log', line: `dropped ${job.run}/${job.key}#${job.attempt}: claimed as ${as}, declared dead since` });
      else this.track({ job, worker: as }, out);
    }
    this.exchangeEnded(at, out);
  }

  /**
   * The database is unreachable: the results wait for the next exchange (their fence still guards
   * them); what this one may have claimed the sweeper gives back if this worker dies, and `adopt`
   * finds it if it lives. The exchange stays in flight until then.
   */
  private exchangeFailed(error: string, at: WorkerNow, out: WorkerCommand[]): void {
    const { report } = this.exchanging!;
    this.results.unshift(...report);
    if (this.failures++ === 0) out.push({ kind: 'log', line: `orch worker ${at.id}: ${error}; retrying` });
    this.wanted = true;
    out.push({ kind: 'adopt', afterMs: Math.min(2000, 100 * this.failures), id: at.id });
  }

  /** Attempts recorded as claimed by this worker that it does not hold (the answer of an exchange was lost): run them. */
  private adopted(id: string, jobs: readonly StepJob[], at: WorkerNow, out: WorkerCommand[]): void {
    if (id === at.id)
      for (const job of jobs) {
        if (this.mine.has(jobId(job)) || this.results.some((x) => x.run === job.run && x.key === job.key && x.attempt === job.attempt)) continue;
        this.track({ job, worker: id }, out);
      }
    this.exchangeEnded(at, out);
  }

  /**
   * The look-up after a failed exchange failed too: it is made again, the exchange still in flight.
   * Ended with nothing found, an attempt the lost answer claimed would stay `running` under this
   * live id, which no sweep abandons and no worker runs: its run would wait for it forever. Under
   * an id declared dead since, the sweeper abandons those rows: nothing to look for.
   */
  private adoptFailed(id: string, at: WorkerNow, out: WorkerCommand[]): void {
    if (id !== at.id) return this.exchangeEnded(at, out);
    this.failures++;
    out.push({ kind: 'adopt', afterMs: Math.min(2000, 100 * this.failures), id });
  }

  private exchangeEnded(at: WorkerNow, out: WorkerCommand[]): void {
    out.push({ kind: 'tune' });
    this.exchanging = null;
    this.pump(at, out);
    out.push({ kind: 'tune' });
  }

  private track(claim: Claim, out: WorkerCommand[]): void {
    this.mine.add(jobId(claim.job));
    this.line.push(claim);
    this.startNext(out);
  }

  /**
   * Hands attempts from the line to the threads: one per free slot, and beyond that those that may
   * share a message, which the executor runs in chunks on the busy threads instead of each
   * waiting here for a slot.
   */
  private startNext(out: WorkerCommand[]): void {
    const { slots } = this.o;
    while (this.line.length > 0) {
      const shares = this.o.shares(this.line[0]!.job);
      if (this.executing >= slots && !(shares && this.executing < slots * this.pace.prefetch)) break;
      this.pace.observe(shares);
      const claim = this.line.shift()!;
      this.handed.add(claim);
      if (!shares) {
        claim.slow = true;
        this.slowRunning++;
      }
      out.push({ kind: 'start', claim });
      if (!shares) out.push({ kind: 'tune' });
    }
  }

  private finished(claim: Claim, result: Result, at: WorkerNow, out: WorkerCommand[]): void {
    if (!this.handed.delete(claim)) return;
    this.mine.delete(jobId(claim.job));
    if (claim.slow) {
      this.slowRunning--;
      out.push({ kind: 'tune' });
    }
    // Cut off: whatever its handler returned, the attempt is given back as abandoned — unless this
    // id was declared dead meanwhile (the sweeper abandoned it already).
    const recorded = claim.cutOff === undefined ? result : claim.worker === at.id ? givenBack(claim, claim.cutOff) : null;
    if (claim.cutOff !== undefined) this.wanted = true;
    if (recorded !== null) {
      if (this.results.length === 0) this.heldSince = at.now;
      this.results.push(recorded);
    }
    this.startNext(out);
    // The attempts of a chunk finish together: one exchange for all of them, not one for the first.
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      out.push({ kind: 'pump-soon' });
    }
    if (this.running === 0) out.push({ kind: 'tune' });
  }

  /**
   * Its owner gave up on an attempt (its row is `abandoned`, so no result of it would be recorded):
   * not started, it never starts; running, its handler's ctx.signal fires with the owner's reason.
   */
  private abandoned(n: AbandonNotice, out: WorkerCommand[]): void {
    const is = ({ job }: Claim): boolean => job.run === n.run && job.key === n.key && job.attempt === n.attempt;
    for (let i = this.line.length - 1; i >= 0; i--) {
      if (!is(this.line[i]!)) continue;
      this.mine.delete(jobId(this.line[i]!.job));
      this.line.splice(i, 1);
    }
    for (const claim of this.handed) if (is(claim)) out.push({ kind: 'abort', claim, reason: n.reason });
  }

  /**
   * Declared dead (frozen or cut off past the dead-after time): the attempts claimed under the old
   * id and waiting in line were abandoned with it and may have run elsewhere by now, so none of
   * them starts here; those running finish (their results are refused).
   */
  private declaredDeadAs(old: string, out: WorkerCommand[]): void {
    if (this.isStopping) return;
    this.renewing = true;
    for (let i = this.line.length - 1; i >= 0; i--) {
      if (this.line[i]!.worker !== old) continue;
      this.mine.delete(jobId(this.line[i]!.job));
      this.line.splice(i, 1);
    }
    // Handed to the threads but perhaps not started (a chunk's later members): none may start.
    for (const claim of this.handed) if (claim.worker === old) out.push({ kind: 'abort', claim, reason: `worker ${old} was declared dead` });
    out.push({ kind: 'register-again' });
  }

  /**
   * No beat answered for most of its lease: the running handlers are aborted (their ctx.signal)
   * and their attempts given back once they end, before the sweeper could hand them to another
   * worker — so a handler cut off here never overlaps the attempt's next run (heartbeat.ts).
   */
  private cutOff(silentMs: number, deadAfterMs: number, at: WorkerNow, out: WorkerCommand[]): void {
    const reason = `worker ${at.id} lost the database for ${(silentMs / 1000).toFixed(1)} s: its lease lapses in ${((deadAfterMs - silentMs) / 1000).toFixed(1)} s`;
    let aborted = 0;
    for (const claim of this.handed) {
      if (claim.worker !== at.id || claim.cutOff !== undefined) continue;
      claim.cutOff = reason;
      out.push({ kind: 'abort', claim, reason });
      aborted++;
    }
    out.push({
      kind: 'log',
      line: `orch worker ${at.id}: no heartbeat answered for ${(silentMs / 1000).toFixed(1)} s (unreachable database); ${aborted} running handler${aborted === 1 ? '' : 's'} aborted, their attempts given back`,
    });
  }

  private stop(why: string, at: WorkerNow, out: WorkerCommand[]): void {
    if (this.isStopping) return;
    this.isStopping = true;
    out.push({ kind: 'log', line: `orch worker ${at.id}: stopping (${why})` });
    out.push({ kind: 'stop-timers' });
    this.pump(at, out);
  }
}
