import type pg from 'pg';
import { storedContextEvent, type ContextJournal } from '../context-journal.js';

/** The context's journal on Postgres (`orch db migrate` creates its table): one statement per call. */
export function pgContextJournal(pool: pg.Pool): ContextJournal {
  return {
    append: async (rows) => {
      if (rows.length === 0) return;
      await pool.query(
        `INSERT INTO orch.context_events (type, signal, time, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])`,
        [rows.map((r) => r.type), rows.map((r) => r.signal), rows.map((r) => r.time), rows.map((r) => JSON.stringify(r.data))],
      );
    },
    list: async (q) => {
      const r = await pool.query<{ seq: string; type: string; signal: string; time: string; data: unknown }>(
        `SELECT seq, type, signal, time, data FROM orch.context_events
         WHERE seq < $1 AND ($2::text IS NULL OR signal = $2) ORDER BY seq DESC LIMIT $3`,
        [q.before ?? Number.MAX_SAFE_INTEGER, q.signal ?? null, q.limit],
      );
      return r.rows.flatMap((row) => storedContextEvent(Number(row.seq), row.type, row.signal, Number(row.time), row.data) ?? []);
    },
    prune: async (before) => (await pool.query('DELETE FROM orch.context_events WHERE time < $1', [before])).rowCount ?? 0,
    close: () => pool.end(),
  };
}
