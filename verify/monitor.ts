/**
 * Watches one simulated run as it happens (the scheduler's observer hook) and judges every
 * invariant on every state: the built-in ones every plan must satisfy and the plan's own
 * `always` / `never` ones after each event, `eventually` ones and termination at the end.
 * The first violation is kept with a snapshot of the state that broke it (with `every`, each
 * user invariant's first violation).
 */
import { exprChildren, moneyText, type ExprIR, type InvariantIR, type PlanIR, type StepIR, type StepStatus } from '../compiler/index.js';
import { condition, evaluate, unknownReason, UNKNOWN, type EvalEnv } from '../runtime/index.js';
import type { RunEvent, RunReader } from '../runtime/index.js';
import { callTier, eventAttempt, eventReason, eventResource, preStepViolations, type GuardStep } from '../runtime/index.js';
import { isApprovalStep } from './scenario.js';
import { parseInstance, type CaseResult, type StateSnapshot, type TraceEvent, type Violation } from './trace.js';

export const BUILTIN = {
  dependencies: 'dependencies respected',
  attempts: 'attempts bounded by retries',
  concurrency: 'concurrency limits held',
  guardrails: 'blocking guardrails never violated',
  terminates: 'the run terminates',
  budget: 'policy budget respected',
} as const;

export const BUILTIN_NAMES: readonly string[] = Object.values(BUILTIN);

const DONE: ReadonlySet<StepStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled', 'timeout']);
const ENDS_ATTEMPT = new Set(['step_completed', 'step_failed', 'step_skipped', 'step_retried', 'attempt_lost', 'step_cancelled']);
const ENDS_INSTANCE = new Set(['step_completed', 'step_failed', 'step_skipped', 'step_cancelled']);

/** The facts a guardrail's `step` root sees (LANGUAGE.md: step.data, step.placement, step.tier). */
export function stepFacts(step: StepIR, plan: PlanIR, resource: string | null): GuardStep {
  const res = resource ? plan.resources[resource] : undefined;
  return {
    id: step.id,
    name: step.id,
    capability: step.capability,
    kind: step.kind,
    data: step.data,
    resource,
    placement: res?.kind ?? null,
    // A model step: the higher of its resource's and its endpoint's tier, as the runtime judges it (§9.1).
    tier: res ? callTier(res, plan.capabilities[step.capability ?? ''], step.binding) : step.binding.tier,
    destructive: plan.capabilities[step.capability ?? '']?.destructive ?? false,
    cost: step.estimates.cost,
    duration: step.estimates.duration_ms,
  };
}

export interface MonitorOptions {
  /** User invariants still under scrutiny (already-refuted ones are dropped by the search). */
  readonly invariants: readonly InvariantIR[];
  /** Built-in invariants still under scrutiny. */
  readonly builtins: ReadonlySet<string>;
  /**
   * Judge the user invariants on to the end of the run, each until it breaks: `orch test` reports
   * every one a run breaks, where a search (`orch verify`) stops at the first counterexample.
   */
  readonly every?: boolean;
}

/**
 * What is running on each resource across the K simultaneous runs of `--concurrent-runs`
 * (resources are shared; the plan's `concurrency` and `parallel` stay per run). Entries are
 * labelled `run N: key`.
 */
export class SharedResourceLoad {
  private readonly on = new Map<string, Set<string>>();
  /** Step instances that were queued while their resource was full across the runs. */
  slotWaits = 0;

  add(resource: string, label: string): void {
    let set = this.on.get(resource);
    if (!set) this.on.set(resource, (set = new Set()));
    set.add(label);
  }
  remove(resource: string, label: string): void {
    this.on.get(resource)?.delete(label);
  }
  running(resource: string): readonly string[] {
    return [...(this.on.get(resource) ?? [])];
  }
}

/** One of K simultaneous runs: its 1-based number and the tracker it shares with the others. */
export interface SharedRuns {
  readonly run: number;
  readonly load: SharedResourceLoad;
}

