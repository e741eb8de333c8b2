/**
 * The server re-checks after each keystroke with an incremental parse and reused plans; what it
 * publishes must still be exactly what a fresh check of the same text reports.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { check } from '../../compiler/index.js';
import { diskHost } from '../../compiler/index.js';
import { LineIndex } from '../../language/index.js';
import { REPO, TestClient } from './client.js';

let dir: string;
let client: TestClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-lsp-incremental-'));
  client = new TestClient();
  await client.initialize(dir);
});
afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Row = [string, number, number, number, number, string];

function published(ds: Diagnostic[]): Row[] {
  return ds.map((d): Row => [String(d.code), d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, String(d.message)]).sort();
}

function fresh(path: string, text: string): Row[] {
  return check({ entry: path, host: { readFile: (p) => (p === path ? text : diskHost.readFile(p)) } })
    .filter((d) => d.file === path)
    .map((d): Row => [d.code, d.range.start.line - 1, d.range.start.column - 1, d.range.end.line - 1, d.range.end.column - 1, d.message])
    .sort();
}

describe('re-checking as you type', () => {
  it('publishes what a fresh check reports, edit after edit, in a file of several plans', async () => {
    const path = join(dir, 'plans.orch');
    let text = readFileSync(join(REPO, 'compiler', 'test', 'fixtures', 'multi-plan.orch'), 'utf8');
    const uri = await client.open(path, text);
    expect(published(await client.diagnosticsFor(uri))).toEqual(fresh(path, text));

    /** Replaces `remove` characters after the n-th `needle` + `delta` with `insert`, as an editor would. */
    const edit = async (needle: string, delta: number, remove: number, insert: string): Promise<void> => {
      const index = new LineIndex(text);
      const at = text.indexOf(needle) + delta;
      expect(text.indexOf(needle)).toBeGreaterThanOrEqual(0);
      const start = index.positionAt(at);
      const end = index.positionAt(at + remove);
      const version = await client.change(uri, [{
        range: { start: { line: start.line - 1, character: start.column - 1 }, end: { line: end.line - 1, character: end.column - 1 } },
        text: insert,
      }]);
      text = text.slice(0, at) + insert + text.slice(at + remove);
      const ds = await client.diagnosticsFor(uri, () => true, version);
      expect(published(ds)).toEqual(fresh(path, text));
    };

    await edit('fourth plan', 0, 0, 'the '); // typing in a string: later plans move
    await edit('step b = ', 0, 0, 'step broken = nothing()\n  '); // an error in the first plan
    await edit('step z = summarize', 5, 1, 'y'); // gamma's output now reads a missing step
    await edit('step q = summarize', 0, 0, '\n'); // a line break: every later line moves
    await edit('step broken = nothing()\n  ', 0, 'step broken = nothing()\n  '.length, ''); // fixed again
    await edit('step y = summarize', 5, 1, 'z');
    await edit('plan delta {', 0, 0, 'plan epsilon {\n  step e = fetch(url: "e")\n}\n\n'); // a new plan
  });

  // A file made by concatenating one example: a `module` line and every declaration repeated.
  // Edits after the last `module` line re-parse only what they touch (the E0102s of the `module`
  // lines are kept from the previous parse): the diagnostics must be a fresh check's.
  it('publishes what a fresh check reports after edits in a file of one example repeated', async () => {
    const one = readFileSync(join(REPO, 'examples', 'incident_response', 'incident.orch'), 'utf8');
    const path = join(dir, 'repeated.orch');
    let text = [one, one, one].join('\n');
    const uri = await client.open(path, text);
    expect(published(await client.diagnosticsFor(uri))).toEqual(fresh(path, text));
    const last = text.lastIndexOf('\nplan ');
    for (const [at, insert] of [[text.length - 2, ' '], [last, '\n'], [last, '\nplan extra {\n  output { v: 1 }\n}\n']] as const) {
      const index = new LineIndex(text);
      const p = index.positionAt(at);
      const position = { line: p.line - 1, character: p.column - 1 };
      const version = await client.change(uri, [{ range: { start: position, end: position }, text: insert }]);
      text = text.slice(0, at) + insert + text.slice(at);
      expect(published(await client.diagnosticsFor(uri, () => true, version))).toEqual(fresh(path, text));
    }
  });
});

describe('formatting a file the last check found a syntax error in', () => {
  const request = (uri: string) => client.request<{ newText: string }[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });

  it('is refused while the error is there, and formats once an edit fixes it', async () => {
    const text = 'resource   r {\nkind    local_device\n     concurrency 2 }\nplan p {\n  step = \n}\n';
    const uri = await client.open(join(dir, 'broken.orch'), text);
    expect((await client.diagnosticsFor(uri)).some((d) => d.severity === 1)).toBe(true);
    expect(await request(uri)).toEqual([]);
    // The broken plan removed: formatting answers for the new text at once, checked or not.
    const at = text.indexOf('plan p');
    const index = new LineIndex(text);
    const start = index.positionAt(at);
    const end = index.positionAt(text.length);
    await client.change(uri, [{ range: { start: { line: start.line - 1, character: start.column - 1 }, end: { line: end.line - 1, character: end.column - 1 } }, text: '' }]);
    const edits = await request(uri);
    expect(edits.map((e) => e.newText)).toEqual(['resource r {\n  kind local_device\n  concurrency 2\n}\n']);
  });
});
