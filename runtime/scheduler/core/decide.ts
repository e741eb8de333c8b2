/**
 * What becomes ready: starting the run, opening frames (the plan, each `for each` item, each
 * loop iteration) into step instances, join rules and skip propagation, restoring what a resumed
 * run already did, and the ready queue that dispatch drains while the limits allow.
 */
import { irHash, type StepView } from '../../../compiler/index.js';
import { condition, unknownReason, UNKNOWN, type Truth } from '../../evaluate.js';
import { checkLoops, endWhole, listReady, openForEach, openFrame, outsideDepsEnded } from './blocks.js';
import { hasAvailability, placeQueued, resourceFound, waitForResource } from './availability.js';
import { armDurationBudget, sharedBudgetExceeded } from './budget.js';
import { consentHolds, grantedScopes } from './consent.js';
import { cancelInst, failWith, finalFail, instTerminal, restoreEnded, rollbackHeld } from './endings.js';
import { env } from './env.js';
import { journalRelabels } from './flow-at-run.js';
import { checkDone } from './finish.js';
import { foldStep, newRecord, originFacts } from './fold.js';
import { attemptAction, attemptCostOf, capabilityOf, isApproval } from './resolve.js';
import type { RunState } from './run-state.js';
import type { SlotRequest } from './limits.js';
import { sharedPrefix } from './scopes.js';
import { beginStep, itemSlotsOf, slotRequest } from './start.js';
import { FAILED, type Inst, ROOT_FRAME, TERMINAL, stopWaiting, waitingOf } from './state.js';
import { blockViewFrom, viewAt } from './views.js';
import { armRateWindow, stepTimerId } from './timers.js';
import { ready } from './readiness.js';

/** The keys of `given` whose values the journaled context does not have already; null when none. */
function contextPatch(journaled: { readonly [k: string]: unknown }, given: { readonly [k: string]: unknown }): { [k: string]: unknown } | null {
  const patch: { [k: string]: unknown } = {};
  for (const [k, v] of Object.entries(given)) if (!Object.hasOwn(journaled, k) || JSON.stringify(journaled[k]) !== JSON.stringify(v)) patch[k] = v;
  return Object.keys(patch).length > 0 ? patch : null;
}

export function beginRun(c: RunState): void {
  const r = c.opts.restored;
  if (r) {
    c.facts.startedAt = r.startedAt ?? c.now;
    c.facts.lastSeq = r.lastSeq;
    c.facts.startedBy = r.startedBy ?? c.opts.startedBy ?? null;
    c.facts.origin = r.origin ?? c.opts.origin ?? {};
    // A value of a journal without times (none folded) counts as set when the run started.
    for (const k of Object.keys(r.context)) c.facts.contextAt[k] = r.contextAt?.[k] ?? c.startedAt;
    for (const s of r.steps.values())
      if (s.completionOrder !== null) c.facts.completions = Math.max(c.facts.completions, s.completionOrder + 1);
    c.emit('execution_started', null, { resumed: true });
    if (r.paused) c.emit('execution_resumed', null, {});
    // Context values this resume brings (sent while no process ran the run) are journaled, or the
    // next resume, reading the journal, would lose them.
    const patch = contextPatch(r.context, c.opts.context ?? {});
    if (patch !== null) c.emit('context_updated', null, { patch });
  } else {
    c.facts.lastSeq = c.opts.seqAfter ?? 0;
    c.emit('plan_created', null, {
      plan: c.plan.plan,
      module: c.plan.module,
      input: c.inputValue,
      context: c.ctx,
      steps: c.plan.steps.length,
      parentRunId: c.opts.parentRunId ?? null,
      // The plan's version (LANGUAGE.md §8.6); a sub-plan run's is that of its sub-plan's IR.
      ir_hash: irHash(c.plan),
      ...(c.opts.retryOf ? { retryOf: c.opts.retryOf } : {}),
      // Read back on resume, so every process that advances the run continues one trace.
      ...(c.opts.trace ? { trace_id: c.opts.trace.trace_id, span_id: c.opts.trace.span_id } : {}),
      // The grants the run started with (LANGUAGE.md §7.2), whether or not the policy requires them.
      consent: grantedScopes(c),
      // Who started it (§8.8, §9.1): `not_starter` approvals and invariants on `run.started_by` read it.
      ...(c.opts.startedBy ? { started_by: c.opts.startedBy } : {}),
      // Where else it came from (§9.1): its cause, its chain, whether people decide its approvals.
      ...originFacts(c.opts.origin ?? {}),
    });
    // What the trigger's `with` endorsed or declassified to give the run its input (§9.3: every use journaled).
    journalRelabels(c, null, c.opts.startRelabels, undefined, 0);
    // Values the run was handed keep the age they had (a sub-plan's copy of its parent's context).
    for (const [k, t] of Object.entries(c.opts.contextAt ?? {})) if (Object.hasOwn(c.ctx, k) && t < (c.facts.contextAt[k] ?? Infinity)) c.facts.contextAt[k] = t;
    if (!consentHolds(c)) return;
    c.emit('execution_started', null, {});
    adopt(c);
  }
  if (c.plan.deadline_ms !== null) {
    c.armed.add('deadline');
    c.armTimer('deadline', c.startedAt + c.plan.deadline_ms - c.now);
  }
  armDurationBudget(c);
  openFrame(c, '', ROOT_FRAME);
}

