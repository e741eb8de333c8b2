/**
 * The RunStarter over the real runtime: one `Runtime` (worker pool + SQLite journal) executes
 * every run `orch serve` starts or resumes. Runs held in this process answer from memory (live
 * status); any other run answers from its journal.
 */
import { diffPlans, irHash, preview, type PlanIR } from '../compiler/index.js';
import { boundToPeople, clusterTiming, listOrchWorkers, Runtime, RunDetached, RuntimeUsageError, SecretView, triggerOfRow, type ActiveRun, type Backend, type RunRow } from '../runtime/index.js';
import { journalView, planOfRun, subplanAt } from './journal-view.js';
import type { ControlOutcome, RunEvent, RunReader, SignalRead } from '../runtime/index.js';
import type { ControlResult, FinishedRun, JournalEntry, RunSource, RunStarter, RunSummary, RunView, StartMeta, UpgradeReport } from './run-starter.js';
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

type Journal = NonNullable<Runtime['store']>;
type EventListener = (e: { runId: string; planId: string; event: JournalEntry }) => void;

export async function openRuntimeStarter(o: RuntimeStarterOptions): Promise<RunStarter> {
  // A server waits for approvals in memory rather than suspending the run.
  const rt = await Runtime.open({ backend: o.backend, suspendOnApproval: false, placement: o.local || !o.backend.capabilities.workers ? 'local' : 'auto', warn: o.log, ...(o.signal ? { signal: o.signal } : {}) });
  // SQLite or Postgres alike, through the asynchronous interface.
  const journal = rt.store!;
  const held = heldRuns(o.log);
  const { active, onEvent, track } = held;
  const adoption = orphanAdoption(rt, held, o);

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
        ...(meta.relabels ? { relabels: meta.relabels } : {}),
        trigger: meta.trigger,
        ...(meta.peopleBound !== undefined ? { peopleBound: meta.peopleBound } : {}),
      });
      track(a);
      return { runId: a.runId };
    },

    ...runReads(journal, held),
    ...runControls(rt, journal, held),

    rateHitsSince(key, since) {
      return journal.rateHitsSince(key, since);
    },

    upgrade: (runId, opts) => upgradeRun(rt, journal, o.plans, runId, opts),

    workers: async () => (o.backend.capabilities.workers && o.backend.cluster ? listOrchWorkers(o.backend.cluster) : null),

    onEvent(listener) {
      held.eventListeners.push(listener);
    },

    async signalContext(values) {
      rt.updateContextAll({ ...values });
    },

    onFinished(listener) {
      held.listeners.push(listener);
    },

    resumeUnfinished: () => adoption.resumeOrphans(true),

    activeCount: () => rt.activeCount(),

    async drain(ms) {
      const deadline = Date.now() + ms;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return active.size === 0;
    },

    async close(phase: (waitingFor: string) => void = () => {}) {
      held.closed = true;
      adoption.stopPolling();
      phase('the take-over of orphaned runs');
      await adoption.inFlight();
      // A server that stops leaves runs still in flight unfinished in the journal (not
      // cancelled), for the next `orch serve` to resume.
      await rt.close({ cancel: false, phase });
    },
  };
}

/** The runs this process holds in memory, and who hears of their events and of their ends. */
interface HeldRuns {
  readonly active: Map<string, ActiveRun>;
  /** Each held run's plan, for the events the listeners hear. */
  readonly planOf: Map<string, string>;
  readonly listeners: ((r: FinishedRun) => void)[];
  readonly eventListeners: EventListener[];
  /** The runtime's event hook for every run started or resumed here. */
  readonly onEvent: (e: RunEvent, run?: RunReader) => void;
  /** Holds a run until it ends, then tells the finish listeners. */
  readonly track: (a: ActiveRun) => void;
  /** Set when the server closes: a run it leaves then has not finished. */
  closed: boolean;
}

