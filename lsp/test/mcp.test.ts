/**
 * MCP tools in the editor (LANGUAGE.md §8.3), over a real stdio connection with
 * examples/notes_digest: the language server reads orch.lock.json (never starts a server) to
 * complete `alias.` with the tools, complete a tool's arguments, and show its description on hover.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionItem, CompletionList, Hover } from 'vscode-languageserver-protocol';
import { REPO, TestClient } from './client.js';

const dir = join(REPO, 'examples', 'notes_digest');
const file = join(dir, 'notes_digest.orch');
const original = readFileSync(file, 'utf8');
// A step being typed: `demo.` and the argument list of `demo.get_sum(`.
const text = original.replace('  step approve =', '  step probe = demo.get_sum(a: 1, )\n  step approve =');

let client: TestClient;
let uri: string;

beforeAll(async () => {
  client = new TestClient();
  await client.initialize(dir);
  uri = await client.open(file, text);
});
afterAll(async () => {
  await client?.close();
});

function after(needle: string): { line: number; character: number } {
  const at = text.indexOf(needle);
  const before = text.slice(0, at + needle.length).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length };
}
const labels = (r: CompletionList | CompletionItem[] | null) => (Array.isArray(r) ? r : (r?.items ?? [])).map((i) => i.label);

describe('MCP tools in the editor', () => {
  it('completes the tools of an imported server after its alias', async () => {
    const r = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: after('step probe = demo.') });
    expect(labels(r)).toEqual(expect.arrayContaining(['get_sum', 'echo', 'get_structured_content']));
  });

  it("completes a tool's arguments", async () => {
    const r = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: after('demo.get_sum(a: 1, ') });
    expect(labels(r).map((l) => l.replace(/:.*$/, ''))).toContain('b');
  });

  it("shows the tool's description on hover", async () => {
    const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: after('step total = demo.get_s') });
    expect(JSON.stringify(h?.contents ?? '')).toContain('Returns the sum of two numbers');
  });
});
