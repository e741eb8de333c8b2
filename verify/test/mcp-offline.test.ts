/**
 * LANGUAGE.md §8.3: `orch check`, `compile`, `preview` and `verify` read only orch.lock.json and
 * never start a server — also now that runs check each tool against its server before its first
 * step starts. The configured server would leave a marker file if it were ever started.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, compile, lockText, lockTool, LOCK_VERSION, preview } from '../../compiler/index.js';
import { verifyFile } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-mcp-offline-'));
const marker = join(dir, 'STARTED');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checking, previewing and verifying a plan of MCP tools', () => {
  it('starts no server', async () => {
    writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ mcp: { everything: { command: process.execPath, args: ['-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`] } } }));
    const sum = lockTool({ name: 'get-sum', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } });
    writeFileSync(join(dir, 'orch.lock.json'), lockText({ lockVersion: LOCK_VERSION, servers: { everything: { name: 'everything', version: '1', tools: [sum] } } }));
    const file = join(dir, 'a.orch');
    writeFileSync(file, 'import mcp "everything" as demo\nplan p {\n  step first = log(message: "before")\n  step sum = demo.get_sum(a: 2, b: 3) { after first }\n}\n');

    expect(check({ entry: file }).filter((d) => d.severity === 'error')).toEqual([]);
    const out = compile({ entry: file });
    expect(out.plans[0]!.capabilities['mcp.everything.get_sum']?.handler).toMatchObject({ mcp: 'everything', tool: 'get-sum', hash: sum.hash });
    preview(out.plans[0]!);
    const verified = await verifyFile(file, { seed: 1, runs: 20 });
    expect(verified.ok).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });
});