export class CaseMonitor {
  private readonly raw: RunEvent[] = [];
  violation: Violation | null = null;
  /** Every violation found, in order (one unless `every`). */
  readonly violations: Violation[] = [];
  /** User invariants that broke (with `every`, no longer judged). */
  private readonly broken = new Set<string>();
  private start = 0;
  private started = false;
  private pathHash = 0x811c9dc5;
  private readonly byId: Map<string, StepIR>;
  private readonly instances = new Map<string, { step: string; item: number | null }>();
  private readonly starts = new Map<string, number>();
  /** Instance key → the attempt counter its last start counted on. */
  private readonly lastSlot = new Map<string, string>();
  /**
   * Before an upgrade (`orch verify NEW --against OLD`) the run follows the old version's rules:
   * the monitor keeps its books on those events but judges nothing until `judgeFromHere()`.
   */
  private judging = true;
  /** Instance key → what it holds while in flight, with the counters the limits are checked on. */
  private readonly running = new Map<string, { resource: string | null; occupies: boolean; counted: boolean }>();
  private occupying = 0;
  private readonly onResource = new Map<string, number>();
  /** `for each` group → items in flight: from an item's first step start until all its step instances are terminal. */
  private readonly groupItems = new Map<string, Set<number>>();
  private readonly groupSteps = new Map<string, string[]>();
  private blockingFired: string | null = null;
  /** Steps with at least one completed instance. */
  private readonly completed = new Set<string>();
  private readonly always: { inv: InvariantIR; expr: ExprIR; negate: boolean }[];
  private readonly eventually: InvariantIR[];
  private readonly vars: { [name: string]: unknown };
  private env: EvalEnv | null = null;

  constructor(
    private readonly plan: PlanIR,
    private readonly options: MonitorOptions,
    private readonly shared: SharedRuns | null = null,
  ) {
    this.byId = new Map(plan.steps.map((s) => [s.id, s]));
    for (const s of plan.steps) {
      const g = s.for_each?.group;
      if (g === undefined) continue;
      const members = this.groupSteps.get(g);
      if (members) members.push(s.id);
      else this.groupSteps.set(g, [s.id]);
    }
    this.always = options.invariants
      .filter((i) => i.modality !== 'eventually')
      .map((inv) => ({ inv, expr: inv.condition, negate: inv.modality === 'never' }));
    this.eventually = options.invariants.filter((i) => i.modality === 'eventually');
    this.vars = { plan: planFacts(plan) };
  }

  /** The scheduler's observer hook. */
  readonly observe = (event: RunEvent, run: RunReader): void => {
    if (!this.started) {
      this.started = true;
      this.start = event.ts;
    }
    this.raw.push(event);
    this.pathHash = fnv(fnv(this.pathHash, event.type), event.stepId ?? '');
    if (this.violation) {
      if (this.options.every) this.judgeRest(run);
      return;
    }
    if (!this.judging) {
      this.checkEvent(event, run);
      return;
    }
    const found = this.checkEvent(event, run) ?? this.budgetStop(event) ?? this.checkState(run);
    if (found) this.record(found, run);
    if (this.violation && this.options.every) this.judgeRest(run);
  };

  private record(found: Omit<Violation, 'eventIndex' | 'state'>, run: RunReader): void {
    const v = { ...found, eventIndex: this.raw.length - 1, state: this.snapshotFor(found, run) };
    this.violation ??= v;
    this.violations.push(v);
    if (!found.builtin) this.broken.add(found.invariant);
  }

  /** After the first violation (`every`): the `always` / `never` invariants that break in this state. */
  private judgeRest(run: RunReader): void {
    for (const entry of this.always) {
      if (this.broken.has(entry.inv.name)) continue;
      const found = this.brokenNow(entry, run);
      if (found) this.record(found, run);
    }
  }

  /** From now on events are judged (see `judging`). */
  muteUntilUpgrade(): void {
    this.judging = false;
  }

  /**
   * The run moves to the new version here. Instances in flight go on (the resumed run starts them
   * again, answered by the attempt in flight): their last start is not counted twice.
   */
  judgeFromHere(inFlight: Iterable<string>): void {
    this.judging = true;
    for (const key of inFlight) {
      this.stopped(key);
      const slot = this.lastSlot.get(key);
      if (slot === undefined) continue;
      this.starts.set(slot, (this.starts.get(slot) ?? 1) - 1);
      this.starts.set(key, (this.starts.get(key) ?? 1) - 1);
      this.lastSlot.delete(key);
    }
  }

  /** The state, plus what the broken user invariant was reading. */
  private snapshotFor(found: Omit<Violation, 'eventIndex' | 'state'>, run: RunReader): StateSnapshot {
    const state = snapshot(run, this.plan);
    const inv = found.builtin ? undefined : this.options.invariants.find((i) => i.name === found.invariant);
    if (!inv) return state;
    const values: Record<string, unknown> = {};
    for (const [text, expr] of readsOf(inv.condition)) values[text] = this.value(expr, run);
    return { ...state, values };
  }