/**
 * A forked run (§9.2) journals the instances it takes from the run it forks before anything
 * starts; each then meets `restore` as a resumed run's finished step does, so it never runs.
 */
function adopt(c: RunState): void {
  const a = c.opts.adopted;
  if (!a) return;
  for (const s of a.steps) {
    const { key: _key, ...data } = s;
    void _key;
    const e = c.emit('step_adopted', s.key, { from_run: a.from, ...data });
    const rec = newRecord();
    foldStep(rec, e, c.facts);
    c.adoptedRecords.set(s.key, rec);
  }
}

/** Looks at what waits, decides and dispatches until nothing more moves; then: done yet? */
export function pump(c: RunState): void {
  for (;;) {
    let progressed = false;
    if (c.mode === 'normal' && (c.dirtyAll || c.dirty.length > 0)) progressed = recheck(c);
    while (c.decideQ.length) {
      progressed = true;
      decide(c, c.decideQ.shift()!);
    }
    // The failure policy a crash interrupted (a rollback part way, an abort not yet journaled)
    // carries on, over the restored instances, before anything new starts.
    if (c.restoredFailure !== null && c.mode === 'normal') {
      const message = c.restoredFailure;
      c.restoredFailure = null;
      failWith(c, 'abort', message);
      progressed = true;
    }
    if (c.runStatus === 'running' && c.mode === 'normal' && !c.holdStarts && c.heap.size > 0) {
      if (dispatch(c)) progressed = true;
    }
    rollbackHeld(c);
    if (!progressed) break;
  }
  checkDone(c);
}

/** What the instances that ended (or a block that changed) may have made ready. */
function recheck(c: RunState): boolean {
  let moved = false;
  const all = c.dirtyAll;
  const ended = c.dirty;
  c.dirtyAll = false;
  c.dirty = [];
  for (const bi of [...c.waitingLists])
    if (c.mode === 'normal' && listReady(c, bi)) {
      c.waitingLists.delete(bi);
      openForEach(c, bi);
      moved = true;
    }
  for (const [bi, w] of [...c.waitingWhole])
    if (c.mode === 'normal' && outsideDepsEnded(c, bi)) {
      c.waitingWhole.delete(bi);
      endWhole(c, bi, w);
      moved = true;
    }
  const candidates = new Set<Inst>();
  if (all) for (const l of c.logical.values()) for (const i of waitingOf(l)) candidates.add(i);
  else
    for (const x of ended)
      for (const d of x.logical.dependents) {
        // Same dimensions: only the instance at the same path can be affected.
        const same = d.shape.dims.length === x.dims.length && sharedPrefix(x, d.shape.dims).length === x.dims.length;
        if (same) {
          const one = c.instances.get(d.step.id + x.suffix);
          if (one && one.waiting) candidates.add(one);
        } else for (const i of waitingOf(d)) candidates.add(i);
      }
  for (const inst of candidates)
    if (ready(c, inst)) {
      stopWaiting(inst);
      c.decideQ.push(inst);
      moved = true;
    }
  if (c.mode === 'normal' && checkLoops(c)) moved = true;
  return moved;
}

const NO_IDS: ReadonlySet<string> = new Set();

/**
 * Join rule and skip propagation over the ended dependencies; null = may run. A read inside a
 * `??` chain only (a soft read) never skips the step; a branch of a race the step waits for
 * (itself, or a loop around it) counts as the race (so a cancelled loser does not skip it).
 */
