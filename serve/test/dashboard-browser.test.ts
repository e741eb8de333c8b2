/**
 * The dashboard in real headless Chromium against a real `orch serve` process: sign in, watch a
 * run appear and its steps change colour live, approve from the inbox, cancel a run and one step,
 * open the Gantt, read the spend by plan, capability and model.
 * Every test saves a screenshot under test-output/dashboard/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium, pageErrors, screenshotDir, signIn } from './dashboard-helpers.js';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

if (!haveChromium) console.warn('dashboard-browser.test: SKIPPED — /usr/bin/chromium is missing (apt-get install -y chromium)');

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let shots: string;
const api = (method: string, path: string, body?: unknown) => http(serve.url, method, path, { token: TOKEN, body });
const start = async (plan: string, input: object): Promise<string> => {
  const r = await api('POST', '/runs', { plan, input });
  expect(r.status).toBe(202);
  return r.json.runId;
};
const nodeStatus = (step: string) => page.locator(`.dag .node[data-step="${step}"]`).getAttribute('data-status');

beforeAll(async () => {
  if (!haveChromium) return;
  shots = screenshotDir();
  serve = await startServe(['dashboard.orch'], { db: join(tempDir(), 'runs.db') });
  browser = await launchChromium();
  page = await signIn(browser, serve.url, TOKEN);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  it('signs in and shows the runs page with its status counts', async () => {
    // One count per run status the runs page lists (serve/ui/runs-view.ts STATUSES; `interrupted` is new).
    expect(await page.locator('.counts .count').count()).toBe(8);
    expect(await page.locator('header nav a').allTextContents()).toEqual(['Runs', 'Approvals', 'Triggers', 'Resources', 'Audit']);
    await page.locator('.live', { hasText: 'live' }).waitFor();
    await page.screenshot({ path: join(shots, 'runs-empty.png'), fullPage: true });
  });

  it('a started run appears in the list, and its steps change colour live', async () => {
    const id = await start('chain', { tag: 'live' });
    await page.locator(`tr[data-run="${id}"]`).waitFor({ timeout: 10_000 });
    await page.click(`tr[data-run="${id}"] a`);
    await page.locator('.dag .node').first().waitFor();
    expect(await page.locator('.dag .node').count()).toBe(3);
    // Every status the page gives `second`, recorded by the page itself as the DOM changes: a
    // poll from here missed its running phase on a loaded box.
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[] };
      w.seen = [];
      const note = () => {
        const n = document.querySelector('.dag .node[data-step="second"]');
        if (n) w.seen.push(n.getAttribute('data-status') ?? '');
      };
      note();
      new MutationObserver((records) => {
        for (const r of records) if (r.type === 'attributes' && r.oldValue !== null && (r.target as Element).matches('.node[data-step="second"]')) w.seen.push(r.oldValue);
        note();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'], attributeOldValue: true });
    });
    await page.locator('.dag .node[data-step="third"][data-status="completed"]').waitFor({ timeout: 20_000 });
    const seen = new Set(await page.evaluate(() => (window as unknown as { seen: string[] }).seen));
    // `second` was seen running before it completed: the colours changed while the run ran.
    expect(seen.has('running') || seen.has('queued'), [...seen].join(', ')).toBe(true);
    await page.locator('.run-status .badge', { hasText: 'completed' }).waitFor();
    const fill = await page.locator('.dag .node[data-step="third"] rect').evaluate((r) => getComputedStyle(r).fill);
    expect(fill).toBe('rgb(46, 158, 91)'); // --completed
    expect(await page.locator('.events li').count()).toBeGreaterThan(6);
    // The run's version (§8.6): the IR hash its plan_created recorded.
    const { events } = (await api('GET', `/runs/${id}/timeline`)).json as { events: { type: string; ir_hash?: string }[] };
    const hash = events.find((e) => e.type === 'plan_created')!.ir_hash!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    await page.locator('p.muted', { hasText: `version ${hash.slice(0, 12)}` }).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: join(shots, 'run-live.png'), fullPage: true });
  });

  it('the Gantt timeline shows a bar per step phase, in its resource lane', async () => {
    const gantt = page.locator('#gantt');
    expect(await gantt.isVisible()).toBe(true);
    // The chart is redrawn at most every 250 ms from the live events: wait for the last one (a
    // loaded CI box can take seconds to deliver and draw them).
    await page.waitForFunction(() => document.querySelectorAll('#gantt rect.bar.running:not(.open)').length === 3, undefined, { timeout: 20_000 });
    expect(await gantt.locator('rect.bar.running').count()).toBe(3);
    expect(await gantt.locator('text.lane').allTextContents()).toEqual(['box']);
    await gantt.screenshot({ path: join(shots, 'gantt.png') });
  });

  it('approves a pending approval by clicking, and the run finishes', async () => {
    const id = await start('gate', { item: 'crate' });
    await page.goto(`${serve.url}/#/approvals`);
    const card = page.locator(`.approval[data-run="${id}"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('h3').textContent()).toBe('Ship crate?');
    await card.locator('input').fill('looks fine');
    await page.screenshot({ path: join(shots, 'approvals.png'), fullPage: true });
    await card.locator('button[data-action=approve]').click();
    await card.locator('.flash', { hasText: 'Approved.' }).waitFor();
    await page.goto(`${serve.url}/#/runs/${id}`);
    await page.locator('.run-status .badge', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
    const view = (await api('GET', `/runs/${id}`)).json;
    expect(view.output).toEqual({ shipped: 'crate' });
    const ask = view.steps.find((s: { stepId: string }) => s.stepId === 'ask');
    // Who approved is the signed-in identity (here the bootstrap token's), never a typed name.
    expect(ask.output).toMatchObject({ approver: 'bootstrap' });
    expect(JSON.stringify(ask.output)).toContain('looks fine');
    await page.screenshot({ path: join(shots, 'approved-run.png'), fullPage: true });
  });

  it('cancels a running run from its page', async () => {
    const id = await start('chain', { tag: 'stop' });
    await page.goto(`${serve.url}/#/runs/${id}`);
    await page.locator('.dag .node[data-step="first"][data-status="running"]').waitFor({ timeout: 10_000 });
    await page.click('button[data-action=cancel]');
    await page.locator('.run-status .badge', { hasText: 'cancelled' }).waitFor({ timeout: 10_000 });
    expect((await api('GET', `/runs/${id}`)).json.status).toBe('cancelled');
    await page.screenshot({ path: join(shots, 'cancelled.png'), fullPage: true });
  });

  it('cancels one stuck step from its detail, and the run goes on without it', async () => {
    const id = await start('stuck', { tag: 'one' });
    await page.goto(`${serve.url}/#/runs/${id}`);
    await page.locator('.dag .node[data-step="slow"][data-status="running"]').waitFor({ timeout: 10_000 });
    // A plain click selects the step (the graph's drag-to-pan must not swallow it).
    await page.click('.dag .node[data-step="slow"]');
    expect(await page.locator('.dag .node.selected').getAttribute('data-step')).toBe('slow');
    const button = page.locator('button[data-action=cancel-step]');
    await button.waitFor({ timeout: 10_000 });
    expect(await button.textContent()).toBe('Cancel step slow');
    await button.click();
    await page.locator('.dag .node[data-step="slow"][data-status="cancelled"]').waitFor({ timeout: 10_000 });
    // A cancelled step does not fail the run (LANGUAGE.md §7.4): the other branch completes it.
    await page.locator('.run-status .badge', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
    const view = (await api('GET', `/runs/${id}`)).json;
    expect(view.output).toEqual({ quick: 'one', slow: 'cancelled' });
    expect(view.steps.find((s: { stepId: string }) => s.stepId === 'slow').status).toBe('cancelled');
    expect(await page.locator('.events li[data-type="step_cancelled"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'step-cancelled.png'), fullPage: true });
  });

  it('on a cluster, marks a step held by an unreachable worker and an attempt it gave back', async () => {
    // This server is on SQLite (no workers): what a cluster's server answers is a fixture here —
    // GET /workers as `orch workers` lists a cut-off worker (pg-partition checks those rows), and
    // the attempt_lost its owner journals when that worker gives the step's attempt back.
    const id = await start('stuck', { tag: 'cut' });
    await waitFor(async () => ((await api('GET', `/runs/${id}`)).json.steps?.some((s: { stepId: string; status: string }) => s.stepId === 'slow' && s.status === 'running') ? true : undefined), 10_000, 'the slow step to run');
    const worker = { id: 'app2:4242:0a1b2c3d', host: 'app2', pid: 4242, resources: [], slots: 2, state: 'alive', heartbeatAgeMs: 3100, unreachable: true, running: 1, holding: [{ run: id, step: 'slow', attempt: 2 }] };
    const lost = { seq: 1e9, at: new Date().toISOString(), type: 'attempt_lost', stepId: 'slow', attempt: 1, worker: worker.id, reason: `given back: worker ${worker.id} lost the database for 4.0 s: its lease lapses in 1.0 s` };
    await page.route('**/workers', (route) => route.fulfill({ json: { cluster: true, workers: [worker] } }));
    await page.route(`**/runs/${id}/timeline`, async (route) => {
      const real = (await (await route.fetch()).json()) as { events: unknown[] };
      await route.fulfill({ json: { events: [...real.events, lost] } });
    });
    try {
      await page.goto(`${serve.url}/#/runs/${id}`);
      await page.locator('.dag .node[data-step="slow"].unreachable').waitFor({ timeout: 10_000 });
      expect(await page.locator('.dag .node.unreachable').count()).toBe(1);
      expect(await page.locator('.held-note [data-held="slow"]').textContent()).toContain(`held by worker ${worker.id}, which is unreachable`);
      expect(await page.locator('.events li[data-given-back] .given-back').textContent()).toBe('given back');
      await page.screenshot({ path: join(shots, 'held-by-unreachable.png'), fullPage: true });
      await page.goto(`${serve.url}/#/resources`);
      const row = page.locator(`tr[data-worker="${worker.id}"].unreachable`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('.worker-state').textContent()).toBe('alive (unreachable)');
      expect(await row.locator('.held').textContent()).toBe(`${id} slow#2`);
    } finally {
      await page.unroute('**/workers');
      await page.unroute(`**/runs/${id}/timeline`);
      await api('POST', `/runs/${id}/cancel`);
    }
  });

  it('retries a failed run from its page and lands on the new run', async () => {
    const marker = join(tempDir(), 'seen');
    const id = await start('fails_once', { marker });
    await page.goto(`${serve.url}/#/runs/${id}`);
    await page.locator('.run-status .badge', { hasText: 'failed' }).waitFor({ timeout: 30_000 });
    const retry = page.locator('button[data-action=retry]');
    expect(await retry.isEnabled()).toBe(true);
    expect(await page.locator('button[data-action=cancel]').isEnabled()).toBe(false);
    await retry.click();
    await page.waitForFunction((old) => location.hash.startsWith('#/runs/') && !location.hash.endsWith(old), id, { timeout: 10_000 });
    await page.locator('.run-status .badge', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
    // The output is read once the run's end arrives.
    await page.locator('.run-output', { hasText: 'second time' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(shots, 'retried.png'), fullPage: true });
  });

  it('a run that ends while its page loads shows its end (the journal read after the view wins)', async () => {
    // The page reads the run, then its journal. Holding the journal read back until the run has
    // completed makes the race deterministic: the view says the run waits, the journal (and the
    // live events, which the page then drops as already read) say it completed.
    const id = await start('gate', { item: 'box' });
    await waitFor(async () => ((await api('GET', `/runs/${id}`)).json.status === 'paused' ? true : undefined), 10_000, 'the run to wait for its approval (paused)');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held = false;
    let passed: Promise<void> = Promise.resolve();
    const timeline = `**/runs/${id}/timeline`;
    await page.route(timeline, (route) => {
      held = true;
      passed = released.then(() => route.continue());
      return passed;
    });
    try {
      await page.goto(`${serve.url}/#/runs/${id}`);
      await waitFor(async () => (held ? true : undefined), 10_000, 'the page to ask for the journal');
      expect((await api('POST', `/runs/${id}/steps/ask/approve`, {})).status).toBe(202);
      await waitFor(async () => ((await api('GET', `/runs/${id}`)).json.status === 'completed' ? true : undefined), 10_000, 'the run to complete');
      release();
      await page.locator('.run-status .badge', { hasText: 'completed' }).waitFor({ timeout: 10_000 });
      expect(await nodeStatus('ship')).toBe('completed');
      await page.locator('.run-output', { hasText: 'box' }).waitFor({ timeout: 10_000 });
    } finally {
      release();
      await passed;
      await page.unroute(timeline);
    }
  });

  it('a finished run shows a nested for each step and the steps of a repeat with the statuses of its result', async () => {
    const id = await start('shapes', { teams: [{ channel: 'eng', members: ['ada', 'alan'] }, { channel: 'ops', members: ['grace'] }] });
    const done = await waitFor(async () => {
      const v = (await api('GET', `/runs/${id}`)).json;
      return v.status === 'completed' ? v : undefined;
    }, 20_000, 'the run to complete');
    expect(done.steps.map((s: { stepId: string; status: string }) => `${s.stepId}:${s.status}`)).toEqual(['greet:completed', 'draft:completed', 'review:completed']);
    await page.goto(`${serve.url}/#/runs/${id}`);
    await page.locator('.run-status .badge', { hasText: 'completed' }).waitFor({ timeout: 10_000 });
    expect([await nodeStatus('greet'), await nodeStatus('draft'), await nodeStatus('review')]).toEqual(['completed', 'completed', 'completed']);
    // A step's events are its instances' (`greet[1][0]`, `draft#1`): selecting it lists them.
    await page.click('.dag .node[data-step="draft"]');
    await page.locator('.events li[data-step="draft#1"]').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.events li[data-step^="greet"]').count()).toBe(0);
  });

  it('the runs page shows the actual spend of finished runs by plan, capability and model (§8.2)', async () => {
    const id = await start('priced', { item: 'lamp' });
    await waitFor(async () => ((await api('GET', `/runs/${id}`)).json.status === 'completed' ? true : undefined), 20_000, 'the priced run to complete');
    // Each of its two attempts reported 0.25 against an estimate of 0.5: spend is what was reported.
    const { totals } = (await api('GET', '/spend')).json as { totals: { plan: string; capability: string; model: string | null; cost: number; input_tokens: number }[] };
    const priced = totals.filter((t) => t.model === 'gpt-test');
    expect(priced).toHaveLength(1);
    expect(priced[0]).toMatchObject({ cost: 0.5, input_tokens: 240, output_tokens: 60 });
    const { plan, capability } = priced[0]!;
    expect(plan).toMatch(/priced$/);
    expect(capability).toMatch(/metered$/);
    // The same totals /metrics counts.
    expect((await api('GET', '/metrics')).text).toContain(`orch_cost_total{plan="${plan}",capability="${capability}",model="gpt-test"} 0.5`);
    await page.goto(`${serve.url}/#/`);
    await page.reload();
    const row = (by: string, key: string) => page.locator(`table.spend[data-by="${by}"] tr[data-key="${key}"] td`);
    await row('plan', plan).first().waitFor({ timeout: 10_000 });
    expect(await row('plan', plan).allTextContents()).toEqual([plan, '0.500', '240', '60']);
    expect(await row('capability', capability).allTextContents()).toEqual([capability, '0.500', '240', '60']);
    expect(await row('model', 'gpt-test').allTextContents()).toEqual(['gpt-test', '0.500', '240', '60']);
    // The most spent first.
    expect(await page.locator('table.spend[data-by="model"] tbody tr').first().getAttribute('data-key')).toBe('gpt-test');
    await page.locator('table.spend').first().screenshot({ path: join(shots, 'spend.png') });
  });

  it('dark theme, and the other pages render', async () => {
    await page.goto(`${serve.url}/#/`);
    await page.locator('tr[data-run]').first().waitFor();
    await page.click('header button[aria-label="switch theme"]');
    const theme = await page.evaluate(() => document.documentElement.dataset.theme);
    expect(['dark', 'light']).toContain(theme);
    if (theme !== 'dark') await page.click('header button[aria-label="switch theme"]');
    expect(await page.locator('tr[data-run]').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(shots, 'runs-dark.png'), fullPage: true });
    await page.goto(`${serve.url}/#/triggers`);
    await page.getByRole('heading', { name: 'Triggers' }).waitFor();
    await page.goto(`${serve.url}/#/resources`);
    await page.locator('tr[data-resource="box"]').waitFor();
    // Every finished step ran on `box` (local); none touched @personal data, so nothing personal
    // left the machine: a privacy score of 100 %, as the preview and /metrics say.
    expect(await page.locator('[data-figure=local-ratio]').textContent()).toBe('100%');
    expect(await page.locator('[data-figure=privacy-score]').textContent()).toBe('100%');
    // The chain runs of the earlier tests called `nap` inside the hour: the live one three times,
    // the cancelled one once (or twice, on a slow box). A call counts once its step starts (§7.2).
    const rate = page.locator('tr[data-rate]').first();
    const used = Number(/(\d+) \/ 1000/.exec((await rate.textContent()) ?? '')?.[1]);
    expect(used).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: join(shots, 'resources.png'), fullPage: true });
    expect(pageErrors(page)).toEqual([]);
  });

  it('the Resources page shows each context signal with its value, age, source and state, live from the stream', async () => {
    await page.goto(`${serve.url}/#/resources`);
    const door = page.locator('tr[data-signal="door_open"]');
    await door.locator('td', { hasText: 'never set' }).waitFor({ timeout: 10_000 });
    // Set after the page was drawn: only the stream's `event: context` can bring it.
    expect((await api('POST', '/signals', { door_open: true })).status).toBe(202);
    await page.locator('tr[data-signal="door_open"][data-state="fresh"]').waitFor({ timeout: 10_000 });
    expect(await door.locator('td').allTextContents()).toEqual(['door_open', 'true', expect.stringMatching(/^\d+(ms|s)$/), 'api', 'fresh']);
    await page.screenshot({ path: join(shots, 'context.png'), fullPage: true });
  });
});
