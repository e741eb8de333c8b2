/**
 * `orch serve`'s trigger state (the contract of each backend's store): durable trigger state, kept in the run database beside the journal so a restarted `orch serve`
 * knows when each schedule last ticked (for `--catch-up`), which side of its edge each `when`
 * condition was on, which firings were already claimed, and the last context signals. On
 * Postgres several `orch serve` processes share it: a claim is taken by exactly one of them.
 */

export interface TriggerStateStore {
  lastTick(trigger: string): Promise<number | null>;
  setLastTick(trigger: string, ms: number): Promise<void>;
  lastCondition(trigger: string): Promise<boolean | null>;
  setLastCondition(trigger: string, value: boolean): Promise<void>;
  /**
   * Records that `trigger` fired for `key` (a finished run's id, a schedule tick); false when some
   * process already had. This is what makes one run per tick and per completion when several
   * servers share the database.
   */
  claim(trigger: string, key: string): Promise<boolean>;
  /**
   * Opens `trigger`'s debounce window at `now` unless the last one opened less than `windowMs`
   * before `now`: null when it opened, else when the open window did. Kept in the database, so
   * several servers on one share each trigger's window (one run per window, whichever server the
   * events reach) and a restarted server keeps it.
   */
  debounce(trigger: string, now: number, windowMs: number): Promise<number | null>;
  context(): Promise<Record<string, unknown>>;
  mergeContext(values: { readonly [key: string]: unknown }): Promise<Record<string, unknown>>;
  /**
   * Follows the context other servers on this database merge (LANGUAGE.md §9.4: one context
   * across a cluster): `onChange` is given the values of the keys written since (as `context()`
   * gives them; its own writes may be among them), and every value after a lost connection, when
   * some may have been missed. Where no other process can write (SQLite) it is never called.
   * Resolves once following (a `context()` read after it misses nothing) to a function that stops.
   */
  followContext(onChange: (values: Record<string, unknown>) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * The state row of `trigger`'s debounce window: a row of its own beside the trigger's (whose
 * `last_tick_ms` is the schedule's), so no migration; a trigger's name never holds a `:`.
 */
export function debounceRow(trigger: string): string {
  return `debounce:${trigger}`;
}
