/** The language server as the LSP benches talk to it: a child process over stdio JSON-RPC. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';

const serverEntry = join(dirname(fileURLToPath(import.meta.url)), '..', 'lsp', 'main.js');

export interface BenchServer {
  readonly conn: ProtocolConnection;
  /** Shuts the server down politely, then kills it. */
  stop(): Promise<void>;
}

/** Starts the server with its diagnostics debounce at 0 (the bench times the re-check itself). */
export function startLspServer(): BenchServer {
  const proc = spawn(process.execPath, [serverEntry, '--stdio', '--diagnostics-delay', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  return {
    conn,
    async stop() {
      try {
        await conn.sendRequest('shutdown');
        await conn.sendNotification('exit');
      } catch {
        // the server is gone already
      }
      proc.kill();
      conn.dispose();
    },
  };
}
