/**
 * The v0.2 block names in the editor, over a real stdio connection (examples/patterns): `race`
 * and `repeat` names complete, hover, rename with their uses, get semantic tokens and outline
 * entries, fold, and `NAME.` completes `winner`/`output` or `index`/`previous`/`iterations`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionItem, CompletionList, DocumentSymbol, FoldingRange, Hover, SemanticTokens, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { REPO, TestClient } from './client.js';

const dir = join(REPO, 'examples', 'patterns');
const loopPath = join(dir, 'draft_review_loop.orch');
const racePath = join(dir, 'reply_or_remind.orch');
const loopText = readFileSync(loopPath, 'utf8');
const raceText = readFileSync(racePath, 'utf8');

let client: TestClient;
let loopUri: string;
let raceUri: string;

beforeAll(async () => {
  client = new TestClient();
  await client.initialize(dir);
  loopUri = await client.open(loopPath, loopText);
  raceUri = await client.open(racePath, raceText);
});
afterAll(async () => {
  await client?.close();
});

/** The position just after the first `needle` (on its line). */
function after(text: string, needle: string, nth = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  const before = text.slice(0, at + needle.length).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length };
}
const labels = (r: CompletionList | CompletionItem[] | null) => (Array.isArray(r) ? r : (r?.items ?? [])).map((i) => i.label);

describe('race and repeat names in the editor', () => {
  it('NAME. completes the block’s fields', async () => {
    const race = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri: raceUri }, position: after(raceText, 'answer.', 0) });
    expect(labels(race)).toEqual(expect.arrayContaining(['winner', 'output', 'status']));
    expect(labels(race)).not.toContain('iterations');
    const loop = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri: loopUri }, position: after(loopText, 'revise.', 0) });
    expect(labels(loop)).toEqual(expect.arrayContaining(['index', 'previous', 'iterations']));
    expect(labels(loop)).not.toContain('winner');
  });

  it('block names are offered where steps are (after, expressions)', async () => {
    const items = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri: raceUri }, position: after(raceText, 'ended by ${', 0) });
    expect(labels(items)).toContain('answer');
  });

  it('rename of a race name edits its declaration and every use', async () => {
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: raceUri }, position: after(raceText, 'race answ'), newName: 'reply' });
    const edits = edit.changes?.[raceUri] ?? [];
    const uses = raceText.split(/\banswer\b/).length - 1;
    expect(edits).toHaveLength(uses);
    expect(edits.every((e) => e.newText === 'reply')).toBe(true);
  });

  it('rename of a loop name edits revise.previous, revise.iterations and the declaration', async () => {
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: loopUri }, position: after(loopText, 'repeat rev'), newName: 'round' });
    const edits = edit.changes?.[loopUri] ?? [];
    expect(edits).toHaveLength(loopText.split(/\brevise\b/).length - 1);
  });

  it('hover on a block name says what it is', async () => {
    const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri: raceUri }, position: after(raceText, '${answ', 0) });
    expect(JSON.stringify(h?.contents ?? '')).toMatch(/race answer/);
  });

  it('outline lists the blocks with their steps; blocks fold; names get semantic tokens', async () => {
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: loopUri } });
    const plan = symbols.find((s) => s.name === 'weekly_summary')!;
    const loop = plan.children!.find((c) => c.name === 'revise')!;
    expect(loop.children!.map((c) => c.name), JSON.stringify(plan.children)).toEqual(['draft', 'check']);
    const folds = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: loopUri } });
    expect(folds.some((f) => f.startLine === after(loopText, 'repeat revise').line), JSON.stringify(folds)).toBe(true);
    const tokens = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri: loopUri } });
    // Decode the token lines: the loop name's declaration line carries a token.
    let line = 0;
    const lines = new Set<number>();
    for (let i = 0; i < tokens.data.length; i += 5) lines.add((line += tokens.data[i]!));
    expect(lines.has(after(loopText, 'repeat revise').line), JSON.stringify([...lines])).toBe(true);
  });
});
