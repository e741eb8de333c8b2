/**
 * Prometheus metrics for `GET /metrics`, on a private prom-client registry. Run-level figures are
 * collected from finished runs (their steps and journal); gauges are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { countsForLocality, localRatio, privacyScore, type PlacedStep, type PlanIR } from '../compiler/index.js';
import type { TriggerIR } from '../compiler/index.js';
import { placedTier } from '../runtime/index.js';
import type { FinishedRun, RunStarter } from './run-starter.js';
import { spendOfFinishedRuns, type SpendTotal } from './metrics-spend.js';
import type { FireResult, TriggerEngine } from './trigger-engine.js';

export interface ServeMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Counts one accepted event and how it matched. */
  event(matched: boolean): void;
  /** Counts one catch-up run of a schedule. */
  catchUp(trigger: TriggerIR): void;
  /** Counts one trigger decision. */
  outcome(trigger: TriggerIR, result: FireResult): void;
  render(): Promise<string>;
  /** Actual spend of the journal's finished runs by plan, capability and model: `/metrics` and the dashboard read the same totals. */
  spend(): Promise<readonly SpendTotal[]>;
}

export function createMetrics(starter: RunStarter, engine: () => TriggerEngine, plans: () => readonly PlanIR[]): ServeMetrics {
  const registry = new Registry();
  const triggers = triggerCounters(registry);
  runGauges(registry, starter, engine);
  observeFinishedRuns(registry, starter, plans);
  const spend = spendMetrics(registry, starter);
  return {
    registry,
    contentType: registry.contentType,
    event: (matched) => triggers.events.inc({ matched: matched ? 'true' : 'false' }),
    catchUp: (t) => triggers.catchUps.inc({ trigger: t.name }),
    outcome: (t, r) => triggers.outcomes.inc({ trigger: t.name, kind: t.source.kind, outcome: r.outcome }),
    render: () => registry.metrics(),
    spend,
  };
}

