/**
 * `orch mcp serve` without --allow-run (LANGUAGE.md §8.5): `run`, `signal` and `cancel` are not
 * offered, and a call of one is a tool result with `isError` that says how to allow it (MCP's tool
 * execution error, read by the assistant) — not the SDK's "MCP error -32602: Tool run disabled".
 * With the flag they are listed. The official SDK client over an in-memory transport.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createOrchMcpServer } from '../mcp/server.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function connect(allowRun: boolean): Promise<Client> {
  const root = mkdtempSync(path.join(tmpdir(), 'orch-mcp-allow-'));
  const server = createOrchMcpServer({ root, db: path.join(root, 'runs.db'), allowRun, version: '0.0.0' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '0.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  open.push(client, server);
  return client;
}

const RUN_CALLS = {
  run: { file: 'plan.orch' },
  signal: { runId: 'r1', step: 'ok', decision: 'approve' },
  cancel: { runId: 'r1' },
} as const;

describe('orch mcp serve: run, signal and cancel need --allow-run', () => {
  it('without it they are not listed, and a call is a tool error saying how to allow it', async () => {
    const client = await connect(false);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('check');
    for (const [tool, args] of Object.entries(RUN_CALLS)) {
      expect(names).not.toContain(tool);
      const r = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
      expect(r.isError, tool).toBe(true);
      const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      expect(text).toContain(`the ${tool} tool is off`);
      expect(text).toContain('orch mcp serve --allow-run');
      expect(text).not.toMatch(/MCP error|-32602/);
    }
    // Any other tool it does not have is still the SDK's unknown tool.
    const unknown = (await client.callTool({ name: 'nope', arguments: {} })) as CallToolResult;
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toMatch(/nope not found/);
  });

  it('with it they are listed and called', async () => {
    const client = await connect(true);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(Object.keys(RUN_CALLS)));
    const r = (await client.callTool({ name: 'cancel', arguments: RUN_CALLS.cancel })) as CallToolResult;
    // A run the journal does not have: the tool itself answers.
    expect(JSON.stringify(r.content)).not.toContain('--allow-run');
  });
});
