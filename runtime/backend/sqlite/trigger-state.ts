/**
 * Durable trigger state, kept in the run database beside the journal so a restarted `orch serve`
 * knows when each schedule last ticked (for `--catch-up`), which side of its edge each `when`
 * condition was on, which firings were already claimed, and the last context signals. On
 * Postgres several `orch serve` processes share it: a claim is taken by exactly one of them.
 */
import { isPostgresUrl } from './url.js';
import { openSharedSqlite } from './sqlite/driver.js';
import type pg from 'pg';

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
  context(): Promise<Record<string, unknown>>;
  mergeContext(values: { readonly [key: string]: unknown }): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** The trigger state of the run database `db`: a SQLite path or a Postgres URL. */
export async function openTriggerStateFor(db: string): Promise<TriggerStateStore> {
  return isPostgresUrl(db) ? pgTriggerState(await (await import('./pg/migrations.js')).openMigratedPool(db, 2)) : openTriggerState(db);
}

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
     ON CONFLICT(name) DO UPDATE SET last_tick_ms = excluded.last_tick_ms`,
  );
  const upsertCondition = db.prepare(
    `INSERT INTO serve_trigger_state (name, condition) VALUES (?, ?)
     ON CONFLICT(name) DO UPDATE SET condition = excluded.condition`,
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
    context: async () => readContext(),
    mergeContext: async (values) => {
      mergeMany(Object.entries(values));
      return readContext();
    },
    close: async () => db.close(),
  };
}

/** The same store without a file, for tests of the engine alone. */
export function memoryTriggerState(): TriggerStateStore {
  return openTriggerState(':memory:');
}

/** The store on Postgres (`orch db migrate` creates its tables): one statement per call. */
function pgTriggerState(pool: pg.Pool): TriggerStateStore {
  const one = async <R>(sql: string, params: unknown[]): Promise<R | undefined> => (await pool.query(sql, params)).rows[0] as R | undefined;
  const readContext = async (): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    for (const row of (await pool.query('SELECT key, value FROM orch.serve_context')).rows as { key: string; value: string }[]) out[row.key] = JSON.parse(row.value);
    return out;
  };
  return {
    lastTick: async (t) => (await one<{ v: number | null }>('SELECT last_tick_ms AS v FROM orch.serve_trigger_state WHERE name = $1', [t]))?.v ?? null,
    setLastTick: async (t, ms) => {
      await pool.query(
        `INSERT INTO orch.serve_trigger_state (name, last_tick_ms) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET last_tick_ms = GREATEST(orch.serve_trigger_state.last_tick_ms, excluded.last_tick_ms)`,
        [t, ms],
      );
    },
    lastCondition: async (t) => (await one<{ v: boolean | null }>('SELECT condition AS v FROM orch.serve_trigger_state WHERE name = $1', [t]))?.v ?? null,
    setLastCondition: async (t, v) => {
      await pool.query(
        `INSERT INTO orch.serve_trigger_state (name, condition) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET condition = excluded.condition`,
        [t, v],
      );
    },
    claim: async (t, key) =>
      ((await pool.query('INSERT INTO orch.serve_fired (trigger, fire_key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [t, key])).rowCount ?? 0) === 1,
    context: readContext,
    mergeContext: async (values) => {
      const entries = Object.entries(values);
      if (entries.length > 0)
        await pool.query(
          `INSERT INTO orch.serve_context (key, value) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          [entries.map(([k]) => k), entries.map(([, v]) => JSON.stringify(v ?? null))],
        );
      return readContext();
    },
    close: () => pool.end(),
  };
}
