/** The language server as the LSP benches talk to it: a child process over stdio JSON-RPC. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';

const serverEntry = join(dirname(fileURLToPath(import.meta.url)), '..', 'lsp', 'main.js');

export interface BenchServer {
  readonly conn: ProtocolConnection;
  /** The server process's id (its CPU time: `processCpuMs`). */
  readonly pid: number;
  /** Shuts the server down politely, then kills it. */
  stop(): Promise<void>;
}

/** Starts the server with its diagnostics debounce at 0 (the bench times the re-check itself). */
export function startLspServer(): BenchServer {
  const proc = spawn(process.execPath, [serverEntry, '--stdio', '--diagnostics-delay', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  return {
    conn,
    pid: proc.pid!,
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

/**
 * CPU milliseconds a process has used so far, all its threads (Linux `/proc/<pid>/stat`, 10 ms
 * ticks); NaN elsewhere. On a loaded box a request's CPU says more than its wall time.
 */
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** CPU milliseconds of a process's main thread so far (Linux schedstat, ns); NaN elsewhere. */
export function mainThreadCpuMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}
