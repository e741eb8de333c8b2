/**
 * The trigger engine: decides, for each thing that happens (an event, a context signal, a cron
 * tick, a finished run, an API call), which triggers fire and with what plan input, and starts
 * those runs through a `RunStarter`. It knows nothing about HTTP.
 *
 * Every decision that must not race (debounce windows, condition edges, chain claims) is taken
 * synchronously before the first `await`, so concurrent requests cannot both pass a window.
 */
import type { ContextIR, ExprIR, PlanIR } from '../compiler/index.js';
import type { TriggerIR } from '../compiler/index.js';
import { triggerStarter, type Starter } from '../runtime/index.js';
import type { InputCheck } from './input-validator.js';
import type { FinishedRun, RunStarter } from './run-starter.js';
import { missedTicks, startSchedule, type ScheduleHandle } from './schedule.js';
import type { TriggerStateStore } from '../runtime/index.js';
import { contextReads, type ContextSignalIR } from '../compiler/index.js';
import { ContextStore, nextTimeChange, readsClock, realClock, UNKNOWN, type ContextChange, type HoldState, type SignalRead, type TimerId } from '../runtime/index.js';
import { ConditionEdges, type Side } from './condition-edges.js';
import { causeOf, decodeHolds, decodeRecords, encodeHold, encodeRecord } from './context-records.js';
import { qualifiedPlanName, servedPlanNames } from './plan-names.js';

/** What `event` and `context` mean while a trigger's expressions are evaluated. */
export interface TriggerScope {
  readonly event?: unknown;
  /** The known signals' values. */
  readonly context: { readonly [key: string]: unknown };
  /** §9.4: each signal's state (an unknown signal makes a condition unknown). */
  readonly signal?: (name: string) => SignalRead;
}
export type Evaluate = (expr: ExprIR, scope: TriggerScope) => unknown;

/**
 * `started`: a run was journaled. `filtered`: `where` was not true. `debounced`: inside the
 * trigger's debounce window. `invalid`: the computed input did not match the plan input (or an
 * expression failed). `error`: the runtime refused to start the run.
 */
export type Outcome = 'started' | 'filtered' | 'debounced' | 'invalid' | 'error';
export const OUTCOMES: readonly Outcome[] = ['started', 'filtered', 'debounced', 'invalid', 'error'];

/**
 * What a request that fires a trigger adds (LANGUAGE.md §9.1): the scopes it grants (`api`
 * triggers), its `traceparent`, and where the run comes from — the person who asked
 * (`startedBy`: `manual`, `api`, `event`), the person whose signal fired a `when` (`causedBy`),
 * the run whose end fired an `after` (`chainedFrom`). A run nobody asked for is started by
 * `system:trigger/NAME`.
 */
export interface FireRequest {
  readonly consent?: readonly string[];
  readonly traceparent?: string;
  readonly startedBy?: Starter;
  readonly causedBy?: Starter;
  readonly chainedFrom?: string;
}

export interface FireResult {
  readonly trigger: string;
  readonly outcome: Outcome;
  readonly runId?: string;
  readonly error?: string;
  /** For `debounced`: how long until the window closes. */
  readonly retryAfterMs?: number;
}

export interface EventReceipt {
  readonly eventId: number;
  readonly type: string;
  readonly results: readonly FireResult[];
}

export type StartPlanResult =
  | { readonly ok: true; readonly runId: string }
  | { readonly ok: false; readonly status: 400 | 404 | 500; readonly error: string };

export interface EngineStats {
  readonly events: { readonly accepted: number; readonly unmatched: number };
  readonly triggers: readonly {
    readonly name: string;
    readonly kind: string;
    readonly plan: string;
    readonly counts: Readonly<Record<Outcome, number>>;
  }[];
}

export interface EngineOptions {
  readonly triggers: readonly TriggerIR[];
  readonly plans: readonly PlanIR[];
  readonly starter: RunStarter;
  readonly evaluate: Evaluate;
  readonly checkInput: InputCheck;
  readonly state: TriggerStateStore;
  /** §9.4: the context store (default: one of the plans' signals on the real clock). */
  readonly context?: ContextStore;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** Observes every decision (the metrics counters hang here). */
  readonly onOutcome?: (trigger: TriggerIR, result: FireResult) => void;
  /** Observes each catch-up run a schedule starts for ticks missed while down. */
  readonly onCatchUp?: (trigger: TriggerIR, missed: number) => void;
}

