/**
 * The status-bar item of the language server: starting / ready (with its version) / stopped.
 * Clicking it shows the server's output. Shown while an .orch file is the active editor.
 */
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node.js';

export class ServerStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('orch.server', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [];
  private state: 'starting' | 'ready' | 'stopped' = 'starting';

  constructor() {
    this.item.name = 'Orch Language Server';
    this.item.command = 'orch.showServerOutput';
    this.subscriptions.push(vscode.window.onDidChangeActiveTextEditor(() => this.updateVisibility()));
    this.render();
  }

  watch(client: LanguageClient): void {
    this.subscriptions.push(client.onDidChangeState((e) => {
      this.state = e.newState === State.Running ? 'ready' : e.newState === State.Starting ? 'starting' : 'stopped';
      this.render(client);
    }));
    this.state = client.state === State.Running ? 'ready' : client.state === State.Starting ? 'starting' : 'stopped';
    this.render(client);
  }

  private render(client?: LanguageClient): void {
    const version = client?.initializeResult?.serverInfo?.version;
    if (this.state === 'ready') {
      this.item.text = '$(check) Orch';
      this.item.tooltip = `Orch language server ${version ?? ''} is running. Click for its output.`;
      this.item.backgroundColor = undefined;
    } else if (this.state === 'starting') {
      this.item.text = '$(sync~spin) Orch';
      this.item.tooltip = 'Orch language server is starting…';
      this.item.backgroundColor = undefined;
    } else {
      this.item.text = '$(error) Orch';
      this.item.tooltip = 'Orch language server stopped. Click for its output; "Orch: Restart Language Server" starts it again.';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    }
    this.item.accessibilityInformation = { label: `Orch language server: ${this.state}` };
    this.updateVisibility();
  }

  private updateVisibility(): void {
    // Always visible when the server is down: that is worth knowing from any editor.
    if (vscode.window.activeTextEditor?.document.languageId === 'orch' || this.state === 'stopped') this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
