/**
 * The backend of one process's memory: what `orch test` runs plans on, and what a runtime with
 * nothing to keep can use. Nothing outlives the process; every store opened from one backend
 * shares its data, as stores on one database share its tables.
 */
import type { Backend, RuntimeJournal } from '../backend.js';
import { emptyJournal, MemoryJournal, memoryAsyncJournal } from './journal.js';
import { emptyLimits, MemoryLimitStore } from './limit-store.js';
import { emptyPeople, memoryPeopleStore } from './people-store.js';
import { emptyContextJournal, memoryContextJournal } from './context-journal.js';
import { emptyTriggerState, memoryTriggerState } from './trigger-state.js';

export function memoryBackend(): Backend {
  const journalData = emptyJournal();
  const limits = emptyLimits(journalData.rateHits);
  const people = emptyPeople();
  const triggers = emptyTriggerState();
  const contextEvents = emptyContextJournal();
  const sink = new MemoryJournal(journalData);
  // Its runs commit to it synchronously and read sub-plan runs as asked.
  const journal: RuntimeJournal = { store: memoryAsyncJournal(sink), sqlite: null, sink, preload: async () => [], finished: async () => undefined };
  return {
    kind: 'memory',
    displayName: 'memory',
    capabilities: { workers: false, sharedServers: false, durable: false, migrations: false },
    exists: () => true,
    journal: async () => journal,
    limits: async () => new MemoryLimitStore(limits),
    people: async () => memoryPeopleStore(people),
    sessions: async () => memoryPeopleStore(people),
    triggerState: async () => memoryTriggerState(triggers),
    contextJournal: async () => memoryContextJournal(contextEvents),
    migrate: async () => ({ from: 0, to: 0, applied: [] }),
    prune: async (before) => journal.store.prune(before),
    cluster: null,
    close: async () => undefined,
  };
}
