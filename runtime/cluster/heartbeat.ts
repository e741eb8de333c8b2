/**
 * An `orch worker`'s heartbeat as pure decisions (issue #49): when to beat, when to register
 * again, when to give up its running handlers because its lease is about to lapse. The worker's
 * shell (worker.ts) feeds it the ticks of its heartbeat timer and the answers of its beats, and
 * carries out the commands.
 *
 * Why each rule:
 * - **One beat in flight.** A beat that hangs (a cut link) would otherwise be joined by one per
 *   tick, all queued on the heartbeat's one connection; after the heal each came back "not
 *   alive" and each registered the worker again — one registration per missed beat.
 * - **An answer speaks for the id it was sent for.** A "not alive" answer for an id the worker
 *   no longer holds (it already registered again) is stale; acting on it took the worker's new,
 *   alive id for the dead one and aborted the attempts running under it.
 * - **Cut off before the lease lapses.** The sweeper declares a worker dead once its heartbeat in
 *   the database is `deadAfterMs` old, and its attempts go to other workers; a handler still
 *   running here would then overlap the new attempt and break a shared limit (`concurrency 2`
 *   seen with three calls at once). So once no beat was answered for `deadAfterMs − heartbeatMs`
 *   — counted from when the last answered beat was *sent*, never later than the database's
 *   heartbeat — the worker aborts its handlers (their `ctx.signal`) and gives their attempts
 *   back, a heartbeat's time before anyone else may take them.
 */

export interface HeartbeatTiming {
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
}

export interface HeartbeatState {
  /** When the beat in flight was sent (ms), or null when none is. */
  readonly sentAt: number | null;
  /** When the last beat answered "alive" was sent (or the registration written). */
  readonly lastAliveAt: number;
  /** Registering again after a "not alive" answer: no beat until that ends. */
  readonly renewing: boolean;
  /** When the worker counted itself cut off (its handlers aborted), or null. */
  readonly cutOffSince: number | null;
}

export type HeartbeatEvent =
  | { readonly kind: 'tick'; readonly now: number }
  /** The beat sent at `sentAt` for `id` answered; `current` is the worker's id now. */
  | { readonly kind: 'answered'; readonly now: number; readonly sentAt: number; readonly id: string; readonly current: string; readonly alive: boolean }
  /** The beat failed (the database refused or the connection broke). */
  | { readonly kind: 'failed'; readonly now: number }
  /** Registering again ended: `ok` with a new id written now, or not. */
  | { readonly kind: 'renewed'; readonly now: number; readonly ok: boolean };

export type HeartbeatCommand =
  /** Send a beat for the current id. */
  | { readonly kind: 'beat' }
  /** The current id was declared dead: register again (the id is the one declared dead). */
  | { readonly kind: 'renew'; readonly dead: string }
  /** No beat answered for `silentMs`: abort the running handlers and give their attempts back. */
  | { readonly kind: 'cut-off'; readonly silentMs: number }
  /** A beat answered again after a cut-off, after `silentMs`. */
  | { readonly kind: 'reachable'; readonly silentMs: number };

export interface HeartbeatDecision {
  readonly state: HeartbeatState;
  readonly commands: readonly HeartbeatCommand[];
}

/** The state right after registering at `now`. */
export function startHeartbeat(now: number): HeartbeatState {
  return { sentAt: null, lastAliveAt: now, renewing: false, cutOffSince: null };
}

/** How long without an answered beat before the worker counts itself cut off. */
export function cutOffAfterMs(t: HeartbeatTiming): number {
  return Math.max(t.heartbeatMs, t.deadAfterMs - t.heartbeatMs);
}

export function decideHeartbeat(state: HeartbeatState, event: HeartbeatEvent, timing: HeartbeatTiming): HeartbeatDecision {
  switch (event.kind) {
    case 'tick': {
      const commands: HeartbeatCommand[] = [];
      let next = state;
      const silentMs = event.now - state.lastAliveAt;
      if (state.cutOffSince === null && !state.renewing && silentMs >= cutOffAfterMs(timing)) {
        next = { ...next, cutOffSince: event.now };
        commands.push({ kind: 'cut-off', silentMs });
      }
      if (next.sentAt === null && !next.renewing) {
        next = { ...next, sentAt: event.now };
        commands.push({ kind: 'beat' });
      }
      return { state: next, commands };
    }
    case 'failed':
      return { state: { ...state, sentAt: null }, commands: [] };
    case 'answered': {
      const done = { ...state, sentAt: null };
      if (event.id !== event.current) return { state: done, commands: [] };
      if (!event.alive) {
        if (state.renewing) return { state: done, commands: [] };
        return { state: { ...done, renewing: true }, commands: [{ kind: 'renew', dead: event.id }] };
      }
      const lastAliveAt = Math.max(state.lastAliveAt, event.sentAt);
      if (state.cutOffSince === null) return { state: { ...done, lastAliveAt }, commands: [] };
      return { state: { ...done, lastAliveAt, cutOffSince: null }, commands: [{ kind: 'reachable', silentMs: event.now - state.lastAliveAt }] };
    }
    case 'renewed': {
      if (!event.ok) return { state: { ...state, renewing: false }, commands: [] };
      const commands: HeartbeatCommand[] = state.cutOffSince === null ? [] : [{ kind: 'reachable', silentMs: event.now - state.lastAliveAt }];
      return { state: { sentAt: null, lastAliveAt: event.now, renewing: false, cutOffSince: null }, commands };
    }
  }
}
