/**
 * Drives a real `orch serve` process (real compiler, runtime and SQLite journal) over HTTP on
 * 127.0.0.1: each trigger kind fires the right plan with the right input.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

let serve: ServeProcess;
const call = (method: string, path: string, body?: unknown) => http(serve.url, method, path, { token: TOKEN, body });

interface RunRow {
  runId: string;
  planId: string;
  status: string;
}
const runs = async (): Promise<RunRow[]> => (await call('GET', '/runs')).json.runs;
const finished = (runId: string) =>
  waitFor(async () => {
    const r = await call('GET', `/runs/${runId}`);
    return ['completed', 'failed', 'cancelled', 'timeout'].includes(r.json?.status) ? r.json : undefined;
  }, 30_000, `run ${runId} to finish`);
const triggerCounts = async (name: string) =>
  (await call('GET', '/triggers')).json.triggers.find((t: { name: string }) => t.name === name).counts;

beforeAll(async () => {
  serve = await startServe(['triggers.orch'], { db: join(tempDir(), 'runs.db') });
});
afterAll(async () => {
  const code = await serve?.stop();
  expect(code).toBe(0);
});

describe('orch serve: triggers', () => {
  it('prints a banner listing every active trigger and the URL', () => {
    const out = serve.stdout();
    expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    for (const name of ['on_leak', 'on_door', 'on_crash', 'by_hand', 'via_api', 'too_hot', 'chained', 'on_fail', 'limited']) {
      expect(out).toContain(name);
    }
    expect(out).not.toContain(TOKEN); // a token from the environment is never echoed
  });

  it('an event trigger starts its plan with the input built from the event', async () => {
    const r = await call('POST', '/events', { type: 'door.open', door: 'front' });
    expect(r.status).toBe(202);
    expect(r.json.results).toEqual([{ trigger: 'on_door', outcome: 'started', runId: expect.any(String) }]);
    const result = await finished(r.json.results[0].runId);
    expect(result.planId).toMatch(/respond$/);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ sensor: 'front' });
  });

  it('event `where` filters and `debounce` suppresses, and every event is accounted for', async () => {
    const before = await triggerCounts('on_leak');
    const low = await call('POST', '/events', { type: 'sensor.leak', severity: 1, device_id: 'kitchen' });
    expect(low.json.results).toEqual([{ trigger: 'on_leak', outcome: 'filtered' }]);
    const high = await call('POST', '/events', { type: 'sensor.leak', severity: 5, device_id: 'bath' });
    expect(high.json.results[0].outcome).toBe('started');
    const again = await call('POST', '/events', { type: 'sensor.leak', severity: 5, device_id: 'cellar' });
    expect(again.json.results).toEqual([{ trigger: 'on_leak', outcome: 'debounced', retryAfterMs: expect.any(Number) }]);
    const result = await finished(high.json.results[0].runId);
    expect(result.output).toEqual({ sensor: 'bath' });
    const after = await triggerCounts('on_leak');
    expect(after.started - before.started).toBe(1);
    expect(after.filtered - before.filtered).toBe(1);
    expect(after.debounced - before.debounced).toBe(1);
  });

  it('an event of a type nobody listens for is accepted and counted as unmatched', async () => {
    const before = (await call('GET', '/triggers')).json.events;
    const r = await call('POST', '/events', { type: 'nobody.cares' });
    expect(r.status).toBe(202);
    expect(r.json.results).toEqual([]);
    const after = (await call('GET', '/triggers')).json.events;
    expect(after.accepted - before.accepted).toBe(1);
    expect(after.unmatched - before.unmatched).toBe(1);
  });

  it('a manual trigger fires on POST /triggers/NAME/fire with the body as input', async () => {
    const r = await call('POST', '/triggers/by_hand/fire', { product: 'lamp' });
    expect(r.status).toBe(202);
    const result = await finished(r.json.runId);
    expect(result.planId).toMatch(/campaign$/);
    expect(result.steps.find((s: { stepId: string }) => s.stepId === 'make').output).toEqual({ value: 'lamp' });
    const wrongKind = await call('POST', '/triggers/on_door/fire', {});
    expect(wrongKind.status).toBe(409);
  });

  it('an api trigger answers POST on its path; the body is the validated plan input', async () => {
    const ok = await call('POST', '/campaigns', { product: 'kettle' });
    expect(ok.status).toBe(202);
    const result = await finished(ok.json.runId);
    expect(result.steps[0].output).toEqual({ value: 'kettle' });
    const bad = await call('POST', '/campaigns', { prodcut: 'kettle' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/product|prodcut/);
    const get = await call('GET', '/campaigns');
    expect(get.status).toBe(405);
  });

  it('a debounced api trigger answers 429 inside its window', async () => {
    const first = await call('POST', '/limited', { product: 'a' });
    expect(first.status).toBe(202);
    const second = await call('POST', '/limited', { product: 'b' });
    expect(second.status).toBe(429);
    expect(second.json.error).toMatch(/debounce/);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(3500); // most of the 1h window is left
  });

  it('a condition trigger fires on the rising edge only', async () => {
    const coolRuns = async () => (await runs()).filter((r) => r.planId.endsWith('cool_down')).length;
    const start = await coolRuns();
    const fires: number[] = [];
    for (const temperature of [20, 29, 30, 31, 27, 29.5, 29.5, 10]) {
      const r = await call('POST', '/signals', { temperature });
      expect(r.status).toBe(202);
      fires.push(r.json.results.length);
    }
    expect(fires).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    expect((await call('GET', '/context')).json.context).toEqual({ temperature: 10 });
    await waitFor(async () => ((await coolRuns()) - start === 2 ? true : undefined), 10_000, 'two cool_down runs');
  });

  it('a chain fires once per completion of the plan it follows, with that run as `event`', async () => {
    const r = await call('POST', '/events', { type: 'door.open', door: 'back' });
    const source = r.json.results[0].runId as string;
    await finished(source);
    const report = await waitFor(async () => {
      for (const row of (await runs()).filter((x) => x.planId.endsWith('report'))) {
        const view = (await call('GET', `/runs/${row.runId}`)).json;
        if (view.steps?.[0]?.output?.value === `current:${source}`) return view;
      }
      return undefined;
    }, 20_000, 'the chained report run');
    expect(report.planId).toMatch(/report$/);
    // Every completed `respond` run has exactly one chained report, never two.
    const completedResponds = (await runs()).filter((x) => x.planId.endsWith('respond') && x.status === 'completed').length;
    // A chain starts right after the run it follows ends; give the last one that moment.
    const counts = await waitFor(async () => {
      const c = await triggerCounts('chained');
      return c.started >= completedResponds ? c : undefined;
    }, 10_000, 'a chained run per completed respond run');
    expect(counts.started).toBe(completedResponds);
    const reports = (await runs()).filter((x) => x.planId.endsWith('report'));
    const sources = await Promise.all(reports.map(async (x) => (await call('GET', `/runs/${x.runId}`)).json.steps[0]?.output?.value));
    const chainedSources = sources.filter((v) => typeof v === 'string' && v.startsWith('current:'));
    expect(new Set(chainedSources).size).toBe(chainedSources.length); // never two reports for one run
  });

  it('`after … failed` fires when the plan fails, not when it completes', async () => {
    const r = await call('POST', '/events', { type: 'crash', reason: 'disk' });
    const failed = await finished(r.json.results[0].runId);
    expect(failed.status).toBe('failed');
    await waitFor(async () => ((await triggerCounts('on_fail')).started === 1 ? true : undefined), 10_000, 'on_fail');
    const reports = await waitFor(async () => {
      const found = [];
      for (const row of (await runs()).filter((x) => x.planId.endsWith('report'))) {
        const view = (await call('GET', `/runs/${row.runId}`)).json;
        if (view.steps?.[0]?.output?.value === `failed:${failed.runId}`) found.push(view);
      }
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the report of the failure');
    expect(reports).toHaveLength(1);
  });

  it('POST /runs starts any loaded plan; GET /runs/:id/timeline shows its journal', async () => {
    const r = await call('POST', '/runs', { plan: 'respond', input: { sensor: 'manual' } });
    expect(r.status).toBe(202);
    const result = await finished(r.json.runId);
    expect(result.output).toEqual({ sensor: 'manual' });
    const filtered = (await call('GET', '/runs?plan=respond&status=completed&limit=2')).json.runs as RunRow[];
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.length).toBeLessThanOrEqual(2);
    expect(filtered.every((x) => x.planId === 'respond' && x.status === 'completed')).toBe(true);
    expect((await call('GET', '/runs?limit=zero')).status).toBe(400);
    const misspelt = await call('GET', '/runs?status=complete');
    expect(misspelt.status).toBe(400);
    expect(misspelt.json.error).toBe('"status" must be one of running, paused, interrupted, completed, failed, cancelled, timeout');
    const t = await call('GET', `/runs/${r.json.runId}/timeline`);
    expect(t.status).toBe(200);
    const types = t.json.events.map((e: { type: string }) => e.type);
    expect(types).toContain('execution_started');
    expect(types).toContain('execution_completed');
  });
});