function skipReason(c: RunState, inst: Inst): string | null {
  const step = inst.logical.step;
  // Run for every instance: no set is made for a list that is empty (most steps' soft reads and
  // races). The dependencies are walked as listed: a repeated one changes no verdict below (each
  // asks for the first, or for any, view of a kind).
  const soft = step.join === 'first' || !step.soft_reads?.length ? NO_IDS : new Set(step.soft_reads.filter((d) => !step.after.includes(d) && !step.skip_if_skipped.includes(d)));
  const waitsFor = step.waits_for?.length ? new Set(step.waits_for) : NO_IDS;
  const views: { id: string; v: StepView }[] = [];
  let seen: Set<string> | undefined;
  for (const d of step.deps) {
    const dep = c.logical.get(d);
    if (!dep || soft.has(d)) continue;
    const race = dep.shape.race;
    // Waiting for a block around the race (a loop holding it) waits for the race too.
    if (race && (waitsFor.has(race.id) || (waitsFor !== NO_IDS && dep.shape.chain.some((b) => waitsFor.has(b.id))))) {
      if (seen?.has(race.id)) continue;
      (seen ??= new Set()).add(race.id);
      const rv = blockViewFrom(c, inst, race.id);
      if (rv) views.push({ id: race.id, v: { ...viewAt(c, dep, sharedPrefix(inst, dep.shape.dims)), status: rv.status, completed: rv.completed, failed: rv.failed, skipped: rv.skipped } });
      continue;
    }
    views.push({ id: d, v: viewAt(c, dep, sharedPrefix(inst, dep.shape.dims)) });
  }
  for (const s of step.skip_if_skipped) {
    const dep = c.logical.get(s);
    if (dep && viewAt(c, dep, sharedPrefix(inst, dep.shape.dims)).skipped) return `${s} was skipped`;
  }
  const failed = views.filter((x) => FAILED.has(x.v.status));
  switch (step.join) {
    case 'none_failed':
      if (failed.length) return `dependency ${failed[0]!.id} ${failed[0]!.v.status}`;
      break;
    case 'all_success': {
      const notOk = views.find((x) => x.v.status !== 'completed');
      if (notOk) return `dependency ${notOk.id} ${notOk.v.status} (join all_success)`;
      break;
    }
    case 'any_success':
      if (views.length > 0 && !views.some((x) => x.v.status === 'completed')) return 'no dependency succeeded (join any_success)';
      break;
    case 'first':
      if (views.length > 0 && !views.some((x) => x.v.status === 'completed')) return 'no dependency completed (join first)';
      break;
    case 'all_done':
      break;
  }
  return null;
}

/** All dependencies of an instance are finished: skip it, fail it, or queue it. */
function decide(c: RunState, inst: Inst): void {
  if (c.mode !== 'normal' || inst.rec.status !== 'pending') return;
  if (c.cancelRequests.has(inst.logical.step.id) && !inst.restored) return cancelInst(c, inst, 'cancelled by user');
  const asked = c.pendingCancels.get(inst.key);
  if (asked !== undefined) {
    c.pendingCancels.delete(inst.key);
    // Its step_cancelled is in the journal already: the instance ends by it, as on a resume.
    if (!inst.restored || !TERMINAL.has(inst.restored.status)) {
      foldStep(inst.rec, asked, c.facts);
      return instTerminal(c, inst);
    }
  }
  if (inst.restored && inst.restored.status !== 'pending') return restore(c, inst);
  const step = inst.logical.step;
  const skip = skipReason(c, inst);
  if (skip) return skip_(c, inst, skip);
  if (step.when) {
    const e = env(c, inst, step);
    let ok: Truth;
    try {
      ok = condition(step.when, e);
    } catch (err) {
      return finalFail(c, inst, 'failed', `when condition: ${(err as Error).message}`);
    }
    // §9.4: a condition over a signal that is not known skips its step, saying which one.
    if (ok === UNKNOWN) return skip_(c, inst, unknownReason(step.when, e));
    if (!ok) return skip_(c, inst, 'when condition is false');
  }
  queue(c, inst);
}

