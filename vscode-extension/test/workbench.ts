/**
 * Driving the VS Code workbench (code-server in headless Chromium) the way a person does:
 * the command palette, quick open, the keyboard and the mouse — and reading what is on screen.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';

export class Workbench {
  constructor(readonly page: Page, private readonly shots: string) {}

  async screenshot(name: string): Promise<string> {
    const path = `${this.shots}/${name}.png`;
    await this.page.screenshot({ path });
    return path;
  }

  async ready(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 });
  }

  /** Runs a command by its palette title (F1, type, Enter). */
  async command(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    // The focused row is what Enter picks; rows of an earlier list may linger while it filters.
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title }).waitFor();
    await input.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** Opens a workspace file by name with quick open and waits for its editor. */
  async open(name: string): Promise<Locator> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(name);
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor();
    await input.press('Enter');
    const tab = this.page.locator('.tabs-container .tab.active', { hasText: name });
    await tab.first().waitFor();
    const editor = this.activeEditor();
    await editor.locator('.view-lines').waitFor();
    return editor;
  }

  /** Saves the active editor and waits until its tab no longer shows unsaved changes. */
  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await this.page.locator('.editor-group-container.active .tab.active.dirty').waitFor({ state: 'detached' });
  }

  activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** The on-screen line of the active editor holding `text` (view lines only, no gutter). */
  line(text: string): Locator {
    return this.activeEditor().locator('.view-line', { hasText: text }).first();
  }

  /** The span of the active editor showing `word` on the line holding `lineText`. */
  word(lineText: string, word: string): Locator {
    return this.line(lineText).locator('span > span', { hasText: new RegExp(`^${word}$`) }).first();
  }

  async goToLine(line: number, column = 1): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await input.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** "Ln 12, Col 5" from the status bar. */
  async cursor(): Promise<{ line: number; column: number }> {
    const text = (await this.page.locator('.statusbar-item[id="status.editor.selection"]').innerText()).trim();
    const m = /Ln (\d+), Col (\d+)/.exec(text);
    if (!m) throw new Error(`no cursor position in the status bar: "${text}"`);
    return { line: Number(m[1]), column: Number(m[2]) };
  }

  /** The innermost frame of the webview whose tab title contains `title`. */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
  }
}
