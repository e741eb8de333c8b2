/**
 * Crash recovery: `kill -9` a real `orch serve` while trigger-started runs are in flight; the
 * next `orch serve` on the same journal resumes them and they complete.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { ensureBuilt, startServe, tempDir, TOKEN } from './serve-process.js';

describe('orch serve: restart', () => {
  it('runs interrupted by kill -9 resume on restart and complete', async () => {
    ensureBuilt();
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
});
