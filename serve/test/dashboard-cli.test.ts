/**
 * `orch ui` over a journal another process wrote (no modules, no triggers fired, nothing
 * resumed), and `orch timeline RUN --format svg|html` as self-contained files.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { FIXTURES, REPO, startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

let db: string;
let runId: string;
let ui: ServeProcess | undefined;

beforeAll(async () => {
  db = join(tempDir(), 'runs.db');
  const serve = await startServe(['dashboard.orch'], { db });
  try {
    runId = (await http(serve.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'chain', input: { tag: 'pic' } } })).json.runId;
    await waitFor(async () => ((await http(serve.url, 'GET', `/runs/${runId}`, { token: TOKEN })).json.status === 'completed' ? true : undefined), 20_000, 'chain to finish');
  } finally {
    await serve.stop();
  }
});
afterAll(async () => {
  await ui?.stop();
});

const orch = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin/orch.js'), ...args], { cwd: FIXTURES, encoding: 'utf8' });

describe('orch timeline --format', () => {
  it('svg: one standalone SVG with the Gantt and the DAG, no script, no external reference', () => {
    const r = orch('timeline', runId, '--db', db, '--format', 'svg');
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('<svg')).toBe(true);
    expect(r.stdout.match(/class="bar running/g)).toHaveLength(3);
    expect(r.stdout.match(/class="node" data-step="[a-z]+" data-status="completed"/g)).toHaveLength(3);
    expect(r.stdout).not.toMatch(/<script|href="http|src="http/);
  });

  it('html: one self-contained page, written with --out', () => {
    const out = join(tempDir(), 'run.html');
    const r = orch('timeline', runId, '--db', db, '--format', 'html', '--out', out);
    expect(r.status).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`run ${runId} (completed)`);
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('a bad format is a usage error', () => {
    const r = orch('timeline', runId, '--db', db, '--format', 'png');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/text, svg or html/);
  });
});

describe('orch ui', () => {
  it('serves the dashboard and the API over the journal, with no plans loaded and no trigger', async () => {
    ui = await startServe([], { db, uiMode: true });
    expect(ui.stdout()).toMatch(/orch ui listening on/);
    const runs = (await http(ui.url, 'GET', '/runs', { token: TOKEN })).json.runs;
    expect(runs.map((r: { runId: string }) => r.runId)).toContain(runId);
    expect((await http(ui.url, 'GET', `/runs/${runId}/plan`, { token: TOKEN })).json.plan.steps).toHaveLength(3);
    expect((await http(ui.url, 'GET', '/triggers', { token: TOKEN })).json.triggers).toEqual([]);
    expect((await http(ui.url, 'GET', '/')).status).toBe(303);
  });

  it('refuses a journal that does not exist', () => {
    const r = orch('ui', '--db', join(tempDir(), 'none.db'), '--port', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no journal at/);
  });
});
