/**
 * A journal row this version cannot read: an event batch that is not the JSON it wrote, or a
 * plan IR whose deflated bytes do not inflate. Someone (or a disk) changed the database; the
 * command that read it says which run and where, and exits 2 (cli/program.ts), instead of an
 * internal error out of JSON.parse, zlib or a fold of half an event.
 */
export class JournalCorrupt extends Error {
  constructor(
    readonly runId: string,
    what: string,
    why: string,
  ) {
    super(`the journal of run ${runId} is damaged: ${what} ${why}; it cannot be read (restore the database from a backup, or delete the run)`);
    this.name = 'JournalCorrupt';
  }
}

/** The message of what a parser or zlib threw, on one line. */
export function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
}

/** The latest epoch milliseconds a Date holds (ECMA-262 §21.4.1.1). */
const MAX_TIME = 8.64e15;

/** Whether `t` is a time a Date can show (a journal's times are epoch milliseconds). */
export function isEpochMs(t: unknown): t is number {
  return typeof t === 'number' && Number.isFinite(t) && Math.abs(t) <= MAX_TIME;
}

/** A run row whose times are not times is `JournalCorrupt` (every reader turns them into dates). */
export function checkedRunTimes<R extends { readonly id: string; readonly started_at: unknown; readonly completed_at?: unknown }>(row: R): R {
  if (!isEpochMs(row.started_at)) throw new JournalCorrupt(row.id, 'its start time', 'is not a time');
  if (row.completed_at !== null && row.completed_at !== undefined && !isEpochMs(row.completed_at)) throw new JournalCorrupt(row.id, 'its end time', 'is not a time');
  return row;
}
