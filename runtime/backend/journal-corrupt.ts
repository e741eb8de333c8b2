/**
 * A journal row this version cannot read: an event batch that is not the JSON it wrote, or a
 * plan IR whose deflated bytes do not inflate. Someone (or a disk) changed the database; the
 * command that read it says which run and where, and exits 2 (cli/program.ts), instead of an
 * internal error out of JSON.parse, zlib or a fold of half an event.
 */
export class JournalCorrupt extends Error {
  constructor(runId: string, what: string, why: string) {
    super(`the journal of run ${runId} is damaged: ${what} ${why}; it cannot be read (restore the database from a backup, or delete the run)`);
    this.name = 'JournalCorrupt';
  }
}

/** The message of what a parser or zlib threw, on one line. */
export function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
}