  private value(expr: ExprIR, run: RunReader): unknown {
    try {
      return evaluate(expr, this.envFor(run));
    } catch (err) {
      return `<${(err as Error).message}>`;
    }
  }

  /** Judges what can only be judged once the run is over (or stuck). */
  finish(run: RunReader, terminated: boolean, stuckReason: string | null): CaseResult {
    const final = snapshot(run, this.plan);
    if (!this.violation && !terminated && this.options.builtins.has(BUILTIN.terminates)) {
      this.record({ invariant: BUILTIN.terminates, builtin: true, message: stuckReason ?? 'the run did not finish' }, run);
    }
    for (const inv of this.eventually) {
      if (this.violation && !this.options.every) break;
      const r = this.holds(inv.condition, run);
      if (r !== true) this.record(userViolation(inv, r === false ? 'does not hold in the final state' : r), run);
    }
    const raw = this.raw;
    const start = this.start;
    const instance = (key: string) => this.instance(key);
    return {
      violation: this.violation,
      violations: this.violations,
      final,
      path: `${raw.length}:${(this.pathHash >>> 0).toString(16)}`,
      trace: () => raw.map((e) => toTraceEvent(e, start, instance)),
    };
  }

  private instance(key: string): { step: string; item: number | null } {
    let inst = this.instances.get(key);
    if (!inst) this.instances.set(key, (inst = parseInstance(key)));
    return inst;
  }

  /** An amount in the plan's currency, as Orch writes money everywhere. */
  private money(n: number): string {
    return moneyText(n, this.plan.policy?.currency);
  }

  /** Budgets hold at run time (§7.2): a blocking budget stopping the run is where it breaks. */
  private budgetStop(event: RunEvent): Omit<Violation, 'eventIndex' | 'state'> | null {
    if (!this.options.builtins.has(BUILTIN.budget) || event.type !== 'budget_exceeded' || event.data.warn === true) return null;
    const d = event.data;
    const what = d.budget === 'cost' ? `step ${event.stepId ?? '?'} would take the run cost from ${this.money(Number(d.cost))} past it` : 'the run outlasted it';
    return builtin(BUILTIN.budget, `${String(d.label)} stops the run: ${what}`);
  }

  private checkState(run: RunReader): Omit<Violation, 'eventIndex' | 'state'> | null {
    if (this.options.builtins.has(BUILTIN.budget)) {
      const budget = this.plan.policy?.budgets.cost ?? null;
      const cost = run.actuals().cost;
      if (budget !== null && cost > budget + 1e-9) {
        return builtin(BUILTIN.budget, `run cost ${this.money(cost)} exceeds the cost budget ${this.money(budget)} of policy ${this.plan.policy!.name}`);
      }
    }
    for (const entry of this.always) {
      const found = this.brokenNow(entry, run);
      if (found) return found;
    }
    return null;
  }

  private brokenNow({ inv, expr, negate }: { inv: InvariantIR; expr: ExprIR; negate: boolean }, run: RunReader): Omit<Violation, 'eventIndex' | 'state'> | null {
    const r = this.holds(expr, run);
    if (r === true && !negate) return null;
    if (r === false && negate) return null;
    return userViolation(inv, typeof r === 'string' ? r : negate ? 'became true' : 'became false');
  }

  /** The expression environment on the current state. */
  private envFor(run: RunReader): EvalEnv {
    if (!this.env) {
      this.vars['input'] = run.input();
      this.env = {
        vars: this.vars,
        step: (id) => run.stepView(id),
        block: (id) => run.blockView?.(id),
        now: () => this.start + run.actuals().elapsed,
        // §9.4: invariants read the signals as the run's steps do (derived, stale), when the run says.
        ...(run.contextSignal ? { signal: (name: string) => run.contextSignal!(name) } : {}),
      };
    }
    // The context object is live (the scheduler updates it in place); actuals are a fresh copy.
    this.vars['context'] = run.context();
    this.vars['run'] = run.actuals();
    return this.env;
  }

