/**
 * The "Orch: Show Plan Preview" webview: DAG + estimates from the server's `orch/preview`,
 * refreshed as you type. Like the Markdown preview it opens beside the source and leaves the
 * focus in the editor; a click on a step in the DAG shows that step in the source.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node.js';

interface PreviewAnswer {
  readonly plan: string | null;
  readonly locations?: Readonly<Record<string, { line: number; character: number }>>;
}

export class PreviewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: vscode.Uri | undefined;
  private plan: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private last: PreviewAnswer | undefined;
  /** The column of the source editor, where a click on a step reveals it. */
  private sourceColumn: vscode.ViewColumn | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly client: () => LanguageClient | undefined) {}

  show(uri?: vscode.Uri, plan?: string): void {
    const editor = vscode.window.activeTextEditor;
    const target = uri ?? (editor?.document.languageId === 'orch' ? editor.document.uri : undefined);
    if (!target) {
      void vscode.window.showWarningMessage('Open an .orch file to preview its plan.');
      return;
    }
    if (this.uri?.toString() !== target.toString()) this.plan = undefined;
    this.uri = target;
    if (plan) this.plan = plan;
    this.sourceColumn = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === target.toString())?.viewColumn ?? editor?.viewColumn;
    if (!this.panel) {
      const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
      this.panel = vscode.window.createWebviewPanel('orchPreview', this.title(), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: true,
        localResourceRoots: [media],
        retainContextWhenHidden: true,
      });
      this.panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'icons', 'orch.svg');
      this.panel.webview.html = this.html(this.panel.webview, media);
      this.panel.webview.onDidReceiveMessage((m: { type?: string; plan?: string; step?: string }) => {
        if (m?.type === 'selectPlan' && typeof m.plan === 'string') {
          this.plan = m.plan;
          void this.refresh();
        } else if (m?.type === 'reveal' && typeof m.step === 'string') {
          void this.reveal(m.step);
        }
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    } else {
      this.panel.title = this.title();
      this.panel.reveal(this.panel.viewColumn ?? vscode.ViewColumn.Beside, true);
    }
    void this.refresh();
  }

  private title(): string {
    return this.uri ? `Preview ${this.uri.path.split('/').pop()}` : 'Orch Preview';
  }

  documentChanged(doc: vscode.TextDocument): void {
    if (!this.panel || doc.languageId !== 'orch') return;
    if (this.uri?.toString() !== doc.uri.toString()) {
      this.uri = doc.uri;
      this.plan = undefined;
      this.panel.title = this.title();
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  private async refresh(): Promise<void> {
    const client = this.client();
    if (!this.panel || !this.uri || !client) return;
    const seq = ++this.seq;
    try {
      const data = await client.sendRequest<PreviewAnswer | null>('orch/preview', { uri: this.uri.toString(), plan: this.plan });
      // A slower, older answer must not replace a newer one.
      if (seq !== this.seq) return;
      this.last = data ?? undefined;
      void this.panel?.webview.postMessage({ type: 'preview', data });
    } catch (err) {
      if (seq === this.seq) void this.panel?.webview.postMessage({ type: 'error', message: String(err) });
    }
  }

  private async reveal(step: string): Promise<void> {
    const at = this.last?.locations?.[step];
    if (!this.uri || !at) return;
    const position = new vscode.Position(at.line, at.character);
    const editor = await vscode.window.showTextDocument(this.uri, {
      viewColumn: this.sourceColumn ?? vscode.ViewColumn.One,
      selection: new vscode.Range(position, position),
    });
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** The standalone page (media/preview.html) with webview URIs and a strict CSP. */
  private html(webview: vscode.Webview, media: vscode.Uri): string {
    const page = readFileSync(vscode.Uri.joinPath(media, 'preview.html').fsPath, 'utf8');
    const nonce = Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
    const csp = `default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';`;
    return page
      .replace('<head>', `<head>\n<meta http-equiv="Content-Security-Policy" content="${csp}">`)
      .replace('href="preview.css"', `href="${webview.asWebviewUri(vscode.Uri.joinPath(media, 'preview.css'))}"`)
      .replace('<script src="preview.js"', `<script nonce="${nonce}" src="${webview.asWebviewUri(vscode.Uri.joinPath(media, 'preview.js'))}"`);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
  }
}
