/**
 * Run controls over HTTP on a real `orch serve`: pause, resume, cancel, approve and reject
 * reach the real runtime, and GET /runs/:id shows the live status.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

let serve: ServeProcess;
const call = (method: string, path: string, body?: unknown) => http(serve.url, method, path, { token: TOKEN, body });
const view = async (runId: string) => (await call('GET', `/runs/${runId}`)).json;
const until = (runId: string, test: (v: any) => boolean, what: string) =>
  waitFor(async () => {
    const v = await view(runId);
    return test(v) ? v : undefined;
  }, 20_000, what);
const start = async (plan: string, input: object): Promise<string> => {
  const r = await call('POST', '/runs', { plan, input });
  expect(r.status).toBe(202);
  return r.json.runId;
};

beforeAll(async () => {
  serve = await startServe(['controls.orch'], { db: join(tempDir(), 'runs.db') });
});
afterAll(async () => {
  await serve?.stop();
});

describe('orch serve: run controls', () => {
  it('pause holds a run, resume lets it complete', async () => {
    const id = await start('slow', { tag: 'p' });
    await until(id, (v) => v.status === 'running', 'running');
    const paused = await call('POST', `/runs/${id}/pause`);
    expect(paused.status).toBe(202);
    await until(id, (v) => v.status === 'paused', 'paused');
    const resumed = await call('POST', `/runs/${id}/resume`);
    expect(resumed.status).toBe(202);
    const done = await until(id, (v) => v.status === 'completed', 'completed');
    expect(done.output).toEqual({ tag: 'p' });
    const types = (await call('GET', `/runs/${id}/timeline`)).json.events.map((e: { type: string }) => e.type);
    expect(types).toContain('execution_paused');
    expect(types).toContain('execution_resumed');
  });

  it('cancel stops a run; controlling a finished run is a 409', async () => {
    const id = await start('slow', { tag: 'c' });
    await until(id, (v) => v.status === 'running', 'running');
    expect((await call('POST', `/runs/${id}/cancel`)).status).toBe(202);
    const v = await until(id, (x) => x.status === 'cancelled', 'cancelled');
    expect(v.steps.find((s: { stepId: string }) => s.stepId === 'c').status).not.toBe('completed');
    const again = await call('POST', `/runs/${id}/pause`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/finished|cancelled/);
  });

  it('approve and reject decide an approval step', async () => {
    const yes = await start('gated', { item: 'crate' });
    const no = await start('gated', { item: 'barrel' });
    for (const id of [yes, no]) {
      await until(id, (v) => v.steps.find((s: { stepId: string }) => s.stepId === 'ask')?.status === 'running', 'waiting for approval');
    }
    expect((await call('POST', `/runs/${yes}/steps/ask/approve`)).status).toBe(202);
    expect((await call('POST', `/runs/${no}/steps/ask/reject`)).status).toBe(202);
    const approved = await until(yes, (v) => ['completed', 'failed'].includes(v.status), 'approved run to finish');
    expect(approved.output).toEqual({ shipped: 'crate' });
    const rejected = await until(no, (v) => ['completed', 'failed'].includes(v.status), 'rejected run to finish');
    expect(rejected.steps.find((s: { stepId: string }) => s.stepId === 'ship').status).not.toBe('completed');
    const unknownRun = await call('POST', '/runs/nope/steps/ask/approve');
    expect(unknownRun.status).toBe(404);
  });

  it('the metrics reflect the runs: statuses, step durations, local execution', async () => {
    const id = await start('slow', { tag: 'm' });
    await until(id, (v) => v.status === 'completed', 'completed');
    const text = await waitFor(async () => {
      const t = (await call('GET', '/metrics')).text;
      return /orch_step_duration_seconds_count\{plan="slow",status="completed"\} [1-9]/.test(t) ? t : undefined;
    }, 10_000, 'step durations in the metrics');
    expect(text).toMatch(/orch_runs\{status="completed"\} [1-9]/);
    expect(text).toMatch(/orch_runs\{status="cancelled"\} [1-9]/);
    // Every step ran on `box`, a local_device.
    expect(text).toMatch(/orch_local_execution_ratio 1\b/);
    expect(text).toMatch(/orch_queue_depth \d+/);
  });

  it('context signals reach runs in flight (`wait until context.…`)', async () => {
    const id = await start('watch', {});
    await until(id, (v) => v.steps.find((s: { stepId: string }) => s.stepId === 'hot')?.status === 'running', 'waiting on the context');
    expect((await call('POST', '/signals', { temperature: 25 })).status).toBe(202);
    expect((await view(id)).status).toBe('running');
    expect((await call('POST', '/signals', { temperature: 31 })).status).toBe(202);
    const done = await until(id, (v) => ['completed', 'failed', 'timeout'].includes(v.status), 'the watch run to finish');
    expect(done.status).toBe('completed');
  });

  it('a finished run read back from the journal has the execution-result shape (for each folded)', async () => {
    const id = await start('fan_out', { tags: ['x', 'y', 'z'] });
    await until(id, (v) => ['completed', 'failed'].includes(v.status), 'fan_out to finish');
    // Once the finish is counted the run has left memory: this read comes from the journal.
    await waitFor(async () => (/orch_runs_finished_total\{plan="fan_out",status="completed"\} 1/.test((await call('GET', '/metrics')).text) ? true : undefined), 10_000, 'the finish to be counted');
    const done = await view(id);
    expect(done).toMatchObject({
      planId: 'fan_out',
      runId: id,
      status: 'completed',
      output: { count: 3 },
      metadata: { totalSteps: 1, completedSteps: 1, failedSteps: 0, skippedSteps: 0 },
    });
    expect(done.steps).toHaveLength(1);
    expect(done.steps[0]).toMatchObject({ stepId: 'each', status: 'completed', output: [{ tag: 'x' }, { tag: 'y' }, { tag: 'z' }] });
    for (const key of ['startedAt', 'completedAt']) expect(Number.isNaN(Date.parse(done[key]))).toBe(false);
  });

  it('a run-time guardrail violation is counted in the metrics', async () => {
    const id = await start('checked', { value: 'noisy' });
    const done = await until(id, (v) => ['completed', 'failed'].includes(v.status), 'checked run to finish');
    expect(done.status).toBe('completed'); // a warning does not stop the run
    const types = (await call('GET', `/runs/${id}/timeline`)).json.events.map((e: { type: string }) => e.type);
    expect(types).toContain('guardrail_violation');
    await waitFor(async () => {
      const t = (await call('GET', '/metrics')).text;
      return /orch_guardrail_violations_total\{guardrail="[\w.]*quiet_output"\} 1\b/.test(t) ? true : undefined;
    }, 10_000, 'the violation in the metrics');
  });
});
