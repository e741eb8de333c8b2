/**
 * The RunStarter over the real runtime: one `Runtime` (worker pool + SQLite journal) executes
 * every run `orch serve` starts or resumes. Runs held in this process answer from memory (live
 * status); any other run answers from its journal.
 */
import { diffPlans, irHash, preview, type PlanIR } from '../compiler/index.js';
import { clusterTiming, listOrchWorkers, Runtime, RunDetached, RuntimeUsageError, type ActiveRun, type Backend } from '../runtime/index.js';
import { journalView, planOfRun } from './journal-view.js';
import type { RunEvent, SignalRead } from '../runtime/index.js';
import type { ControlResult, FinishedRun, JournalEntry, RunSource, RunStarter, RunSummary, RunView, StartMeta } from './run-starter.js';
import { TERMINAL_STATUSES } from './run-starter.js';

export interface RuntimeStarterOptions {
  /** Where runs are kept: the caller closes it once the starter is closed. */
  readonly backend: Backend;
  readonly plans: readonly PlanIR[];
  readonly log: (line: string) => void;
  /** Steps in this process even with workers (`--local`); else on `orch worker`s when one is live. */
  readonly local?: boolean;
  /** On Postgres, a run is taken over once its owner's heartbeat is this old (default 10 s). */
  readonly takeOverAfterMs?: number;
  /** §9.4: the context store's signals, which runs read live (a stale signal is unknown at once). */
  readonly signal?: (name: string) => SignalRead;
}

