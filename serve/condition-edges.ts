/**
 * The edges of `when` triggers over three-valued conditions (LANGUAGE.md §9.4): a condition going
 * from false or unknown to true is a rising edge and fires. The last known side (true/false) of
 * each trigger is kept durably in the trigger state, never "unknown": a restarted server, where
 * every signal may start unknown, remembers a condition that was already true and does not fire
 * it again when the next message confirms it.
 */
import type { TriggerStateStore } from '../runtime/index.js';

export type Side = boolean | 'unknown';

export class ConditionEdges {
  /** The side each condition was last seen on by this process (unknown included). */
  private readonly seen = new Map<string, Side>();

  constructor(private readonly state: TriggerStateStore) {}

  /** A condition first seen by this database starts on its current side (the edge was before anyone watched). */
  async settle(trigger: string, side: Side): Promise<void> {
    if (side !== 'unknown' && (await this.state.lastCondition(trigger)) === null) await this.state.setLastCondition(trigger, side);
  }

  /**
   * Forgets the sides this process saw: another server of the cluster fired (and recorded) the
   * edges while this one did not hold the context, so the database's sides are the ones to go by.
   */
  forget(): void {
    this.seen.clear();
  }

  /**
   * Records the sides a condition took, in order, over one batch of signal updates; true when
   * any of them is a rising edge (the trigger fires once for the batch).
   */
  async risesAlong(trigger: string, sides: readonly Side[]): Promise<boolean> {
    // Never known by this database (`settle` records a side known at start): unknown until now.
    const seen = this.seen.get(trigger);
    const before: Side = seen ?? (await this.state.lastCondition(trigger)) ?? 'unknown';
    const f = foldSides(before, sides);
    // Until this process sees the condition known, an unknown is the start's (every signal starts
    // unknown, a kept one may be stale by now), not an edge it watched: the kept side still counts.
    if (seen !== undefined || sides.some((s) => s !== 'unknown')) this.seen.set(trigger, f.last);
    if (f.persist !== null) await this.state.setLastCondition(trigger, f.persist);
    return f.rose;
  }
}

export interface SideFold {
  /** Whether the condition went from false or unknown to true at some point of the sequence. */
  readonly rose: boolean;
  /** The side it ended on. */
  readonly last: Side;
  /** The known side to keep durably, when it changed (an unknown side is never kept). */
  readonly persist: boolean | null;
}

/**
 * A condition's sides over a batch, folded into what stepping through them one by one would
 * decide: every rising edge is seen (true→false→true rises at its second true), the last side is
 * the one remembered, and the durable side is the last known side that differed from the one
 * before it.
 */
export function foldSides(before: Side, sides: readonly Side[]): SideFold {
  let prev = before;
  let rose = false;
  let persist: boolean | null = null;
  for (const side of sides) {
    if (side === true && prev !== true) rose = true;
    if (side !== 'unknown' && side !== prev) persist = side;
    prev = side;
  }
  return { rose, last: prev, persist };
}
