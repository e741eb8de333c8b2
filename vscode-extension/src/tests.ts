/**
 * The Testing view (LANGUAGE.md §9.2): every `test` block of the workspace's `.orch` files, listed
 * under its file, run by the language server's `orch.runTest` command (as `orch test` runs them:
 * mocks, a virtual clock) and marked passed or failed — a failure at its `expect`'s line. The
 * server's "Run test" lens runs its test through here too, so its result shows in the view.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient } from 'vscode-languageclient/node.js';

export const RUN_TEST_COMMAND = 'orch.runTest';

/** A `test "NAME" {` line (the language's own rule for where a test starts). */
const TEST_LINE = /^\s*test\s+"((?:[^"\\]|\\.)*)"/;

/** What `orch.runTest` answers (docs/editors.md). */
interface RunTestsSummary {
  readonly ok: boolean;
  readonly error?: string;
  readonly tests: readonly { readonly name: string; readonly line: number; readonly passed: boolean; readonly failures: readonly { readonly message: string; readonly line?: number }[] }[];
}

export class OrchTests implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController('orch', 'Orch');
  private readonly disposables: vscode.Disposable[] = [this.controller];

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, (request, token) => this.run(request, token), true);
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.orch');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => this.read(uri)),
      watcher.onDidChange((uri) => this.read(uri)),
      watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString())),
      vscode.workspace.onDidChangeTextDocument((e) => e.document.languageId === 'orch' && this.list(e.document.uri, e.document.getText())),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** Every `.orch` file of the workspace with a test. */
  async discover(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*.orch', '**/node_modules/**');
    await Promise.all(files.map((uri) => this.read(uri)));
  }

  /** The lens's `[uri, name]`: that test, run through the view. */
  async runFromLens(args: readonly unknown[]): Promise<void> {
    const [uri, name] = args;
    if (typeof uri !== 'string') return;
    const file = this.controller.items.get(uri) ?? (await this.read(vscode.Uri.parse(uri)));
    const item = typeof name === 'string' ? file?.children.get(`${uri}#${name}`) : file;
    if (!item) return;
    const cancel = new vscode.CancellationTokenSource();
    try {
      await this.run(new vscode.TestRunRequest([item]), cancel.token);
    } finally {
      cancel.dispose();
    }
  }

  private async read(uri: vscode.Uri): Promise<vscode.TestItem | undefined> {
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    return this.list(uri, text);
  }

  private list(uri: vscode.Uri, text: string): vscode.TestItem | undefined {
    const id = uri.toString();
    const tests = text.split(/\r?\n/).flatMap((line, i) => {
      const m = TEST_LINE.exec(line);
      return m ? [{ name: m[1]!.replace(/\\(.)/g, '$1'), line: i }] : [];
    });
    if (tests.length === 0) {
      this.controller.items.delete(id);
      return undefined;
    }
    const file = this.controller.items.get(id) ?? this.controller.createTestItem(id, vscode.workspace.asRelativePath(uri), uri);
    file.children.replace(
      tests.map((t) => {
        const item = this.controller.createTestItem(`${id}#${t.name}`, t.name, uri);
        item.range = new vscode.Range(t.line, 0, t.line, 0);
        return item;
      }),
    );
    this.controller.items.add(file);
    return file;
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    const chosen: vscode.TestItem[] = [];
    if (request.include) chosen.push(...request.include);
    else this.controller.items.forEach((f) => chosen.push(f));
    try {
      for (const item of chosen) {
        if (token.isCancellationRequested) break;
        if (request.exclude?.includes(item)) continue;
        await this.runItem(run, item);
      }
    } finally {
      run.end();
    }
  }

  /** A file (all its tests) or one test, by the server's command. */
  private async runItem(run: vscode.TestRun, item: vscode.TestItem): Promise<void> {
    const file = item.parent ?? item;
    const tests: vscode.TestItem[] = [];
    if (item.parent) tests.push(item);
    else item.children.forEach((t) => tests.push(t));
    for (const t of tests) run.started(t);
    const client = this.client();
    let summary: RunTestsSummary | null = null;
    try {
      if (!client) throw new Error('the Orch language server is not running');
      summary = await client.sendRequest(ExecuteCommandRequest.type, { command: RUN_TEST_COMMAND, arguments: item.parent ? [file.uri!.toString(), item.label] : [file.uri!.toString()] });
    } catch (err) {
      for (const t of tests) run.errored(t, new vscode.TestMessage(String(err)));
      return;
    }
    if (!summary || summary.error) {
      for (const t of tests) run.errored(t, new vscode.TestMessage(summary?.error ?? 'the server ran no test'));
      return;
    }
    for (const result of summary.tests) {
      const t = tests.find((x) => x.label === result.name);
      if (!t) continue;
      if (result.passed) {
        run.passed(t);
        continue;
      }
      run.failed(
        t,
        result.failures.map((f) => {
          const message = new vscode.TestMessage(f.message);
          message.location = new vscode.Location(file.uri!, new vscode.Position((f.line ?? result.line) - 1, 0));
          return message;
        }),
      );
    }
  }
}
