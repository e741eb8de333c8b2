/**
 * The server never stops answering: hundreds of random edits (broken syntax, half-typed
 * declarations, unterminated strings and comments, astral characters, deletions) streamed over
 * LSP, each followed by a random request at a random position, all of which must get an answer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { print } from '../../language/index.js';
import { arbModule } from '../../language/test/arbitraries.js';
import { FIXTURES, positionOf, TestClient } from './client.js';

let client: TestClient;
const seedText = readFileSync(join(FIXTURES, 'main.orch'), 'utf8');

beforeAll(async () => {
  client = new TestClient();
  await client.initialize();
});
afterAll(async () => {
  await client?.close();
});

const FRAGMENTS = [
  '{', '}', '(', ')', '[', ']', '"', '${', '/*', '*/', '//', '///', '\n', ' ', ',', ':', '.', '..', '=', '@personal',
  'step ', 'step x = ', 'capability c {', 'plan p {', 'for each r in input.xs parallel 2 {', 'when ', 'after ', 'on ',
  'input {', 'output {', 'resource r { kind ', 'summarize(', 'fetch.output.', 'input.', 'lib.', 'import "./lib.orch" as lib\n',
  '30s', '0.05usd', '80%', '1..800', 'retry 3 backoff exponential 1s max 30s', 'guardrail g { forbid step where step.data >= personal }',
  'trigger t { schedule "0 2 * * *" run daily_report }', 'invariant "x" { always fetch.completed }', '😀', 'é', '\t', '\r\n',
];

type Op =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }) },
);

const REQUESTS = [
  'textDocument/hover', 'textDocument/completion', 'textDocument/definition', 'textDocument/documentHighlight', 'textDocument/signatureHelp', 'textDocument/references', 'textDocument/documentSymbol',
  'textDocument/formatting', 'textDocument/foldingRange', 'textDocument/semanticTokens/full', 'textDocument/codeAction',
  'textDocument/prepareRename', 'textDocument/rename', 'orch/preview', 'workspace/symbol',
] as const;

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = (before.match(/\r\n|\r|\n/g) ?? []).length;
  const lastBreak = Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
  return { line, character: offset - (lastBreak + 1) };
}

function paramsFor(method: (typeof REQUESTS)[number], uri: string, text: string, offset: number): unknown {
  const position = positionAt(text, offset);
  const textDocument = { uri };
  switch (method) {
    case 'textDocument/references':
      return { textDocument, position, context: { includeDeclaration: true } };
    case 'textDocument/formatting':
      return { textDocument, options: { tabSize: 2, insertSpaces: true } };
    case 'textDocument/documentSymbol':
    case 'textDocument/foldingRange':
    case 'textDocument/semanticTokens/full':
      return { textDocument };
    case 'textDocument/codeAction':
      return { textDocument, range: { start: position, end: position }, context: { diagnostics: [] } };
    case 'textDocument/rename':
      return { textDocument, position, newName: 'renamed_x' };
    case 'orch/preview':
      return { uri };
    case 'workspace/symbol':
      return { query: 'f' };
    default:
      return { textDocument, position };
  }
}

let docCount = 0;

it('answers every request while hundreds of random edits stream in', async () => {
  let answered = 0;
  await fc.assert(
    fc.asyncProperty(
      // Start from the fixture or from a random valid module (the printer's AST generators).
      fc.oneof(fc.constant(seedText), arbModule.map((m) => print(m))),
      fc.array(fc.tuple(op, fc.constantFrom(...REQUESTS), fc.nat()), { minLength: 40, maxLength: 80 }),
      async (start, script) => {
        const uri = await client.open(join(FIXTURES, `random-${docCount++}.orch`), start);
        let text = start;
        for (const [edit, method, where] of script) {
          const at = text.length === 0 ? 0 : edit.at % (text.length + 1);
          if (edit.kind === 'insert') {
            await client.change(uri, [{ range: { start: positionAt(text, at), end: positionAt(text, at) }, text: edit.text }]);
            text = text.slice(0, at) + edit.text + text.slice(at);
          } else {
            const end = Math.min(text.length, at + edit.length);
            await client.change(uri, [{ range: { start: positionAt(text, at), end: positionAt(text, end) }, text: '' }]);
            text = text.slice(0, at) + text.slice(end);
          }
          const offset = text.length === 0 ? 0 : where % (text.length + 1);
          try {
            await client.request(method, paramsFor(method, uri, text, offset));
          } catch (err) {
            // The only acceptable refusal is a rename the server declines with an explanation.
            expect(method, String(err)).toBe('textDocument/rename');
            expect(String(err)).toMatch(/cannot be renamed|not a valid name/);
          }
          answered++;
        }
        // The final text still gets its diagnostics, for the final version.
        await client.diagnosticsFor(uri, () => true, client.version(uri));
        await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
      },
    ),
    { numRuns: 8, seed: 20261122 },
  );
  expect(answered).toBeGreaterThanOrEqual(240);
  expect(client.alive).toBe(true);
  expect(client.stderr.join('')).not.toMatch(/failed:/);
});

it('answers hover and definition on a file with 50,000 `*` after `${` (issue 15: it stalled for 15–20 s)', async () => {
  const text = `plan p {\n  input { a: int }\n  step first = echo(value: input.a)\n  output { v: "\${${'*'.repeat(50_000)}}", w: first.output }\n}\n`;
  const uri = await client.open(join(FIXTURES, 'stars.orch'), text);
  const diagnostics = await client.diagnosticsFor(uri, () => true, client.version(uri));
  // Capped: a handful, or at most the per-file cap and its "N more errors not shown" line.
  expect(diagnostics.length).toBeGreaterThan(0);
  expect(diagnostics.length).toBeLessThanOrEqual(101);
  const at = positionOf(text, 'first.output', 1);
  const hover = await client.request<{ contents: unknown } | null>('textDocument/hover', { textDocument: { uri }, position: at });
  expect(JSON.stringify(hover?.contents)).toMatch(/first/);
  const definition = await client.request<unknown[] | { range: unknown } | null>('textDocument/definition', { textDocument: { uri }, position: at });
  expect(JSON.stringify(definition)).toMatch(/"line":2/);
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
});
