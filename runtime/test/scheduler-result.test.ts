/**
 * The execution result is built only when someone asks for it (`done`): a run driven by
 * `begin()` and followed through its events (`orch verify`) never builds it.
 */
import { describe, expect, it, vi } from 'vitest';
import { Run, VirtualClock } from '../scheduler/index.js';
import { capability, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

const p = plan({ capabilities: [capability('c')], steps: [step({ id: 'a', capability: 'c' }), step({ id: 'b', capability: 'c', deps: ['a'] })] });

function make() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const run = new Run(p, { clock, executor: new SimExecutor(clock) }, { runId: 'r' });
  return { clock, run, built: vi.spyOn(run, 'result') };
}

describe('lazy execution result', () => {
  it('a run driven by begin() builds no result; asking for done afterwards gives the full one', async () => {
    const { clock, run, built } = make();
    run.begin();
    clock.runAll();
    await Promise.resolve();
    expect(run.status()).toBe('completed');
    expect(built).not.toHaveBeenCalled();
    const result = await run.done;
    expect(built).toHaveBeenCalledTimes(1);
    expect(result.status).toBe('completed');
    expect(result.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(result.steps.map((s) => [s.stepId, s.status, s.startedAt])).toEqual([
      ['a', 'completed', '2026-01-01T00:00:00.000Z'],
      ['b', 'completed', '2026-01-01T00:00:00.010Z'],
    ]);
  });

  it('start() still resolves with the result', async () => {
    const { clock, run } = make();
    const done = run.start();
    clock.runAll();
    expect((await done).metadata.completedSteps).toBe(2);
  });
});
