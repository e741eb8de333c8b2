/**
 * The preview webview page (vscode-extension/media/preview.html) rendered in headless Chromium
 * from a saved `orch/preview` result: one graph node per step, the estimates table, a screenshot.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from './client.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`webview.test: SKIPPED — ${CHROMIUM} is missing (install it with: apt-get update && apt-get install -y chromium)`);
}

const page = pathToFileURL(join(REPO, 'vscode-extension', 'media', 'preview.html')).href;
const saved = JSON.parse(readFileSync(join(FIXTURES, 'preview.json'), 'utf8')) as {
  plan: string;
  preview: { steps: { id: string }[]; estimates: { cost: number } };
};

let browser: Browser | undefined;
let dir: string;

beforeAll(async () => {
  if (!haveChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'orch-webview-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveChromium)('preview webview page', () => {
  it('renders the DAG with one node per step and the estimates, and takes a screenshot', async () => {
    const tab = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(page);
    await tab.evaluate((data) => (window as unknown as { renderPreview: (d: unknown) => void }).renderPreview(data), saved);

    const nodes = await tab.locator('#graph svg g.step').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-step')));
    expect(nodes.sort()).toEqual(saved.preview.steps.map((s) => s.id).sort());
    expect(await tab.locator('#title').textContent()).toBe(`Plan ${saved.plan}`);
    const rows = await tab.locator('#steps tbody tr td:first-child').allTextContents();
    expect(rows.sort()).toEqual(saved.preview.steps.map((s) => s.id).sort());
    expect(await tab.locator('#estimates [data-field=cost]').textContent()).toBe(String(+saved.preview.estimates.cost.toFixed(6)));

    const shot = join(dir, 'preview.png');
    await tab.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(5_000);
    expect(errors).toEqual([]);
  });

  it('updates from a posted message and shows problems when no plan compiled', async () => {
    const tab = await browser!.newPage();
    await tab.goto(page);
    await tab.evaluate(() => window.postMessage({ type: 'preview', data: { plans: ['a'], plan: null, preview: null, svg: null, errors: ['3:9 E0101 unknown capability "x"'] } }, '*'));
    await tab.locator('#errors pre').waitFor();
    expect(await tab.locator('#errors pre').textContent()).toContain('E0101');
    expect(await tab.locator('#graph svg').count()).toBe(0);
  });

  it('strips script from an SVG before showing it', async () => {
    const tab = await browser!.newPage();
    await tab.goto(page);
    await tab.evaluate(() => {
      (window as unknown as { renderPreview: (d: unknown) => void }).renderPreview({
        plans: [], plan: null, preview: null, errors: [],
        svg: '<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned=1"><script>window.pwned=2</script><g class="step"/></svg>',
      });
    });
    expect(await tab.locator('#graph svg g.step').count()).toBe(1);
    expect(await tab.locator('#graph svg script').count()).toBe(0);
    expect(await tab.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });
});
