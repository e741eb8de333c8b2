/** The context's journal in this process's memory: what every store of one memory backend shares. */
import type { ContextJournal, StoredContextEvent } from '../context-journal.js';

export interface ContextJournalData {
  readonly events: StoredContextEvent[];
  next: number;
}

export function emptyContextJournal(): ContextJournalData {
  return { events: [], next: 1 };
}

export function memoryContextJournal(data: ContextJournalData = emptyContextJournal()): ContextJournal {
  return {
    append: async (rows) => {
      // Data goes in and out as JSON, as the databases keep it.
      for (const r of rows) data.events.push({ seq: data.next++, type: r.type, signal: r.signal, time: r.time, data: JSON.parse(JSON.stringify(r.data)) });
    },
    list: async (q) => {
      const out: StoredContextEvent[] = [];
      for (let i = data.events.length - 1; i >= 0 && out.length < q.limit; i--) {
        const e = data.events[i]!;
        if ((q.before === undefined || e.seq < q.before) && (q.signal === undefined || e.signal === q.signal)) out.push(e);
      }
      return out;
    },
    prune: async (before) => {
      const kept = data.events.filter((e) => e.time >= before);
      const gone = data.events.length - kept.length;
      data.events.splice(0, data.events.length, ...kept);
      return gone;
    },
    close: async () => undefined,
  };
}
