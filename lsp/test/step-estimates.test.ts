/**
 * Inlay-hint estimates: the first request waits for a compile; later ones never do; the worker
 * sends no copy of values the server already holds.
 */
import { describe, expect, it } from 'vitest';
import type { PlanSteps } from '../estimate-worker.js';
import { SentPlans } from '../sent-plans.js';
import { StepEstimates } from '../step-estimates.js';

const plan = (cost: number): PlanSteps[] => [{ plan: 'p', steps: [{ id: 'a', capability: 'c', resource: 'r', estimates: { cost, duration_ms: 1 } }] }];

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('StepEstimates', () => {
  it('waits for the first compile, then answers from the last one while a newer one runs', async () => {
    let generation = 1;
    const jobs: { path: string; done: ReturnType<typeof deferred<PlanSteps[]>> }[] = [];
    const updates: string[] = [];
    const estimates = new StepEstimates((path) => {
      const done = deferred<PlanSteps[]>();
      jobs.push({ path, done });
      return done.promise;
    }, () => generation, (path) => updates.push(path));

    const first = estimates.get('/f.orch');
    expect(jobs).toHaveLength(1);
    jobs[0]!.done.resolve(plan(1));
    expect(await first).toEqual(plan(1));
    // Same text: cached, no compile.
    expect(await estimates.get('/f.orch')).toEqual(plan(1));
    expect(jobs).toHaveLength(1);

    // An edit: the old values at once, one compile however often it is asked, then an update.
    generation = 2;
    expect(await estimates.get('/f.orch')).toEqual(plan(1));
    expect(await estimates.get('/f.orch')).toEqual(plan(1));
    expect(jobs).toHaveLength(2);
    expect(updates).toEqual([]);
    jobs[1]!.done.resolve(plan(2));
    await new Promise((r) => setTimeout(r, 0));
    expect(updates).toEqual(['/f.orch']);
    expect(await estimates.get('/f.orch')).toEqual(plan(2));

    // An edit that changes no estimate: no update asked for, the values shown stay the same object.
    const shown = await estimates.get('/f.orch');
    generation = 3;
    expect(await estimates.get('/f.orch')).toBe(shown);
    jobs[2]!.done.resolve(plan(2));
    await new Promise((r) => setTimeout(r, 0));
    expect(updates).toEqual(['/f.orch']);
    expect(await estimates.get('/f.orch')).toBe(shown);
    expect(jobs).toHaveLength(3);
  });

  it('keeps the last good values when a compile fails', async () => {
    let generation = 1;
    let fail = false;
    const estimates = new StepEstimates(async () => {
      if (fail) throw new Error('worker died');
      return plan(generation);
    }, () => generation, () => undefined);
    expect(await estimates.get('/g.orch')).toEqual(plan(1));
    fail = true;
    generation = 2;
    expect(await estimates.get('/g.orch')).toEqual(plan(1));
    await new Promise((r) => setTimeout(r, 0));
    expect(await estimates.get('/g.orch')).toEqual(plan(1));
  });

  it('hands each compile the values it holds, and keeps them (no update) when the compile returns them', async () => {
    let generation = 1;
    const priors: (readonly PlanSteps[] | undefined)[] = [];
    const updates: string[] = [];
    let next = plan(1);
    const estimates = new StepEstimates(async (_path, prior) => {
      priors.push(prior);
      // What the server does with the worker's `null`: the values it holds.
      return prior !== undefined && next === prior ? prior : next;
    }, () => generation, (path) => updates.push(path));
    const shown = await estimates.get('/h.orch');
    expect(priors).toEqual([undefined]);
    next = shown as PlanSteps[];
    generation = 2;
    expect(await estimates.get('/h.orch')).toBe(shown);
    await new Promise((r) => setTimeout(r, 0));
    expect(priors[1]).toBe(shown);
    expect(await estimates.get('/h.orch')).toBe(shown);
    expect(updates).toEqual([]);
    next = plan(3);
    generation = 3;
    await estimates.get('/h.orch');
    await new Promise((r) => setTimeout(r, 0));
    expect(await estimates.get('/h.orch')).toEqual(plan(3));
    expect(updates).toEqual(['/h.orch']);
  });
});

describe('SentPlans (the estimate worker)', () => {
  it('answers null for plans equal to the last sent while the server holds them, else the plans', () => {
    const sent = new SentPlans<PlanSteps[]>();
    expect(sent.unlessSent('/a.orch', plan(1), true)).toEqual(plan(1)); // nothing sent yet
    expect(sent.unlessSent('/a.orch', plan(1), true)).toBeNull();
    expect(sent.unlessSent('/b.orch', plan(1), true)).toEqual(plan(1)); // per entry
    expect(sent.unlessSent('/a.orch', plan(2), true)).toEqual(plan(2)); // changed
    expect(sent.unlessSent('/a.orch', plan(2), true)).toBeNull();
    // The server forgot them (the document was closed): sent again, then compared again.
    expect(sent.unlessSent('/a.orch', plan(2), false)).toEqual(plan(2));
    expect(sent.unlessSent('/a.orch', plan(2), true)).toBeNull();
  });
});
