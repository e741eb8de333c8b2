/**
 * `orch mcp serve --allow-run --db postgres://…`: the `run` tool places a run's steps as `orch run`
 * does on a cluster (LANGUAGE.md §7.5) — on a live `orch worker`, not in the MCP server's process.
 * A real Postgres, a real worker process and the official MCP SDK client over stdio.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { orchAsync, tempDir } from '../../runtime/test/helpers.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

const PLAN = `capability where {
  kind tool
  input { n: int }
  output { pid: int }
  handler "./where.mjs#where"
}

plan placed {
  step a = where(n: 1)
  output { pid: a.output.pid }
}
`;

let db: MigratedPostgres;
let dir: string;

beforeAll(async () => {
  db = await migratedPostgres();
  dir = tempDir('orch-mcp-pg-');
  writeFileSync(join(dir, 'orch.config.json'), '{}\n');
  writeFileSync(join(dir, 'placed.orch'), PLAN);
  writeFileSync(join(dir, 'where.mjs'), 'export async function where() { return { pid: process.pid }; }\n');
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

describe('orch mcp serve on a Postgres journal', () => {
  it('run hands the steps to a live orch worker, as orch run does (§7.5)', async () => {
    const worker = orchAsync(['worker', '--db', db.url, '--project', dir, '--slots', '1'], dir);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'serve', '--allow-run', '--db', db.url],
      cwd: dir,
      env: { ...(process.env as Record<string, string>), NO_COLOR: '1' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'orch-test', version: '1.0.0' });
    try {
      // Registered and alive: a run starting now sees it.
      for (let i = 0; ; i++) {
        const { rows } = await db.client.query(`SELECT 1 FROM orch.workers WHERE state = 'alive' AND pid = $1`, [worker.child.pid]);
        if (rows.length) break;
        if (i > 600) throw new Error('the worker never registered');
        await new Promise((r) => setTimeout(r, 50));
      }
      await client.connect(transport);
      const r = (await client.callTool({ name: 'run', arguments: { file: 'placed.orch' } })) as { isError?: boolean; structuredContent?: { status: string; output: { pid: number } } };
      expect(r.isError ?? false).toBe(false);
      expect(r.structuredContent?.status).toBe('completed');
      expect(r.structuredContent?.output.pid).toBe(worker.child.pid);
      expect(r.structuredContent?.output.pid).not.toBe(transport.pid);
    } finally {
      await client.close();
      worker.child.kill('SIGTERM');
      await worker.done;
    }
  }, 60_000);
});
