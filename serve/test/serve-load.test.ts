/**
 * Bounded loopback load: 10,000 events to a real `orch serve`; none is lost — every accepted
 * event is either matched by the triggers (each decision started / filtered / debounced) or
 * counted as unmatched, and the runs the triggers report exist in the journal.
 */
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN } from './serve-process.js';

const EVENTS = 10_000;
const CLIENTS = 16;


describe('orch serve: load', () => {
  it('accounts for every one of 10,000 events', { timeout: 180_000 }, async () => {
    const serve = await startServe(['load.orch'], { db: join(tempDir(), 'runs.db') });
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    try {
      const statuses = new Map<number, number>();
      const startedRuns = new Set<string>();
      const post = (i: number, body: object) =>
        new Promise<void>((ok, fail) => {
          const req = request(
            `${serve.url}/events`,
            { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c));
              res.on('end', () => {
                statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
                if (res.statusCode === 202) {
                  for (const r of JSON.parse(text).results) if (r.runId) startedRuns.add(r.runId);
                }
                ok();
              });
            },
          );
          req.on('error', fail);
          req.end(JSON.stringify(body));
        });
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < EVENTS) {
            const i = next++;
            // Every 10th event has a type nobody listens for.
            await post(i, i % 10 === 9 ? { type: 'noise', seq: i } : { type: 'reading', seq: i, level: i % 5, sensor: `s${i % 7}` });
          }
        }),
      );
      expect(statuses.get(202)).toBe(EVENTS);

      const stats = (await http(serve.url, 'GET', '/triggers', { token: TOKEN })).json;
      expect(stats.events.accepted).toBe(EVENTS);
      const readings = EVENTS - EVENTS / 10;
      expect(stats.events.unmatched).toBe(EVENTS / 10);
      for (const t of stats.triggers) {
        const c = t.counts;
        expect(c.started + c.filtered + c.debounced + c.invalid + c.error, t.name).toBe(readings);
        expect(c.invalid + c.error, t.name).toBe(0);
      }
      const loud = stats.triggers.find((t: { name: string }) => t.name === 'loud').counts;
      const sampled = stats.triggers.find((t: { name: string }) => t.name === 'sampled').counts;
      expect(loud.started).toBe(1); // debounce 1h: one run, the rest debounced
      let quiet = 0;
      for (let i = 0; i < EVENTS; i++) if (i % 10 !== 9 && i % 5 < 3) quiet += 1;
      expect(loud.filtered).toBe(quiet); // levels 0, 1, 2 do not pass `where event.level >= 3`
      expect(sampled.started).toBe(EVENTS / 1000); // seq 0, 1000, 2000, … are all readings

      // The metrics agree, and every started run is in the journal.
      const metrics = (await http(serve.url, 'GET', '/metrics', { token: TOKEN })).text;
      expect(metrics).toMatch(new RegExp(`orch_events_total\\{matched="true"\\} ${readings}\\b`));
      expect(metrics).toMatch(new RegExp(`orch_events_total\\{matched="false"\\} ${EVENTS / 10}\\b`));
      expect(startedRuns.size).toBe(1 + EVENTS / 1000);
      await waitFor(async () => {
        const runs: { runId: string; status: string }[] = (await http(serve.url, 'GET', '/runs', { token: TOKEN })).json.runs;
        const done = runs.filter((r) => startedRuns.has(r.runId) && r.status === 'completed');
        return done.length === startedRuns.size ? true : undefined;
      }, 30_000, 'every started run to complete');
    } finally {
      agent.destroy();
      await serve.stop();
    }
  });
});
