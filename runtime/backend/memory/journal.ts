/**
 * The journal in this process's memory: what `orch test` runs plans on. It keeps the contract of
 * the databases' journals (runtime/test/journal-contract.test.ts) — one commit all or nothing, a
 * seq written twice refused, controls taken once, text redacted as it is stored — and commits
 * synchronously, as SQLite does, so a run's turn and its effects stay in one turn of the event
 * loop. Everything lives as long as the backend that holds the `JournalData`; events are kept as
 * their redacted JSON text, so what is read back is a copy, as from a database.
 */
import type { EventData, EventType, JournalSink, RunEvent, RunSummary } from '../../scheduler/types.js';
import { makeEvent } from '../../scheduler/journal-events.js';
import { triggerColumn, type AsyncJournal, type ControlRow, type RunRow } from '../async-journal.js';
import type { PruneResult } from '../retention.js';

type Row = { -readonly [K in keyof RunRow]-?: RunRow[K] };

interface StoredRun {
  readonly row: Omit<Row, 'event_count'>;
  /** Each event's redacted JSON, in seq order. */
  readonly events: string[];
  lastSeq: number;
}

export interface JournalData {
  readonly runs: Map<string, StoredRun>;
  readonly controls: (ControlRow & { consumed: boolean })[];
  /** Rate hits the limits store counted (`rateHitsSince` reads them as SQLite's journal does). */
  readonly rateHits: { readonly key: string; readonly at: number }[];
}

export function emptyJournal(): JournalData {
  return { runs: new Map(), controls: [], rateHits: [] };
}

const FINISHED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

/** The journal over `data`, synchronous (the sink runs commit to) and behind `AsyncJournal`. */
export class MemoryJournal implements JournalSink {
  redactText: (text: string) => string = (t) => t;

  constructor(private readonly data: JournalData = emptyJournal()) {}

  commit(summary: RunSummary, events: readonly RunEvent[]): void {
    // Every check before any write: a refused commit leaves nothing of itself.
    const next = new Map<string, number>();
    for (const e of events) {
      const last = next.get(e.runId) ?? this.data.runs.get(e.runId)?.lastSeq ?? 0;
      if (e.seq <= last) throw new Error(`journal: run ${e.runId} already has event ${e.seq} (its last is ${last}); the commit is refused`);
      next.set(e.runId, e.seq);
    }
    const run = this.run(summary.runId, () => ({
      id: summary.runId,
      plan: summary.plan,
      parent_id: summary.parentRunId,
      status: summary.status,
      started_at: summary.startedAt,
      completed_at: null,
      cost: 0,
      error: null,
      ir: null,
      input: null,
      owner_pid: process.pid,
      heartbeat_at: Date.now(),
      trigger: null,
    }));
    Object.assign(run.row, {
      status: summary.status,
      completed_at: summary.completedAt,
      cost: summary.cost,
      error: summary.error === null ? null : this.redactText(summary.error),
      owner_pid: process.pid,
      heartbeat_at: Date.now(),
    });
    for (const e of events) this.append(e);
  }

  load(runId: string): RunEvent[] {
    return (this.data.runs.get(runId)?.events ?? []).map((text) => JSON.parse(text) as RunEvent);
  }

  first(runId: string): RunEvent | undefined {
    const text = this.data.runs.get(runId)?.events[0];
    return text === undefined ? undefined : (JSON.parse(text) as RunEvent);
  }

  registerRun(runId: string, planName: string, ir: unknown, input: unknown, startedAt: number, parentId: string | null = null, trigger?: string | null): void {
    const irText = ir === null || ir === undefined ? null : this.redactText(JSON.stringify(ir));
    const inputText = this.redactText(JSON.stringify(input ?? {}));
    const existing = this.data.runs.get(runId);
    if (existing) Object.assign(existing.row, { ir: irText, input: inputText });
    else
      this.data.runs.set(runId, {
        row: { id: runId, plan: planName, parent_id: parentId, status: 'running', started_at: startedAt, completed_at: null, cost: 0, error: null, ir: irText, input: inputText, owner_pid: process.pid, heartbeat_at: Date.now(), trigger: triggerColumn(trigger) },
        events: [],
        lastSeq: 0,
      });
  }

  getRun(runId: string): RunRow | undefined {
    const r = this.data.runs.get(runId);
    return r ? { ...r.row } : undefined;
  }

  listRuns(all = false): RunRow[] {
    return [...this.data.runs.values()]
      .filter((r) => all || r.row.parent_id === null)
      .sort((a, b) => b.row.started_at - a.row.started_at || compare(a.row.id, b.row.id))
      .map((r) => {
        // As the databases list them: without the IR and the input, with the event count.
        const { ir: _ir, input: _input, ...row } = r.row;
        return { ...row, event_count: r.events.length } as RunRow;
      });
  }

  unfinishedRuns(): RunRow[] {
    return [...this.data.runs.values()]
      .filter((r) => r.row.parent_id === null && (r.row.status === 'running' || r.row.status === 'paused'))
      .sort((a, b) => a.row.started_at - b.row.started_at || compare(a.row.id, b.row.id))
      .map((r) => ({ ...r.row }));
  }

  addControl(runId: string, kind: ControlRow['kind'], stepId: string | null = null, payload: unknown = null): void {
    const id = (this.data.controls.at(-1)?.id ?? 0) + 1;
    this.data.controls.push({ id, run_id: runId, kind, step_id: stepId, payload: payload === null ? null : JSON.stringify(payload), consumed: false });
  }