/** One set of a signal in a batch (`TriggerEngine.ingest`). */
export interface SignalSet {
  readonly name: string;
  readonly value: unknown;
  readonly source: string;
  readonly at?: number;
}

interface WhenTrigger {
  readonly trigger: TriggerIR;
  readonly condition: ExprIR;
  readonly reads: readonly string[];
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export class TriggerEngine {
  private readonly triggers: readonly TriggerIR[];
  /** The `when` triggers with the signals their conditions read. */
  private readonly whens: readonly WhenTrigger[];
  /** Each plan by its served name (serve/plan-names.ts) and by its qualified name (how triggers name it). */
  private readonly plans = new Map<string, PlanIR>();
  private readonly served: readonly string[];
  private readonly lastFired = new Map<string, number>();
  private readonly counts = new Map<string, Record<Outcome, number>>();
  private readonly schedules: ScheduleHandle[] = [];
  private eventsAccepted = 0;
  private eventsUnmatched = 0;
  private pendingStarts = 0;
  /** The always-fresh context (§9.4): every source sets signals through it. */
  readonly store: ContextStore;
  private readonly edges: ConditionEdges;
  /** Condition evaluations one after another: a timer's staleness and a message's update never interleave. */
  private conditions: Promise<unknown> = Promise.resolve();
  /** The context signals the database holds, read once before anything evaluates against them. */
  private readonly contextLoaded: Promise<void>;
  /** Following the values other servers on the database set (§9.4); resolves to what stops it. */
  private readonly following: Promise<() => Promise<void>>;
  /**
   * Whether this server fires the `when` triggers: the one holding the context (§9.4), so a
   * signal starts one run however many servers share the database. Every server until told.
   */
  private leading = true;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /** The `when` triggers whose condition reads the clock (`age()`, `now()`): true or false with time alone. */
  private readonly clocked: readonly WhenTrigger[];
  /** The one timer for the next instant one of `clocked` can change with no message (§9.4). */
  private clockTimer: TimerId | null = null;
  private active = false;

  constructor(private readonly opts: EngineOptions) {
    this.triggers = opts.triggers;
    this.whens = opts.triggers.flatMap((t) => (t.source.kind === 'when' ? [{ trigger: t, condition: t.source.condition, reads: contextReads(t.source.condition) }] : []));
    const served = servedPlanNames(opts.plans);
    for (const [p, name] of served) {
      this.plans.set(qualifiedPlanName(p), p);
      this.plans.set(name, p);
    }
    this.served = [...served.values()];
    this.clocked = this.whens.filter((w) => readsClock(w.condition));
    for (const t of this.triggers) this.counts.set(t.name, zeroCounts());
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.store = opts.context ?? new ContextStore({ signals: signalsOf(opts.plans), clock: realClock });
    this.edges = new ConditionEdges(opts.state);
    // Following first, then reading: a value another server merges in between is not missed.
    this.following = opts.state.followContext((values) => this.followed(values)).catch((err: unknown) => {
      this.log(`cannot follow the context of the other servers: ${(err as Error).message}`);
      return async () => undefined;
    });
    this.contextLoaded = this.following
      .then(() => opts.state.context())
      .then(
        (c) => {
          // The holds first: the records they are recomputed from then find them.
          this.store.restoreHolds(decodeHolds(c));
          this.store.restore(decodeRecords(c, this.now()));
        },
        (err: unknown) => this.log(`cannot read the context signals: ${(err as Error).message}`),
      );
    this.store.subscribe((c) => this.contextChanged(c));
    // §9.4: a hold in progress survives a restart, as a trigger's last condition does.
    this.store.subscribeHolds((name, hold) => void this.keepHold(name, hold));
    opts.starter.onFinished((run) => void this.runFinished(run).catch((err: unknown) => this.log(`run ${run.runId}: its chained triggers did not fire: ${(err as Error).message}`)));
  }

  planNames(): string[] {
    return [...this.served].sort();
  }

  /** Resolves once the saved context (values and holds) is back in the store: what a run taken back reads. */
  contextReady(): Promise<void> {
    return this.contextLoaded;
  }

  /** Starts the schedules and settles each condition's initial side of its edge. */
  async activate(options: { readonly catchUp: boolean }): Promise<void> {
    await this.contextLoaded;
    const state = this.opts.state;
    for (const t of this.triggers) {
      if (t.source.kind === 'when') {
        // A condition first seen by this database starts on its current side: the edge that
        // made it true happened before anyone was watching, so it does not fire.
        await this.edges.settle(t.name, this.side(t.source.condition));
      }
    }
    this.active = true;
    // A condition over the clock that turned true while no server ran (a heartbeat's silence
    // passed its 5m) rose with no message to tell: decided now, then at its next instant.
    if (this.clocked.length > 0) void this.evaluateConditions().catch((err: unknown) => this.log(`the context's triggers: ${(err as Error).message}`));
    const nowMs = this.now();
    for (const t of this.triggers) {
      if (t.source.kind !== 'schedule') continue;
      const { cron, timezone } = t.source;
      const last = await state.lastTick(t.name);
      if (options.catchUp && last !== null) {
        const missed = missedTicks(cron, timezone, new Date(last), new Date(nowMs));
        // Servers sharing the database and restarted together: one of them catches up.
        if (missed.count > 0 && (await state.claim(t.name, `catch-up:${missed.first!.getTime()}`))) {
          this.log(`catch-up: ${t.name} missed ${missed.count}${missed.truncated ? '+' : ''} tick(s); starting one run`);
          this.opts.onCatchUp?.(t, missed.count);
          await this.fire(t, {
            type: 'schedule',
            scheduled_at: missed.first!.toISOString(),
            catch_up: true,
            missed: missed.count,
          });
        }
      }
      // Without --catch-up, ticks missed while down are dropped: the clock restarts from now.
      await state.setLastTick(t.name, nowMs);
      this.schedules.push(startSchedule(cron, timezone, (at) => void this.tick(t, at)));
    }
  }

  /** A schedule tick: every server sharing the database sees it; the one that claims it fires. */
  private async tick(t: TriggerIR, at: Date): Promise<void> {
    try {
      await this.opts.state.setLastTick(t.name, at.getTime());
      if (!(await this.opts.state.claim(t.name, `tick:${at.getTime()}`))) return;
    } catch (err) {
      this.log(`trigger ${t.name}: cannot record the tick of ${at.toISOString()}: ${(err as Error).message}`);
      return;
    }
    await this.fire(t, { type: 'schedule', scheduled_at: at.toISOString(), catch_up: false, missed: 0 });
  }

  deactivate(): void {
    for (const s of this.schedules) s.stop();
    this.schedules.length = 0;
    this.active = false;
    this.armClock();
  }

  /**
   * §9.4: a condition whose truth changes with time alone (`age(context.heartbeat) > 5m`) is
   * decided again at the instant it can change — X's set time + 5m — with no message needed. One
   * timer for the earliest of them, re-armed after each decision; none once deactivated.
   */
  private armClock(): void {
    const clock = this.store.clock;
    if (this.clockTimer !== null) clock.cancelTimer(this.clockTimer);
    this.clockTimer = null;
    if (!this.active || this.clocked.length === 0) return;
    const now = clock.now();
    const env = { vars: {}, signal: (n: string) => this.store.read(n), now: () => now };
    let next: number | null = null;
    for (const w of this.clocked) {
      const at = nextTimeChange(w.condition, env, now);
      if (at !== null && (next === null || at < next)) next = at;
    }
    if (next === null) return;
    this.clockTimer = clock.setTimer(next - now, () => {
      this.clockTimer = null;
      void this.evaluateConditions().catch((err: unknown) => this.log(`the context's triggers: ${(err as Error).message}`));
    });
  }

  /** Stops following the other servers' context (before the trigger state closes). */
  async unfollow(): Promise<void> {
    await (await this.following)();
  }

  /**
   * Whether this server holds the context (§9.4) and so fires the `when` triggers. Taking it
   * evaluates them at once: a condition that rose while no server held it fires now.
   */
  lead(leading: boolean): void {
    const was = this.leading;
    this.leading = leading;
    if (leading && !was) this.edges.forget();
    if (leading && !was) void this.contextLoaded.then(() => this.evaluateConditions()).catch((err: unknown) => this.log(`the context's triggers: ${(err as Error).message}`));
  }

  leads(): boolean {
    return this.leading;
  }

  /** Values another server of the cluster set (§9.4): taken when newer, then what reads them looks again. */
  private followed(values: Record<string, unknown>): void {
    const taken = this.store.restore(decodeRecords(values, this.now()));
    if (taken.length === 0) return;
    const known = this.store.values();
    void this.opts.starter.signalContext(Object.fromEntries(taken.map((k) => [k, known[k] ?? null]))).catch(() => {});
    // §9.1: a person's signal sent to another server of the cluster causes what fires here.
    void this.evaluateConditions(this.sidesNow(), causeOf(values, taken)).catch((err: unknown) => this.log(`the context's triggers: ${(err as Error).message}`));
  }

  nextRuns(): { readonly trigger: string; readonly next: Date | null }[] {
    const scheduled = this.triggers.filter((t) => t.source.kind === 'schedule');
    return scheduled.map((t, i) => ({ trigger: t.name, next: this.schedules[i]?.nextRun() ?? null }));
  }

  /** `POST /events`: every `event` trigger of that type decides; the event itself is counted. `sender`: who posted it (§9.1). */
  async ingestEvent(event: { readonly type: string; readonly [key: string]: unknown }, sender?: Starter): Promise<EventReceipt> {
    this.eventsAccepted += 1;
    const eventId = this.eventsAccepted;
    const matching = this.triggers.filter((t) => t.source.kind === 'event' && t.source.type === event.type);
    if (matching.length === 0) this.eventsUnmatched += 1;
    const results = await Promise.all(matching.map((t) => this.fire(t, event, sender ? { startedBy: sender } : {})));
    return { eventId, type: event.type, results };
  }

  /**
   * `POST /signals` (the source `api`, §9.4): sets each signal, keeps it durably, then fires the
   * conditions that rose. `sender`: who signalled (§9.1 `caused_by`); `at`: when a source's
   * sample was taken (§9.4), else now.
   */
  signal(values: { readonly [key: string]: unknown }, sender?: Starter, source = 'api', at?: number): Promise<readonly FireResult[]> {
    return this.ingest(Object.entries(values).map(([name, value]) => ({ name, value, source, ...(at !== undefined ? { at } : {}) })), sender);
  }

  /**
   * A batch of sets (§9.4; a source's messages of one event-loop turn, or one `POST /signals`):
   * each applied to the store in order, so derived signals and `hold` see every value; then one
   * durable write of the last value of each signal, and one decision per `when` trigger over the
   * sides its condition took message by message — a rising edge inside the batch fires it, once.
   */
  async ingest(sets: readonly SignalSet[], sender?: Starter): Promise<readonly FireResult[]> {
    await this.contextLoaded;
    const { touched, accepted, sides } = this.apply(sets);
    const kept = (k: string) => encodeRecord(this.store.record(k)!, sender);
    const merged = this.opts.state.mergeContext(Object.fromEntries(accepted.map((k) => [k, kept(k)])));
    // Queued now, behind what is queued already: the conditions are decided in the order the batches came.
    const decided = this.evaluateConditions(sides, sender, merged);
    decided.catch(() => undefined); // when the write fails, that failure is the one thrown
    await merged;
    // A stale signal is null to a run's own copy.
    await this.opts.starter.signalContext(
      Object.fromEntries(
        touched.map((k) => {
          const r = this.store.read(k);
          return [k, r.state === 'fresh' ? r.value : null];
        }),
      ),
    );
    return decided;
  }

  /** Applies a batch to the store; the `when` triggers' sides after each set that touched what they read, and after the last. */
  private apply(sets: readonly SignalSet[]): { touched: string[]; accepted: string[]; sides: Map<string, Side[]> } {
    const touched = new Set<string>();
    const accepted = new Set<string>();
    const sides = new Map<string, Side[]>();
    this.touching = new Set();
    try {
      for (const s of sets) {
        this.touching.clear();
        if (this.store.set(s.name, s.value, { source: s.source, ...(s.at !== undefined ? { at: s.at } : {}) }).accepted) accepted.add(s.name);
        if (this.touching.size === 0) continue;
        for (const n of this.touching) touched.add(n);
        for (const w of this.whens) if (w.reads.some((r) => this.touching!.has(r))) push(sides, w.trigger.name, this.side(w.condition));
      }
    } finally {
      this.touching = null;
    }
    for (const w of this.whens) if (!sides.has(w.trigger.name)) sides.set(w.trigger.name, [this.side(w.condition)]);
    return { touched: [...touched], accepted: [...accepted], sides };
  }

  /**
   * Keeps a hold's state beside the signals, written by the server holding the context (the one
   * whose store the others' follow); after the context is loaded, so what it read is not overwritten.
   */
  private keepHold(name: string, hold: HoldState): Promise<void> {
    // One write after another: a hold's states reach the database in the order they came.
    this.holdWrites = this.holdWrites
      .then(() => this.contextLoaded)
      .then(async () => {
        if (this.leading) await this.opts.state.mergeContext({ [name]: encodeHold(hold) });
      })
      .catch((err: unknown) => this.log(`cannot keep the hold of ${name}: ${(err as Error).message}`));
    return this.holdWrites;
  }

  private holdWrites: Promise<void> = Promise.resolve();

  /** The known signals' values (`GET /context`: an unknown signal is absent). */
  currentContext(): Readonly<Record<string, unknown>> {
    return this.store.values();
  }

  /** While a batch is applied: the signals each set changed (itself and the derived ones), decided by `ingest`. */
  private touching: Set<string> | null = null;

  /** A change the store made by itself (a signal went stale, a derived one changed or its hold ended). */
  private contextChanged(c: ContextChange): void {
    if (c.type === 'context_rejected') return;
    if (this.touching) return void this.touching.add(c.signal);
    if (c.type === 'context_updated' && c.source !== 'derived') return; // a source's set: `signal` evaluates
    // Runs waiting on the context look again (a stale signal is null to a run's own copy).
    void this.opts.starter.signalContext({ [c.signal]: c.type === 'context_updated' ? c.value : null }).catch(() => {});
    void this.evaluateConditions().catch((err: unknown) => this.log(`the context's triggers: ${(err as Error).message}`));
  }

  /** Each `when` trigger's side now, for `evaluateConditions`. */
  private sidesNow(): Map<string, Side[]> {
    return new Map(this.whens.map((w) => [w.trigger.name, [this.side(w.condition)]]));
  }

  /**
   * The `when` triggers decide over the sides their conditions took (taken when the change
   * happened: a later change cannot slip between); those that rose fire. Queued: one evaluation
   * at a time, each after `after` (the batch's durable write).
   */
  private evaluateConditions(sides: ReadonlyMap<string, readonly Side[]> = this.sidesNow(), sender?: Starter, after?: Promise<unknown>): Promise<readonly FireResult[]> {
    const next = this.conditions.then(async () => {
      await after;
      if (!this.leading) return [];
      const rising: TriggerIR[] = [];
      for (const w of this.whens) {
        if (await this.edges.risesAlong(w.trigger.name, sides.get(w.trigger.name) ?? [])) rising.push(w.trigger);
      }
      // The sides are decided: the next instant time alone can change them is armed from here.
      this.armClock();
      return Promise.all(rising.map((t) => this.fire(t, { type: 'condition' }, sender ? { causedBy: sender } : {})));
    });
    this.conditions = next.catch(() => undefined);
    return next;
  }

  private scope(event?: unknown): TriggerScope {
    return { event, context: this.store.values(), signal: (n) => this.store.read(n) };
  }

  /** `POST <api path>`: the body is the plan input unless the trigger has `with`. */
  apiTrigger(path: string): TriggerIR | undefined {
    return this.triggers.find((t) => t.source.kind === 'api' && t.source.path === path);
  }

  trigger(name: string): TriggerIR | undefined {
    return this.triggers.find((t) => t.name === name);
  }

  /** Fires one trigger for a payload (the `event` its expressions see), with what its request adds. */
  async fire(t: TriggerIR, payload: unknown, request: FireRequest = {}): Promise<FireResult> {
    await this.contextLoaded;
    const result = await this.decideAndStart(t, payload, request);
    this.counts.get(t.name)![result.outcome] += 1;
    this.opts.onOutcome?.(t, result);
    if (result.outcome === 'error' || result.outcome === 'invalid') {
      this.log(`trigger ${t.name}: ${result.outcome}: ${result.error ?? ''}`);
    }
    return result;
  }

  /** `POST /runs`: start any loaded plan by name. */
  /** `startedBy`: who asked (§9.1), recorded with the run for `not_starter` approvals. */
  async startPlan(name: string, input: unknown, consent?: unknown, traceparent?: string, startedBy?: Starter): Promise<StartPlanResult> {
    const plan = this.plans.get(name);
    if (!plan) return { ok: false, status: 404, error: `unknown plan "${name}"` };
    if (consent !== undefined && !(Array.isArray(consent) && consent.every((s) => typeof s === 'string')))
      return { ok: false, status: 400, error: '"consent" must be a list of scope names' };
    const problem = this.opts.checkInput(plan, input);
    if (problem) return { ok: false, status: 400, error: problem };
    await this.contextLoaded;
    try {
      const { runId } = await this.started(() => this.opts.starter.start(plan, input, {
          trigger: null,
          context: this.store.values(),
          consent: consent as string[] | undefined,
          ...(traceparent ? { traceparent } : {}),
          ...(startedBy ? { startedBy } : {}),
        }));
      return { ok: true, runId };
    } catch (err) {
      return { ok: false, status: 500, error: `could not start run: ${(err as Error).message}` };
    }
  }

  stats(): EngineStats {
    return {
      events: { accepted: this.eventsAccepted, unmatched: this.eventsUnmatched },
      triggers: this.triggers.map((t) => ({
        name: t.name,
        kind: t.source.kind,
        plan: t.plan,
        counts: { ...this.counts.get(t.name)! },
      })),
    };
  }

  /** Trigger-started runs being journaled plus runs in flight. */
  queueDepth(): number {
    return this.pendingStarts + this.opts.starter.activeCount();
  }

  private async decideAndStart(t: TriggerIR, payload: unknown, request: FireRequest): Promise<FireResult> {
    const { consent, traceparent } = request;
    const scope = this.scope(payload);
    if (t.source.kind === 'event' && t.source.where && !this.holds(t.source.where, scope)) {
      return { trigger: t.name, outcome: 'filtered' };
    }
    const plan = this.plans.get(t.plan);
    if (!plan) return { trigger: t.name, outcome: 'error', error: `plan "${t.plan}" is not loaded` };
    let input: unknown;
    try {
      input = t.with ? this.opts.evaluate(t.with, scope) : defaultInput(t, payload);
      if (input === UNKNOWN) input = null;
    } catch (err) {
      return { trigger: t.name, outcome: 'invalid', error: `with: ${(err as Error).message}` };
    }
    const problem = this.opts.checkInput(plan, input);
    if (problem) return { trigger: t.name, outcome: 'invalid', error: problem };
    if (t.debounce_ms !== null && t.debounce_ms > 0) {
      const last = this.lastFired.get(t.name);
      const now = this.now();
      if (last !== undefined && now - last < t.debounce_ms) {
        return { trigger: t.name, outcome: 'debounced', retryAfterMs: last + t.debounce_ms - now };
      }
      this.lastFired.set(t.name, now);
      // This server's window is set before any await (its own concurrent requests never both pass);
      // the database's is the cluster's: another server may have opened it (§7.5: one run per event).
      let opened: number | null;
      try {
        opened = await this.opts.state.debounce(t.name, now, t.debounce_ms);
      } catch (err) {
        this.lastFired.delete(t.name);
        return { trigger: t.name, outcome: 'error', error: `debounce: ${(err as Error).message}` };
      }
      if (opened !== null) {
        this.lastFired.set(t.name, opened);
        return { trigger: t.name, outcome: 'debounced', retryAfterMs: Math.max(0, opened + t.debounce_ms - now) };
      }
    }
    try {
      // What the trigger declares and what its request granted (api triggers) add up.
      const granted = [...new Set([...(t.consent ?? []), ...(consent ?? [])])];
      const { runId } = await this.started(() =>
        this.opts.starter.start(plan, input, {
          trigger: t.name,
          context: this.store.values(),
          ...(granted.length ? { consent: granted } : {}),
          ...(traceparent ? { traceparent } : {}),
          startedBy: request.startedBy ?? triggerStarter(t.name),
          ...(request.causedBy ? { causedBy: request.causedBy } : {}),
          ...(request.chainedFrom ? { chainedFrom: request.chainedFrom } : {}),
          ...(t.with && t.relabels?.length ? { relabels: t.relabels } : {}),
        }),
      );
      return { trigger: t.name, outcome: 'started', runId };
    } catch (err) {
      return { trigger: t.name, outcome: 'error', error: (err as Error).message };
    }
  }

  private async started<T>(start: () => Promise<T>): Promise<T> {
    this.pendingStarts += 1;
    try {
      return await start();
    } finally {
      this.pendingStarts -= 1;
    }
  }

  private async runFinished(run: FinishedRun): Promise<void> {
    for (const t of this.triggers) {
      if (t.source.kind !== 'after') continue;
      if (!samePlan(t.source.plan, run) || !outcomeMatches(t.source.outcome, run.status)) continue;
      if (!(await this.opts.state.claim(t.name, run.runId))) continue;
      await this.fire(t, { type: 'run', runId: run.runId, plan: run.planId, status: run.status, output: run.output }, { chainedFrom: run.runId });
    }
  }

  /** A condition holds only when it evaluates to `true`; an error is false. */
  private holds(expr: ExprIR, scope: TriggerScope): boolean {
    return this.side(expr, scope) === true;
  }

  /** §9.4: true, false, or unknown (it reads a signal that is not known). */
  private side(expr: ExprIR, scope: TriggerScope = this.scope()): Side {
    try {
      const v = this.opts.evaluate(expr, scope);
      return v === UNKNOWN ? 'unknown' : v === true;
    } catch {
      return false;
    }
  }
}

function zeroCounts(): Record<Outcome, number> {
  return { started: 0, filtered: 0, debounced: 0, invalid: 0, error: 0 };
}

/** Without `with`: an event's fields (minus `type`), an API/manual body, or no input at all. */
function defaultInput(t: TriggerIR, payload: unknown): unknown {
  switch (t.source.kind) {
    case 'event': {
      const { type: _type, ...fields } = payload as Record<string, unknown>;
      return fields;
    }
    case 'api':
    case 'manual':
      return payload ?? {};
    default:
      return {};
  }
}

/**
 * Whether a finished run is of the plan an `after` names (resolved to `module.plan`, serve/load.ts):
 * by its module where the run says it — `after a.greet` is not `b.greet`, both runs being `greet`.
 */
function samePlan(wanted: string, run: FinishedRun): boolean {
  if (run.module !== undefined) return wanted === qualifiedPlanName({ module: run.module, plan: run.planId });
  const planId = run.planId;
  return wanted === planId || planId.endsWith(`.${wanted}`) || wanted.endsWith(`.${planId}`);
}

/** `failed` covers a timed-out run; `finished` any terminal status, cancelled included. */
function outcomeMatches(outcome: 'completed' | 'failed' | 'finished', status: string): boolean {
  switch (outcome) {
    case 'completed':
      return status === 'completed';
    case 'failed':
      return status === 'failed' || status === 'timeout';
    case 'finished':
      return status === 'completed' || status === 'failed' || status === 'timeout' || status === 'cancelled';
  }
}

/** Every plan's (or served module's, serve/load.ts) declared signals (one context per program: they agree). */
export function signalsOf(plans: readonly ContextIR[]): { [name: string]: ContextSignalIR } {
  const out: { [name: string]: ContextSignalIR } = {};
  for (const p of plans) Object.assign(out, p.context_signals ?? {});
  return out;
}
