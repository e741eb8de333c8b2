/**
 * The preview webview page (vscode-extension/media/preview.html) rendered in headless Chromium
 * from a saved `orch/preview` result: one graph node per step, the estimates table, a screenshot.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
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
  // Screenshots stay for a person to look at (test-output/ is gitignored).
  dir = join(REPO, 'test-output', 'webview');
  mkdirSync(dir, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
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
    // Without a currency in the answer the page says usd, the compiler's default.
    expect(await tab.locator('#estimates [data-field=cost]').textContent()).toBe(`${+saved.preview.estimates.cost.toFixed(6)}usd`);

    const shot = join(dir, 'preview.png');
    await tab.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(5_000);
    expect(errors).toEqual([]);
  });

  it('shows the DAG at a readable size, zooms, fits, pans, and reveals a clicked step', async () => {
    const tab = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    await tab.goto(page);
    await tab.evaluate((data) => (window as unknown as { renderPreview: (d: unknown) => void }).renderPreview(data), saved);
    const labelHeights = () => tab.locator('#graph svg g.step text').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect().height));
    const initial = await labelHeights();
    expect(initial.length).toBeGreaterThan(0);
    expect(Math.min(...initial)).toBeGreaterThanOrEqual(10);
    // Steps carry their tier (coloured by CSS) and conditional steps a mark.
    const tiers = await tab.locator('#graph svg g.step').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-tier')));
    expect(new Set(tiers)).toEqual(new Set(['edge', 'cloud', 'human', 'none']));
    expect(await tab.locator('#graph svg g.step.conditional .badge').count()).toBe(saved.preview.steps.filter((s) => (s as { conditional?: boolean }).conditional).length);

    const width = () => tab.locator('#graph svg').evaluate((s) => s.getBoundingClientRect().width);
    const w0 = await width();
    await tab.click('#zoom-in');
    expect(await width()).toBeCloseTo(w0 * 1.25, 0);
    await tab.click('#zoom-fit');
    const graphWidth = await tab.locator('#graph').evaluate((g) => g.clientWidth);
    expect(await width()).toBeLessThanOrEqual(graphWidth);
    expect(await tab.locator('#zoom-level').textContent()).toMatch(/^\d+%$/);
    await tab.click('#zoom-reset');
    expect(await tab.locator('#zoom-level').textContent()).toBe('100%');

    // Drag to pan: the viewport scrolls and no step is revealed.
    await tab.evaluate(() => {
      (window as unknown as { reveals: string[] }).reveals = [];
      document.addEventListener('orch-reveal', (e) => (window as unknown as { reveals: string[] }).reveals.push((e as CustomEvent).detail.step));
    });
    const box = (await tab.locator('#graph').boundingBox())!;
    await tab.mouse.move(box.x + box.width - 40, box.y + box.height / 2);
    await tab.mouse.down();
    await tab.mouse.move(box.x + 40, box.y + box.height / 2, { steps: 8 });
    await tab.mouse.up();
    expect(await tab.locator('#graph').evaluate((g) => g.scrollLeft)).toBeGreaterThan(100);
    expect(await tab.evaluate(() => (window as unknown as { reveals: string[] }).reveals)).toEqual([]);
    await tab.locator('#graph').evaluate((g) => { g.scrollLeft = 0; g.scrollTop = 0; });
    await tab.locator('#graph svg g.step[data-step=copy] rect').click();
    expect(await tab.evaluate(() => (window as unknown as { reveals: string[] }).reveals)).toEqual(['copy']);
  });

  it('takes its colours from the theme: no white box in a dark theme', async () => {
    const tab = await browser!.newPage({ viewport: { width: 900, height: 700 } });
    await tab.goto(page);
    await tab.evaluate(() => {
      document.body.classList.add('vscode-dark');
      const s = document.documentElement.style;
      s.setProperty('--vscode-editor-background', 'rgb(30, 30, 30)');
      s.setProperty('--vscode-editor-foreground', 'rgb(212, 212, 212)');
    });
    await tab.evaluate((data) => (window as unknown as { renderPreview: (d: unknown) => void }).renderPreview(data), saved);
    expect(await tab.locator('#graph').evaluate((g) => getComputedStyle(g).backgroundColor)).toBe('rgb(30, 30, 30)');
    expect(await tab.locator('#graph svg g.step text').first().evaluate((t) => getComputedStyle(t).fill)).toBe('rgb(212, 212, 212)');
    const fills = await tab.locator('#graph svg g.step rect').evaluateAll((rs) => rs.map((r) => getComputedStyle(r).fillOpacity));
    expect(fills.every((o) => Number(o) < 0.5)).toBe(true);
    await tab.screenshot({ path: join(dir, 'preview-dark.png'), fullPage: true });
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