  /**
   * true / false, or why not: the evaluation error, or the signal that left it unknown — an
   * unknown invariant is violated (§9.4), also under `never` (`not unknown` is unknown).
   */
  private holds(expr: ExprIR, run: RunReader): boolean | string {
    try {
      const env = this.envFor(run);
      const t = condition(expr, env);
      return t === UNKNOWN ? `is unknown: ${unknownReason(expr, env)}` : t;
    } catch (err) {
      return `cannot be evaluated: ${(err as Error).message}`;
    }
  }

  private checkEvent(raw: RunEvent, run: RunReader): Omit<Violation, 'eventIndex' | 'state'> | null {
    if (raw.type === 'guardrail_violation') {
      const name = raw.data['guardrail'];
      if (this.plan.guardrails.some((g) => g.name === name && g.severity === 'blocking')) this.blockingFired = name as string;
    }
    const key = raw.stepId;
    if (key === null) return null;
    if (ENDS_ATTEMPT.has(raw.type)) this.stopped(key);
    if (ENDS_INSTANCE.has(raw.type)) this.itemMayBeDone(key, run);
    if (raw.type === 'step_completed') {
      const done = this.instance(key).step;
      if (this.byId.has(done)) this.completed.add(done);
    }
    let found: Omit<Violation, 'eventIndex' | 'state'> | null = null;
    if (raw.type === 'step_queued' && this.shared) this.queuedOnShared(key);
    if (raw.type === 'step_started') {
      const inst = this.instance(key);
      const step = this.byId.get(inst.step);
      if (step) {
        const resource = (raw.data['resource'] as string | null | undefined) ?? run.stepView(key)?.resource ?? step.resource;
        this.startedRunning(key, step, inst.item, resource);
        // Counted even when another check already failed: a muted monitor keeps its books.
        const attempts = this.checkAttempts(step, key, raw, resource);
        found =
          this.checkDependencies(step, key, inst.item, run) ??
          attempts ??
          this.checkConcurrency(step, key, resource) ??
          this.checkGuardrails(step, key, resource, run);
      }
    }
    return found;
  }

  private startedRunning(key: string, step: StepIR, item: number | null, resource: string | null): void {
    const occupies = this.occupiesSlot(step);
    const counted = resource !== null && step.action.type !== 'wait' && step.action.type !== 'wait_until';
    const group = step.for_each?.group ?? null;
    this.running.set(key, { resource, occupies, counted });
    if (occupies) this.occupying++;
    if (counted) this.onResource.set(resource!, (this.onResource.get(resource!) ?? 0) + 1);
    if (counted && this.shared) this.shared.load.add(resource!, `run ${this.shared.run}: ${key}`);
    if (group !== null && item !== null) {
      let items = this.groupItems.get(group);
      if (!items) this.groupItems.set(group, (items = new Set()));
      items.add(item);
    }
  }

  /** An instance ended: its item leaves the in-flight set once every instance of it that exists has. */
  private itemMayBeDone(key: string, run: RunReader): void {
    const { step: id, item } = this.instance(key);
    const group = this.byId.get(id)?.for_each?.group;
    if (group === undefined || item === null) return;
    const items = this.groupItems.get(group);
    if (!items?.has(item)) return;
    for (const other of this.groupSteps.get(group) ?? []) {
      const status = run.stepView(`${other}[${item}]`)?.status;
      if (status !== undefined && !DONE.has(status)) return;
    }
    items.delete(item);
  }

  private stopped(key: string): void {
    const r = this.running.get(key);
    if (!r) return;
    this.running.delete(key);
    if (r.occupies) this.occupying--;
    if (r.counted) this.onResource.set(r.resource!, this.onResource.get(r.resource!)! - 1);
    if (r.counted && this.shared) this.shared.load.remove(r.resource!, `run ${this.shared.run}: ${key}`);
  }

  /** A step queued while its resource is full across the runs has to wait for another's slot. */
  private queuedOnShared(key: string): void {
    const step = this.byId.get(this.instance(key).step);
    const resource = step?.resource ?? null;
    const limit = resource ? this.plan.resources[resource]?.concurrency ?? null : null;
    if (resource && limit !== null && this.shared!.load.running(resource).length >= limit) this.shared!.load.slotWaits++;
  }

