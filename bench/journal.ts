/**
 * The SQLite journal alone, on the engine this Node gets (node:sqlite or better-sqlite3;
 * `ORCH_SQLITE_DRIVER` forces one to compare them on the same Node): batched commits as the
 * runtime makes them, one-event commits (the per-transaction cost), and reading a run back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend, sqliteDriver, type RunEvent, type RunSummary } from '../runtime/index.js';
import { smoke, type BenchFigure } from './figure.js';

const EVENTS = smoke(20_000, 200);
/** Events per commit the runtime makes on the runtime bench's 10k-step DAG (3–4 steps a turn). */
const BATCH = 11;
const SINGLE = smoke(3_000, 30);

function summary(runId: string, n: number): RunSummary {
  return { runId, plan: 'bench', parentRunId: null, status: 'running', startedAt: 0, completedAt: null, cost: n, error: null };
}

function event(runId: string, seq: number): RunEvent {
  return { runId, seq, ts: seq, type: 'step_completed', stepId: `s${seq % 100}_${seq % 7}`, data: { output: { ok: true, n: seq }, duration: 3 } };
}

function timed(f: () => void): number {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-journal-'));
  const driver = sqliteDriver();
  try {
    let batched = 0;
    let single = 0;
    let read = 0;
    // Best of three: the box is shared.
    for (let round = 0; round < smoke(3, 1); round++) {
      const backend = await openBackend(join(dir, `runs-${round}.db`));
      // The SQLite journal itself: its commits are synchronous, as the runtime makes them.
      const j = (await backend.journal()).sqlite!;
      const runId = `r${round}`;
      j.registerRun(runId, 'bench', {}, {}, 0);
      batched = Math.max(batched, EVENTS / timed(() => {
        for (let s = 1; s <= EVENTS; s += BATCH) {
          const events = Array.from({ length: Math.min(BATCH, EVENTS - s + 1) }, (_, i) => event(runId, s + i));
          j.commit(summary(runId, s), events);
        }
      }));
      read = Math.max(read, EVENTS / timed(() => void j.load(runId)));
      const other = `${runId}-single`;
      j.registerRun(other, 'bench', {}, {}, 0);
      single = Math.max(single, SINGLE / timed(() => {
        for (let s = 1; s <= SINGLE; s++) j.commit(summary(other, s), [event(other, s)]);
      }));
      await backend.close();
    }
    return [
      { name: `journal commits, ${BATCH} events each (${driver}, ${process.version})`, value: batched, unit: 'events/s', target: '', met: true },
      { name: `journal commits, 1 event each (${driver})`, value: single, unit: 'commits/s', target: '', met: true },
      { name: `journal load of a ${EVENTS.toLocaleString('en')}-event run (${driver})`, value: read, unit: 'events/s', target: '', met: true },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
