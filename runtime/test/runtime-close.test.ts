/**
 * `Runtime.close({ cancel: false })` (what `orch serve` does when it stops): runs in flight are
 * left unfinished and resumable in the journal, not cancelled. Real worker threads and SQLite.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Runtime, RunDetached } from '../index.js';
import { fx, tempDir } from './helpers.js';
import { lit, out, plan, step } from './ir-builder.js';

const config = { file: null, hooks: {}, secrets: {} };
const p = plan({
  name: 'paced',
  capabilities: [fx('work', 'work')],
  steps: [
    step({ id: 'a', capability: 'work', args: { value: lit('x') } }),
    step({ id: 'pause', capability: null, action: { type: 'wait', duration_ms: lit(1500) }, deps: ['a'] }),
    step({ id: 'c', capability: 'work', deps: ['pause'], args: { value: out('a', 'value') } }),
  ],
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error('condition not reached');
}

describe('Runtime.close({ cancel: false })', () => {
  it('leaves a run in flight unfinished, and another runtime resumes it to completion', async () => {
    const db = join(tempDir(), 'runs.db');
    const first = await Runtime.open({ db, workers: 1, controlPollMs: 50 });
    const active = await first.start(p, { config });
    await until(() => active.run.stepView('pause')?.status === 'running');
    await first.close({ cancel: false });
    await expect(active.result).rejects.toBeInstanceOf(RunDetached);

    const second = await Runtime.open({ db, workers: 1, controlPollMs: 50 });
    try {
      const row = second.journal!.getRun(active.runId)!;
      expect(row.status).toBe('running');
      expect(row.owner_pid).toBeNull();
      expect(second.journal!.load(active.runId).map((e) => e.type)).not.toContain('execution_cancelled');
      const resumed = await second.resume(active.runId, { config });
      const result = await resumed.result;
      expect(result.status).toBe('completed');
      expect(result.steps.find((s) => s.stepId === 'c')?.output).toMatchObject({ value: 'x' });
      // `a` finished before the stop: it ran once, not again after the resume.
      expect(second.journal!.load(active.runId).filter((e) => e.type === 'step_started' && e.stepId === 'a')).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('the default close still cancels runs in flight', async () => {
    const rt = await Runtime.open({ db: join(tempDir(), 'runs.db'), workers: 1 });
    const active = await rt.start(p, { config });
    await until(() => active.run.stepView('pause')?.status === 'running');
    await rt.close();
    expect((await active.result).status).toBe('cancelled');
  });
});
