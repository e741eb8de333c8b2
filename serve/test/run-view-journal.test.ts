/**
 * A finished run read back over the API (`GET /runs/ID`, what the dashboard's run view shows) is
 * the result the runtime gave when it ran (`orch run --json`, LANGUAGE.md §6): nested `for each`
 * outputs, a loop's last iteration, a step cancelled on its own counted in `cancelledSteps` and
 * failing nothing (§7.4), a race's loser likewise; a sub-plan's run too. The runs execute on a real runtime over a
 * SQLite journal; a server opened afterwards on that journal answers from it alone.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { openBackend, loadPlan, Runtime, type ExecutionResult } from '../../runtime/index.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { tempDir } from './serve-process.js';

const FILE = join(import.meta.dirname, 'fixtures', 'shapes.orch');
const TOKEN = 'run-view-token';
const PLANS = ['onboarding', 'revise', 'interrupted', 'raced', 'nested_run'] as const;
const INPUT = {
  onboarding: { teams: [{ channel: 'eng', members: [{ name: 'ada' }, { name: 'alan' }] }, { channel: 'ops', members: [{ name: 'grace' }] }] },
} as const;

const plans = new Map<string, PlanIR>();
const results = new Map<string, ExecutionResult>();
let server: BuiltServer;
let closeServer: () => Promise<void>;

beforeAll(async () => {
  for (const name of PLANS) {
    const loaded = await loadPlan(FILE, name);
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    plans.set(name, loaded.plan);
  }
  const db = join(tempDir('orch-run-view-'), 'runs.db');
  const rt = await Runtime.open({ db });
  try {
    for (const name of PLANS) {
      let cancelled: Promise<unknown> | null = null;
      const active = await rt.start(plans.get(name)!, {
        input: (INPUT as Record<string, unknown>)[name] ?? {},
        // The interrupted plan's long step is cancelled on its own as soon as it runs.
        onEvent: (e) => {
          if (name === 'interrupted' && e.type === 'step_started' && e.stepId === 'long') cancelled ??= rt.cancelStep(e.runId, 'long');
        },
      });
      results.set(name, await active.result);
      await cancelled;
    }
  } finally {
    await rt.close();
  }
  const starter = await openRuntimeStarter({ backend: await openBackend(db), plans: [...plans.values()], log: () => {} });
  const state = await (await openBackend(db)).triggerState();
  server = await buildServer({ plans: [...plans.values()], triggers: [], starter, evaluate: () => null, state, token: TOKEN });
  await server.app.ready();
  closeServer = async () => {
    await server.app.close();
    await server.people.store.close();
    await starter.close();
  };
}, 60_000);

afterAll(async () => {
  await closeServer?.();
});

async function readBack(runId: string): Promise<ExecutionResult> {
  const r = await server.app.inject({ method: 'GET', url: `/runs/${encodeURIComponent(runId)}`, headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.statusCode).toBe(200);
  return r.json() as ExecutionResult;
}

const step = (r: ExecutionResult, id: string) => r.steps.find((s) => s.stepId === id)!;

describe('GET /runs/ID of a finished run is the runtime result', () => {
  it.each(PLANS)('%s', async (name) => {
    const ran = results.get(name)!;
    expect(await readBack(ran.runId)).toEqual(JSON.parse(JSON.stringify(ran)));
  });

  it('nested for each: one step, completed, its output a list per team', async () => {
    const v = await readBack(results.get('onboarding')!.runId);
    expect(v.status).toBe('completed');
    expect(v.steps).toHaveLength(1);
    expect(step(v, 'greet')).toMatchObject({ status: 'completed', output: [[{ value: 'eng:ada' }, { value: 'eng:alan' }], [{ value: 'ops:grace' }]] });
    expect(v.metadata).toMatchObject({ totalSteps: 1, completedSteps: 1, failedSteps: 0, skippedSteps: 0, cancelledSteps: 0 });
  });

  it('repeat: a step inside shows its last iteration', async () => {
    const v = await readBack(results.get('revise')!.runId);
    expect(v.output).toEqual({ rounds: 3, published: 'draft 2' });
    expect(step(v, 'draft')).toMatchObject({ status: 'completed', output: { value: 'draft 2' } });
    expect(step(v, 'review')).toMatchObject({ status: 'completed', output: { value: '2' } });
    expect(v.metadata).toMatchObject({ totalSteps: 3, completedSteps: 3, failedSteps: 0, cancelledSteps: 0 });
  });

  it('a step cancelled on its own is counted in cancelledSteps and fails nothing', async () => {
    const v = await readBack(results.get('interrupted')!.runId);
    expect(v.status).toBe('completed');
    expect(step(v, 'long').status).toBe('cancelled');
    expect(v.metadata).toMatchObject({ totalSteps: 3, completedSteps: 1, failedSteps: 0, skippedSteps: 1, cancelledSteps: 1 });
  });

  it('a sub-plan run (which keeps no IR of its own) reads back through its parent', async () => {
    const v = await readBack(`${results.get('nested_run')!.runId}/sub`);
    expect(v.status).toBe('completed');
    expect(v.output).toEqual({ said: 'hi' });
    expect(v.steps).toEqual([expect.objectContaining({ stepId: 'say', status: 'completed', output: { value: 'hi' } })]);
    expect(v.metadata).toMatchObject({ totalSteps: 1, completedSteps: 1, cancelledSteps: 0 });
  });

  it("a race's loser is cancelled, not failed", async () => {
    const v = await readBack(results.get('raced')!.runId);
    expect(v.output).toEqual({ winner: 'fast' });
    expect(step(v, 'slow').status).toBe('cancelled');
    expect(v.metadata).toMatchObject({ completedSteps: 1, failedSteps: 0, cancelledSteps: 1 });
  });
});