/** A resumed run meets a step the journal already knows: take its word. */
function restore(c: RunState, inst: Inst): void {
  const r = inst.restored!;
  const step = inst.logical.step;
  // Its item had begun (§7.1 `parallel` counts it until its steps all end): it holds its slot
  // again before any item that had not begun can take it.
  if (r.startedAt !== null) {
    const items = itemSlotsOf(inst);
    if (items !== null) c.limits.itemsResumed(items);
  }
  if (TERMINAL.has(r.status)) return restoreEnded(c, inst);
  Object.assign(inst.rec, {
    attempts: r.attempts,
    phase: r.phase,
    resourceIndex: r.resourceIndex,
    reboundTo: r.reboundTo,
    // An attempt cut short by the crash does not use up the retry budget.
    phaseAttempts: Math.max(0, r.phaseAttempts - (r.inFlight ? 1 : 0)),
    resource: r.resource,
    startedAt: r.startedAt,
    cost: r.cost,
    completionOrder: r.completionOrder,
    compensated: r.compensated,
    // §8.8: the people who approved a waiting approval before the interruption still count.
    approvedBy: [...(r.approvedBy ?? [])],
  });
  c.totalCost += r.cost;
  const cap = capabilityOf(c, inst);
  // A wait, an approval or a sub-plan picks up where it was: that is not a new attempt.
  const resumesInPlace = step.action.type !== 'call' || (cap !== null && isApproval(cap));
  if (r.inFlight && resumesInPlace) {
    inst.rec.attempts = Math.max(0, r.attempts - 1);
    // Its cost was charged when it started; launching again charges it once more.
    const charged = attemptCostOf(c, inst);
    c.totalCost -= charged;
    inst.rec.cost -= charged;
  }
  // A step the executor recovered is safe to start again: its next attempt receives the outcome
  // of the one in flight (held or still to come), or the handler never ran.
  const recovered = c.opts.recovered?.has(inst.key) === true;
  if (r.inFlight && attemptAction(inst) === 'call' && cap && !isApproval(cap) && !cap.idempotent && !c.opts.rerunInFlight && !recovered) {
    return finalFail(
      c,
      inst,
      'failed',
      'failed-unknown: it was running when the run was interrupted and its capability is not idempotent (resume with --rerun-in-flight to run it again)',
    );
  }
  // A retry the run was waiting out when it was interrupted runs when it was due, not at once.
  const due = r.inFlight ? null : (r.retryAt ?? null);
  if (due === null || due <= c.now) return queue(c, inst);
  c.emit('step_queued', inst.key, {});
  inst.timer = { kind: 'backoff', token: ++inst.token };
  c.armTimer(stepTimerId(inst), due - c.now);
}

function queue(c: RunState, inst: Inst): void {
  c.emit('step_queued', inst.key, {});
  c.heap.push(inst);
}

function skip_(c: RunState, inst: Inst, reason: string): void {
  c.emit('step_skipped', inst.key, { reason });
  instTerminal(c, inst);
}

/** Starts queued steps while the limits allow; returns whether anything started. */
function dispatch(c: RunState): boolean {
  const setAside: Inst[] = [];
  let startedAny = false;
  // Resources (with the capability, whose rate limits come with it) found full in this pass: the
  // queued steps behind the first one held by a resource need not each ask again until a step
  // starts here (a start can end at once and give its slot back) or the next pass.
  let full: Set<string> | null = null;
  // How many queued steps wait behind each held key (only for a service that asks: `waiting`).
  let waiting: Map<string, { readonly request: SlotRequest; count: number }> | null = null;
  const counts = c.limits.waiting !== undefined;
  while (c.heap.size > 0) {
    const inst = c.heap.peek()!;
    if (inst.rec.status !== 'queued' || inst.activity.kind !== 'idle') {
      c.heap.pop();
      continue;
    }
    if (hasAvailability(c)) {
      if (!placeQueued(c, inst)) {
        waitForResource(c, c.heap.pop()!);
        continue;
      }
      resourceFound(c, inst);
    }
    const request = slotRequest(c, inst);
    const fullKey = request.resource !== null && request.item === null ? `${request.resource.name}\u0000${request.capability}` : null;
    if (fullKey !== null && full?.has(fullKey)) {
      const w = waiting?.get(fullKey);
      if (w) w.count++;
      setAside.push(c.heap.pop()!);
      continue;
    }
    const grant = c.limits.tryAcquire(request, c.now);
    if (grant.kind === 'full') break;
    if (grant.kind === 'over_budget') {
      c.heap.pop();
      sharedBudgetExceeded(c, inst, grant.key, grant.spent);
      continue;
    }
    if (grant.kind === 'held' && fullKey !== null) {
      (full ??= new Set()).add(fullKey);
      if (counts) {
        const w = (waiting ??= new Map()).get(fullKey);
        if (w) w.count++;
        else waiting.set(fullKey, { request, count: 1 });
      }
    }
    if (grant.kind === 'held') {
      // Only that group's next finished item can free an item slot: wait for it out of the heap.
      const group = c.limits.heldByItem?.(request) ?? null;
      if (group !== null) {
        c.heap.pop();
        const list = c.parked.get(group);
        if (list) list.push(inst);
        else c.parked.set(group, [inst]);
        continue;
      }
    }
    if (grant.kind !== 'granted') {
      if (grant.kind === 'rate_limited') armRateWindow(c, grant.window, grant.retryAt);
      setAside.push(c.heap.pop()!);
      continue;
    }
    c.heap.pop();
    startedAny = true;
    full = null;
    inst.lease = grant.lease;
    beginStep(c, inst);
  }
  for (const i of setAside) c.heap.push(i);
  if (waiting) for (const w of waiting.values()) c.limits.waiting!(w.request, w.count);
  return startedAny;
}

// ───────────── completion bookkeeping ─────────────

