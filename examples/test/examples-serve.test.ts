/**
 * The examples' triggers work under a real `orch serve`: the incident example's event trigger
 * filters on `where event.ppm >= 50` and maps the event into the plan input, the campaign's API
 * trigger starts a run that waits for its approval over HTTP, and its on-call module's chain
 * trigger (`after campaigns.campaign_launch failed`) reacts to a rolled-back launch.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../../serve/test/http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from '../../serve/test/serve-process.js';
import { REPO_ROOT } from './cli.js';

const example = (file: string): string => path.join(REPO_ROOT, 'examples', file);
const servers: ServeProcess[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function serve(...files: string[]): Promise<ServeProcess> {
  const s = await startServe(files.map(example), { db: path.join(tempDir('orch-examples-serve-'), 'runs.db') });
  servers.push(s);
  return s;
}

interface RunView {
  readonly status: string;
  readonly output: Record<string, unknown>;
  readonly steps: readonly { stepId: string; status: string }[];
}

/** Polls GET /runs/:id until `until` holds for the run. */
async function poll(s: ServeProcess, runId: string, until: (run: RunView) => boolean): Promise<RunView> {
  for (;;) {
    const r = await http(s.url, 'GET', `/runs/${runId}`, { token: TOKEN });
    expect(r.status).toBe(200);
    if (until(r.json as RunView)) return r.json as RunView;
    await new Promise((done) => setTimeout(done, 100));
  }
}

const finished = (run: RunView): boolean => ['completed', 'failed', 'cancelled', 'timeout'].includes(run.status);
const stepStatus = (run: RunView, id: string): string | undefined => run.steps.find((x) => x.stepId === id)?.status;

describe('examples under orch serve', () => {
  it('incident_response: a gas reading above 50 ppm starts the response; a low one is filtered', async () => {
    const s = await serve('incident_response/incident.orch');
    const low = await http(s.url, 'POST', '/events', {
      token: TOKEN,
      body: { type: 'sensor.gas', id: 'inc-1', sensor_id: 'gs-1', ppm: 12, lat: 53.5, lon: 9.9, address: '1 Dock Road' },
    });
    expect(low.status).toBeLessThan(300);
    expect(low.json.results).toEqual([{ trigger: 'gas_sensor_alarm', outcome: 'filtered' }]);

    const high = await http(s.url, 'POST', '/events', {
      token: TOKEN,
      body: { type: 'sensor.gas', id: 'inc-2', sensor_id: 'gs-2', ppm: 120, lat: 53.5, lon: 9.9, address: '4 Dock Road' },
    });
    expect(high.status).toBeLessThan(300);
    const [started] = high.json.results as { trigger: string; outcome: string; runId: string }[];
    expect(started).toMatchObject({ trigger: 'gas_sensor_alarm', outcome: 'started' });

    const run = await poll(s, started!.runId, finished);
    expect(run.status).toBe('completed');
    // Input mapped from the event (`incident_id: event.id`), the default `kind` filled in.
    expect(run.output.case).toBe('case-inc-2-3');
    expect(run.output.drone).toBe('drone-inc-2');
  });

  it('campaign_launch: POST /campaigns starts a launch that waits for, then honours, an approval', async () => {
    const s = await serve('campaign_launch/campaign.orch');
    const input = { product_id: 'prod-tundra', audience: 'enterprise', recipients: [{ email: 'dee@example.com', name: 'Dee' }] };
    const start = await http(s.url, 'POST', '/campaigns', { token: TOKEN, body: input });
    expect(start.status, start.text).toBeLessThan(300);
    const runId = start.json.runId as string;
    expect(typeof runId).toBe('string');

    // The server keeps the run waiting at its approval step, paused (LANGUAGE.md §7.4); nothing is sent meanwhile.
    const waiting = await poll(s, runId, (run) => finished(run) || run.status === 'paused');
    expect(waiting.status).toBe('paused');
    expect(stepStatus(waiting, 'approve')).toBe('running');
    expect(stepStatus(waiting, 'send')).toBe('pending');

    const approved = await http(s.url, 'POST', `/runs/${runId}/steps/approve/approve`, { token: TOKEN, body: {} });
    expect(approved.status, approved.text).toBeLessThan(300);
    const done = await poll(s, runId, finished);
    expect(done.status).toBe('completed');
    expect(done.output).toMatchObject({ sent: 1, subject: 'Meet the Tundra Cooler' });
  });

  it('campaign_launch + oncall: a launch that rolls back fires the chain trigger that pages on-call', async () => {
    const s = await serve('campaign_launch/campaign.orch', 'campaign_launch/oncall.orch');
    const input = {
      product_id: 'prod-aurora',
      audience: 'smb',
      recipients: [
        { email: 'ana@example.com', name: 'Ana' },
        { email: 'nobody@bounce.invalid', name: 'Nobody' },
      ],
    };
    const start = await http(s.url, 'POST', '/campaigns', { token: TOKEN, body: input });
    const runId = start.json.runId as string;
    await poll(s, runId, (run) => stepStatus(run, 'approve') === 'running');
    await http(s.url, 'POST', `/runs/${runId}/steps/approve/approve`, { token: TOKEN, body: {} });
    expect((await poll(s, runId, finished)).status).toBe('failed');

    const page = await (async () => {
      for (;;) {
        const runs = (await http(s.url, 'GET', '/runs?plan=launch_postmortem', { token: TOKEN })).json.runs as { runId: string }[];
        if (runs.length > 0) return poll(s, runs[0]!.runId, finished);
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    expect(page.status).toBe('completed');
    expect(page.output).toEqual({ paged: true });
  });
});
