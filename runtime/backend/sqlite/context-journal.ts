/** The context's journal in the SQLite journal file (a connection of its own). */
import { openSharedSqlite } from './driver.js';
import { storedContextEvent, type ContextJournal, type StoredContextEvent } from '../context-journal.js';

interface Row {
  seq: number;
  type: string;
  signal: string;
  time: number;
  data: string;
}

export function openSqliteContextJournal(path: string): ContextJournal {
  const db = openSharedSqlite(
    path,
    `
    CREATE TABLE IF NOT EXISTS context_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, signal TEXT NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS context_events_time ON context_events (time);
  `,
  );
  const insert = db.prepare('INSERT INTO context_events (type, signal, time, data) VALUES (?, ?, ?, ?)');
  const appendAll = db.transaction((rows: readonly { type: string; signal: string; time: number; data: unknown }[]) => {
    for (const r of rows) insert.run(r.type, r.signal, r.time, JSON.stringify(r.data));
  });
  const page = db.prepare('SELECT seq, type, signal, time, data FROM context_events WHERE seq < ? ORDER BY seq DESC LIMIT ?');
  const pageOf = db.prepare('SELECT seq, type, signal, time, data FROM context_events WHERE seq < ? AND signal = ? ORDER BY seq DESC LIMIT ?');
  const prune = db.prepare('DELETE FROM context_events WHERE time < ?');
  const decode = (r: Row): StoredContextEvent | null => storedContextEvent(Number(r.seq), r.type, r.signal, Number(r.time), JSON.parse(r.data));
  return {
    append: async (rows) => void appendAll(rows),
    list: async (q) => {
      const before = q.before ?? Number.MAX_SAFE_INTEGER;
      const rows = (q.signal === undefined ? page.all(before, q.limit) : pageOf.all(before, q.signal, q.limit)) as Row[];
      return rows.flatMap((r) => decode(r) ?? []);
    },
    prune: async (before) => Number(prune.run(before).changes),
    close: async () => db.close(),
  };
}
