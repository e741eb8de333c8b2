/**
 * A real LSP client for tests: spawns `node bin/orch.js lsp --stdio` and talks JSON-RPC to it
 * over the child's stdin/stdout with vscode-languageserver-protocol.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, PublishDiagnosticsParams, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO, 'lsp', 'test', 'fixtures');


export function uriOf(path: string): string {
  return pathToFileURL(path).href;
}

export class TestClient {
  readonly connection: ProtocolConnection;
  private readonly proc: ChildProcess;
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private readonly waiters: (() => void)[] = [];
  readonly stderr: string[] = [];
  private versions = new Map<string, number>();
  /** Rejects when the server process exits, so a crashed server fails a test instead of hanging it. */
  private readonly exited: Promise<never>;
  /** The server process's exit code (null: ended by a signal), once it has exited. */
  readonly exitCode: Promise<number | null>;

  /**
   * `via: 'cli'` spawns `node bin/orch.js lsp --stdio`; `via: 'module'` the built server entry
   * `dist/lsp/main.js` (the same server, without loading every other CLI command); `{entry}`
   * any server script (the esbuild bundle inside the VS Code extension).
   */
  constructor(via: 'cli' | 'module' | { readonly entry: string } = 'module', extraArgs: string[] = ['--diagnostics-delay', '20']) {
    const entry = via === 'cli' ? [join(REPO, 'bin', 'orch.js'), 'lsp'] : via === 'module' ? [join(REPO, 'dist', 'lsp', 'main.js')] : [via.entry];
    this.proc = spawn(process.execPath, [...entry, '--stdio', ...extraArgs], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr!.on('data', (b: Buffer) => this.stderr.push(b.toString()));
    this.exited = new Promise((_, reject) => {
      this.proc.once('exit', (code) => reject(new Error(`language server exited (${code}): ${this.stderr.join('').slice(0, 2000)}`)));
    });
    this.exited.catch(() => undefined);
    this.exitCode = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.connection = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const list = this.diagnostics.get(p.uri) ?? [];
      list.push(p);
      this.diagnostics.set(p.uri, list);
      for (const w of this.waiters.splice(0)) w();
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => {
      this.stderr.push(p.message);
    });
    this.connection.onRequest('workspace/configuration', () => []);
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.listen();
  }

  get alive(): boolean {
    return this.proc.exitCode === null && !this.proc.killed;
  }

  async initialize(rootPath = FIXTURES): Promise<unknown> {
    const result = await this.request('initialize', {
      processId: process.pid,
      rootUri: uriOf(rootPath),
      workspaceFolders: [{ uri: uriOf(rootPath), name: 'fixtures' }],
      capabilities: {
        textDocument: {
          publishDiagnostics: { relatedInformation: true, versionSupport: true },
          rename: { prepareSupport: true },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        },
      },
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  async open(path: string, text: string): Promise<string> {
    const uri = uriOf(path);
    this.versions.set(uri, 1);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'orch', version: 1, text } });
    return uri;
  }

  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return version;
  }

  version(uri: string): number {
    return this.versions.get(uri) ?? 0;
  }

  /** Resolves with the first diagnostics for `uri` (published for `minVersion` or later) that satisfy `pred`. */
  async diagnosticsFor(uri: string, pred: (d: Diagnostic[]) => boolean = () => true, minVersion = 0, timeoutMs = 15_000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (this.diagnostics.get(uri) ?? []).find((p) => (p.version ?? 0) >= minVersion && pred(p.diagnostics));
      if (found) return found.diagnostics;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching diagnostics for ${uri}; got ${JSON.stringify(this.diagnostics.get(uri)?.map((p) => [p.version, p.diagnostics.map((d) => d.code)]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  published(uri: string): PublishDiagnosticsParams[] {
    return this.diagnostics.get(uri) ?? [];
  }

  request<R>(method: string, params?: unknown): Promise<R> {
    return Promise.race([this.connection.sendRequest(method, params) as Promise<R>, this.exited]);
  }

  async close(): Promise<void> {
    try {
      if (this.alive) {
        await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
        await this.connection.sendNotification('exit');
      }
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.connection.dispose();
  }
}

/** LSP position (0-based) of the `nth` occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0, nth = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" not found`);
  }
  const offset = at + delta;
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}
