/**
 * The VS Code client: starts the Orch language server bundled in `server/` (or the one the
 * `orch.server.path` setting names) and wires the editor features around it: the plan preview,
 * Run / Verify with the bundled CLI, `orch` tasks, the Testing view of the plans' tests, and the server's status-bar item. Bundled by esbuild into `dist/extension.js` (CommonJS, `vscode` external).
 */
import * as vscode from 'vscode';
import {
  LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node.js';
import { PlanRunner, type PlanCommand } from './run-plan.js';
import { PreviewPanel } from './preview.js';
import { ServerStatus } from './status.js';
import { OrchTaskProvider } from './tasks.js';
import { OrchTests, RUN_TEST_COMMAND } from './tests.js';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const status = new ServerStatus();
  const runner = new PlanRunner(context);
  const preview = new PreviewPanel(context, () => client);
  const tests = new OrchTests(() => client);
  const plan = (command: PlanCommand) => async (uri?: unknown, name?: unknown) => {
    const target = planTarget(uri, name);
    if (target) await runner.run(command, target);
  };
  context.subscriptions.push(
    status,
    runner,
    preview,
    tests,
    vscode.commands.registerCommand('orch.showPreview', (uri?: unknown, name?: unknown) => {
      const target = planTarget(uri, name, true);
      if (target) preview.show(target.uri, target.plan);
    }),
    vscode.commands.registerCommand('orch.runPlan', plan('run')),
    vscode.commands.registerCommand('orch.verifyPlan', (uri?: unknown, name?: unknown) => verifyInEditor(planTarget(uri, name), runner)),
    vscode.commands.registerCommand('orch.verifyPlanInTerminal', plan('verify')),
    vscode.commands.registerCommand('orch.checkWorkspace', async () => {
      const tasks = await vscode.tasks.fetchTasks({ type: 'orch' });
      const check = tasks.find((t) => (t.definition as { command?: string }).command === 'check');
      if (check) await vscode.tasks.executeTask(check);
      else void vscode.window.showInformationMessage('Orch: no .orch files in this workspace.');
    }),
    vscode.commands.registerCommand('orch.showServerOutput', () => client?.outputChannel.show(true)),
    vscode.commands.registerCommand('orch.restartServer', async () => {
      await client?.restart();
    }),
    vscode.tasks.registerTaskProvider('orch', new OrchTaskProvider(context)),
    vscode.workspace.onDidChangeTextDocument((e) => preview.documentChanged(e.document)),
    vscode.window.onDidChangeActiveTextEditor((e) => e && preview.documentChanged(e.document)),
  );
  client = createClient(context, tests);
  status.watch(client);
  await client.start();
  void tests.discover();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

function createClient(context: vscode.ExtensionContext, tests: OrchTests): LanguageClient {
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
    synchronize: {
      // The project config and MCP lock too: open files' diagnostics depend on them.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.orch,orch.config.json,orch.config.js,orch.config.mjs,orch.lock.json}'),
      // Sends `orch.*` settings on change: the server turns inlay hints on and off live.
      configurationSection: 'orch',
    },
    initializationOptions: {
      diagnosticsDelay: config.get<number>('diagnostics.delay') ?? 150,
      inlayHints: config.get<boolean>('inlayHints.enabled') ?? true,
    },
    // The "Run test" lens runs its test through the Testing view, which marks the result.
    middleware: { executeCommand: (command, args, next) => (command === RUN_TEST_COMMAND ? tests.runFromLens(args) : next(command, args)) },
  };
  // The client id `orch` makes the library honour the `orch.trace.server` setting.
  return new LanguageClient('orch', 'Orch Language Server', serverOptions, clientOptions);
}

/**
 * The plan a command is about: CodeLens passes `(uri, plan)` (strings), the editor title bar
 * a Uri, the command palette nothing (the active .orch editor).
 */
function planTarget(uri: unknown, plan: unknown, preview = false): { uri: vscode.Uri; plan?: string } | undefined {
  const parsed = uri instanceof vscode.Uri ? uri : typeof uri === 'string' ? vscode.Uri.parse(uri) : activeOrchDocument()?.uri;
  if (!parsed) {
    void vscode.window.showWarningMessage(preview ? 'Open an .orch file to preview its plan.' : 'Open an .orch file first.');
    return undefined;
  }
  return { uri: parsed, plan: typeof plan === 'string' ? plan : undefined };
}

function activeOrchDocument(): vscode.TextDocument | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc?.languageId === 'orch' ? doc : undefined;
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
async function verifyInEditor(target: { uri: vscode.Uri; plan?: string } | undefined, runner: PlanRunner): Promise<void> {
  if (!target || !client) return;
  const c = client;
  let summary: VerifySummary | null;
  try {
    summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Verifying ${target.plan ?? vscode.workspace.asRelativePath(target.uri)}…` },
      () => c.sendRequest<VerifySummary | null>('orch/verify', { uri: target.uri.toString(), ...(target.plan ? { plan: target.plan } : {}) }),
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
    'Full Trace',
  );
  if (choice === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
  else if (choice === 'Full Trace') void runner.run('verify', target);
}
