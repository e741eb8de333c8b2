/**
 * The VS Code client: starts the Orch language server bundled in `server/` (or the one the
 * `orch.server.path` setting names), and adds the plan preview webview and the run/verify
 * commands. Bundled by esbuild into `dist/extension.js` (CommonJS, `vscode` external).
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node.js';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  client = createClient(context);
  await client.start();
  const preview = new PreviewPanel(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('orch.showPreview', () => preview.show()),
    vscode.commands.registerCommand('orch.runPlan', () => runInTerminal('run')),
    vscode.commands.registerCommand('orch.verifyPlan', () => verifyInEditor()),
    vscode.commands.registerCommand('orch.verifyPlanInTerminal', () => runInTerminal('verify')),
    vscode.commands.registerCommand('orch.restartServer', async () => {
      await client?.restart();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => preview.documentChanged(e.document)),
    vscode.window.onDidChangeActiveTextEditor((e) => e && preview.documentChanged(e.document)),
    preview,
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

function createClient(context: vscode.ExtensionContext): LanguageClient {
  const config = vscode.workspace.getConfiguration('orch');
  const custom = (config.get<string>('server.path') ?? '').trim();
  let serverOptions: ServerOptions;
  if (custom && !/\.(m?js|cjs)$/.test(custom)) {
    // An `orch` executable: the same server the CLI starts.
    serverOptions = { command: custom, args: ['lsp', '--stdio'], transport: TransportKind.stdio };
  } else {
    const module = custom || context.asAbsolutePath('server/server.mjs');
    serverOptions = {
      run: { module, transport: TransportKind.stdio },
      debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--inspect=6010'] } },
    };
  }
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'orch' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.orch') },
    initializationOptions: { diagnosticsDelay: config.get<number>('diagnostics.delay') ?? 150 },
  };
  // The client id `orch` makes the library honour the `orch.trace.server` setting.
  return new LanguageClient('orch', 'Orch Language Server', serverOptions, clientOptions);
}

function activeOrchDocument(): vscode.TextDocument | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc?.languageId === 'orch' ? doc : undefined;
}

async function runInTerminal(command: 'run' | 'verify'): Promise<void> {
  const doc = activeOrchDocument();
  if (!doc) {
    void vscode.window.showWarningMessage('Open an .orch file first.');
    return;
  }
  if (doc.isDirty) await doc.save();
  const cli = vscode.workspace.getConfiguration('orch').get<string>('cli.path') || 'orch';
  const terminal = vscode.window.terminals.find((t) => t.name === 'Orch') ?? vscode.window.createTerminal('Orch');
  terminal.show(true);
  terminal.sendText(`${cli} ${command} ${JSON.stringify(doc.uri.fsPath)}`);
}

/** The answer of the server's `orch/verify` request (docs/editors.md). */
interface VerifySummary {
  readonly ok: boolean;
  readonly error?: string;
  readonly stale?: boolean;
  readonly plans: readonly {
    readonly plan: string;
    readonly seed: number;
    readonly runs: number;
    readonly invariants: readonly { readonly status: 'holds' | 'violated' }[];
    readonly violations: readonly { readonly invariant: string }[];
  }[];
}

/**
 * "Orch: Verify Plan": the server verifies the buffer (saved or not) on a worker thread and
 * shows each violated invariant as an error on its name; this reports the verdict.
 */
async function verifyInEditor(): Promise<void> {
  const doc = activeOrchDocument();
  if (!doc) {
    void vscode.window.showWarningMessage('Open an .orch file first.');
    return;
  }
  if (!client) return;
  const c = client;
  let summary: VerifySummary | null;
  try {
    summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Verifying ${vscode.workspace.asRelativePath(doc.uri)}…` },
      () => c.sendRequest<VerifySummary | null>('orch/verify', { uri: doc.uri.toString() }),
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`Orch: verification failed: ${String(err)}`);
    return;
  }
  if (!summary) {
    // The server logged why (Output → Orch Language Server).
    void vscode.window.showErrorMessage('Orch: verification failed; see the Orch Language Server output.');
    return;
  }
  if (summary.error) {
    void vscode.window.showErrorMessage(`Orch: cannot verify: ${summary.error}`);
    return;
  }
  if (summary.stale) {
    void vscode.window.showInformationMessage('Orch: the file changed while verifying (or a newer verification started); run Verify Plan again.');
    return;
  }
  const runs = summary.plans.reduce((n, p) => n + p.runs, 0);
  const seeds = summary.plans.map((p) => `${p.plan}: seed ${p.seed}`).join(', ');
  if (summary.ok) {
    const invariants = summary.plans.reduce((n, p) => n + p.invariants.length, 0);
    void vscode.window.showInformationMessage(`Orch: all ${invariants} invariants hold (${runs} runs explored; ${seeds}).`);
    return;
  }
  const violated = summary.plans.flatMap((p) => p.violations.map((v) => `"${v.invariant}"`));
  const choice = await vscode.window.showWarningMessage(
    `Orch: ${violated.length} invariant${violated.length === 1 ? '' : 's'} violated: ${violated.join(', ')} (${seeds}).`,
    'Show Problems',
    'Full Trace in Terminal',
  );
  if (choice === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
  else if (choice === 'Full Trace in Terminal') void runInTerminal('verify');
}

/** The "Orch: Show Plan Preview" webview: DAG SVG + estimates, refreshed as you type. */
class PreviewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: vscode.Uri | undefined;
  private plan: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(private readonly context: vscode.ExtensionContext) {}

  show(): void {
    const doc = activeOrchDocument();
    if (!doc) {
      void vscode.window.showWarningMessage('Open an .orch file to preview its plan.');
      return;
    }
    this.uri = doc.uri;
    if (!this.panel) {
      const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
      this.panel = vscode.window.createWebviewPanel('orchPreview', 'Orch Preview', vscode.ViewColumn.Beside, {
        enableScripts: true,
        localResourceRoots: [media],
        retainContextWhenHidden: true,
      });
      this.panel.webview.html = this.html(this.panel.webview, media);
      this.panel.webview.onDidReceiveMessage((m: { type?: string; plan?: string }) => {
        if (m?.type === 'selectPlan') {
          this.plan = m.plan;
          void this.refresh();
        }
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    }
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    void this.refresh();
  }

  documentChanged(doc: vscode.TextDocument): void {
    if (!this.panel || doc.languageId !== 'orch') return;
    if (this.uri?.toString() !== doc.uri.toString()) {
      this.uri = doc.uri;
      this.plan = undefined;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  private async refresh(): Promise<void> {
    if (!this.panel || !this.uri || !client) return;
    const seq = ++this.seq;
    try {
      const data = await client.sendRequest('orch/preview', { uri: this.uri.toString(), plan: this.plan });
      // A slower, older answer must not replace a newer one.
      if (seq === this.seq) void this.panel?.webview.postMessage({ type: 'preview', data });
    } catch (err) {
      if (seq === this.seq) void this.panel?.webview.postMessage({ type: 'error', message: String(err) });
    }
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
