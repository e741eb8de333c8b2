/**
 * Budgets hold at run time (LANGUAGE.md §7.2), with real worker threads and a real journal: no
 * step past a `budget cost` starts and the error names the budget; a `warn` budget records
 * `budget_exceeded` and goes on; a sub-plan's cost counts toward its parent's budget; `budget
 * duration` ends the run as `timeout`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanIR, StepIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { fx, tempDir } from './helpers.js';
import { lit, plan, policy, retry, step } from './ir-builder.js';

let dir: string;
let rt: Runtime;

beforeAll(async () => {
  dir = tempDir();
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 2 });
});
afterAll(async () => {
  await rt.close();
});

async function run(p: PlanIR): Promise<{ result: ExecutionResult; events: RunEvent[]; runId: string }> {
  const active = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} } });
  const result = await active.result;
  return { result, events: rt.journal!.load(active.runId), runId: active.runId };
}

const paid = fx('paid', 'work', { cost: 0.4 });
const hangs = fx('hangs', 'hangs');

function chain(log: string, n: number, prefix = 's') {
  return Array.from({ length: n }, (_, i) =>
    step({ id: `${prefix}${i}`, capability: 'paid', deps: i ? [`${prefix}${i - 1}`] : [], args: { log: lit(log) } }),
  );
}

/**
 * Under policy `parent` (`budget cost <= 1`): `own0` (0.4), then `sub`, a sub-plan of two more
 * (`c0`, `c1`), then `after`; `sub` takes `over` (its retry, its on_failure).
 */