  pendingControls(runId: string): ControlRow[] {
    return this.data.controls.filter((c) => c.run_id === runId && !c.consumed).map((c) => ({ id: c.id, run_id: c.run_id, kind: c.kind, step_id: c.step_id, payload: c.payload }));
  }

  takeControls(runId: string): ControlRow[] {
    const taken: ControlRow[] = [];
    for (const c of this.data.controls)
      if (c.run_id === runId && !c.consumed) {
        c.consumed = true;
        taken.push({ id: c.id, run_id: c.run_id, kind: c.kind, step_id: c.step_id, payload: c.payload });
      }
    return taken;
  }

  heartbeat(runId: string): void {
    const r = this.data.runs.get(runId);
    if (r) Object.assign(r.row, { owner_pid: process.pid, heartbeat_at: Date.now() });
  }

  /** One process holds everything here: no run is owned elsewhere. */
  ownedElsewhere(_runId: string): boolean {
    return false;
  }

  appendOffline<T extends EventType>(runId: string, type: T, data: EventData<T>, status: string): void {
    const r = this.data.runs.get(runId);
    const now = Date.now();
    this.append(makeEvent(runId, (r?.lastSeq ?? 0) + 1, now, type, null, data));
    const row = this.data.runs.get(runId)!.row;
    Object.assign(row, { status, owner_pid: null, completed_at: FINISHED.has(status) && status !== 'timeout' ? now : row.completed_at });
  }

  upgradeOffline(runId: string, ir: unknown, data: EventData<'plan_upgraded'>): boolean {
    const r = this.data.runs.get(runId);
    this.append(makeEvent(runId, (r?.lastSeq ?? 0) + 1, Date.now(), 'plan_upgraded', null, data));
    this.data.runs.get(runId)!.row.ir = this.redactText(JSON.stringify(ir));
    return true;
  }

  disown(runId: string): void {
    for (const r of this.data.runs.values())
      if ((r.row.id === runId || r.row.id.startsWith(`${runId}/`)) && r.row.owner_pid === process.pid) r.row.owner_pid = null;
  }

  rateHitsSince(key: string, since: number): number {
    return this.data.rateHits.filter((h) => h.key === key && h.at > since).length;
  }

  prune(before: number): PruneResult {
    const tops = [...this.data.runs.values()]
      .map((r) => r.row)
      .filter((r) => r.parent_id === null && FINISHED.has(r.status) && r.completed_at !== null && r.completed_at < before)
      .map((r) => r.id);
    const doomed = [...this.data.runs.keys()].filter((id) => tops.some((top) => id === top || id.startsWith(`${top}/`)));
    let events = 0;
    for (const id of doomed) {
      events += this.data.runs.get(id)!.events.length;
      this.data.runs.delete(id);
    }
    const gone = new Set(doomed);
    const kept = this.data.controls.filter((c) => !gone.has(c.run_id));
    this.data.controls.splice(0, this.data.controls.length, ...kept);
    return { runs: doomed.length, events };
  }

  private run(runId: string, make: () => StoredRun['row']): StoredRun {
    let r = this.data.runs.get(runId);
    if (!r) {
      r = { row: make(), events: [], lastSeq: 0 };
      this.data.runs.set(runId, r);
    }
    return r;
  }

  /** A run's event, after its last one (a run not registered gets a row as SQLite's commit gives it). */
  private append(e: RunEvent): void {
    const r = this.data.runs.get(e.runId);
    if (!r) throw new Error(`journal: no run ${e.runId}`);
    r.events.push(this.redactText(JSON.stringify(e)));
    r.lastSeq = e.seq;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `journal` behind the `AsyncJournal` interface (each call settles at once). */
export function memoryAsyncJournal(journal: MemoryJournal): AsyncJournal {
  const call = async <T>(f: () => T): Promise<T> => f();
  return {
    location: 'memory',
    get redactText() {
      return journal.redactText;
    },
    set redactText(f: (text: string) => string) {
      journal.redactText = f;
    },
    commit: (summary, events) => call(() => journal.commit(summary, events)),
    registerRun: (runId, planName, ir, input, startedAt, parentId = null, trigger) => call(() => journal.registerRun(runId, planName, ir, input, startedAt, parentId, trigger)),
    load: (runId) => call(() => journal.load(runId)),
    first: (runId) => call(() => journal.first(runId)),
    getRun: (runId) => call(() => journal.getRun(runId)),
    listRuns: (all = false) => call(() => journal.listRuns(all)),
    unfinishedRuns: () => call(() => journal.unfinishedRuns()),
    addControl: (runId, kind, stepId = null, payload = null) => call(() => journal.addControl(runId, kind, stepId, payload)),
    takeControls: (runId) => call(() => journal.takeControls(runId)),
    pendingControls: (runId) => call(() => journal.pendingControls(runId)),
    heartbeat: (runId) => call(() => journal.heartbeat(runId)),
    acquire: (runId) =>
      call(() => {
        journal.heartbeat(runId);
        return true;
      }),
    ownedElsewhere: (runId) => call(() => journal.ownedElsewhere(runId)),
    appendOffline: (runId, type, data, status) => call(() => journal.appendOffline(runId, type, data, status)),
    upgradeOffline: (runId, ir, data) => call(() => journal.upgradeOffline(runId, ir, data)),
    disown: (runId) => call(() => journal.disown(runId)),
    rateHitsSince: (key, since) => call(() => journal.rateHitsSince(key, since)),
    prune: (before) => call(() => journal.prune(before)),
    close: async () => undefined,
  };
}