/** What the trigger engine counts as it decides: events accepted, its decisions, catch-up runs. */
function triggerCounters(registry: Registry) {
  const events = new Counter({
    name: 'orch_events_total',
    help: 'Events accepted by POST /events, by whether any trigger listens for their type',
    labelNames: ['matched'] as const,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'orch_trigger_outcomes_total',
    help: 'Trigger decisions: started, filtered, debounced, invalid, error',
    labelNames: ['trigger', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const catchUps = new Counter({
    name: 'orch_schedule_catch_up_runs_total',
    help: 'Catch-up runs started at start-up (--catch-up) for schedule ticks missed while down',
    labelNames: ['trigger'] as const,
    registers: [registry],
  });
  return { events, outcomes, catchUps };
}

/** The journal's runs by status and the runs in flight, read at scrape time. */
function runGauges(registry: Registry, starter: RunStarter, engine: () => TriggerEngine): void {
  new Gauge({
    name: 'orch_runs',
    help: 'Runs in the journal by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const byStatus = new Map<string, number>();
      for (const r of await starter.list()) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
      for (const [status, n] of byStatus) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'orch_queue_depth',
    help: 'Runs being started plus runs in flight in this server',
    registers: [registry],
    collect() {
      this.set(engine().queueDepth());
    },
  });
}

/** What each run that finishes while the server watches adds: its steps' durations and tiers, its guardrail violations. */
function observeFinishedRuns(registry: Registry, starter: RunStarter, plans: () => readonly PlanIR[]): void {
  const stepDuration = new Histogram({
    name: 'orch_step_duration_seconds',
    help: 'Duration of finished steps',
    labelNames: ['plan', 'status'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600],
    registers: [registry],
  });
  const stepsByTier = new Counter({
    name: 'orch_steps_executed_total',
    help: 'Executed steps by the trust tier of the resource they ran on',
    labelNames: ['tier'] as const,
    registers: [registry],
  });
  // The latest finished steps (a window, so a long-lived server's memory stays flat), read by
  // the same functions as `orch preview` and the dashboard's resources page.
  const placed: PlacedStep[] = [];
  const PLACED_WINDOW = 10_000;
  placementGauges(registry, placed);
  const violations = new Counter({
    name: 'orch_guardrail_violations_total',
    help: 'Guardrail violations recorded in the journal of finished runs',
    labelNames: ['guardrail'] as const,
    registers: [registry],
  });
  const finished = new Counter({
    name: 'orch_runs_finished_total',
    help: 'Runs that reached a terminal status while this server watched',
    labelNames: ['plan', 'status'] as const,
    registers: [registry],
  });

  const planOf = (planId: string): PlanIR | undefined => plans().find((p) => p.plan === planId || `${p.module}.${p.plan}` === planId);

  const observe = async (run: FinishedRun): Promise<void> => {
    finished.inc({ plan: run.planId, status: run.status });
    const view = await starter.get(run.runId).catch(() => null);
    const plan = planOf(run.planId);
    const stepOf = new Map(plan?.steps.map((x) => [x.id, x]) ?? []);
    for (const s of view?.steps ?? []) {
      if (typeof s.duration === 'number' && s.status !== 'skipped' && s.status !== 'pending') {
        stepDuration.observe({ plan: run.planId, status: s.status }, s.duration / 1000);
      }
      // Instances (`send[2]`, `draft#1`) carry their step's data class (and its endpoint).
      const step = stepOf.get(s.stepId.replace(/[[#].*$/, ''));
      const tier = s.resource && plan ? placedTier(plan, step, s.resource) : null;
      if (tier && (s.status === 'completed' || s.status === 'failed')) {
        stepsByTier.inc({ tier });
        placed.push({ tier, data: step?.data ?? 'public' });
        if (placed.length > PLACED_WINDOW) placed.splice(0, placed.length - PLACED_WINDOW);
      }
    }
    const entries = (await starter.timeline(run.runId).catch(() => null)) ?? [];
    for (const e of entries) {
      if (e.type !== 'guardrail_violation') continue;
      const name = typeof e.guardrail === 'string' ? e.guardrail : 'unknown';
      violations.inc({ guardrail: name });
    }
  };
  starter.onFinished((run) => void observe(run));
}

// v0.3 (§8.2): actual spend of every attempt of the journal's finished runs — those this server
// executed and those it only reads (`orch ui` over another process's journal), as `orch runs --stats`.
function spendMetrics(registry: Registry, starter: RunStarter): () => Promise<readonly SpendTotal[]> {
  const spend = spendOfFinishedRuns(starter);
  new Counter({
    name: 'orch_cost_total',
    help: "Actual cost of the attempts of the journal's finished runs, by plan, capability and model (model \"\" when none was reported)",
    labelNames: ['plan', 'capability', 'model'] as const,
    registers: [registry],
    async collect() {
      const totals = await spend();
      this.reset();
      for (const t of totals) if (t.cost > 0) this.inc(t.labels, t.cost);
    },
  });
  new Counter({
    name: 'orch_tokens_total',
    help: "Model tokens reported by the attempts of the journal's finished runs, by plan, capability, model and direction (input | output)",
    labelNames: ['plan', 'capability', 'model', 'direction'] as const,
    registers: [registry],
    async collect() {
      const totals = await spend();
      this.reset();
      for (const t of totals) {
        if (t.input_tokens > 0) this.inc({ ...t.labels, direction: 'input' }, t.input_tokens);
        if (t.output_tokens > 0) this.inc({ ...t.labels, direction: 'output' }, t.output_tokens);
      }
    },
  });
  return spend;
}

/** The share of recent finished steps that ran locally, and of those touching personal data that stayed local or at the edge. */
function placementGauges(registry: Registry, placed: readonly PlacedStep[]): void {
  new Gauge({
    name: 'orch_local_execution_ratio',
    help: 'Share of the last 10,000 finished machine-placed steps that ran on local-tier resources (0 before any)',
    registers: [registry],
    collect() {
      this.set(placed.some(countsForLocality) ? localRatio(placed) : 0);
    },
  });
  new Gauge({
    name: 'orch_privacy_score',
    help: 'Share of the last 10,000 finished steps touching @personal or more sensitive data that ran on local or edge resources (1 when none did)',
    registers: [registry],
    collect() {
      this.set(privacyScore(placed));
    },
  });
}
