/**
 * The worker pool starts threads on demand (one at open, more while steps run in parallel, at
 * most `workers`): starting one thread per core up front made a short `orch run` take seconds on
 * many-core machines, and `destroy()` waits for threads still starting. Real worker threads.
 */
import { describe, expect, it } from 'vitest';
import { Runtime } from '../index.js';
import { WorkerExecutor } from '../executor/worker-executor.js';
import { fx } from './helpers.js';
import { lit, plan, step } from './ir-builder.js';

describe('worker pool', () => {
  it('opens with one thread and grows for parallel steps up to the worker limit', async () => {
    const exec = new WorkerExecutor({ workers: 3 });
    const rt = await Runtime.open({ db: null, executor: exec });
    try {
      expect(exec.pool.threads.length).toBe(1);
      const p = plan({
        capabilities: [fx('work', 'work')],
        steps: Array.from({ length: 6 }, (_, i) => step({ id: `s${i}`, capability: 'work', args: { ms: lit(300), value: lit(i) } })),
      });
      const active = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} } });
      const result = await active.result;
      expect(result.status).toBe('completed');
      expect(exec.pool.threads.length).toBeGreaterThan(1);
      expect(exec.pool.threads.length).toBeLessThanOrEqual(3);
    } finally {
      await rt.close();
      await exec.close();
    }
  });
});
