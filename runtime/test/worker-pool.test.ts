/**
 * The worker pool starts threads on demand (one at open, more while steps run in parallel, at
 * most `workers`): starting one thread per core up front made a short `orch run` take seconds on
 * many-core machines, and `destroy()` waits for threads still starting. Real worker threads.
 */
import { describe, expect, it } from 'vitest';
import type { CapabilityIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import { WorkerExecutor } from '../executor/worker-executor.js';
import type { AttemptOutcome, AttemptRequest } from '../scheduler/types.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, fx, tempDir } from './helpers.js';
import { capability, lit, plan, step } from './ir-builder.js';

function request(capability: CapabilityIR, stepId: string, input: AttemptRequest['input'] = {}): AttemptRequest {
  const p = plan({ capabilities: [capability], steps: [step({ id: stepId, capability: capability.name })] });
  return { runId: 'r', stepId, baseStepId: stepId, attempt: 1, purpose: 'call', capability, input, resource: null, timeoutMs: null, secrets: {}, plan: p };
}

function attempt(exec: WorkerExecutor, req: AttemptRequest): { outcome: Promise<AttemptOutcome>; abort: (reason: string) => void } {
  let handle: { abort: (reason: string) => void } | undefined;
  const outcome = new Promise<AttemptOutcome>((resolve) => {
    handle = exec.start(req, resolve);
  });
  return { outcome, abort: (reason) => handle!.abort(reason) };
}

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

  it('an error a handler leaves behind fails its own attempt, never the attempt that runs next in its thread', async () => {
    const exec = new WorkerExecutor({ workers: 1 });
    try {
      const left = await attempt(exec, request(fx('float', 'floatingReject'), 'float', { ms: 30 })).outcome;
      expect(left.ok).toBe(true);
      // The same (only) thread runs the next attempt while the rejection surfaces.
      const next = await attempt(exec, request(fx('work', 'work'), 'next', { ms: 200 })).outcome;
      expect(next).toMatchObject({ ok: true });
      expect(next.logs?.join('\n')).toMatch(/floating rejection/);
      const own = await attempt(exec, request(fx('own', 'ownStrayThrow'), 'own')).outcome;
      expect(own).toMatchObject({ ok: false, error: 'thrown in a callback' });
    } finally {
      await exec.close();
    }
  });

  it('aborting an attempt ends it whether it runs or waits in the queue; its worker is replaced', async () => {
    const exec = new WorkerExecutor({ workers: 1 });
    try {
      const hanging = attempt(exec, request(fx('hangs', 'hangs'), 'h'));
      const queued = attempt(exec, request(fx('work', 'work'), 'q', { ms: 0, value: 1 }));
      await new Promise((r) => setTimeout(r, 200));
      hanging.abort('cancelled by the test');
      queued.abort('cancelled by the test');
      for (const o of [await hanging.outcome, await queued.outcome]) expect(o).toMatchObject({ ok: false, error: expect.stringMatching(/abort/i) });
      // The one worker was stuck in a promise that never settles: only its replacement can run this.
      const after = attempt(exec, request(fx('work', 'work'), 'after', { ms: 0, value: 2 }));
      expect(await after.outcome).toMatchObject({ ok: true, output: { value: 2 } });
    } finally {
      await exec.close();
    }
  });

  it('an aborted handler that stops frees its thread at once; an attempt aborted while queued never calls its handler', async () => {
    const exec = new WorkerExecutor({ workers: 1 });
    const slow = capability('slow', { handler: { module: join(FIXTURES, 'flow-handlers.js'), export: 'slow' } });
    const log = join(tempDir('orch-pool-abort-'), 'log.txt');
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    const thread = capability('slow', { handler: { module: join(FIXTURES, 'flow-handlers.js'), export: 'thread' } });
    const threadNow = async () => ((await attempt(exec, request(thread, 't', {})).outcome) as { output: { text: string } }).output.text;
    try {
      const before = await threadNow();
      const running = attempt(exec, request(slow, 'h', { text: 'h', ms: 30_000, log }));
      const queued = attempt(exec, request(slow, 'q', { text: 'q', ms: 1, log }));
      await expect.poll(lines, { timeout: 10_000 }).toContain('start h');
      running.abort('lost race pick to x');
      queued.abort('lost race pick to x');
      for (const o of [await running.outcome, await queued.outcome]) expect(o).toMatchObject({ ok: false, error: 'attempt aborted' });
      const after = attempt(exec, request(slow, 'after', { text: 'after', ms: 1, log }));
      expect(await after.outcome).toMatchObject({ ok: true, output: { text: 'after' } });
      // `h` stopped on its signal and `q` was skipped, so the one thread was never ended (as it
      // is when a handler is still running ABORT_GRACE_MS after its abort): the same thread ran
      // everything, and `after` did not wait for the grace to start.
      expect(await threadNow()).toBe(before);
      expect(lines()).toEqual(['start h', 'aborted (AbortError: cancelled: lost race pick to x) h', 'start after', 'end after']);
    } finally {
      await exec.close();
    }
  });
});

