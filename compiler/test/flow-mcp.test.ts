/**
 * Two readings of LANGUAGE.md §9.3 that the flow corpus (compiler/test/flow-corpus/) found the
 * `flows` stage missing: an MCP tool is a place a class may not go above its server's tier, and a
 * refinement of an MCP tool may restate the tool's parameters to mark them `@untrusted`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../index.js';
import { writeProject } from './flow-corpus/disk.js';
import { Program } from './flow-corpus/program.js';

const root = mkdtempSync(join(tmpdir(), 'orch-flow-mcp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const STRING_IN = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
const OK_OUT = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };

/** Codes, lines and messages of `check` on a project with one MCP server `srv` (tool `put`) and `body`. */
function checkWith(server: Record<string, unknown>, body: string, destructive = false) {
  const p = new Program();
  p.mcpServer('srv', server, [{ name: 'put', inputSchema: STRING_IN, outputSchema: OK_OUT, ...(destructive ? { annotations: { destructiveHint: true } } : {}) }]);
  p.main.imports.add('import mcp "srv" as srv');
  const files = { ...p.files() };
  files['main.orch'] = `${files['main.orch']}\n${body}\n`;
  return check({ entry: writeProject(join(root, String(n++)), files) }).map((d) => ({ code: d.code, line: d.range.start.line, message: d.message }));
}

const SEND = `
plan p {
  input { who: string @personal }
  step s = srv.put(text: input.who)
}`;

describe('an MCP tool takes a class up to its server tier (§9.3 confidentiality)', () => {
  it('a url server off the loopback is cloud: personal data there is E0903 with its witness', () => {
    const ds = checkWith({ url: 'https://tools.example.com/mcp' }, SEND);
    expect(ds.map((d) => d.code)).toEqual(['E0903']);
    expect(ds[0]!.message).toContain('MCP server srv (cloud)');
    expect(ds[0]!.message).toContain('input.who');
  });

  it('a stdio server, a loopback url, a "tier" or an "accepts" in its entry take it', () => {
    for (const server of [
      { command: 'node', args: ['s.js'] },
      { url: 'http://127.0.0.1:9000/mcp' },
      { url: 'https://tools.example.com/mcp', tier: 'edge' },
      { url: 'https://tools.example.com/mcp', accepts: 'personal' },
    ])
      expect(checkWith(server, SEND), JSON.stringify(server)).toEqual([]);
  });

  it('a declassified value may go to a cloud server', () => {
    const body = SEND.replace('text: input.who', 'text: declassify(input.who, reason: "the address is public")');
    expect(checkWith({ url: 'https://tools.example.com/mcp' }, body)).toEqual([]);
  });
});

describe('a refinement restates a destructive tool parameter as @untrusted (§9.3)', () => {
  const plan = (refine: string) => `
capability put_text from srv.put { ${refine} }
plan p {
  input { body: string @untrusted }
  step s = put_text(text: input.body)
}`;

  it('unrestated, the parameter needs trust: E0902', () => {
    expect(checkWith({ command: 'node' }, plan('cost 0usd'), true).map((d) => d.code)).toEqual(['E0902']);
  });

  it('restated @untrusted, it takes untrusted values, and the restatement is no E0201', () => {
    expect(checkWith({ command: 'node' }, plan('input { text: string @untrusted }'), true)).toEqual([]);
  });

  it('a restated parameter the tool lacks, of another type, or with a default is E0201; an output still is', () => {
    for (const refine of ['input { txt: string @untrusted }', 'input { text: int @untrusted }', 'input { text: string = "x" }', 'output { ok: bool }']) {
      const ds = checkWith({ command: 'node' }, plan(refine), true);
      expect(ds.map((d) => d.code), refine).toContain('E0201');
    }
  });
});
