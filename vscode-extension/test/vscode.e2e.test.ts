/**
 * The extension in a real VS Code workbench: code-server with the .vsix built by
 * `npm run package:vsix` installed, driven through headless Chromium like a person would.
 * Each check asserts on what is on screen and leaves a screenshot in test-output/vscode/.
 *
 * Needs Debian's chromium, and for the one-time code-server install ripgrep, libkrb5-dev and
 * build tools (.ci/run installs them); without them the suite says why and is skipped.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../lsp/test/client.js';
import { ensureCodeServer, installExtension, missingPrerequisites, startCodeServer, type RunningCodeServer } from './code-server.js';
import { Workbench } from './workbench.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO, 'test-output', 'vscode');
const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium)` : missingPrerequisites();
if (why) console.warn(`vscode e2e: SKIPPED — ${why}`);

const movie = readFileSync(join(REPO, 'examples', 'movie_night', 'movie_night.orch'), 'utf8');
const BAD = `plan broken {
  step a = no_such_capability(x: 1)
}
`;
const MESSY = `capability   greet {
      kind tool
  input {name:string}
  output { text: string }
   handler "./handlers/room.js#set_lights"
}
`;

let home: string;
let ws: string;
let server: RunningCodeServer | undefined;
let browser: Browser | undefined;
let page: Page;
let wb: Workbench;

beforeAll(async () => {
  if (why) return;
  ensureCodeServer((l) => console.log(`vscode e2e: ${l}`));
  mkdirSync(SHOTS, { recursive: true });
  home = mkdtempSync(join(tmpdir(), 'orch-vscode-'));
  ws = join(home, 'movie_night');
  cpSync(join(REPO, 'examples', 'movie_night'), ws, { recursive: true });
  writeFileSync(join(ws, 'broken.orch'), BAD);
  writeFileSync(join(ws, 'messy.orch'), MESSY);
  const vsix = join(home, 'orch.vsix');
  const pack = spawnSync(process.execPath, [join(REPO, 'vscode-extension', 'scripts', 'package.js'), vsix], { cwd: REPO, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`package:vsix failed: ${pack.stdout}\n${pack.stderr}`);
  installExtension(home, vsix);
  server = await startCodeServer(home, ws, {
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'files.autoSave': 'off',
    'editor.inlayHints.enabled': 'on',
    'editor.codeLens': true,
    'editor.minimap.enabled': false,
    'editor.hover.delay': 100,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'chat.commandCenter.enabled': false,
    'git.enabled': false,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  wb = new Workbench(page, SHOTS);
  await page.goto(server.url);
  await wb.ready();
}, 30 * 60_000);

afterEach(async (ctx) => {
  // What the workbench showed when a check failed.
  if (page && ctx.task.result?.state === 'fail') await wb.screenshot(`failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
}, 60_000);

/** Editor lines render spaces as no-break spaces. */
const text = async (l: { innerText(): Promise<string> }): Promise<string> => (await l.innerText()).replace(/\u00a0/g, ' ');
const lineNo = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe.skipIf(Boolean(why))('the Orch extension in VS Code (code-server)', () => {
  it('activates on an .orch file: highlighting, the file icon and the server status', async () => {
    const editor = await wb.open('movie_night.orch');
    await page.locator('.statusbar-item[aria-label="Orch language server: ready"]').waitFor({ timeout: 60_000 });
    // The grammar colours keywords: `capability` is not in the default text colour.
    const keyword = wb.word('capability set_lights', 'capability');
    const plain = wb.word('capability set_lights', 'set_lights');
    expect(await keyword.evaluate((e) => getComputedStyle(e).color)).not.toBe(await plain.evaluate((e) => getComputedStyle(e).color));
    // The .orch file icon in the tab and the explorer.
    const icon = await page.locator('.tabs-container .tab.active .monaco-icon-label').evaluate((e) => getComputedStyle(e, '::before').backgroundImage);
    expect(icon).toContain('orch.svg');
    expect(await editor.isVisible()).toBe(true);
    await wb.screenshot('01-activation');
  });

  it('shows diagnostics with their codes in the Problems panel', async () => {
    await wb.open('broken.orch');
    await wb.command('View: Focus Problems (Errors, Warnings, Infos)');
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'no_such_capability' }).first();
    await row.waitFor({ timeout: 30_000 });
    const text = await row.innerText();
    expect(text).toContain('E0101');
    expect(text).toMatch(/unknown capability/);
    await wb.screenshot('02-problems');
    await wb.command('View: Hide Panel');
  });

  it('hovers, completes and goes to a definition', async () => {
    await wb.open('movie_night.orch');
    const step = lineNo(movie, 'step lights = set_lights');
    const stepText = movie.split('\n')[step - 1]!;
    // The cursor inside `set_lights` after the `=`, put there with the keyboard: a click needs
    // the word to hold still, and on a busy machine the CodeLens and inlay hints still arriving
    // move it.
    const onName = stepText.indexOf('set_lights', stepText.indexOf('=')) + 3;
    await wb.goToLine(step, onName);
    const hover = page.locator('.monaco-hover:not(.hidden) .hover-contents, .monaco-hover:not(.hidden) .rendered-markdown').first();
    // The hover asked for at the cursor (Show Hover, Ctrl+K Ctrl+I) rather than under the mouse,
    // whose text moves away for the same reason (the hover then closes); asked again until it shows.
    await expect
      .poll(
        async () => {
          if (!(await hover.isVisible())) {
            await page.keyboard.press('Control+K');
            await page.keyboard.press('Control+I');
            await hover.waitFor({ timeout: 3_000 }).catch(() => undefined);
          }
          // It may close again between the two calls: then it reads as nothing yet.
          return (await hover.innerText({ timeout: 1_000 }).catch(() => '')).replace(/\u00a0/g, ' ');
        },
        { timeout: 45_000 },
      )
      .toMatch(/capability set_lights/);
    await wb.screenshot('03-hover');
    await page.keyboard.press('Escape');

    await wb.goToLine(step, onName);
    await page.keyboard.press('F12');
    await expect.poll(async () => (await wb.cursor()).line, { timeout: 15_000 }).toBe(lineNo(movie, 'capability set_lights {'));
    await wb.screenshot('04-definition');

    // Completion in a scratch line, undone afterwards (code-server may save edits).
    await wb.open('broken.orch');
    await wb.goToLine(2, 100);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('step b = noti', { delay: 30 });
    await page.keyboard.press('Control+Space');
    const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'notify' }).first();
    await suggestion.waitFor({ timeout: 15_000 });
    await wb.screenshot('05-completion');
    await page.keyboard.press('Escape');
    await wb.command('File: Revert File');
    await page.locator('.editor-group-container.active .tab.active.dirty').waitFor({ state: 'detached' });
    // The tab stops being dirty as the revert lands; the editor's lines are redrawn just after.
    await expect.poll(() => text(wb.activeEditor().locator('.view-lines')), { timeout: 15_000 }).not.toContain('step b');
    expect(readFileSync(join(ws, 'broken.orch'), 'utf8')).toBe(BAD);
    // The diagnostics follow the undo back to the one error of the file.
    await expect.poll(() => text(page.locator('.statusbar-item[id="status.problems"]')), { timeout: 15_000 }).toMatch(/^\s*1\s+0\s*$/);
  });

  it('shows Run | Verify | Preview above the plan and the resource and estimate after each step', async () => {
    await wb.open('movie_night.orch');
    await wb.goToLine(lineNo(movie, 'plan movie_night {'));
    const lens = page.locator('.codelens-decoration:visible').first();
    await lens.waitFor({ timeout: 30_000 });
    expect((await lens.innerText()).replace(/\s+/g, ' ')).toMatch(/Run \| Verify \| Preview/);
    await wb.goToLine(lineNo(movie, 'step lights ='));
    const lights = wb.line('step lights = set_lights');
    await expect.poll(() => text(lights), { timeout: 30_000 }).toMatch(/→ living_room_hub · 0usd · \d+ms/);
    expect(await text(wb.line('step play = start_playback'))).toMatch(/→ media_box · [\d.]+usd · [\d.]+m?s/);
    await wb.screenshot('06-codelens-inlay-hints');
  });

  it('runs the plan from its CodeLens with nothing on PATH', async () => {
    await page.locator('.codelens-decoration:visible a', { hasText: 'Run' }).first().click();
    const done = page.locator('.notification-toast', { hasText: 'run of movie_night succeeded' });
    await done.waitFor({ timeout: 90_000 });
    const output = page.locator('.part.panel .monaco-editor .view-lines').first();
    // The editor renders the output channel's lines a moment after they are appended, so the
    // run's summary and the exit line are awaited together rather than read once.
    await expect.poll(() => text(output), { timeout: 15_000 }).toMatch(/\(movie_night\): completed in \d+ms[\s\S]*exited with code 0/);
    expect(statSync(join(ws, '.orch', 'runs.db')).size).toBeGreaterThan(0);
    await wb.screenshot('07-run-plan');
    await wb.command('View: Hide Panel');
    await wb.command('Notifications: Clear All Notifications');
  });

  it('opens the preview beside the source without taking the focus, with a readable DAG', async () => {
    await wb.open('movie_night.orch');
    await wb.goToLine(lineNo(movie, 'plan movie_night {'));
    await page.locator('.codelens-decoration:visible a', { hasText: 'Preview' }).first().click();
    const frame = wb.webview();
    await frame.locator('#graph svg g.step').first().waitFor({ timeout: 30_000 });
    // Beside: two editor groups; the focus stays in the .orch editor.
    expect(await page.locator('.editor-group-container').count()).toBe(2);
    expect(await page.locator('.editor-group-container.active .tab.active').innerText()).toContain('movie_night.orch');
    expect(await page.evaluate(() => document.activeElement?.closest('.monaco-editor') != null)).toBe(true);
    const steps = await frame.locator('#graph svg g.step').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-step')));
    expect(steps.sort()).toEqual(['blinds', 'climate', 'lights', 'pick', 'play', 'snacks']);
    const heights = await frame.locator('#graph svg g.step text').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect().height));
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(10);
    expect(await frame.locator('#estimates [data-field=cost]').innerText()).toMatch(/usd$/);
    await wb.screenshot('08-preview');
  });

  it('lists the example\'s tests in the Testing view, runs them and marks them passed', async () => {
    const names = [...readFileSync(join(ws, 'movie_night.test.orch'), 'utf8').matchAll(/^test "([^"]+)"/gm)].map((m) => m[1]!);
    await wb.command('View: Show Testing');
    const file = page.locator('.monaco-list-row', { hasText: 'movie_night.test.orch' }).first();
    await file.waitFor({ timeout: 60_000 });
    await wb.command('Test: Run All Tests');
    // The file's row expands to its tests as they run; each ends marked passed.
    if ((await file.getAttribute('aria-expanded')) === 'false') await file.click();
    for (const name of names) {
      const row = page.locator('.monaco-list-row', { hasText: name }).first();
      await row.locator('.codicon-testing-passed-icon').waitFor({ timeout: 90_000 });
    }
    await wb.screenshot('10-testing-view');
  });

  it('formats a document and the edit can be undone', async () => {
    await wb.command('View: Close All Editors');
    await wb.open('messy.orch');
    await wb.command('Format Document');
    await expect.poll(() => text(wb.line('greet'))).toBe('capability greet {');
    await wb.screenshot('09-format');
    await page.keyboard.press('Control+Z');
    await expect.poll(() => text(wb.line('greet'))).toMatch(/^capability {3}greet \{$/);
    await wb.save();
    expect(readFileSync(join(ws, 'messy.orch'), 'utf8')).toBe(MESSY);
  });
});
