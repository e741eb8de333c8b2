/** `orch lsp --stdio` and the VS Code extension's bundled server: one server over stdin/stdout. */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node.js';
import { startServer, type ServerOptions } from './server.js';

export function startStdioServer(options: ServerOptions = {}): void {
  // With process streams the library redirects console.* to the client log, keeping stdout clean.
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  startServer(connection, options);
}
