/**
 * People in the dashboard (LANGUAGE.md §8.8), in real headless Chromium against a real `orch serve`
 * whose project config has an `auth` block: a viewer signs in with a password and sees no control
 * (and the API refuses them 403), an approver approves and is the one recorded; the server token
 * no longer opens anything.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../runtime/index.js';
import { haveChromium, launchChromium, pageErrors, screenshotDir, signInAs } from './dashboard-helpers.js';
import { http, waitFor } from './http-helpers.js';
import { FIXTURES, startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

let serve: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  const project = tempDir('orch-people-ui-');
  cpSync(FIXTURES, project, { recursive: true });
  // §8.8: the approval names who may decide — here a group alice is in (the fixture's "ops" names a user).
  const plan = join(project, 'dashboard.orch');
  writeFileSync(plan, readFileSync(plan, 'utf8').replace('approver: "ops"', 'approver: "group:ops"'));
  writeFileSync(
    join(project, 'orch.config.json'),
    JSON.stringify({
      auth: {
        users: {
          alice: { password: await hashPassword('alice-pw'), roles: ['operator', 'approver'], groups: ['ops'] },
          bob: { password: await hashPassword('bob-pw'), roles: ['viewer'] },
        },
      },
    }),
  );
  serve = await startServe([join(project, 'dashboard.orch')], { db: join(project, 'runs.db') });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe.skipIf(!haveChromium)('people in the dashboard', () => {
  it('a viewer sees no control and is refused 403; an approver approves and is recorded', async () => {
    expect(serve.stdout()).toMatch(/bootstrap token: refused/);
    expect((await http(serve.url, 'GET', '/runs', { token: TOKEN })).status).toBe(401);
    // alice starts a run from a session of her own (cookie + CSRF), as the page would.
    const login = await http(serve.url, 'POST', '/session', { body: { user: 'alice', password: 'alice-pw' } });
    expect(login.status).toBe(201);
    const pairs = (login.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('orch_csrf='))!.slice('orch_csrf='.length);
    const started = await http(serve.url, 'POST', '/runs', { headers: { cookie: pairs.join('; '), 'x-csrf-token': csrf }, body: { plan: 'gate', input: { item: 'crate' } } });
    expect(started.status).toBe(202);
    const id = started.json.runId as string;

    const bob = await signInAs(browser, serve.url, 'bob', 'bob-pw');
    expect(await bob.locator('header .who').textContent()).toBe('bob · viewer');
    expect(await bob.locator('header nav a').allTextContents()).toEqual(['Runs', 'Approvals', 'Triggers', 'Resources']);
    await bob.goto(`${serve.url}/#/approvals`);
    const card = bob.locator(`.approval[data-run="${id}"]`);
    await card.waitFor({ timeout: 15_000 });
    await card.getByText('Deciding needs the approver role.').waitFor();
    expect(await card.locator('button').count()).toBe(0);
    await bob.goto(`${serve.url}/#/runs/${id}`);
    await bob.locator('.run-status').waitFor();
    expect(await bob.locator('button[data-action=cancel]').isVisible()).toBe(false);
    await bob.screenshot({ path: join(screenshotDir(), 'viewer-run.png'), fullPage: true });
    // The server refuses what the page hides.
    const refused = await bob.evaluate(async (runId) => {
      const csrfToken = decodeURIComponent(/(?:^|;\s*)orch_csrf=([^;]+)/.exec(document.cookie)![1]!);
      const r = await fetch(`/runs/${runId}/steps/ask/approve`, { method: 'POST', headers: { 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: '{}' });
      return { status: r.status, body: await r.text() };
    }, id);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('needs the approver role; bob (bob) has viewer');

    const alice = await signInAs(browser, serve.url, 'alice', 'alice-pw');
    await alice.goto(`${serve.url}/#/approvals`);
    const hers = alice.locator(`.approval[data-run="${id}"]`);
    await hers.waitFor({ timeout: 15_000 });
    await hers.locator('button[data-action=approve]').click();
    await hers.locator('.flash', { hasText: 'Approved.' }).waitFor();
    const done = await waitFor(async () => {
      const r = await http(serve.url, 'GET', `/runs/${id}`, { headers: { cookie: pairs.join('; ') } });
      return r.json?.status === 'completed' ? r.json : undefined;
    }, 15_000, 'the approved run to complete');
    expect(done.steps.find((s: { stepId: string }) => s.stepId === 'ask').output).toMatchObject({ approver: 'alice' });
    expect(pageErrors(bob)).toEqual([]);
    expect(pageErrors(alice)).toEqual([]);
  });
});
