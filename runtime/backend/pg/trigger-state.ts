import type pg from 'pg';
import { debounceRow, type TriggerStateStore } from '../trigger-state.js';
import { listen } from './listener.js';

/** What a context merge NOTIFYs, with each key written as its payload (§9.4: one context across a cluster). */
const CONTEXT_CHANNEL = 'orch_context';

/**
 * The store on Postgres (`orch db migrate` creates its tables): one statement per call. `url`:
 * where `followContext` LISTENs, on a connection of its own.
 */
export function pgTriggerState(pool: pg.Pool, url: string): TriggerStateStore {
  const one = async <R>(sql: string, params: unknown[]): Promise<R | undefined> => (await pool.query(sql, params)).rows[0] as R | undefined;
  const readContext = async (keys?: readonly string[]): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    const rows = keys ? await pool.query('SELECT key, value FROM orch.serve_context WHERE key = ANY($1)', [keys]) : await pool.query('SELECT key, value FROM orch.serve_context');
    for (const row of rows.rows as { key: string; value: string }[]) out[row.key] = JSON.parse(row.value);
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
    debounce: async (t, now, windowMs) => {
      // One statement: of two servers opening the window at once, the row lock lets one through.
      const opened = await one<{ v: number }>(
        `INSERT INTO orch.serve_trigger_state (name, last_tick_ms) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET last_tick_ms = excluded.last_tick_ms
         WHERE orch.serve_trigger_state.last_tick_ms IS NULL OR orch.serve_trigger_state.last_tick_ms <= $2 - $3::bigint
         RETURNING last_tick_ms AS v`,
        [debounceRow(t), now, windowMs],
      );
      if (opened) return null;
      return (await one<{ v: number }>('SELECT last_tick_ms AS v FROM orch.serve_trigger_state WHERE name = $1', [debounceRow(t)]))?.v ?? now;
    },
    context: readContext,
    mergeContext: async (values) => {
      const entries = Object.entries(values);
      if (entries.length > 0)
        await pool.query(
          `WITH merged AS (
             INSERT INTO orch.serve_context (key, value) SELECT * FROM unnest($1::text[], $2::text[])
             ON CONFLICT (key) DO UPDATE SET value = excluded.value RETURNING key)
           SELECT pg_notify('${CONTEXT_CHANNEL}', key) FROM merged`,
          [entries.map(([k]) => k), entries.map(([, v]) => JSON.stringify(v ?? null))],
        );
      return readContext();
    },
    followContext: async (onChange) => {
      // Keys notified while a read is in flight wait for the next one: one read at a time, of all of them.
      const dirty = new Set<string>();
      let everything = false;
      let reading = false;
      const read = (): void => {
        if (reading || (!everything && dirty.size === 0)) return;
        reading = true;
        const keys = everything ? undefined : [...dirty];
        everything = false;
        dirty.clear();
        readContext(keys)
          .then(onChange, () => (everything = true)) // read again at the next notification
          .finally(() => {
            reading = false;
            read();
          });
      };
      const listener = listen(url, CONTEXT_CHANNEL, {
        // One transaction's keys (one `POST /signals`, one source batch) arrive as one burst of
        // notifications: read them together, after the burst, so a follower takes the batch whole
        // (its `when` triggers never see `temperature` without the `mode` sent with it).
        notified: (key) => {
          dirty.add(key);
          if (dirty.size === 1) setImmediate(read);
        },
        // After a reconnection: what was merged meanwhile was not notified here.
        listening: () => {
          everything = true;
          read();
        },
      });
      await listener.ready;
      return () => listener.close();
    },
    close: () => pool.end(),
  };
}
