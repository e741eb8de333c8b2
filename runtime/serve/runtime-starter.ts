/**
 * The RunStarter over the real runtime: one `Runtime` (worker pool + SQLite journal) executes
 * every run `orch serve` starts or resumes. Runs held in this process answer from memory (live
 * status); any other run answers from its journal.
 */
import type { PlanIR } from '../../compiler/ir/types.js';
import { Runtime, RunDetached, RuntimeUsageError, type ActiveRun } from '../index.js';
import { journalView } from './journal-view.js';
import type { ControlResult, FinishedRun, JournalEntry, RunStarter, RunSummary, RunView, StartMeta } from './run-starter.js';
import { TERMINAL_STATUSES } from './run-starter.js';

export { DEFAULT_DB } from '../index.js';

export interface RuntimeStarterOptions {
  readonly db: string;
  readonly plans: readonly PlanIR[];
  readonly log: (line: string) => void;
}

export async function openRuntimeStarter(o: RuntimeStarterOptions): Promise<RunStarter> {
  // A server waits for approvals in memory rather than suspending the run.
  const rt = await Runtime.open({ db: o.db, suspendOnApproval: false });
  const journal = rt.journal!;
  const active = new Map<string, ActiveRun>();
  const listeners: ((r: FinishedRun) => void)[] = [];
  let closed = false;

  const notify = (run: FinishedRun) => {
    for (const l of listeners) {
      try {
        l(run);
      } catch (err) {
        o.log(`run ${run.runId}: a finish listener failed: ${(err as Error).message}`);
      }
    }
  };
  const track = (a: ActiveRun) => {
    active.set(a.runId, a);
    a.result.then(
      (r) => {
        active.delete(a.runId);
        // A run cancelled because this server is shutting down is not a completion.
        if (!closed) notify({ runId: r.runId, planId: r.planId, status: r.status, output: r.output });
      },
      (err: unknown) => {
        active.delete(a.runId);
        // Left unfinished by this server's shutdown (close below): the next start resumes it.
        if (err instanceof RunDetached) return;
        o.log(`run ${a.runId} stopped with an internal error: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  };
  const notFound = (runId: string): ControlResult => ({ ok: false, reason: 'not_found', message: `unknown run "${runId}"` });
  const outcome = (runId: string, r: { ok: boolean; message: string }, status: () => string): ControlResult =>
    r.ok ? { ok: true, status: status() } : journal.getRun(runId) ? { ok: false, reason: 'conflict', message: r.message } : notFound(runId);
  const statusOf = (runId: string) => active.get(runId)?.run.status() ?? journal.getRun(runId)?.status ?? 'unknown';

  return {
    async start(plan: PlanIR, input: unknown, meta: StartMeta) {
      const a = await rt.start(plan, { input, context: meta.context });
      track(a);
      return { runId: a.runId };
    },

    async get(runId): Promise<RunView | null> {
      const a = active.get(runId);
      if (a) return { ...a.run.result(), status: a.run.status(), completedAt: null };
      const row = journal.getRun(runId);
      return row ? journalView(row, journal.load(runId)) : null;
    },

    async list(): Promise<readonly RunSummary[]> {
      return journal.listRuns().map((r) => ({
        runId: r.id,
        planId: r.plan,
        status: r.status,
        startedAt: new Date(r.started_at).toISOString(),
        completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
      }));
    },

    async timeline(runId): Promise<readonly JournalEntry[] | null> {
      if (!journal.getRun(runId)) return null;
      return journal.load(runId).map((e) => ({
        seq: e.seq,
        at: new Date(e.ts).toISOString(),
        type: e.type,
        stepId: e.stepId,
        ...e.data,
      }));
    },

    async pause(runId) {
      if (!journal.getRun(runId)) return notFound(runId);
      return outcome(runId, await rt.control(runId, 'pause'), () => statusOf(runId));
    },

    async resume(runId) {
      const row = journal.getRun(runId);
      if (!row) return notFound(runId);
      if (active.has(runId) || TERMINAL_STATUSES.has(row.status) || journal.ownedElsewhere(runId)) {
        return outcome(runId, await rt.control(runId, 'resume'), () => statusOf(runId));
      }
      // A paused run nobody holds: load it from the journal here, then let it go on.
      try {
        const a = await rt.resume(runId);
        track(a);
        if (a.run.status() === 'paused') a.run.resume();
        return { ok: true, status: a.run.status() };
      } catch (err) {
        if (err instanceof RuntimeUsageError) return { ok: false, reason: 'conflict', message: err.message };
        throw err;
      }
    },

    async cancel(runId) {
      if (!journal.getRun(runId)) return notFound(runId);
      return outcome(runId, await rt.control(runId, 'cancel'), () => statusOf(runId));
    },

    async decide(runId, stepId, decision) {
      if (!journal.getRun(runId)) return notFound(runId);
      return outcome(runId, await rt.signal(runId, { stepId, decision, by: 'orch serve' }), () => statusOf(runId));
    },

    async signalContext(values) {
      rt.updateContextAll({ ...values });
    },

    onFinished(listener) {
      listeners.push(listener);
    },

    async resumeUnfinished() {
      const resumed: string[] = [];
      for (const row of journal.unfinishedRuns()) {
        // Paused runs stay paused until someone resumes them; runs another live server owns stay there.
        if (row.status !== 'running' || journal.ownedElsewhere(row.id) || active.has(row.id)) continue;
        try {
          track(await rt.resume(row.id));
          resumed.push(row.id);
        } catch (err) {
          o.log(`cannot resume run ${row.id}: ${(err as Error).message}`);
        }
      }
      return resumed;
    },

    activeCount: () => rt.activeCount(),

    async drain(ms) {
      const deadline = Date.now() + ms;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return active.size === 0;
    },

    async close() {
      closed = true;
      // A server that stops leaves runs still in flight unfinished in the journal (not
      // cancelled), for the next `orch serve` to resume.
      await rt.close({ cancel: false });
    },
  };
}
