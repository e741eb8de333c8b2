/** `orch serve`'s trigger state in the SQLite journal file (a connection of its own). */
import { openSharedSqlite } from './driver.js';
import { debounceRow, type TriggerStateStore } from '../trigger-state.js';

export function openTriggerState(path: string): TriggerStateStore {
  const db = openSharedSqlite(
    path,
    `
    CREATE TABLE IF NOT EXISTS serve_trigger_state (
      name TEXT PRIMARY KEY, last_tick_ms INTEGER, condition INTEGER);
    CREATE TABLE IF NOT EXISTS serve_chain_fired (
      trigger TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (trigger, run_id));
    CREATE TABLE IF NOT EXISTS serve_context (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  );
  const getState = db.prepare('SELECT last_tick_ms, condition FROM serve_trigger_state WHERE name = ?');
  const stateOf = (name: string) => getState.get(name) as { last_tick_ms: number | null; condition: number | null } | undefined;
  const upsertTick = db.prepare(
    `INSERT INTO serve_trigger_state (name, last_tick_ms) VALUES (?, ?)
     ON CONFLICT(name) DO UPDATE SET last_tick_ms = MAX(COALESCE(last_tick_ms, excluded.last_tick_ms), excluded.last_tick_ms)`,
  );
  const upsertCondition = db.prepare(
    `INSERT INTO serve_trigger_state (name, condition) VALUES (?, ?)
     ON CONFLICT(name) DO UPDATE SET condition = excluded.condition`,
  );
  const openWindow = db.prepare(
    `INSERT INTO serve_trigger_state (name, last_tick_ms) VALUES (?, ?)
     ON CONFLICT(name) DO UPDATE SET last_tick_ms = excluded.last_tick_ms
     WHERE last_tick_ms IS NULL OR last_tick_ms <= ?`,
  );
  // The column keeps its first name (`run_id`): databases written before ticks were claimed too.
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
    lastTick: async (t) => stateOf(t)?.last_tick_ms ?? null,
    setLastTick: async (t, ms) => void upsertTick.run(t, ms),
    lastCondition: async (t) => {
      const c = stateOf(t)?.condition;
      return c === null || c === undefined ? null : c === 1;
    },
    setLastCondition: async (t, v) => void upsertCondition.run(t, v ? 1 : 0),
    claim: async (t, key) => Number(claim.run(t, key).changes) === 1,
    debounce: async (t, now, windowMs) => (Number(openWindow.run(debounceRow(t), now, now - windowMs).changes) === 1 ? null : (stateOf(debounceRow(t))?.last_tick_ms ?? now)),
    context: async () => readContext(),
    mergeContext: async (values) => {
      mergeMany(Object.entries(values));
      return readContext();
    },
    // One machine, one server: no other process merges into this file's context.
    followContext: async () => async () => undefined,
    close: async () => db.close(),
  };
}
