/**
 * The attempt count docs/language.md states for retries with fallback resources, observed on the
 * scheduler: `(1 + retries) × (1 + fallback resources) + (1 if a fallback call)`.
 */
import { describe, expect, it } from 'vitest';
import { Run, VirtualClock } from '../scheduler/index.js';
import { capability, plan, resource, retry, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

async function attempts(withFallbackCall: boolean): Promise<{ starts: string[]; status: string }> {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock, () => ({ latency: 10, outcome: { ok: false, error: 'down' } }));
  const p = plan({
    capabilities: [capability('c'), capability('backup')],
    resources: [resource('r1'), resource('r2')],
    steps: [
      step({
        id: 'a',
        capability: 'c',
        retry: retry(2, 5),
        binding: { resource: 'r1', tier: 'local', rationale: 'test', fallbacks: ['r2'] },
        ...(withFallbackCall ? { fallback: { capability: 'backup', args: {} } } : {}),
      }),
    ],
  });
  const done = new Run(p, { clock, executor: exec }, { runId: 'n' }).start();
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 0; i < 1000 && !finished; i++) {
    clock.runAll();
    await new Promise((r) => setImmediate(r));
  }
  const result = await done;
  return { starts: exec.starts.map((s) => `${s.capability.name}@${s.resource?.name ?? '-'}`), status: result.status };
}

describe('attempts of a step with retries and fallback resources', () => {
  it('retry 2 and one fallback resource: 3 attempts on each resource, 6 in all', async () => {
    const r = await attempts(false);
    expect(r.status).toBe('failed');
    expect(r.starts).toEqual(['c@r1', 'c@r1', 'c@r1', 'c@r2', 'c@r2', 'c@r2']);
  });

  it('with a fallback call: one attempt more, 7 in all', async () => {
    const r = await attempts(true);
    expect(r.starts).toHaveLength(7);
    expect(r.starts[6]).toMatch(/^backup@/);
  });
});
