/**
 * The language server on a hostile file (issue 15's reproducer): a plan whose output is a string
 * holding `${` and then 50,000 `*`. Before the diagnostic cap it took 5.9 s to check, produced
 * 50,000 diagnostics and stalled the server (hover 15 s, definition 20 s). Measured over real
 * stdio JSON-RPC: the first diagnostics after opening it, then hover and definition on a name of
 * the plan while that file is open.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, smoke, type BenchFigure } from './figure.js';
import { startLspServer } from './lsp-server.js';


const HOSTILE = `plan p {
  input { a: int }
  step first = echo(value: input.a)
  output { v: "\${${'*'.repeat(smoke(50_000, 500))}}", w: first.output }
}
`;


export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-lsp-hostile-'));
  const file = join(dir, 'stars.orch');
  writeFileSync(file, HOSTILE);
  const uri = pathToFileURL(file).href;
  const server = startLspServer();
  const conn = server.conn;
  let count = -1;
  let published: () => void = () => undefined;
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: unknown[] }) => {
    if (p.uri !== uri) return;
    count = p.diagnostics.length;
    published();
  });
  conn.listen();
  try {
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {} });
    await conn.sendNotification('initialized', {});
    const opened = new Promise<void>((resolve) => (published = resolve));
    let t0 = performance.now();
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'orch', version: 1, text: HOSTILE } });
    await opened;
    const firstDiagnostics = performance.now() - t0;
    const lines = HOSTILE.split('\n');
    const line = lines.findIndex((l) => l.includes('w: first.output'));
    const position = { line, character: lines[line]!.indexOf('first.output') + 1 };
    const hover: number[] = [];
    const definition: number[] = [];
    for (let i = 0; i < smoke(15, 1); i++) {
      t0 = performance.now();
      const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position });
      hover.push(performance.now() - t0);
      t0 = performance.now();
      const d = await conn.sendRequest('textDocument/definition', { textDocument: { uri }, position });
      definition.push(performance.now() - t0);
      // An empty answer would be fast for the wrong reason.
      if (!h || !d || (Array.isArray(d) && d.length === 0)) throw new Error(`no hover or definition for \`first\` in the hostile file: ${JSON.stringify({ h, d })}`);
    }
    const h = median(hover);
    const d = median(definition);
    return [
      { name: 'LSP first diagnostics of a string of 50,000 `*` after `${`', value: firstDiagnostics, unit: 'ms', target: '≤ 1000 ms', met: firstDiagnostics <= 1000 },
      { name: 'LSP diagnostics published for it (capped per file)', value: count, unit: 'diagnostics', target: '≤ 101', met: count >= 0 && count <= 101 },
      { name: 'LSP hover with that file open, median', value: h, unit: 'ms', target: '≤ 100 ms', met: h <= 100 },
      { name: 'LSP definition with that file open, median', value: d, unit: 'ms', target: '≤ 100 ms', met: d <= 100 },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
