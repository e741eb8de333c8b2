/**
 * When an `orch worker` talks to the database (pure: no I/O, no clock). A worker has one
 * exchange with Postgres in flight at a time, and each exchange is ONE statement, hence one
 * commit: it records every result that finished since the last one (each fenced) and claims as
 * many ready attempts as its window has room for: its slots and as many again waiting in line, so
 * that a slot that frees starts the next attempt at once instead of after a round trip. Results that finish while an exchange is in flight
 * wait for the next, so the busier the worker, the larger its batches — group commit without a
 * timer, and no result waits longer than one round trip.
 */

export interface ExchangeState {
  /** Attempts run at once (`--slots`). */
  readonly slots: number;
  /** Attempts held at once: running on its slots, or claimed and waiting for one. */
  readonly window: number;
  /** Attempts claimed and not finished (running, or waiting for a slot). */
  readonly running: number;
  /** Finished attempts whose results are not recorded yet. */
  readonly results: number;
  /** An exchange is in flight. */
  readonly inFlight: boolean;
  /** Ready attempts may be waiting: woken by a dispatch, a poll, or a claim that came back full. */
  readonly wanted: boolean;
  /** Stopping: record what finished, claim nothing more. */
  readonly stopping: boolean;
  /**
   * Claimed attempts in line beyond the window, not handed to the threads: the window shrank
   * (the worker's attempts stopped being fast), and these go back to the queue for an idle
   * worker to take, rather than waiting here behind slow ones.
   */
  readonly surplus?: number;
  /**
   * Its recent attempts were fast and shared messages with each other on its threads
   * (`ExchangePace`): a claim alone takes each idle slot's whole share of the window, not one.
   */
  readonly fast?: boolean;
  /**
   * The results may wait a moment (`mayHold`): every slot has attempts waiting in line behind it,
   * so nothing idles while they gather, and the oldest is younger than the hold.
   */
  readonly holding?: boolean;
}

export interface Exchange {
  /** Record every pending result. */
  readonly report: boolean;
  /** Claim at most this many ready attempts (0: none). */
  readonly claim: number;
  /** Give the surplus back to the queue. */
  readonly release: boolean;
}

/**
 * The exchange to start now, or null (one is in flight, or there is nothing to say or ask). A
 * claim alone is worth a statement only while a slot is idle; with every slot busy it waits to
 * ride along with the next result (room in the line is no hurry), so workers woken by every
 * dispatch do not each spend a transaction on it. A claim alone takes only what the idle slots
 * can start, leaving the rest of a dispatch to the other woken workers rather than to their
 * empty claims — unless the worker's attempts are fast (`fast`): then each idle slot takes its
 * share of the window, since a claim and a report cost far more than such an attempt, and what
 * one worker holds beyond its fair share is a few milliseconds of work (`ExchangePace`).
 */
export function nextExchange(s: ExchangeState): Exchange | null {
  if (s.inFlight) return null;
  const free = Math.max(0, s.window - s.running);
  const idle = Math.max(0, s.slots - s.running);
  // Results held back wait for the next exchange, as a claim alone would (no slot is idle).
  const results = s.holding && !s.stopping ? 0 : s.results;
  const claim = s.stopping || !s.wanted ? 0 : results > 0 ? free : Math.min(free, s.fast ? idle * Math.max(1, Math.floor(s.window / s.slots)) : idle);
  const release = (s.surplus ?? 0) > 0;
  if (results === 0 && claim === 0 && !release) return null;
  return { report: results > 0, claim, release };
}

/**
 * Whether a worker may hold its finished results back a little (at most `holdMs` after the oldest
 * finished) so that more of them share one exchange: only while at least `cover` claimed
 * attempts wait in line for a slot — the slots stay busy meanwhile and the exchange that goes
 * still has that line to cover its round trip — and fewer results than a window's worth wait.
 * On a loaded box an exchange costs far more CPU (two processes woken, a statement planned,
 * executed and committed, an owner woken by its NOTIFY) than the few ms a result waits.
 */
export function mayHold(h: { readonly results: number; readonly waiting: number; readonly window: number; readonly ageMs: number; readonly holdMs: number; readonly cover: number }): boolean {
  return h.results > 0 && h.results < h.window && h.waiting >= h.cover && h.ageMs < h.holdMs;
}

/**
 * Whether more ready attempts may be waiting after a claim of `asked` that returned `got`: a full
 * batch may have left some behind; a short one emptied the queue (for this worker's tasks), so the
 * worker waits for the next dispatch notification or poll instead of asking again at once. What
 * the exchange gave back (`released`, surplus beyond a window that shrank) waits in the queue
 * whatever the claim found: the worker wants it again once its window has room, since the NOTIFY
 * of its release may reach no one (this worker, busy, may not be listening).
 */
export function stillWanted(asked: number, got: number, wanted: boolean, released = 0): boolean {
  if (released > 0) return true;
  if (asked === 0) return wanted;
  return got >= asked;
}

/** The worker has stopped: nothing running, nothing to record, nothing in flight. */
export function drained(s: ExchangeState): boolean {
  return s.stopping && s.running === 0 && s.results === 0 && !s.inFlight;
}

/** Attempts a slot holds (running or in line) while the worker's attempts are slow or unknown. */
export const PREFETCH = 2;
/** …and while they are fast: a line of ~`FAST_SHARED` of them is a few ms of work on a slot. */
export const PREFETCH_FAST = 16;
/** How many recent attempts must all have shared messages for the worker to count as fast. */
export const FAST_SHARED = 16;

/**
 * Whether a worker's recent attempts were fast, as the handler threads saw them: each claimed
 * attempt is marked, when it is handed over, by whether it may share a message with others
 * (an idempotent handler without a timeout whose recent attempts took under 2 ms — the executor's
 * own rule, chunking.ts). While the last `FAST_SHARED` all did, a line of `PREFETCH_FAST` per slot
 * is a few milliseconds of work, and one exchange per such line instead of per attempt is what
 * the cluster's throughput is made of; one attempt that may not share (slow, with a timeout, a
 * model call, a tool) puts the worker back to `PREFETCH` at once, so slow work is never hoarded.
 */
export class ExchangePace {
  private streak = 0;

  /** One attempt handed to the threads: whether it could share a message. */
  observe(shares: boolean): void {
    this.streak = shares ? Math.min(FAST_SHARED, this.streak + 1) : 0;
  }

  get fast(): boolean {
    return this.streak >= FAST_SHARED;
  }

  /** Attempts held per slot. */
  get prefetch(): number {
    return this.fast ? PREFETCH_FAST : PREFETCH;
  }
}
