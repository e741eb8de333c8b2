/** Helpers of the dashboard tests: a headless Chromium (or a reason to skip), and a signed-in page. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO } from './serve-process.js';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export function screenshotDir(): string {
  // Screenshots stay for a person to look at (test-output/ is gitignored).
  const dir = join(REPO, 'test-output', 'dashboard');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Opens the dashboard, is sent to the login page, signs in with the server token (as the bootstrap admin). */
export async function signIn(browser: Browser, url: string, token: string): Promise<Page> {
  return signInWith(browser, url, async (page) => {
    await page.fill('#token', token);
    await page.click('form[data-login=token] button[type=submit]');
  });
}

/** Signs in on the login page as a local user (LANGUAGE.md §8.8). */
export async function signInAs(browser: Browser, url: string, user: string, password: string): Promise<Page> {
  return signInWith(browser, url, async (page) => {
    await page.fill('#user', user);
    await page.fill('#password', password);
    await page.click('form[data-login=password] button[type=submit]');
  });
}

async function signInWith(browser: Browser, url: string, fill: (page: Page) => Promise<void>): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { errors?: string[] }).errors = errors;
  await page.goto(`${url}/`);
  await page.waitForURL(/\/login$/);
  await fill(page);
  await page.waitForURL(`${url}/`);
  await page.getByRole('heading', { name: 'Runs' }).waitFor();
  return page;
}

export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}