export async function openRuntimeStarter(o: RuntimeStarterOptions): Promise<RunStarter> {
  // A server waits for approvals in memory rather than suspending the run.
  const rt = await Runtime.open({ backend: o.backend, suspendOnApproval: false, placement: o.local || !o.backend.capabilities.workers ? 'local' : 'auto', warn: o.log, ...(o.signal ? { signal: o.signal } : {}) });
  // SQLite or Postgres alike, through the asynchronous interface.
  const journal = rt.store!;
  const active = new Map<string, ActiveRun>();
  const listeners: ((r: FinishedRun) => void)[] = [];
  const eventListeners: ((e: { runId: string; planId: string; event: JournalEntry }) => void)[] = [];
  // The runtime hands these events over already redacted.
  const planOf = new Map<string, string>();
  const onEvent = (e: RunEvent) => {
    if (eventListeners.length === 0) return;
    // A run's first event names its plan (sub-plan runs too); a run resumed here was named when
    // it was loaded, and a sub-plan run resumed with it falls back to its parent's.
    if (e.type === 'plan_created' && typeof e.data.plan === 'string') planOf.set(e.runId, e.data.plan);
    const planId = planOf.get(e.runId) ?? planOf.get(e.runId.split('/')[0]!) ?? '';
    const entry = toEntry(e);
    for (const l of eventListeners) l({ runId: e.runId, planId, event: entry });
    if (e.type === 'execution_completed' || e.type === 'execution_failed' || e.type === 'execution_cancelled') planOf.delete(e.runId);
  };
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
  const notFound = (runId: string): Extract<ControlResult, { ok: false }> => ({ ok: false, reason: 'not_found', message: `unknown run "${runId}"` });
  const outcome = async (runId: string, r: { ok: boolean; message: string; forbidden?: true }): Promise<ControlResult> =>
    r.ok
      ? { ok: true, status: await statusOf(runId) }
      : (await journal.getRun(runId))
        ? { ok: false, reason: r.forbidden ? 'forbidden' : 'conflict', message: r.message }
        : notFound(runId);
  const statusOf = async (runId: string) => active.get(runId)?.run.status() ?? (await journal.getRun(runId))?.status ?? 'unknown';
  const known = async (runId: string) => (await journal.getRun(runId)) !== undefined;

  /**
   * Resumes the unfinished runs nobody advances: left by a previous process (at start) or, on a
   * shared Postgres, by a server or `orch run` whose heartbeat stopped (every few seconds). The
   * lease (`Runtime.resume`) makes one process take each.
   */
  const resumeOrphans = async (atStart: boolean): Promise<string[]> => {
    const { resumed, failed } = await rt.resumeOrphans({
      skip: (runId) => closed || active.has(runId),
      before: (row) => planOf.set(row.id, row.plan),
      resume: { onEvent, takeOverAfterMs: o.takeOverAfterMs },
    });
    for (const a of resumed) {
      track(a);
      if (!atStart) o.log(`took over run ${a.runId}: its owner stopped answering`);
    }
    // Another server taking a run first is no news, except at start.
    for (const f of failed) if (atStart || !f.lost) o.log(`cannot resume run ${f.runId}: ${f.error.message}`);
    return resumed.map((a) => a.runId);
  };
  let adopting: Promise<unknown> | null = null;
  // Shared by servers on many machines: an owner that went silent is replaced while this one runs.
  const adopter = o.backend.capabilities.sharedServers
    ? setInterval(() => {
        adopting ??= resumeOrphans(false)
          .catch((err: unknown) => o.log(`looking for runs to take over: ${(err as Error).message}`))
          .finally(() => (adopting = null));
      }, clusterTiming().orphanPollMs)
    : null;
  adopter?.unref();

  return {
    async start(plan: PlanIR, input: unknown, meta: StartMeta) {
      const a = await rt.start(plan, {
        input,
        context: meta.context,
        consent: meta.consent,
        onEvent,
        ...(meta.traceparent ? { traceparent: meta.traceparent } : {}),
        ...(meta.startedBy ? { startedBy: meta.startedBy } : {}),
        ...(meta.causedBy ? { causedBy: meta.causedBy } : {}),
        ...(meta.chainedFrom ? { chainedFrom: meta.chainedFrom } : {}),
        ...(meta.peopleBound !== undefined ? { peopleBound: meta.peopleBound } : {}),
      });
      track(a);
      return { runId: a.runId };
    },

    async get(runId): Promise<RunView | null> {
      const a = active.get(runId);
      if (a) {
        const status = a.run.status();
        if (!TERMINAL_STATUSES.has(status)) return { ...a.run.result(), status, completedAt: null };
        // Over in memory, but on Postgres its last commit may still be on its way: the run is
        // reported ended once its journal says so, never before.
        await a.result.catch(() => undefined);
      }
      const row = await journal.getRun(runId);
      return row ? journalView(row, await journal.load(runId), await planOfRun(row, (id) => journal.getRun(id))) : null;
    },

    async list(): Promise<readonly RunSummary[]> {
      return (await journal.listRuns()).map((r) => ({
        runId: r.id,
        planId: r.plan,
        status: r.status,
        startedAt: new Date(r.started_at).toISOString(),
        completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
        cost: r.cost,
      }));
    },

    async timeline(runId): Promise<readonly JournalEntry[] | null> {
      if (!(await known(runId))) return null;
      return (await journal.load(runId)).map(toEntry);
    },

    async pause(runId) {
      if (!(await known(runId))) return notFound(runId);
      return outcome(runId, await rt.control(runId, 'pause'));
    },

    async resume(runId) {
      const row = await journal.getRun(runId);
      if (!row) return notFound(runId);
      if (active.has(runId) || TERMINAL_STATUSES.has(row.status) || (await journal.ownedElsewhere(runId))) {
        return outcome(runId, await rt.control(runId, 'resume'));
      }
      // A paused run nobody holds: load it from the journal here, then let it go on.
      try {
        planOf.set(runId, row.plan);
        const a = await rt.resume(runId, { onEvent });
        track(a);
        if (a.run.status() === 'paused') a.run.resume();
        return { ok: true, status: a.run.status() };
      } catch (err) {
        if (err instanceof RuntimeUsageError) return { ok: false, reason: 'conflict', message: err.message };
        throw err;
      }
    },

    async cancel(runId) {
      if (!(await known(runId))) return notFound(runId);
      return outcome(runId, await rt.control(runId, 'cancel'));
    },

    rateHitsSince: (key, since) => journal.rateHitsSince(key, since),

    workers: async () => (o.backend.capabilities.workers && o.backend.cluster ? listOrchWorkers(o.backend.cluster) : null),

    async retry(runId, meta = {}) {
      if (!(await known(runId))) return notFound(runId);
      try {
        const a = await rt.retry(runId, {
          onEvent,
          ...(meta.startedBy ? { startedBy: meta.startedBy } : {}),
          ...(meta.peopleBound !== undefined ? { peopleBound: meta.peopleBound } : {}),
        });
        track(a);
        return { ok: true, runId: a.runId };
      } catch (err) {
        if (err instanceof RuntimeUsageError) return { ok: false, reason: 'conflict', message: err.message };
        throw err;
      }
    },

    async upgrade(runId, opts) {
      const row = await journal.getRun(runId);
      if (!row?.ir) return null;
      const before = JSON.parse(row.ir) as PlanIR;
      // A server started on changed files keeps each run on its version until an operator moves it.
      const target = o.plans.find((p) => p.plan === before.plan);
      if (!target) return { runId, compatible: false, applied: false, requested: false, fromHash: irHash(before), toHash: '', reasons: [{ step: null, reason: `this server has no plan ${before.plan} loaded` }], diff: null };
      // A run moved on by `orch upgrade` from the version this server loaded is not moved back.
      const toHash = irHash(target);
      const fromHash = irHash(before);
      if (toHash !== fromHash && earlierVersions(await journal.load(runId)).has(toHash)) {
        const reason = `this run was upgraded from this version (${toHash.slice(0, 12)}) to ${fromHash.slice(0, 12)}; it does not go back`;
        return { runId, compatible: false, applied: false, requested: false, behind: true, fromHash, toHash, reasons: [{ step: null, reason }], diff: null };
      }
      const r = await rt.upgrade(runId, target, opts);
      return {
        runId,
        compatible: r.compatible,
        applied: r.applied,
        requested: r.requested === true,
        fromHash: r.fromHash,
        toHash: r.toHash,
        reasons: r.reasons,
        // The run's recorded IR knows no triggers: they are not compared.
        diff: diffPlans(before, target, preview(before), preview(target), { triggers: false }),
      };
    },

    async cancelStep(runId, stepId) {
      if (!(await known(runId))) return notFound(runId);
      return outcome(runId, await rt.cancelStep(runId, stepId));
    },

    async decide(runId, stepId, decision, meta) {
      if (!(await known(runId))) return notFound(runId);
      const by = meta?.by ?? 'orch serve';
      return outcome(runId, await rt.signal(runId, { stepId, decision, by, comment: meta?.comment ?? null, identity: meta?.identity ?? null }));
    },

    async source(runId): Promise<RunSource | null> {
      const row = await journal.getRun(runId);
      if (!row?.ir) return null;
      return { plan: JSON.parse(row.ir) as PlanIR, input: row.input === null ? null : (JSON.parse(row.input) as unknown) };
    },

    onEvent(listener) {
      eventListeners.push(listener);
    },

    async signalContext(values) {
      rt.updateContextAll({ ...values });
    },

    onFinished(listener) {
      listeners.push(listener);
    },

    resumeUnfinished: () => resumeOrphans(true),

    activeCount: () => rt.activeCount(),

    async drain(ms) {
      const deadline = Date.now() + ms;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return active.size === 0;
    },

    async close(phase: (waitingFor: string) => void = () => {}) {
      closed = true;
      if (adopter) clearInterval(adopter);
      phase('the take-over of orphaned runs');
      await adopting;
      // A server that stops leaves runs still in flight unfinished in the journal (not
      // cancelled), for the next `orch serve` to resume.
      await rt.close({ cancel: false, phase });
    },
  };
}

/** The versions a run ran under before its current one: where it started, and what each upgrade left. */
function earlierVersions(events: readonly RunEvent[]): Set<string> {
  const out = new Set<string>();
  for (const e of events) {
    if (e.type === 'plan_created' && e.data.ir_hash) out.add(e.data.ir_hash);
    else if (e.type === 'plan_upgraded') out.add(e.data.from_hash);
  }
  return out;
}

/** A journal event as the API shows it: `at` as ISO time, the event's data spread beside its type. */
function toEntry(e: RunEvent): JournalEntry {
  return { seq: e.seq, at: new Date(e.ts).toISOString(), type: e.type, stepId: e.stepId, ...e.data };
}
