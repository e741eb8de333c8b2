/**
 * One `budget cost` ledger for every run under the policy on one journal (LANGUAGE.md §8.2 under
 * §7.2): two runtimes on one SQLite file (two processes, as far as the store can tell), each
 * running a plan of parallel paid steps whose reservations together pass the budget. The actual
 * spend of both runs together stays within it (but for journaled overruns), and a run that cannot
 * fit its next reservation fails `budget exceeded`. A run's spend leaves the ledger when it ends.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import { SharedLimits } from '../limits/shared-limits.js';
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { capability, lit, plan, policy, step } from './ir-builder.js';
import { tempDir } from './helpers.js';
import { waitUntil } from '../../test/support/wait.js';

const HANDLER = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function spend(input, ctx) {
  await sleep(input.ms);
  ctx.usage({ cost: input.cost });
  return { ok: true };
}
export function boom() {
  throw new Error('boom');
}
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function twoRuntimes(): Promise<{ dir: string; a: Runtime; b: Runtime }> {
  const dir = tempDir('orch-budget-shared-');
  writeFileSync(join(dir, 'spend.js'), HANDLER);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const db = join(dir, 'runs.db');
  const a = await Runtime.open({ db, workers: 4 });
  cleanups.push(() => a.close());
  const b = await Runtime.open({ db, workers: 4 });
  cleanups.push(() => b.close());
  return { dir, a, b };
}

/** `n` parallel steps reserving `estimate` each and reporting `actual`, under policy lean's `budget cost <= 1`. */
function paidPlan(dir: string, n: number, estimate: number, actual: number): PlanIR {
  const cap = capability('paid', { cost: estimate, handler: { module: join(dir, 'spend.js'), export: 'spend' } });
  const steps = Array.from({ length: n }, (_, i) => step({ id: `s${i}`, capability: 'paid', args: { ms: lit(20), cost: lit(actual) } }));
  return plan({ name: 'paid', base_dir: dir, capabilities: [cap], steps, over: { policy: policy({ name: 'lean', budgets: { cost: 1, duration_ms: null } }) } });
}

async function runOn(rt: Runtime, p: PlanIR): Promise<{ result: ExecutionResult; events: RunEvent[] }> {
  const active = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} } });
  const result = await active.result;
  return { result, events: rt.journal!.load(active.runId) };
}

const actualSpend = (r: { result: ExecutionResult }) => r.result.metadata.totalCost;
const overruns = (r: { events: RunEvent[] }) =>
  r.events.filter((e) => e.type === 'budget_overrun').reduce((s, e) => s + (e.data as { over: number }).over, 0);
const started = (r: { events: RunEvent[] }) => r.events.filter((e) => e.type === 'step_started').length;

