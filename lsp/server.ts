/**
 * The Orch language server. Transport-agnostic: `startServer(connection)` wires every feature
 * onto a connection; `stdio.ts` makes one over stdin/stdout for `orch lsp --stdio` and the
 * VS Code extension. Every handler is wrapped so a bug or a broken file yields an empty answer
 * and a log line, never a dead server. The handlers are registered in groups by what they serve
 * (`handlers/`), over one shared `ServerState`.
 */
import type { Connection } from 'vscode-languageserver';
import { VERIFY_REQUEST } from './features/verify.js';
import { registerDecorations } from './handlers/decorations.js';
import { registerDocumentSync } from './handlers/document-sync.js';
import { registerEditing } from './handlers/editing.js';
import { registerLifecycle } from './handlers/lifecycle.js';
import { registerNavigation } from './handlers/navigation.js';
import { PREVIEW_REQUEST, registerPlanRequests } from './handlers/plan-requests.js';
import { serverState } from './handlers/state.js';
import type { ParsedFile } from './workspace.js';

export interface ServerOptions {
  /** Debounce before re-checking after an edit (ms). Overridable by initializationOptions.diagnosticsDelay. */
  readonly diagnosticsDelayMs?: number;
}

export { PREVIEW_REQUEST, VERIFY_REQUEST };

/** What an embedder sees of a running server (the memory tests look at what it holds). */
export interface RunningServer {
  /** The parse the server's main thread holds for a file, if any (never parses). */
  readonly heldParse: (path: string) => ParsedFile | undefined;
}

export function startServer(connection: Connection, options: ServerOptions = {}): RunningServer {
  const state = serverState(connection);
  const { estimates, estimator } = registerDecorations(state);
  const scheduler = registerDocumentSync(state, estimates, options.diagnosticsDelayMs ?? 150);
  registerLifecycle(state, scheduler);
  registerNavigation(state);
  registerEditing(state);
  const verifier = registerPlanRequests(state);

  connection.onShutdown(() => {
    verifier.dispose();
    estimator.dispose();
    scheduler.dispose();
    state.checker.dispose();
  });
  state.documents.listen(connection);
  connection.listen();
  return { heldParse: (path) => state.workspace.held(path) };
}