function heldRuns(log: (line: string) => void): HeldRuns {
  const active = new Map<string, ActiveRun>();
  const listeners: ((r: FinishedRun) => void)[] = [];
  const eventListeners: EventListener[] = [];
  // The runtime hands these events over already redacted.
  const planOf = new Map<string, string>();
  // Each held run's shown copies (secret-class values as `***`), fed its events in order; a
  // sub-plan run's through its own IR, found through its root run's, sharing what that one found.
  const plans = new Map<string, PlanIR>();
  const views = new Map<string, SecretView>();
  const liveView = (runId: string): SecretView => {
    const seen = views.get(runId);
    if (seen) return seen;
    const root = runId.split('/')[0]!;
    const rootPlan = plans.get(root) ?? active.get(root)?.run.plan ?? null;
    const plan = plans.get(runId) ?? (root === runId ? rootPlan : subplanAt(rootPlan, runId.slice(root.length + 1)));
    const v = new SecretView(plan, [], undefined, root === runId ? undefined : views.get(root));
    if (plan) views.set(runId, v);
    return v;
  };
  const onEvent = (e: RunEvent, run?: RunReader) => {
    if (eventListeners.length === 0) return;
    // A run's first events come before it is held: the reader they come with names its IR.
    if (run && !plans.has(run.runId)) plans.set(run.runId, run.plan);
    // A run's first event names its plan (sub-plan runs too); a run resumed here was named when
    // it was loaded, and a sub-plan run resumed with it falls back to its parent's.
    if (e.type === 'plan_created' && typeof e.data.plan === 'string') planOf.set(e.runId, e.data.plan);
    const planId = planOf.get(e.runId) ?? planOf.get(e.runId.split('/')[0]!) ?? '';
    const entry = toEntry(liveView(e.runId).event(e));
    for (const l of eventListeners) l({ runId: e.runId, planId, event: entry });
    if (e.type === 'execution_completed' || e.type === 'execution_failed' || e.type === 'execution_cancelled') {
      planOf.delete(e.runId);
      plans.delete(e.runId);
      views.delete(e.runId);
    }
  };

  const notify = (run: FinishedRun) => {
    for (const l of listeners) {
      try {
        l(run);
      } catch (err) {
        log(`run ${run.runId}: a finish listener failed: ${(err as Error).message}`);
      }
    }
  };
  const track = (a: ActiveRun) => {
    active.set(a.runId, a);
    a.result.then(
      (r) => {
        active.delete(a.runId);
        // A run cancelled because this server is shutting down is not a completion.
        if (!held.closed) notify({ runId: r.runId, planId: r.planId, module: a.run.plan.module, status: r.status, output: r.output });
      },
      (err: unknown) => {
        active.delete(a.runId);
        // Left unfinished by this server's shutdown (close below): the next start resumes it.
        // Taken over by another server while this one was silent: that one finishes it, and an
        // operator reading this server's log learns why it stopped here.
        if (err instanceof RunDetached) {
          if (err.because === 'taken-over') log(`run ${a.runId} was taken over by another process (this one was silent past its lease): left to it`);
          return;
        }
        log(`run ${a.runId} stopped with an internal error: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  };
  const held: HeldRuns = { active, planOf, listeners, eventListeners, onEvent, track, closed: false };
  return held;
}

/**
 * Resumes the unfinished runs nobody advances: left by a previous process (at start) or, on a
 * shared Postgres, by a server or `orch run` whose heartbeat stopped (every few seconds). The
 * lease (`Runtime.resume`) makes one process take each.
 */
function orphanAdoption(rt: Runtime, held: HeldRuns, o: RuntimeStarterOptions) {
  const resumeOrphans = async (atStart: boolean): Promise<string[]> => {
    const { resumed, failed } = await rt.resumeOrphans({
      skip: (runId) => held.closed || held.active.has(runId),
      before: (row) => held.planOf.set(row.id, row.plan),
      resume: { onEvent: held.onEvent, takeOverAfterMs: o.takeOverAfterMs },
    });
    for (const a of resumed) {
      held.track(a);
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
    resumeOrphans,
    stopPolling: () => {
      if (adopter) clearInterval(adopter);
    },
    /** The take-over under way, if any. */
    inFlight: () => adopting,
  };
}

const notFound = (runId: string): Extract<ControlResult, { ok: false }> => ({ ok: false, reason: 'not_found', message: `unknown run "${runId}"` });
const known = async (journal: Journal, runId: string) => (await journal.getRun(runId)) !== undefined;

/** `{trigger}` when the run's row knows which trigger started it (a name, or `null` for none), else nothing. */
function triggerField(row: RunRow | undefined): { trigger?: string | null } {
  const trigger = row ? triggerOfRow(row) : undefined;
  return trigger === undefined ? {} : { trigger };
}

const withTrigger = (view: RunView, row: RunRow | undefined): RunView => ({ ...view, ...triggerField(row) });

/** What the API reads of runs: a held run's live status, any other from its journal. */
function runReads(journal: Journal, held: HeldRuns): Pick<RunStarter, 'get' | 'list' | 'timeline' | 'source'> {
  return {
    async get(runId): Promise<RunView | null> {
      const a = held.active.get(runId);
      if (a) {
        const status = a.run.status();
        if (!TERMINAL_STATUSES.has(status))
          return withTrigger({ ...new SecretView(a.run.plan, [], a.run.input()).result(a.run.result()), status, completedAt: null }, await journal.getRun(runId));
        // Over in memory, but on Postgres its last commit may still be on its way: the run is
        // reported ended once its journal says so, never before.
        await a.result.catch(() => undefined);
      }
      const row = await journal.getRun(runId);
      return row ? withTrigger(journalView(row, await journal.load(runId), await planOfRun(row, (id) => journal.getRun(id))), row) : null;
    },

    async list(): Promise<readonly RunSummary[]> {
      return (await journal.listRuns()).map((r) => ({
        runId: r.id,
        planId: r.plan,
        status: r.status,
        startedAt: new Date(r.started_at).toISOString(),
        completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
        cost: r.cost,
        ...triggerField(r),
      }));
    },

    async timeline(runId): Promise<readonly JournalEntry[] | null> {
      const row = await journal.getRun(runId);
      if (!row) return null;
      const events = await journal.load(runId);
      return new SecretView(await planOfRun(row, (id) => journal.getRun(id)), events).events(events).map(toEntry);
    },

    async source(runId): Promise<RunSource | null> {
      const row = await journal.getRun(runId);
      if (!row?.ir) return null;
      const plan = JSON.parse(row.ir) as PlanIR;
      return { plan, input: row.input === null ? null : new SecretView(plan).input(JSON.parse(row.input) as unknown) };
    },
  };
}

/** An operator's controls of a run: pause, resume, cancel, retry, cancel a step, decide an approval. */
function runControls(rt: Runtime, journal: Journal, held: HeldRuns): Pick<RunStarter, 'pause' | 'resume' | 'cancel' | 'retry' | 'cancelStep' | 'decide'> {
  const { active, planOf, onEvent, track } = held;
  const outcome = async (runId: string, r: ControlOutcome): Promise<ControlResult> =>
    r.ok
      ? { ok: true, status: await statusOf(runId) }
      : (await journal.getRun(runId))
        ? { ok: false, reason: r.forbidden ? 'forbidden' : r.missing ? 'not_found' : 'conflict', message: r.message }
        : notFound(runId);
  const statusOf = async (runId: string) => active.get(runId)?.run.status() ?? (await journal.getRun(runId))?.status ?? 'unknown';

  return {
    async pause(runId) {
      if (!(await known(journal, runId))) return notFound(runId);
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
      if (!(await known(journal, runId))) return notFound(runId);
      return outcome(runId, await rt.control(runId, 'cancel'));
    },

    async retry(runId, meta = {}) {
      if (!(await known(journal, runId))) return notFound(runId);
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

    async cancelStep(runId, stepId) {
      if (!(await known(journal, runId))) return notFound(runId);
      return outcome(runId, await rt.cancelStep(runId, stepId));
    },

    async decide(runId, stepId, decision, meta) {
      if (!(await known(journal, runId))) return notFound(runId);
      const by = meta?.by ?? 'orch serve';
      // §9.1: a run started without people keeps v0.2's rule — the approver is a label and the
      // first decision decides — whoever decides here: the person is its label (`by`), not checked.
      const identity = meta?.identity && (await boundToPeople(journal, runId)) ? meta.identity : null;
      return outcome(runId, await rt.signal(runId, { stepId, decision, by, comment: meta?.comment ?? null, identity }));
    },
  };
}

/** Moves a run onto the version of its plan this server loaded (`orch upgrade` through the API). */
async function upgradeRun(rt: Runtime, journal: Journal, plans: readonly PlanIR[], runId: string, opts: { readonly dryRun: boolean }): Promise<UpgradeReport | null> {
  const row = await journal.getRun(runId);
  if (!row?.ir) return null;
  const before = JSON.parse(row.ir) as PlanIR;
  // A server started on changed files keeps each run on its version until an operator moves it.
  // Its own module's plan: two served modules may both declare one of that name.
  const named = plans.filter((p) => p.plan === before.plan);
  const target = named.find((p) => p.module === before.module) ?? (named.length === 1 ? named[0] : undefined);
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
