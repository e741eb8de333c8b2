/**
 * Schedules on a real `orch serve`: a per-second cron fires with the tick time as input, ticks
 * missed while the server was down are dropped, or replayed as ONE run with --catch-up.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN } from './serve-process.js';
import { openBackend } from '../../runtime/index.js';

interface Row {
  runId: string;
  planId: string;
}

async function tickedInputs(url: string): Promise<{ at: string; runId: string }[]> {
  const rows: Row[] = (await http(url, 'GET', '/runs', { token: TOKEN })).json.runs;
  const out = [];
  for (const r of rows.filter((x) => x.planId.endsWith('ticked'))) {
    const view = (await http(url, 'GET', `/runs/${r.runId}`, { token: TOKEN })).json;
    const note = view.steps?.find((s: { stepId: string }) => s.stepId === 'note');
    if (note?.status === 'completed') out.push({ at: note.output.value as string, runId: r.runId });
  }
  return out;
}

async function catchUpCount(url: string): Promise<number> {
  const metrics = (await http(url, 'GET', '/metrics', { token: TOKEN })).text;
  const m = /orch_schedule_catch_up_runs_total(?:\{[^}]*\})? (\d+)/.exec(metrics);
  return m ? Number(m[1]) : 0;
}

/**
 * Waits until the per-second schedule has missed a tick while no server runs: the clock is past
 * the tick after the last one the stopped server recorded. The next server then finds at least
 * one missed tick, so "dropped" is a real drop and "one run" a real coalescing, on any machine.
 */
async function untilATickIsMissed(db: string): Promise<void> {
  const state = await (await openBackend(db)).triggerState();
  const last = await state.lastTick('every_second');
  await state.close();
  expect(last).not.toBeNull();
  await waitFor(async () => (Date.now() > last! + 1100 ? true : undefined), 10_000, 'a tick to be missed');
}

describe('orch serve: schedules', () => {
  it('a per-second cron starts runs with the tick time as input', async () => {
    const serve = await startServe(['schedule.orch'], { db: join(tempDir(), 'runs.db') });
    try {
      expect(serve.stdout()).toMatch(/every_second\s+schedule "\* \* \* \* \* \*" Europe\/Paris/);
      const listed = (await http(serve.url, 'GET', '/triggers', { token: TOKEN })).json.triggers[0];
      expect(listed).toMatchObject({ name: 'every_second', kind: 'schedule', source: { cron: '* * * * * *', timezone: 'Europe/Paris' } });
      expect(Date.parse(listed.next)).toBeGreaterThan(Date.now() - 2000);
      const ticks = await waitFor(async () => {
        const t = await tickedInputs(serve.url);
        return t.length >= 2 ? t : undefined;
      }, 15_000, 'two scheduled runs');
      const times = ticks.map((t) => Date.parse(t.at));
      expect(times.every((t) => Number.isFinite(t) && t % 1000 === 0)).toBe(true);
      expect(new Set(times).size).toBe(times.length); // one run per tick
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('missed ticks are dropped by default and replayed as one run with --catch-up', async () => {
    const db = join(tempDir(), 'runs.db');
    const first = await startServe(['schedule.orch'], { db });
    await waitFor(async () => ((await tickedInputs(first.url)).length >= 1 ? true : undefined), 15_000, 'a first tick');
    await first.stop();
    await untilATickIsMissed(db);

    const plain = await startServe(['schedule.orch'], { db });
    try {
      expect(plain.stderr()).not.toMatch(/catch-up/);
      expect(await catchUpCount(plain.url)).toBe(0);
    } finally {
      await plain.stop();
    }
    await untilATickIsMissed(db);

    const catching = await startServe(['schedule.orch'], { db, args: ['--catch-up'] });
    try {
      expect(catching.stderr()).toMatch(/catch-up: every_second missed \d+ tick/);
      expect(await catchUpCount(catching.url)).toBe(1);
    } finally {
      await catching.stop();
    }
  });
});
