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

  /** Records the side now; true when this is a rising edge (fire). */
  async rises(trigger: string, side: Side): Promise<boolean> {
    // Never known by this database (`settle` records a side known at start): unknown until now.
    const before: Side = this.seen.get(trigger) ?? (await this.state.lastCondition(trigger)) ?? 'unknown';
    this.seen.set(trigger, side);
    if (side !== 'unknown' && side !== before) await this.state.setLastCondition(trigger, side);
    return side === true && before !== true;
  }
}