describe('a budget shared by the runs of one journal', () => {
  it('holds the actual spend of two concurrent runs to the budget; the one that cannot fit fails budget exceeded', async () => {
    const { dir, a, b } = await twoRuntimes();
    // Each run alone would start 3 steps (3 × 0.3 ≤ 1): 6 together, 1.5 spent. Shared: at most 3.
    const p = paidPlan(dir, 4, 0.3, 0.25);
    const runs = await Promise.all([runOn(a, p), runOn(b, p)]);
    const total = runs.reduce((s, r) => s + actualSpend(r), 0);
    expect(total).toBeLessThanOrEqual(1 + 1e-9);
    expect(runs.reduce((s, r) => s + started(r), 0)).toBeLessThanOrEqual(3);
    for (const r of runs) {
      // Neither run can finish its 4 steps within what the other leaves it.
      expect(r.result.status).toBe('failed');
      expect(r.result.error).toContain('budget exceeded: budget cost <= 1 of policy lean');
      expect(r.events.some((e) => e.type === 'budget_exceeded' && (e.data as { budget: string }).budget === 'cost')).toBe(true);
    }
    // Both runs ended: their spend left the ledger, so a new run has the whole budget again.
    const next = await runOn(a, paidPlan(dir, 3, 0.3, 0.25));
    expect(next.result.status, next.result.error ?? '').toBe('completed');
    expect(actualSpend(next)).toBeCloseTo(0.75, 9);
  }, 60_000);

  it("gives a run's result only once its ledger is closed, so the next run has the whole budget", async () => {
    const { dir, a } = await twoRuntimes();
    const db = join(dir, 'runs.db');
    // A third process whose store is slow to close a run's ledger: held until the test lets it go.
    const store = new SqliteLimitStore(db);
    let entered!: () => void;
    const closing = new Promise<void>((r) => (entered = r));
    let letGo!: () => void;
    const gate = new Promise<void>((r) => (letGo = r));
    const closeRun = store.closeRun.bind(store);
    store.closeRun = async (owner, now) => {
      entered();
      await gate;
      return closeRun(owner, now);
    };
    const limits = new SharedLimits(store);
    const c = await Runtime.open({ db, workers: 4, limits });
    cleanups.push(async () => {
      await c.close();
      await limits.close();
    });
    let known = false;
    const first = runOn(c, paidPlan(dir, 3, 0.3, 0.25)).then((r) => ((known = true), r));
    await closing;
    // A whole turn of the event loop after the close began: the result still waits on it.
    await new Promise((r) => setImmediate(r));
    expect(known).toBe(false);
    letGo();
    expect((await first).result.status).toBe('completed');
    const next = await runOn(a, paidPlan(dir, 3, 0.3, 0.25));
    expect(next.result.status, next.result.error ?? '').toBe('completed');
  }, 60_000);

  it("counts sub-plans' steps against their parent's shared ledger", async () => {
    const { dir, a, b } = await twoRuntimes();
    const inner = paidPlan(dir, 4, 0.3, 0.25);
    const child = { ...inner, name: 'child', policy: null };
    const parent = plan({
      name: 'parent',
      base_dir: dir,
      capabilities: Object.values(inner.capabilities),
      steps: [step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} } })],
      over: { subplans: { child }, policy: policy({ name: 'lean', budgets: { cost: 1, duration_ms: null } }) },
    });
    const runs = await Promise.all([runOn(a, parent), runOn(b, parent)]);
    expect(runs.reduce((s, r) => s + actualSpend(r), 0)).toBeLessThanOrEqual(1 + 1e-9);
    for (const r of runs) {
      expect(r.result.status).toBe('failed');
      expect(r.result.error).toContain('budget exceeded: budget cost <= 1 of policy lean');
    }
  }, 60_000);

  it('lets spend pass the budget only by journaled overruns, and starts nothing once it has', async () => {
    const { dir, a, b } = await twoRuntimes();
    // Each attempt reserves 0.2 and reports 0.45: an overrun each time.
    const p = paidPlan(dir, 4, 0.2, 0.45);
    const runs = await Promise.all([runOn(a, p), runOn(b, p)]);
    const total = runs.reduce((s, r) => s + actualSpend(r), 0);
    const over = runs.reduce((s, r) => s + overruns(r), 0);
    expect(over).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(1 + over + 1e-9);
    // Reservations in flight never pass the budget (5 × 0.2 = 1), and after the overruns settle nothing more starts.
    expect(runs.reduce((s, r) => s + started(r), 0)).toBeLessThanOrEqual(5);
    expect(runs.some((r) => r.result.status === 'failed' && r.result.error?.includes('budget exceeded'))).toBe(true);
  }, 60_000);

  it("refuses a rollback's compensation that the ledger cannot fit, and the rollback goes on", async () => {
    const { dir, a, b } = await twoRuntimes();
    const handler = (name: string) => ({ module: join(dir, 'spend.js'), export: name });
    const lean = policy({ name: 'lean', budgets: { cost: 1, duration_ms: null } });
    // The first run spends 0.7 and stays open on the ledger while the second rolls back.
    const holder = plan({
      name: 'holder',
      base_dir: dir,
      capabilities: [capability('paid', { cost: 0.7, handler: handler('spend') }), capability('free', { cost: 0, handler: handler('spend') })],
      steps: [step({ id: 'p', capability: 'paid', args: { ms: lit(1), cost: lit(0.7) } }), step({ id: 'idle', capability: 'free', deps: ['p'], args: { ms: lit(800), cost: lit(0) } })],
      over: { policy: lean },
    });
    const rolled = plan({
      name: 'rolled',
      base_dir: dir,
      capabilities: [capability('work', { cost: 0.1, handler: handler('spend') }), capability('undo', { cost: 0.3, handler: handler('spend') }), capability('boom', { handler: handler('boom') })],
      steps: [
        step({ id: 'a', capability: 'work', args: { ms: lit(1), cost: lit(0.1) }, compensate: { capability: 'undo', args: { ms: lit(1), cost: lit(0.3) } } }),
        step({ id: 'c', capability: 'boom', deps: ['a'] }),
      ],
      over: { on_failure: 'rollback', policy: lean },
    });
    const held = a.start(holder, { config: { file: null, hooks: {}, secrets: {} } });
    const holderId = (await held).runId;
    await waitUntil(() => a.journal!.load(holderId).some((e) => e.type === 'step_completed' && e.stepId === 'p'), 'the holder spent 0.7');
    // Alone the run would fit (0.1 + 0.3): the ledger, 0.7 + 0.1 + 0.3, does not.
    const { result, events } = await runOn(b, rolled);
    expect(result.status).toBe('failed');
    const ended = events.find((e) => e.type === 'step_compensated');
    expect(ended?.data).toMatchObject({ ok: false });
    expect((ended!.data as { error: string }).error).toContain('by the runs sharing it, its compensation would add 0.3');
    expect(result.metadata.totalCost).toBeCloseTo(0.1, 6);
    expect((await (await held).result).status).toBe('completed');
  }, 30_000);
});
