/**
 * The session's start and settings: `initialize` (workspace roots, the options the client passes,
 * the capabilities the server offers), `initialized` (a line saying which server runs where) and
 * `workspace/didChangeConfiguration` (inlay hints on or off).
 */
import { TextDocumentSyncKind, type InitializeParams, type InitializeResult, type ServerCapabilities } from 'vscode-languageserver';
import { STD_DIR } from '../../compiler/index.js';
import { uriToPath } from '../convert.js';
import type { DiagnosticsScheduler } from '../diagnostics.js';
import { SEMANTIC_TOKENS_LEGEND } from '../features/semantic-tokens.js';
import { VERIFY_COMMAND } from '../features/verify.js';
import { RUN_TEST_COMMAND } from '../features/plan-tests.js';
import { serverVersion } from '../version.js';
import type { ServerState } from './state.js';

const CAPABILITIES: ServerCapabilities = {
  textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
  hoverProvider: true,
  completionProvider: { triggerCharacters: ['.', ':', ' ', '(', ',', '@'], resolveProvider: false },
  signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [':'] },
  definitionProvider: true,
  referencesProvider: true,
  documentHighlightProvider: true,
  renameProvider: { prepareProvider: true },
  documentSymbolProvider: true,
  workspaceSymbolProvider: true,
  documentFormattingProvider: true,
  documentRangeFormattingProvider: true,
  codeLensProvider: { resolveProvider: false },
  inlayHintProvider: { resolveProvider: false },
  documentLinkProvider: { resolveProvider: false },
  foldingRangeProvider: true,
  codeActionProvider: { codeActionKinds: ['quickfix'] },
  semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true },
  executeCommandProvider: { commands: [VERIFY_COMMAND, RUN_TEST_COMMAND] },
};

export function registerLifecycle(state: ServerState, scheduler: DiagnosticsScheduler): void {
  const { connection, workspace, settings, guard, checker } = state;
  connection.onInitialize((params: InitializeParams): InitializeResult => {
    // Before anything else: its start-up then overlaps the handshake and the first `didOpen`.
    checker.startWorker();
    const roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri));
    if (roots.length === 0 && params.rootUri) roots.push(uriToPath(params.rootUri));
    workspace.roots = roots;
    const init = (params.initializationOptions ?? {}) as { diagnosticsDelay?: unknown; inlayHints?: unknown };
    if (typeof init.diagnosticsDelay === 'number' && init.diagnosticsDelay >= 0) scheduler.delayMs = init.diagnosticsDelay;
    if (typeof init.inlayHints === 'boolean') settings.inlayHintsEnabled = init.inlayHints;
    return {
      capabilities: CAPABILITIES,
      serverInfo: { name: 'orch-lsp', version: serverVersion() },
    };
  });
  connection.onInitialized(() => {
    const roots = workspace.roots.length ? workspace.roots.join(', ') : '(no workspace folder)';
    try {
      connection.console.info(`Orch language server ${serverVersion()} started (Node ${process.version}, pid ${process.pid}); workspace: ${roots}; std library: ${STD_DIR}`);
    } catch {
      // A client that closed at once hears nothing.
    }
  });
  connection.onDidChangeConfiguration(guard('configuration', undefined, (p) => {
    const enabled = (p.settings as { orch?: { inlayHints?: { enabled?: unknown } } } | null)?.orch?.inlayHints?.enabled;
    if (typeof enabled !== 'boolean' || enabled === settings.inlayHintsEnabled) return;
    settings.inlayHintsEnabled = enabled;
    // Clients that support it ask again; the others on their next edit or scroll.
    void connection.languages.inlayHint.refresh().catch(() => undefined);
  }));
}
