import { describe, expect, it } from 'vitest';
import { Run, VirtualClock, type RunEvent } from '../scheduler/index.js';
import { SimExecutor } from './sim-executor.js';
import { capability, out, plan, step } from './ir-builder.js';

describe('scheduler core smoke', () => {
  it('runs a chain in dependency order on a virtual clock', async () => {
    const clock = new VirtualClock(1000);
    const exec = new SimExecutor(clock, (req) => ({ latency: 5, outcome: { ok: true, output: { v: req.stepId } } }));
    const events: RunEvent[] = [];
    const p = plan({
      capabilities: [capability('c')],
      steps: [
        step({ id: 'a', capability: 'c' }),
        step({ id: 'b', capability: 'c', deps: ['a'], args: { x: out('a', 'v') } }),
      ],
    });
    const run = new Run(p, { clock, executor: exec, observe: (e) => events.push(e) }, { runId: 'r1' });
    const done = run.start();
    clock.runAll();
    const res = await done;
    expect(res.status).toBe('completed');
    expect(exec.starts.map((s) => s.stepId)).toEqual(['a', 'b']);
    expect(exec.starts[1]!.input).toEqual({ x: 'a' });
    expect(events.map((e) => e.type)).toContain('execution_completed');
  });
});