function ownThenSubplan(log: string, over: Partial<StepIR> = {}, after: readonly StepIR[] = []): PlanIR {
  const child = plan({ name: 'child', capabilities: [paid], steps: chain(log, 2, 'c') });
  const sub = { ...step({ id: 'sub', capability: null, kind: null, deps: ['own0'], action: { type: 'run', plan: 'child', args: {} } }), ...over };
  return plan({
    capabilities: [paid],
    steps: [...chain(log, 1, 'own'), sub, ...after],
    over: { subplans: { child }, policy: policy({ name: 'parent', budgets: { cost: 1, duration_ms: null } }) },
  });
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('budget cost', () => {
  it('no step past the budget starts; the run fails naming the budget', async () => {
    const log = join(dir, 'cost.log');
    writeFileSync(log, '');
    const p = plan({ capabilities: [paid], steps: chain(log, 3), over: { policy: policy({ name: 'tight', budgets: { cost: 1, duration_ms: null } }) } });
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toContain('budget exceeded: budget cost <= 1 of policy tight');
    expect(lines(log)).toHaveLength(2);
    const exceeded = events.filter((e) => e.type === 'budget_exceeded');
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]!.stepId).toBe('s2');
    expect(exceeded[0]!.data).toMatchObject({ budget: 'cost', limit: 1, cost: 0.8, estimate: 0.4, warn: false });
    expect(events.some((e) => e.type === 'step_started' && e.stepId === 's2')).toBe(false);
  });

  it('a run the budget stops runs no compensation, even under rollback (as a deadline): the ledger starts no more attempts', async () => {
    const log = join(dir, 'rollback.log');
    writeFileSync(log, '');
    const steps = chain(log, 3).map((s) => ({ ...s, compensate: { capability: 'paid', args: { log: lit(log) } } }));
    const p = plan({ capabilities: [paid], steps, over: { on_failure: 'rollback', policy: policy({ name: 'tight', budgets: { cost: 1, duration_ms: null } }) } });
    const { result, events } = await run(p);
    expect(result.error).toContain('budget exceeded');
    expect(lines(log).map((l) => l.split(' ')[1])).toEqual(['s0', 's1']);
    expect(events.some((e) => e.type === 'compensation_started' || e.type === 'step_compensated')).toBe(false);
  });

  it('parallel steps that wait on a preExecution hook are charged before the next is admitted: no overspend', async () => {
    let asked = 0;
    const log = join(dir, 'hooked.log');
    writeFileSync(log, '');
    const steps = [0, 1, 2].map((i) => step({ id: `h${i}`, capability: 'paid', args: { log: lit(log) } }));
    const p = plan({ capabilities: [paid], steps, over: { policy: policy({ name: 'hooked', budgets: { cost: 1, duration_ms: null } }) } });
    // No journal: no shared ledger to catch it, the run's own check is all there is.
    const bare = await Runtime.open({ db: null, workers: 2 });
    const events: RunEvent[] = [];
    let result: ExecutionResult;
    try {
      const active = await bare.start(p, { config: { file: null, hooks: { preExecution: async () => { asked++; return { allow: true }; } }, secrets: {} }, onEvent: (e: RunEvent) => events.push(e) });
      result = await active.result;
    } finally {
      await bare.close();
    }
    expect(result.status).toBe('failed');
    expect(result.error).toContain('budget exceeded: budget cost <= 1 of policy hooked');
    // Each reserves 0.4: two fit in 1, the third never starts (nor runs).
    expect(events.filter((e) => e.type === 'step_started')).toHaveLength(2);
    expect(lines(log).length).toBeLessThanOrEqual(2);
    expect(asked).toBeGreaterThanOrEqual(2); // the hook ran: the steps did wait on it
  });

  it('a warn budget records budget_exceeded once and the run completes', async () => {
    const log = join(dir, 'warn.log');
    writeFileSync(log, '');
    const p = plan({ capabilities: [paid], steps: chain(log, 4), over: { policy: policy({ budgets: { cost: 1, duration_ms: null, cost_warn: true } }) } });
    const { result, events } = await run(p);
    expect(result.status).toBe('completed');
    expect(lines(log)).toHaveLength(4);
    const exceeded = events.filter((e) => e.type === 'budget_exceeded');
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]!.data).toMatchObject({ budget: 'cost', warn: true });
  });

  it("a sub-plan's steps count toward the parent's budget", async () => {
    const log = join(dir, 'sub.log');
    writeFileSync(log, '');
    const { result } = await run(ownThenSubplan(log));
    expect(result.status).toBe('failed');
    // own0 (0.4) and c0 (0.4) ran; c1 would take the parent to 1.2.
    expect(lines(log)).toHaveLength(2);
    expect(result.error).toContain('budget cost <= 1 of policy parent');
  });

  it('a sub-plan refused by its parent\'s budget stops the parent on that budget, not as a step failure to retry or continue past', async () => {
    const log = join(dir, 'sub-stop.log');
    writeFileSync(log, '');
    const p = ownThenSubplan(log, { retry: retry(2, 0), on_failure: 'continue' }, [step({ id: 'next', capability: 'paid', deps: ['sub'], args: { log: lit(log) } })]);
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/^budget exceeded: budget cost <= 1 of policy parent \(/);
    const exceeded = events.filter((e) => e.type === 'budget_exceeded');
    expect(exceeded.map((e) => e.stepId)).toEqual(['sub']);
    expect(exceeded[0]!.data).toMatchObject({ budget: 'cost', limit: 1, warn: false });
    // Not retried, and nothing after it ran: own0 and c0 only.
    expect(events.some((e) => e.type === 'step_retried')).toBe(false);
    expect(lines(log).map((l) => l.split(' ')[1])).toEqual(['own0', 'c0']);
  });

  it('a running sub-plan and its parent count each other\'s spending: neither starts what would pass the budget together', async () => {
    const log = join(dir, 'parallel.log');
    writeFileSync(log, '');
    const slow = (prefix: string) =>
      chain(log, 2, prefix).map((s) => ({ ...s, args: { ...s.args, ms: lit(150) } }));
    const child = plan({ name: 'child', capabilities: [paid], steps: slow('c') });
    const p = plan({
      capabilities: [paid],
      steps: [...slow('p'), step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} } })],
      over: { subplans: { child }, policy: policy({ name: 'parent', budgets: { cost: 1, duration_ms: null } }) },
    });
    const { result, events, runId } = await run(p);
    expect(result.status).toBe('failed');
    // p0 and c0 start together (0.8 spent); p1 or c1 would take the run to 1.2, so neither starts.
    // Starting is the journaled admission (the budget charges a step when it starts), read from
    // both runs' journals: c0's handler may not get to run at all — on a busy machine its worker
    // thread can still be starting when p0 ends, p1 is refused and the run's end cancels c0.
    const started = (evs: readonly RunEvent[]) => evs.filter((e) => e.type === 'step_started').map((e) => e.stepId);
    expect(started(events)).toContain('p0');
    expect(started(events)).not.toContain('p1');
    const childEvents = rt.journal!.load(`${runId}/sub`);
    expect(started(childEvents)).toEqual(['c0']);
    // And no handler but theirs ran: p0's did (it completed), c0's if its thread came up in time.
    const ran = lines(log).map((l) => l.split(' ')[1]);
    expect(ran).toContain('p0');
    expect(ran.every((id) => id === 'p0' || id === 'c0')).toBe(true);
    const exceeded = events.find((e) => e.type === 'budget_exceeded');
    // p1 refused here names its estimate; c1 refused in the child stops this run on `sub` (the
    // child's journal holds c1's estimate).
    if (exceeded) expect(exceeded.data).toMatchObject(exceeded.stepId === 'sub' ? { cost: 0.8 } : { cost: 0.8, estimate: 0.4 });
    expect(result.metadata.totalCost).toBeLessThanOrEqual(1);
  });
});

describe('budget duration', () => {
  it('is the run deadline: status timeout, the error names the budget', async () => {
    const p = plan({ capabilities: [hangs], steps: [step({ id: 'h', capability: 'hangs' })], over: { policy: policy({ name: 'quick', budgets: { cost: null, duration_ms: 300 } }) } });
    const { result, events } = await run(p);
    expect(result.status).toBe('timeout');
    expect(result.error).toContain('budget duration <= 300ms of policy quick');
    expect(events.some((e) => e.type === 'budget_exceeded' && e.data.budget === 'duration')).toBe(true);
  });

  it('with warn, records the event and the run goes on', async () => {
    const p = plan({
      capabilities: [fx('work', 'work')],
      steps: [step({ id: 'w', capability: 'work', args: { ms: lit(400) } })],
      over: { policy: policy({ budgets: { cost: null, duration_ms: 100, duration_warn: true } }) },
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('completed');
    expect(events.filter((e) => e.type === 'budget_exceeded')).toHaveLength(1);
  });
});
