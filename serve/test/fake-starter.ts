/**
 * Scaffolding: an in-memory RunStarter whose runs finish only when a test says so. Used to test
 * the trigger engine's decisions in isolation; the end-to-end tests use the real runtime.
 */
import type { JsonSchema, PlanIR } from '../../compiler/index.js';
import type { ControlResult, FinishedRun, JournalEntry, RunStarter, RunView } from '../run-starter.js';
import { TERMINAL_STATUSES } from '../run-starter.js';
import type { Starter } from '../../runtime/index.js';
import { samplePlan } from '../../compiler/test/ir-fixture.js';

export interface FakeRun {
  runId: string;
  plan: PlanIR;
  input: unknown;
  trigger: string | null;
  status: string;
  output: unknown;
  /** §9.1: who the start names as the run's starter and cause. */
  startedBy?: Starter;
  causedBy?: Starter;
}

export class FakeStarter implements RunStarter {
  readonly runs: FakeRun[] = [];
  readonly signals: Record<string, unknown>[] = [];
  private readonly listeners: ((r: FinishedRun) => void)[] = [];
  private next = 1;
  private readonly waiting: { n: number; done: () => void }[] = [];

  /** Resolves once `n` runs have started (an event to wait on, not a sleep). */
  started(n: number): Promise<void> {
    if (this.runs.length >= n) return Promise.resolve();
    return new Promise((done) => this.waiting.push({ n, done }));
  }

  async start(plan: PlanIR, input: unknown, meta: { trigger: string | null; context: Record<string, unknown>; startedBy?: Starter; causedBy?: Starter }) {
    const runId = `run-${this.next++}`;
    this.runs.push({ runId, plan, input, trigger: meta.trigger, status: 'running', output: null, startedBy: meta.startedBy, causedBy: meta.causedBy });
    for (const w of this.waiting.filter((x) => this.runs.length >= x.n)) w.done();
    return { runId };
  }
  finish(runId: string, status: 'completed' | 'failed' | 'cancelled' | 'timeout', output: unknown = {}) {
    const r = this.runs.find((x) => x.runId === runId)!;
    r.status = status;
    r.output = output;
    for (const l of this.listeners) l({ runId, planId: r.plan.plan, status, output });
  }
  byTrigger(name: string): FakeRun[] {
    return this.runs.filter((r) => r.trigger === name);
  }
  async get(runId: string): Promise<RunView | null> {
    const r = this.runs.find((x) => x.runId === runId);
    return r ? { planId: r.plan.plan, runId, status: r.status, steps: [], output: r.output, trigger: r.trigger } : null;
  }
  async list() {
    // Which trigger started each run, as the real starter reads it from the journal.
    return this.runs.map((r) => ({ runId: r.runId, planId: r.plan.plan, status: r.status, trigger: r.trigger }));
  }
  async timeline(runId: string): Promise<JournalEntry[] | null> {
    return this.runs.some((r) => r.runId === runId) ? [{ type: 'execution_started' }] : null;
  }
  private control(runId: string, to: string): ControlResult {
    const r = this.runs.find((x) => x.runId === runId);
    if (!r) return { ok: false, reason: 'not_found', message: `unknown run "${runId}"` };
    if (TERMINAL_STATUSES.has(r.status)) return { ok: false, reason: 'conflict', message: `run is ${r.status}` };
    r.status = to;
    return { ok: true, status: to };
  }
  async pause(runId: string) {
    return this.control(runId, 'paused');
  }
  async resume(runId: string) {
    return this.control(runId, 'running');
  }
  async cancel(runId: string) {
    return this.control(runId, 'cancelled');
  }
  async rateHitsSince() {
    return 0;
  }
  async retry(runId: string) {
    const r = await this.control(runId, 'running');
    return r.ok ? { ok: true as const, runId } : r;
  }
  async cancelStep(runId: string): Promise<ControlResult> {
    return this.control(runId, 'running');
  }
  async decide(runId: string): Promise<ControlResult> {
    return this.control(runId, 'running');
  }
  async source(runId: string) {
    const r = this.runs.find((x) => x.runId === runId);
    return r ? { plan: r.plan, input: r.input } : null;
  }
  onEvent() {}
  async signalContext(values: Record<string, unknown>) {
    this.signals.push({ ...values });
  }
  onFinished(listener: (r: FinishedRun) => void) {
    this.listeners.push(listener);
  }
  async resumeUnfinished() {
    return [];
  }
  activeCount() {
    return this.runs.filter((r) => !TERMINAL_STATUSES.has(r.status)).length;
  }
  async drain() {
    return this.activeCount() === 0;
  }
  async close() {}
}

/** A PlanIR for engine tests: only the name, input and context matter to the engine. */
export function fakePlan(name: string, input: JsonSchema = { type: 'object' }): PlanIR {
  return {
    ...samplePlan(),
    plan: name,
    module: 'test',
    input,
    context: { type: 'object', properties: { temperature: { type: 'number' } } },
  };
}
