/**
 * The journal as the scheduler sees it: every event's data and the run's error pass through the
 * runtime's `Redactor` (as values, before the journal serializes them), so no secret reaches the
 * database in any form the redactor recognises.
 */
import type { Redactor } from './redact.js';
import { mapEventData } from './scheduler/journal-events.js';
import type { CommitHook, JournalSink, RunEvent, RunSummary } from './scheduler/types.js';

export function redactingJournal(journal: JournalSink, redactor: Redactor): JournalSink {
  const sink: JournalSink = {
    commit(summary: RunSummary, events: readonly RunEvent[], hooks?: readonly CommitHook[]) {
      const extra = hooks?.length ? [hooks] as const : ([] as const);
      if (redactor.size === 0) return journal.commit(summary, events, ...extra);
      return journal.commit(
        summary.error === null ? summary : { ...summary, error: redactor.text(summary.error) },
        events.map((e) => mapEventData(e, (d) => redactor.value(d))),
        ...extra,
      );
    },
  };
  return journal.load ? { ...sink, load: (runId: string) => journal.load!(runId) } : sink;
}
