/**
 * `SqliteJournal` behind the `AsyncJournal` interface: each call runs synchronously, as it always
 * did, and hands back a settled promise (a thrown error becomes a rejection).
 */
import type { RunEvent, RunSummary } from '../../scheduler/types.js';
import type { AsyncJournal } from '../async-journal.js';
import { irBlob } from '../ir-blob.js';
import type { ControlRow } from '../async-journal.js';
import type { SqliteJournal } from './journal.js';

export function asyncJournal(journal: SqliteJournal): AsyncJournal {
  const call = async <T>(f: () => T): Promise<T> => f();
  return {
    location: journal.path,
    get redactText() {
      return journal.redactText;
    },
    set redactText(f: (text: string) => string) {
      journal.redactText = f;
    },
    commit: (summary: RunSummary, events: readonly RunEvent[]) => call(() => journal.commit(summary, events)),
    registerRun: async (runId, planName, ir, input, startedAt, parentId = null, trigger) =>
      journal.registerBlob(runId, planName, await irBlob(ir, journal.redactText), input, startedAt, parentId, trigger),
    load: (runId) => call(() => journal.load(runId)),
    first: (runId) => call(() => journal.events(runId).next().value ?? undefined),
    getRun: (runId) => call(() => journal.getRun(runId)),
    listRuns: (all = false, damaged) => call(() => journal.listRuns(all, damaged)),
    unfinishedRuns: () => call(() => journal.unfinishedRuns()),
    addControl: (runId, kind: ControlRow['kind'], stepId = null, payload = null) => call(() => journal.addControl(runId, kind, stepId, payload)),
    takeControls: (runId) => call(() => journal.takeControls(runId)),
    pendingControls: (runId) => call(() => journal.pendingControls(runId)),
    heartbeat: (runId) => call(() => journal.heartbeat(runId)),
    // One machine: the owner pid is checked with kill -0, and `orch serve` processes sharing a
    // SQLite file resume orphans only when they start.
    acquire: (runId) =>
      call(() => {
        if (journal.ownedElsewhere(runId)) return false;
        journal.heartbeat(runId);
        return true;
      }),
    ownedElsewhere: (runId) => call(() => journal.ownedElsewhere(runId)),
    upgradeOffline: (runId, ir, data) => call(() => journal.upgradeOffline(runId, ir, data)),
    appendOffline: (runId, type, data, status) => call(() => journal.appendOffline(runId, type, data, status)),
    disown: (runId) => call(() => journal.disown(runId)),
    rateHitsSince: (key, since) => call(() => journal.rateHitsSince(key, since)),
    prune: (before) => call(() => journal.prune(before)),
    close: () => call(() => journal.close()),
  };
}
