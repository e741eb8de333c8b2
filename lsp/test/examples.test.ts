/** Every example project opened in the server: diagnostics, outline, tokens, hover and preview answer. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DocumentSymbol, SemanticTokens } from 'vscode-languageserver-protocol';
import { REPO, TestClient } from './client.js';

const examples = join(REPO, 'examples');
const files = readdirSync(examples, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(examples, d.name), { withFileTypes: true })
      .filter((f) => f.isFile() && f.name.endsWith('.orch'))
      .map((f) => join(examples, d.name, f.name)),
  );

let client: TestClient;
beforeAll(async () => {
  client = new TestClient();
  await client.initialize(examples);
});
afterAll(async () => {
  await client?.close();
});

it.each(files.map((f) => [f.slice(examples.length + 1), f]))('%s', async (_name, file) => {
  const text = readFileSync(file, 'utf8');
  const uri = await client.open(file, text);
  const diags = await client.diagnosticsFor(uri);
  const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
  expect(symbols.length).toBeGreaterThan(0);
  const tokens = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri } });
  expect(tokens.data.length).toBeGreaterThan(0);
  // Hover every declaration name: each answers with its signature.
  for (const s of symbols) {
    const h = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: s.selectionRange.start });
    if (s.kind !== 19 /* Object: simulate */) expect(h?.contents.value, s.name).toContain(s.name.split(' ').pop());
  }
  const hasPlan = /^plan\s/m.test(text);
  const errors = diags.filter((d) => d.severity === 1);
  const preview = await client.request<{ plan: string | null; svg: string | null }>('orch/preview', { uri });
  if (hasPlan && errors.length === 0) {
    expect(preview.plan).not.toBeNull();
    expect(preview.svg).toMatch(/^<svg/);
  }
  expect(client.stderr.join('')).not.toMatch(/failed:/);
});
