/**
 * `orch mcp serve` latency (LANGUAGE.md §8.5): the `check` tool on the 5,000-line module the LSP
 * bench uses, through the official MCP client over real stdio (JSON-RPC framing, schema
 * validation of the structured result on both sides included): the file on disk, and the same
 * text sent as unsaved source with a one-character edit each time (what an assistant does while
 * it writes a plan).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { smoke, type BenchFigure } from './figure.js';
import { writeLargeModule } from './lsp.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const WARM_UP = smoke(5, 1);
const CALLS = smoke(60, 2);

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-mcp-'));
  const { text } = writeLargeModule(dir, smoke(5000, 200));
  writeFileSync(join(dir, 'orch.config.json'), '{}\n');
  const client = new Client({ name: 'orch-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', 'serve'], cwd: dir, stderr: 'ignore' }));
  try {
    const time = async (args: Record<string, unknown>): Promise<number> => {
      const t0 = performance.now();
      const r = await client.callTool({ name: 'check', arguments: args });
      const ms = performance.now() - t0;
      if (r.isError) throw new Error(`check failed: ${JSON.stringify(r.content)}`);
      return ms;
    };
    const onDisk: number[] = [];
    const unsaved: number[] = [];
    // A one-character edit inside a string literal: the text changes, its diagnostics do not.
    const at = text.indexOf('"step 1"') + 6;
    for (let i = 0; i < WARM_UP + CALLS; i++) {
      const file = await time({ files: ['large.orch'] });
      const edited = `${text.slice(0, at)}${String.fromCharCode(97 + (i % 26))}${text.slice(at + 1)}`;
      const source = await time({ source: edited, path: 'large.orch' });
      if (i >= WARM_UP) {
        onDisk.push(file);
        unsaved.push(source);
      }
    }
    const d95 = percentile(onDisk, 95);
    const u95 = percentile(unsaved, 95);
    return [
      { name: 'MCP check tool, 5,000-line file on disk, p50', value: percentile(onDisk, 50), unit: 'ms', target: '', met: true },
      { name: 'MCP check tool, 5,000-line file on disk, p95', value: d95, unit: 'ms', target: '≤ 100 ms', met: d95 <= 100 },
      { name: 'MCP check tool, 5,000-line unsaved source (1-char edit each call), p95', value: u95, unit: 'ms', target: '≤ 100 ms', met: u95 <= 100 },
    ];
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
