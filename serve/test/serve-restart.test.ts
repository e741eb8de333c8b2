/**
 * Crash recovery: `kill -9` a real `orch serve` while trigger-started runs are in flight; the
 * next `orch serve` on the same journal resumes them and they complete.
 *
 * The tests share nothing (a journal, servers and ports of their own each) and mostly wait on
 * steps that sleep, so they run at once: their waits overlap.
 */
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN } from './serve-process.js';

describe.concurrent('orch serve: restart', () => {
  it('runs interrupted by kill -9 resume on restart and complete', async ({ expect }) => {
    const db = join(tempDir(), 'runs.db');
    const first = await startServe(['slow.orch'], { db });
    const ids: string[] = [];
    for (const tag of ['t1', 't2', 't3']) {
      const r = await http(first.url, 'POST', '/events', { token: TOKEN, body: { type: 'slow', tag } });
      expect(r.json.results[0].outcome).toBe('started');
      ids.push(r.json.results[0].runId);
    }
    // Wait until every run is mid-way: its first step done, the last not yet.
    await waitFor(async () => {
      for (const id of ids) {
        const v = (await http(first.url, 'GET', `/runs/${id}`, { token: TOKEN })).json;
        const a = v.steps?.find((s: { stepId: string }) => s.stepId === 'a');
        if (a?.status !== 'completed') return undefined;
      }
      return true;
    }, 20_000, 'every run to finish its first step');
    await first.kill9();

    const second = await startServe(['slow.orch'], { db });
    try {
      expect(second.stdout()).toMatch(/resumed \d+ unfinished run/);
      for (const [i, id] of ids.entries()) {
        const done = await waitFor(async () => {
          const v = (await http(second.url, 'GET', `/runs/${id}`, { token: TOKEN })).json;
          return v.status === 'completed' || v.status === 'failed' ? v : undefined;
        }, 30_000, `run ${id} to complete after the restart`);
        expect(done.status).toBe('completed');
        expect(done.output).toEqual({ tag: `t${i + 1}` });
      }
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('a run waiting for its approval when the server died is taken up by the next one; a run paused by request stays paused', async ({ expect }) => {
    const db = join(tempDir(), 'runs.db');
    const view = async (url: string, id: string) => (await http(url, 'GET', `/runs/${id}`, { token: TOKEN })).json;
    const first = await startServe(['controls.orch'], { db });
    const gated = (await http(first.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'gated', input: { item: 'crate' } } })).json.runId;
    const held = (await http(first.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'slow', input: { tag: 'h' } } })).json.runId;
    expect((await http(first.url, 'POST', `/runs/${held}/pause`, { token: TOKEN })).status).toBe(202);
    await waitFor(async () => ((await view(first.url, gated)).status === 'paused' && (await view(first.url, held)).status === 'paused' ? true : undefined), 10_000, 'both runs paused');
    await first.kill9();

    const second = await startServe(['controls.orch'], { db });
    try {
      expect(second.stdout()).toContain(gated);
      expect(second.stdout()).not.toContain(held);
      await waitFor(async () => ((await view(second.url, gated)).steps?.find((s: { stepId: string }) => s.stepId === 'ask')?.status === 'running' ? true : undefined), 10_000, 'the approval to wait again');
      expect((await http(second.url, 'POST', `/runs/${gated}/steps/ask/approve`, { token: TOKEN, body: {} })).status).toBe(202);
      const done = await waitFor(async () => {
        const v = await view(second.url, gated);
        return v.status === 'completed' || v.status === 'failed' ? v : undefined;
      }, 20_000, 'the approved run to complete');
      expect(done.output).toEqual({ shipped: 'crate' });
      expect((await view(second.url, held)).status).toBe('paused');
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('SIGTERM gives runs a grace period, leaves longer ones unfinished, and the next start resumes them', async ({ expect }) => {
    const db = join(tempDir(), 'runs.db');
    const first = await startServe(['slow.orch'], { db });
    const quick = (await http(first.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'slow', input: { tag: 'q' } } })).json.runId;
    const long = (await http(first.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'long', input: { tag: 'l' } } })).json.runId;
    await waitFor(async () => {
      const v = (await http(first.url, 'GET', `/runs/${long}`, { token: TOKEN })).json;
      return v.steps?.find((s: { stepId: string }) => s.stepId === 'first')?.status === 'running' ? true : undefined;
    }, 10_000, 'the long run to start');
    expect(await first.stop()).toBe(0);
    expect(first.stderr()).toMatch(/1 run\(s\) left unfinished/);

    const second = await startServe(['slow.orch'], { db });
    try {
      const q = (await http(second.url, 'GET', `/runs/${quick}`, { token: TOKEN })).json;
      expect(q.status).toBe('completed'); // finished inside the grace period
      expect(second.stdout()).toContain(long);
      const done = await waitFor(async () => {
        const v = (await http(second.url, 'GET', `/runs/${long}`, { token: TOKEN })).json;
        return ['completed', 'failed', 'cancelled'].includes(v.status) ? v : undefined;
      }, 30_000, 'the long run to complete after the restart');
      expect(done.status).toBe('completed');
      expect(done.output).toEqual({ tag: 'l' });
    } finally {
      await second.stop();
    }
  });

  it('which trigger started a run is read from the journal: the next server lists it, filters by it and shows it', async ({ expect }) => {
    const db = join(tempDir(), 'runs.db');
    const get = async (url: string, path: string) => (await http(url, 'GET', path, { token: TOKEN })).json;
    const first = await startServe(['triggers.orch'], { db });
    // Fired by hand: its `started_by` is the caller, not the trigger, so only the journaled trigger can say it.
    const fired = await http(first.url, 'POST', '/triggers/by_hand/fire', { token: TOKEN, body: { product: 'kite' } });
    expect(fired.status).toBe(202);
    const byHand: string = fired.json.runId;
    const posted: string = (await http(first.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'campaign', input: { product: 'sail' } } })).json.runId;
    for (const id of [byHand, posted])
      await waitFor(async () => ((await get(first.url, `/runs/${id}`)).status === 'completed' ? true : undefined), 20_000, `run ${id} to complete`);
    expect(await first.stop()).toBe(0);

    const second = await startServe(['triggers.orch'], { db });
    try {
      const listed = (await get(second.url, '/runs')).runs as { runId: string; trigger?: string | null }[];
      expect(listed.find((r) => r.runId === byHand)).toMatchObject({ trigger: 'by_hand' });
      expect(listed.find((r) => r.runId === posted)).toMatchObject({ trigger: null });
      expect((await get(second.url, '/runs?trigger=by_hand')).runs.map((r: { runId: string }) => r.runId)).toEqual([byHand]);
      expect((await get(second.url, `/runs/${byHand}`)).trigger).toBe('by_hand');
      expect((await get(second.url, `/runs/${posted}`)).trigger).toBeNull();
      // The row's trigger is the one the run's own start journaled.
      const created = (await get(second.url, `/runs/${byHand}/timeline`)).events[0];
      expect(created).toMatchObject({ type: 'plan_created', trigger: 'by_hand' });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
