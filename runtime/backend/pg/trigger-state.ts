import type pg from 'pg';
import type { TriggerStateStore } from '../trigger-state.js';

/** The store on Postgres (`orch db migrate` creates its tables): one statement per call. */
export function pgTriggerState(pool: pg.Pool): TriggerStateStore {
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