  private checkDependencies(step: StepIR, key: string, item: number | null, run: RunReader): Omit<Violation, 'eventIndex' | 'state'> | null {
    if (!this.options.builtins.has(BUILTIN.dependencies)) return null;
    // Each dependency as the started instance sees it (same item / iteration, or the whole step).
    const seen = step.deps.map((dep) => ({ dep, status: (run.viewFrom?.(key, dep) ?? run.stepView(item !== null ? `${dep}[${item}]` : dep) ?? run.stepView(dep))?.status }));
    // `join first` starts on the first completed dependency (LANGUAGE.md §7.1).
    if (step.join === 'first' && seen.some((s) => s.status === 'completed')) return null;
    for (const { dep, status } of seen)
      if (!status || !DONE.has(status)) return builtin(BUILTIN.dependencies, `${key} started while its dependency ${dep} was ${status ?? 'unknown'}`);
    return null;
  }

  /**
   * At most 1 + retries attempts on each resource the step is bound to (its binding, then each
   * rebinding alternative), and one attempt of its `fallback` call: a step can never start more
   * than (1 + retries) × (1 + alternatives) + 1 times.
   */
  private checkAttempts(step: StepIR, key: string, raw: RunEvent, resource: string | null): Omit<Violation, 'eventIndex' | 'state'> | null {
    const phase = raw.type === 'step_started' && raw.data.phase === 'fallback' ? 'fallback' : 'main';
    const slot = `${key}\u0000${phase}\u0000${phase === 'fallback' ? '' : (resource ?? '')}`;
    const n = (this.starts.get(slot) ?? 0) + 1;
    this.starts.set(slot, n);
    this.lastSlot.set(key, slot);
    const total = (this.starts.get(key) ?? 0) + 1;
    this.starts.set(key, total);
    if (!this.options.builtins.has(BUILTIN.attempts)) return null;
    const perBinding = phase === 'fallback' ? 1 : 1 + step.retry.max;
    const allowed = (1 + step.retry.max) * (1 + step.binding.fallbacks.length) + (step.fallback ? 1 : 0);
    if (n > perBinding) {
      const where = phase === 'fallback' ? `its fallback ${step.fallback?.capability ?? ''}` : resource ? `resource ${resource}` : 'its binding';
      return builtin(BUILTIN.attempts, `${key} started ${n} times on ${where}; at most ${perBinding} allowed (retry ${step.retry.max})`);
    }
    if (total > allowed) {
      return builtin(BUILTIN.attempts, `${key} started ${total} times; at most ${allowed} allowed (retry ${step.retry.max}, ${step.binding.fallbacks.length} rebinding alternatives${step.fallback ? ', a fallback call' : ''})`);
    }
    return null;
  }

  /**
   * Plan concurrency counts what the scheduler counts as in flight (calls and sub-plan runs; a
   * wait or a pending approval holds no slot). A resource's limit counts every call or sub-plan
   * in progress on it, approvals included (a human resource with concurrency 1 reviews one thing
   * at a time); `for each … parallel N` counts items in flight, from an item's first step start
   * until all its steps (waits included) are terminal — the scheduler's own definitions.
   */
  private checkConcurrency(step: StepIR, key: string, resource: string | null): Omit<Violation, 'eventIndex' | 'state'> | null {
    if (!this.options.builtins.has(BUILTIN.concurrency)) return null;
    const limit = this.plan.concurrency;
    if (limit !== null && this.occupying > limit) {
      const inFlight = [...this.running].filter(([, r]) => r.occupies).map(([k]) => k);
      return builtin(BUILTIN.concurrency, `${inFlight.length} steps in flight (${inFlight.join(', ')}); plan concurrency is ${limit}`);
    }
    const resLimit = resource ? this.plan.resources[resource]?.concurrency ?? null : null;
    if (resource && resLimit !== null && this.shared) {
      const on = this.shared.load.running(resource);
      if (on.length > resLimit) return builtin(BUILTIN.concurrency, `${on.length} steps running on resource ${resource} at once across the concurrent runs (${on.join(', ')}); its concurrency is ${resLimit}`);
    }
    if (resource && resLimit !== null && (this.onResource.get(resource) ?? 0) > resLimit) {
      const on = [...this.running].filter(([, r]) => r.counted && r.resource === resource).map(([k]) => k);
      return builtin(BUILTIN.concurrency, `${on.length} steps running on resource ${resource} at once (${on.join(', ')}); its concurrency is ${resLimit}`);
    }
    const group = step.for_each;
    if (group && group.parallel !== null) {
      const items = this.groupItems.get(group.group)?.size ?? 0;
      if (items > group.parallel) {
        return builtin(BUILTIN.concurrency, `${items} items of "for each ${group.item}" in flight at once (started ${key}); parallel is ${group.parallel}`);
      }
    }
    return null;
  }

