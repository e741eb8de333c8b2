/**
 * Durable trigger state, kept in the run database beside the journal so a restarted `orch serve`
 * knows when each schedule last ticked (for `--catch-up`), which side of its edge each `when`
 * condition was on, which completions already fired their chains, and the last context signals.
 */
import { openSqlite } from '../runtime/index.js';

export interface TriggerStateStore {
  lastTick(trigger: string): number | null;
  setLastTick(trigger: string, ms: number): void;
  lastCondition(trigger: string): boolean | null;
  setLastCondition(trigger: string, value: boolean): void;
  /** Records that `trigger` fired for `runId`; false when it already had (once per completion). */
  claimChain(trigger: string, runId: string): boolean;
  context(): Record<string, unknown>;
  mergeContext(values: { readonly [key: string]: unknown }): Record<string, unknown>;
  close(): void;
}

export function openTriggerState(path: string): TriggerStateStore {
  const db = openSqlite(path);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS serve_trigger_state (
      name TEXT PRIMARY KEY, last_tick_ms INTEGER, condition INTEGER);
    CREATE TABLE IF NOT EXISTS serve_chain_fired (
      trigger TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (trigger, run_id));
    CREATE TABLE IF NOT EXISTS serve_context (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `);
  const getState = db.prepare('SELECT last_tick_ms, condition FROM serve_trigger_state WHERE name = ?');
  const stateOf = (name: string) => getState.get(name) as { last_tick_ms: number | null; condition: number | null } | undefined;
  const upsertTick = db.prepare(
    `INSERT INTO serve_trigger_state (name, last_tick_ms) VALUES (?, ?)
     ON CONFLICT(name) DO UPDATE SET last_tick_ms = excluded.last_tick_ms`,
  );
  const upsertCondition = db.prepare(
    `INSERT INTO serve_trigger_state (name, condition) VALUES (?, ?)
     ON CONFLICT(name) DO UPDATE SET condition = excluded.condition`,
  );
  const claim = db.prepare('INSERT OR IGNORE INTO serve_chain_fired (trigger, run_id) VALUES (?, ?)');
  const allContext = db.prepare('SELECT key, value FROM serve_context');
  const putContext = db.prepare(
    'INSERT INTO serve_context (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const mergeMany = db.transaction((entries: [string, unknown][]) => {
    for (const [k, v] of entries) putContext.run(k, JSON.stringify(v ?? null));
  });
  const readContext = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const row of allContext.all() as { key: string; value: string }[]) out[row.key] = JSON.parse(row.value);
    return out;
  };
  return {
    lastTick: (t) => stateOf(t)?.last_tick_ms ?? null,
    setLastTick: (t, ms) => void upsertTick.run(t, ms),
    lastCondition: (t) => {
      const c = stateOf(t)?.condition;
      return c === null || c === undefined ? null : c === 1;
    },
    setLastCondition: (t, v) => void upsertCondition.run(t, v ? 1 : 0),
    claimChain: (t, runId) => Number(claim.run(t, runId).changes) === 1,
    context: readContext,
    mergeContext: (values) => {
      mergeMany(Object.entries(values));
      return readContext();
    },
    close: () => db.close(),
  };
}

/** The same store without a file, for tests of the engine alone. */
export function memoryTriggerState(): TriggerStateStore {
  return openTriggerState(':memory:');
}
