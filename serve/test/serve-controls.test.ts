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

  it('cancels one step over the API; the run completes without it (LANGUAGE.md §7.4)', async () => {
    const id = await start('stuck', { tag: 's' });
    await until(id, (v) => v.steps.find((s: { stepId: string }) => s.stepId === 'slow')?.status === 'running', 'slow running');
    const r = await call('POST', `/runs/${id}/steps/slow/cancel`);
    expect(r.status).toBe(202);
    const done = await until(id, (v) => v.status === 'completed', 'completed');
    expect(done.output).toEqual({ quick: 's', slow: 'cancelled' });
    expect(done.steps.find((s: { stepId: string }) => s.stepId === 'slow').status).toBe('cancelled');
    const types = (await call('GET', `/runs/${id}/timeline`)).json.events.map((e: { type: string }) => e.type);
    expect(types).toContain('step_cancelled');
    expect((await call('POST', `/runs/${id}/steps/slow/cancel`)).status).toBe(409);
    expect((await call('POST', '/runs/nope/steps/slow/cancel')).status).toBe(404);
  });

  it('consent: granted in POST /runs or an api trigger body, missing scopes named (LANGUAGE.md §7.2)', async () => {
    const denied = await call('POST', '/runs', { plan: 'consented', input: { value: 'hi' } });
    expect(denied.status).toBe(202);
    const failed = await until(denied.json.runId, (v) => v.status === 'failed', 'failed for consent');
    expect(JSON.stringify(failed.error)).toContain('messaging');
    expect(failed.steps.find((s: { stepId: string }) => s.stepId === 'tell')?.status ?? 'pending').not.toBe('completed');
    const deniedTypes = (await call('GET', `/runs/${denied.json.runId}/timeline`)).json.events.map((e: { type: string }) => e.type);
    expect(deniedTypes).toContain('consent_denied');

    const granted = await call('POST', '/runs', { plan: 'consented', input: { value: 'hi' }, consent: ['messaging'] });
    expect(granted.status).toBe(202);
    expect((await until(granted.json.runId, (v) => v.status === 'completed', 'completed')).output).toEqual({ said: 'hi' });

    const viaTrigger = await call('POST', '/notify', { value: 'yo', consent: ['messaging'] });
    expect(viaTrigger.status).toBe(202);
    expect((await until(viaTrigger.json.runId, (v) => v.status === 'completed', 'trigger run completed')).output).toEqual({ said: 'yo' });

    // A trigger may declare the scopes it grants: `consent "messaging"`.
    const declared = await call('POST', '/notify-granted', { value: 'yes' });
    expect(declared.status).toBe(202);
    expect((await until(declared.json.runId, (v) => v.status === 'completed', 'declared-consent run completed')).output).toEqual({ said: 'yes' });

    expect((await call('POST', '/runs', { plan: 'consented', input: { value: 'hi' }, consent: 'messaging' })).status).toBe(400);
    expect((await call('POST', '/notify', { value: 'yo', consent: [1] })).status).toBe(400);
  });

  it('retry runs a failed run again as a new run, from its journal; only an ended, uncompleted run', async () => {
    const marker = join(tempDir(), 'seen');
    const first = await start('fails_once', { marker });
    await until(first, (v) => v.status === 'failed', 'first run failed');
    const r = await call('POST', `/runs/${first}/retry`);
    expect(r.status).toBe(202);
    expect(r.json.retryOf).toBe(first);
    expect(r.json.runId).not.toBe(first);
    const second = await until(r.json.runId, (v) => v.status === 'completed', 'retry completed');
    expect(second.output).toEqual({ said: 'second time' });
    const created = (await call('GET', `/runs/${r.json.runId}/timeline`)).json.events[0];
    expect(created).toMatchObject({ type: 'plan_created', retryOf: first, input: { marker } });
    expect((await view(first)).status).toBe('failed'); // the original stays as it was
    const again = await call('POST', `/runs/${r.json.runId}/retry`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/only a failed, timed-out or cancelled run/);
    expect((await call('POST', '/runs/nope/retry')).status).toBe(404);
  });

  it('approve and reject decide an approval step', async () => {
    const yes = await start('gated', { item: 'crate' });
    const no = await start('gated', { item: 'barrel' });
    for (const id of [yes, no]) {
      await until(id, (v) => v.steps.find((s: { stepId: string }) => s.stepId === 'ask')?.status === 'running', 'waiting for approval');
      // Only a human can move it on: the run is paused (LANGUAGE.md §7.4), and `resume` says so.
      await until(id, (v) => v.status === 'paused', 'paused for its approval');
      const resume = await call('POST', `/runs/${id}/resume`);
      expect(resume.status).toBe(409);
      expect(resume.json.error).toMatch(/waits for approval of ask/);
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

  it('an approval inside a sub-plan: the run is paused, the inbox lists it by its path, and deciding it there continues both runs', async () => {
    const id = await start('launch', { item: 'pallet' });
    await until(id, (v) => v.status === 'paused', 'paused for its sub-plan approval');
    const resume = await call('POST', `/runs/${id}/resume`);
    expect(resume.status).toBe(409);
    expect(resume.json.error).toMatch(/waits for approval of review\/ask/);
    const inbox = await waitFor(async () => {
      const r = await call('GET', '/approvals');
      const mine = (r.json.approvals as { runId: string; stepId: string; summary: string; approver: string }[]).filter((a) => a.runId === id);
      return mine.length ? mine : undefined;
    }, 20_000, 'the sub-plan approval in the inbox');
    expect(inbox).toEqual([expect.objectContaining({ runId: id, planId: 'launch', stepId: 'review/ask', approver: 'ops', summary: 'Ship pallet?' })]);
    expect((await call('POST', `/runs/${id}/steps/${encodeURIComponent('review/ask')}/approve`)).status).toBe(202);
    const done = await until(id, (v) => ['completed', 'failed'].includes(v.status), 'the launch to finish');
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ shipped: 'pallet' });
  });

  it('approvals inside for each are listed once per waiting instance (ask[0], ask[1]) and decided by instance key', async () => {
    const id = await start('gated_each', { items: ['left', 'right'] });
    await until(id, (v) => v.status === 'paused', 'paused for its approvals');
    const inbox = (await call('GET', '/approvals')).json.approvals as { runId: string; stepId: string }[];
    expect(inbox.filter((a) => a.runId === id).map((a) => a.stepId).sort()).toEqual(['ask[0]', 'ask[1]']);
    for (const key of ['ask[0]', 'ask[1]']) expect((await call('POST', `/runs/${id}/steps/${encodeURIComponent(key)}/approve`)).status).toBe(202);
    const done = await until(id, (v) => ['completed', 'failed'].includes(v.status), 'both approved');
    expect(done).toMatchObject({ status: 'completed', output: { answered: 2 } });
  });

  it('an approval that is a race branch is listed by its step id and decides the race', async () => {
    const id = await start('gated_race', {});
    const listed = await waitFor(async () => {
      const mine = ((await call('GET', '/approvals')).json.approvals as { runId: string; stepId: string; summary: string }[]).filter((a) => a.runId === id);
      return mine.length ? mine : undefined;
    }, 20_000, 'the race approval in the inbox');
    expect(listed).toEqual([expect.objectContaining({ stepId: 'ask', summary: 'Go now?' })]);
    expect((await call('POST', `/runs/${id}/steps/ask/approve`)).status).toBe(202);
    const done = await until(id, (v) => ['completed', 'failed'].includes(v.status), 'the race to be decided');
    expect(done).toMatchObject({ status: 'completed', output: { by: 'ask' } });
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

  it('privacy score: 1 on the resources page while no step touched @personal data (as in the preview and /metrics), then from the steps that ran', async () => {
    expect((await call('GET', '/resources')).json.privacyScore).toBe(1);
    const id = await start('private_echo', { who: 'Dana' });
    await until(id, (v) => v.status === 'completed', 'completed');
    const resources = (await call('GET', '/resources')).json;
    // `keep` reads an @personal input and ran on `box` (local tier): all of it stayed near.
    expect(resources.privacyScore).toBe(1);
    expect(resources.localRatio).toBe(1);
    await waitFor(async () => (/orch_privacy_score 1\b/.test((await call('GET', '/metrics')).text) ? true : undefined), 10_000, 'the privacy score in the metrics');
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