  private occupiesSlot(step: StepIR): boolean {
    if (step.action.type === 'run') return true;
    return step.action.type === 'call' && !isApprovalStep(step, this.plan);
  }

  private checkGuardrails(step: StepIR, key: string, resource: string | null, run: RunReader): Omit<Violation, 'eventIndex' | 'state'> | null {
    if (!this.options.builtins.has(BUILTIN.guardrails)) return null;
    if (this.blockingFired !== null) {
      return builtin(BUILTIN.guardrails, `${key} started after blocking guardrail ${this.blockingFired} stopped the run`);
    }
    const blocking = this.plan.guardrails.filter((g) => g.severity === 'blocking');
    if (blocking.length === 0) return null;
    const env: EvalEnv = {
      vars: { input: run.input(), context: run.context(), run: run.actuals(), plan: planFacts(this.plan) },
      step: (id) => run.stepView(id),
      ...(run.contextSignal ? { signal: (name: string) => run.contextSignal!(name) } : {}),
    };
    // As the runtime reads `require … before`: a step (any item of it) that has completed.
    const completed = (): GuardStep[] =>
      [...this.completed].map((id) => this.byId.get(id)!).map((s) => stepFacts(s, this.plan, run.stepView(s.id)?.resource ?? s.resource));
    const [first] = preStepViolations(blocking, stepFacts(step, this.plan, resource), env, completed);
    if (first) return builtin(BUILTIN.guardrails, `${key} started although ${first.message}`);
    return null;
  }
}

function planFacts(plan: PlanIR): Record<string, unknown> {
  return {
    cost: plan.estimates.cost,
    duration: plan.estimates.duration_ms,
    steps: plan.steps.length,
    local_ratio: plan.estimates.local_ratio,
  };
}

function snapshot(run: RunReader, plan: PlanIR): StateSnapshot {
  const actuals = run.actuals();
  const steps: Record<string, StepStatus> = {};
  for (const s of plan.steps) steps[s.id] = run.stepView(s.id)?.status ?? 'pending';
  return {
    at_ms: actuals.elapsed,
    run: { status: actuals.status, cost: actuals.cost, elapsed: actuals.elapsed },
    steps,
    running: [...run.running()],
  };
}

/**
 * The leaf reads of a condition, printable: `send.started`, `r.winner`, `run.cost`, `context.temperature`,
 * `input.review` (a `get` chain on a step, a block or a root), in source order, without duplicates.
 */
export function readsOf(expr: ExprIR): [string, ExprIR][] {
  const out = new Map<string, ExprIR>();
  const path = (e: ExprIR): string | null => {
    if (e.op === 'step' || e.op === 'block') return e.id;
    if (e.op === 'var') return e.name;
    if (e.op === 'get') {
      const base = path(e.object);
      return base === null ? null : `${base}.${e.key}`;
    }
    return null;
  };
  const walk = (e: ExprIR): void => {
    if (e.op === 'get' || e.op === 'step' || e.op === 'var') {
      const p = path(e);
      if (p !== null && p.includes('.')) {
        if (!out.has(p)) out.set(p, e);
        return;
      }
    }
    for (const child of exprChildren(e)) walk(child);
  };
  walk(expr);
  return [...out];
}

/** FNV-1a over a string, folded into a running hash (identifies a run's event sequence). */
function fnv(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return Math.imul(h ^ 0x2c, 0x01000193);
}

function toTraceEvent(event: RunEvent, start: number, instance: (key: string) => { step: string; item: number | null }): TraceEvent {
  const inst = event.stepId === null ? null : instance(event.stepId);
  return {
    at_ms: event.ts - start,
    type: event.type,
    step: inst?.step ?? null,
    item: inst?.item ?? null,
    attempt: eventAttempt(event),
    resource: eventResource(event),
    detail: detailOf(event),
  };
}

function detailOf(event: RunEvent): string | null {
  if (event.type === 'context_updated') {
    return Object.entries(event.data.patch)
      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
      .join(', ');
  }
  return eventReason(event);
}

function builtin(invariant: string, message: string): Omit<Violation, 'eventIndex' | 'state'> {
  return { invariant, builtin: true, message };
}

function userViolation(inv: InvariantIR, why: string): Omit<Violation, 'eventIndex' | 'state'> {
  return { invariant: inv.name, builtin: false, message: `${inv.modality} invariant "${inv.name}" ${why}` };
}
