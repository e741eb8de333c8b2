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
}

export interface Exchange {
  /** Record every pending result. */
  readonly report: boolean;
  /** Claim at most this many ready attempts (0: none). */
  readonly claim: number;
}

/**
 * The exchange to start now, or null (one is in flight, or there is nothing to say or ask). A
 * claim alone is worth a statement only while a slot is idle; with every slot busy it waits to
 * ride along with the next result (room in the line is no hurry), so workers woken by every
 * dispatch do not each spend a transaction on it. A claim alone takes only what the idle slots
 * can start, leaving the rest of a dispatch to the other woken workers rather than to their
 * empty claims.
 */
export function nextExchange(s: ExchangeState): Exchange | null {
  if (s.inFlight) return null;
  const free = Math.max(0, s.window - s.running);
  const idle = Math.max(0, s.slots - s.running);
  const claim = s.stopping || !s.wanted ? 0 : s.results > 0 ? free : Math.min(free, idle);
  if (s.results === 0 && claim === 0) return null;
  return { report: s.results > 0, claim };
}

/**
 * Whether more ready attempts may be waiting after a claim of `asked` that returned `got`: a full
 * batch may have left some behind; a short one emptied the queue (for this worker's tasks), so the
 * worker waits for the next dispatch notification or poll instead of asking again at once.
 */
export function stillWanted(asked: number, got: number, wanted: boolean): boolean {
  if (asked === 0) return wanted;
  return got >= asked;
}

/** The worker has stopped: nothing running, nothing to record, nothing in flight. */
export function drained(s: ExchangeState): boolean {
  return s.stopping && s.running === 0 && s.results === 0 && !s.inFlight;
}
