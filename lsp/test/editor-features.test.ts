/**
 * The editor features added for VS Code and other clients, over a real stdio connection:
 * CodeLens (and the "Run test" lens's command), inlay hints (and their setting), range formatting,
 * document links, the start-up log.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeLens, DocumentLink, InlayHint, TextEdit } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { compile } from '../../compiler/index.js';
import { format, parse, parsePiece, pieceBounds } from '../../language/index.js';
import { formatRange } from '../features/formatting.js';
import type { RunTestsSummary } from '../features/plan-tests.js';
import { waitUntil } from '../../test/support/wait.js';
import { REPO, TestClient, uriOf } from './client.js';

const movieDir = join(REPO, 'examples', 'movie_night');
const moviePath = join(movieDir, 'movie_night.orch');
const movieText = readFileSync(moviePath, 'utf8');
const homeDir = join(REPO, 'examples', 'home_energy');
const homePath = join(homeDir, 'home_energy.orch');

let client: TestClient;
let uri: string;
const refreshes: number[] = [];

beforeAll(async () => {
  client = new TestClient();
  client.connection.onRequest('workspace/inlayHint/refresh', () => {
    refreshes.push(Date.now());
    return null;
  });
  await client.initialize(movieDir);
  uri = await client.open(moviePath, movieText);
});
afterAll(async () => {
  await client?.close();
});

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle));
const fullRange = { start: { line: 0, character: 0 }, end: { line: 10_000, character: 0 } };

describe('editor features over LSP', () => {
  it('logs its version and workspace when it starts', async () => {
    const deadline = Date.now() + 5000;
    while (!client.stderr.some((l) => l.includes('Orch language server')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const line = client.stderr.find((l) => l.includes('Orch language server'))!;
    expect(line).toMatch(/Orch language server 0\.\d+\.\d+ started/);
    expect(line).toContain(movieDir);
  });

  it('puts Run | Verify | Preview above each plan', async () => {
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    expect(lenses.map((l) => l.command?.command)).toEqual(['orch.runPlan', 'orch.verifyPlan', 'orch.showPreview']);
    expect(lenses.map((l) => l.command?.title.replace(/^\$\([a-z-]+\) /, ''))).toEqual(['Run', 'Verify', 'Preview']);
    for (const l of lenses) {
      expect(l.range.start.line).toBe(lineOf(movieText, 'plan movie_night {'));
      expect(l.command?.arguments).toEqual([uri, 'movie_night']);
    }
  });

  it('puts "Run test" above each test block; the command runs it and reports each failure at its expect', async () => {
    const testPath = join(movieDir, 'movie_night.test.orch');
    const testText = readFileSync(testPath, 'utf8');
    const testUri = await client.open(testPath, testText);
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: testUri } });
    const names = [...testText.matchAll(/^test "([^"]+)"/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(1);
    expect(lenses.map((l) => l.command?.command)).toEqual(names.map(() => 'orch.runTest'));
    expect(lenses.map((l) => l.command?.arguments)).toEqual(names.map((n) => [testUri, n]));
    expect(lenses.map((l) => l.range.start.line)).toEqual(names.map((n) => lineOf(testText, `test "${n}"`)));
    expect(lenses[0]!.command!.title).toMatch(/Run test$/);
    const one = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: lenses[1]!.command!.arguments });
    expect(one).toEqual({ ok: true, tests: [{ name: names[1], line: lineOf(testText, `test "${names[1]}"`) + 1, passed: true, failures: [] }] });
    const all = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: [testUri] });
    expect(all.tests.map((t) => [t.name, t.passed])).toEqual(names.map((n) => [n, true]));

    // A test that fails: its expect's line, and what it read.
    const dir = mkdtempSync(join(tmpdir(), 'orch-lens-'));
    const failing = join(dir, 'p.orch');
    writeFileSync(failing, `capability greet { kind tool  input { to: string }  output { text: string } }
plan p {
  input { to: string }
  step hi = greet(to: input.to)
  output { text: hi.output.text }
}
test "greets" {
  plan p
  input { to: "bob" }
  mock greet returns { text: "hi " + input.to }
  expect run.output.text == "hello bob"
}
`);
    const failed = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: [uriOf(failing), 'greets'] });
    expect(failed.ok).toBe(false);
    expect(failed.tests[0]!.failures).toEqual([{ message: expect.stringContaining('expect run.output.text == "hello bob" does not hold'), line: 11 }]);
    const none = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: [uriOf(failing), 'nope'] });
    expect(none).toEqual({ ok: false, error: 'no test named "nope" in this file', tests: [] });
    // A broken invariant is at its declaration when this file declares it; one of the imported
    // plan's file has no line here (it is no line of this file).
    const plans = join(dirname(failing), 'guarded.orch');
    writeFileSync(plans, 'capability greet { kind tool  input { to: string }  output { text: string } }\nplan g {\n  step hi = greet(to: "x")\n  invariant far { never hi.completed }\n}\n');
    const guarded = join(dirname(failing), 'guarded.test.orch');
    writeFileSync(guarded, `import "./guarded.orch" as gd
plan near {
  step hi = gd.greet(to: "x")
  invariant close { never hi.completed }
}
test "near" {
  plan near
  mock gd.greet returns { text: "hi" }
}
test "far" {
  plan gd.g
  mock gd.greet returns { text: "hi" }
}
`);
    const both = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: [uriOf(guarded)] });
    expect(both.tests.map((t) => t.failures)).toEqual([
      [{ message: expect.stringContaining('never invariant "close" became true'), line: 4 }],
      [{ message: expect.stringContaining('never invariant "far" became true') }],
    ]);
  });

  it('shows the bound resource and estimate after each step, as compiled', async () => {
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: fullRange });
    const ir = compile({ entry: moviePath }).plans.find((p) => p.plan === 'movie_night')!;
    expect(hints).toHaveLength(ir.steps.length);
    const lines = movieText.split('\n');
    for (const step of ir.steps) {
      const line = lineOf(movieText, `step ${step.id} =`);
      const hint = hints.find((h) => h.position.line === line)!;
      expect(hint, step.id).toBeDefined();
      expect(hint.position.character).toBe(lines[line]!.length);
      const label = String(hint.label);
      expect(label.startsWith(`→ ${step.resource} · `)).toBe(true);
      expect(label).toMatch(/ · [\d.]+usd · \d+(\.\d+)?(ms|s|m|h)$/);
    }
    // Only the lines asked for.
    const play = lineOf(movieText, 'step play =');
    const some = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: play, character: 0 }, end: { line: play + 1, character: 0 } } });
    expect(some.map((h) => h.position.line)).toEqual([play]);
  });

  it('answers from the compile it has until an edit changes an estimate, then with the new value', async () => {
    const whole = async () => client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: fullRange });
    const first = await whole();
    expect(await whole()).toEqual(first);
    const pickLine = lineOf(movieText, 'step pick =');
    const labelAt = (hints: InlayHint[], line: number) => String(hints.find((h) => h.position.line === line)?.label);
    const old = labelAt(first, pickLine);
    expect(old).toMatch(/ · 1\.05s$/); // recommend_movie's 900ms on assistant_cloud's 150ms
    // recommend_movie's latency 900ms → 7s: the step that calls it gets a new estimate.
    const latency = lineOf(movieText, 'latency 900ms');
    const at = movieText.split('\n')[latency]!.indexOf('900ms');
    const edit = async (from: string, to: string) => {
      const refreshed = refreshes.length;
      await client.change(uri, [{ range: { start: { line: latency, character: at }, end: { line: latency, character: at + from.length } }, text: to }]);
      // Right after the edit: the previous compile's values, while the new one compiles.
      expect(labelAt(await whole(), pickLine)).toBe(from === '900ms' ? old : labelAt(first, pickLine).replace('1.05s', '7.15s'));
      await waitUntil(() => refreshes.length > refreshed, 'the inlay hint refresh after the edit');
      return whole();
    };
    const edited = await edit('900ms', '7s');
    expect(labelAt(edited, pickLine)).toBe(old.replace('1.05s', '7.15s'));
    expect(edited.filter((h) => h.position.line !== pickLine)).toEqual(first.filter((h) => h.position.line !== pickLine));
    expect(await edit('7s', '900ms')).toEqual(first);
  });

  it('after an edit that changes no estimate, shows the same values on the new lines, and still sees a later change', async () => {
    const whole = async () => client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: fullRange });
    const first = await whole();
    const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    // A comment line on top: every step moves down a line, no estimate changes (the worker's
    // compile of it answers "unchanged" and nothing is copied to the server).
    await client.change(uri, [{ range: top, text: '// moved\n' }]);
    const moved = first.map((h) => ({ ...h, position: { ...h.position, line: h.position.line + 1 } }));
    expect(await whole()).toEqual(moved);
    // Then a change that does alter one: the refresh comes, with the new value on the new line.
    const refreshed = refreshes.length;
    const latency = lineOf(movieText, 'latency 900ms') + 1;
    const at = movieText.split('\n')[latency - 1]!.indexOf('900ms');
    await client.change(uri, [{ range: { start: { line: latency, character: at }, end: { line: latency, character: at + 5 } }, text: '7s' }]);
    // Asking starts the compile of the edited text once the comment's is done; until the new
    // values are in, every answer holds the comment's compile's (the same values) on the new lines.
    await waitUntil(async () => {
      const shown = await whole();
      if (refreshes.length > refreshed) return true;
      expect(shown).toEqual(moved);
      return false;
    }, 'the inlay hint refresh after the edit');
    const pickLine = lineOf(movieText, 'step pick =') + 1;
    const edited = await whole();
    expect(String(edited.find((h) => h.position.line === pickLine)?.label)).toMatch(/ · 7\.15s$/);
    expect(edited.filter((h) => h.position.line !== pickLine)).toEqual(moved.filter((h) => h.position.line !== pickLine));
    // Back to the original text: the original hints.
    const back = refreshes.length;
    await client.change(uri, [{ range: { start: { line: latency, character: at }, end: { line: latency, character: at + 2 } }, text: '900ms' }]);
    await client.change(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, text: '' }]);
    await waitUntil(async () => (await whole(), refreshes.length > back), 'the inlay hint refresh after the revert');
    expect(await whole()).toEqual(first);
  });

  it('turns inlay hints off and on with the orch.inlayHints.enabled setting, asking the client to refresh', async () => {
    const before = refreshes.length;
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { orch: { inlayHints: { enabled: false } } } });
    expect(await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: fullRange })).toEqual([]);
    expect(refreshes.length).toBe(before + 1);
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { orch: { inlayHints: { enabled: true } } } });
    expect((await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: fullRange })).length).toBeGreaterThan(0);
  });

  it('links handler paths to the handler module at its export, and file imports to the file', async () => {
    const links = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri } });
    const lights = links.find((l) => l.range.start.line === lineOf(movieText, '"./handlers/room.js#set_lights"'))!;
    const room = readFileSync(join(movieDir, 'handlers', 'room.js'), 'utf8');
    expect(lights.target).toBe(`${uriOf(join(movieDir, 'handlers', 'room.js'))}#L${lineOf(room, 'export async function set_lights') + 1}`);
    expect(links.filter((l) => l.target?.includes('/handlers/'))).toHaveLength((movieText.match(/handler "\.\//g) ?? []).length);

    const homeText = readFileSync(homePath, 'utf8');
    const homeUri = await client.open(homePath, homeText);
    const homeLinks = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri: homeUri } });
    const imp = homeLinks.find((l) => l.range.start.line === lineOf(homeText, 'import "./devices.orch"'))!;
    expect(fileURLToPath(imp.target!)).toBe(join(homeDir, 'devices.orch'));
  });

  it('formats only the declarations a range touches', async () => {
    const messy = movieText
      .replace('capability first_on_watchlist {\n  kind tool', 'capability first_on_watchlist {\n      kind    tool')
      .replace('resource media_box {\n  kind local_device', 'resource media_box {\n kind    local_device');
    const messyUri = uriOf(join(movieDir, 'scratch-range.orch'));
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: messyUri, languageId: 'orch', version: 1, text: messy } });
    const line = lineOf(messy, 'resource media_box');
    const edits = await client.request<TextEdit[]>('textDocument/rangeFormatting', {
      textDocument: { uri: messyUri }, range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, options: { tabSize: 2, insertSpaces: true },
    });
    expect(edits).toHaveLength(1);
    const after = TextDocument.applyEdits(TextDocument.create(messyUri, 'orch', 1, messy), edits);
    expect(after).toContain('resource media_box {\n  kind local_device');
    expect(after).toContain('capability first_on_watchlist {\n      kind    tool'); // untouched
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: messyUri } });
  });

  it("formats a range of the document's current text after each edit, whatever parse the check kept", async () => {
    // The check worker formats from the parse its last check kept when that was of this very
    // text: each version below is asked for before its check (the kept parse is of the version
    // before) and after it. Each lays the touched resource out badly and with a concurrency of its
    // own, so an answer for any other text than the current one is a different edit.
    const path = join(movieDir, 'scratch-range-edits.orch');
    const versions = [' kind    local_device', '        kind local_device', 'kind   local_device  '].map((k, i) =>
      movieText.replace('resource media_box {\n  kind local_device\n  provides playback\n  concurrency 2', `resource media_box {\n${k}\n  provides playback\n  concurrency ${i + 3}`),
    );
    const line = lineOf(movieText, 'resource media_box');
    const range = { start: { line, character: 0 }, end: { line: line + 1, character: 0 } };
    const expected = versions.map((text) => formatRange(path, text, range));
    expect(new Set(expected.map((e) => JSON.stringify(e))).size).toBe(versions.length);
    const editsUri = await client.open(path, versions[0]!);
    const ask = (): Promise<TextEdit[]> => client.request<TextEdit[]>('textDocument/rangeFormatting', { textDocument: { uri: editsUri }, range, options: { tabSize: 2, insertSpaces: true } });
    expect(await ask()).toEqual(expected[0]);
    await client.diagnosticsFor(editsUri);
    expect(await ask()).toEqual(expected[0]);
    for (let i = 1; i < versions.length; i++) {
      const version = await client.change(editsUri, [{ text: versions[i]! }]);
      expect(await ask()).toEqual(expected[i]);
      await client.diagnosticsFor(editsUri, () => true, version);
      expect(await ask()).toEqual(expected[i]);
    }
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: editsUri } });
  });
});

describe('formatRange', () => {
  it('never changes what whole-file formatting produces, whatever the range', () => {
    const messy = movieText.replace(/\n {2}(\w)/g, '\n    $1').replace(/, /g, ' ,  ');
    const formatted = format('x.orch', messy);
    expect(formatted.changed).toBe(true);
    const lines = messy.split('\n').length;
    fc.assert(fc.property(fc.nat(lines), fc.nat(40), (start, length) => {
      const edits = formatRange('x.orch', messy, { start: { line: start, character: 0 }, end: { line: start + length, character: 0 } });
      const after = TextDocument.applyEdits(TextDocument.create('x', 'orch', 1, messy), edits);
      // A range-formatted file formats to the same text, and formatting again changes nothing.
      expect(format('x.orch', after).text).toBe(formatted.text);
      expect(formatRange('x.orch', formatted.text, { start: { line: start, character: 0 }, end: { line: start + length, character: 0 } })).toEqual([]);
    }), { numRuns: 40 });
  });

  it('leaves a file with syntax errors alone', () => {
    expect(formatRange('x.orch', 'plan p {\n  step a = \n', fullRange)).toEqual([]);
  });

  it('never duplicates an import the formatter moves up from below a declaration', () => {
    // Whole-file formatting moves `import "./b.orch"` up to the first import: the items' new text
    // is not in their old order, so a range over the top is one edit no more (it used to replace
    // the top with both imports and leave the lower one where it was: three imports).
    const text = 'import "./a.orch" as a\ncapability echo { kind tool input { value: any } output { value: any } latency 1ms }\nimport "./b.orch" as b\nplan p {  step s = echo(value: 1)\n}\n';
    expect(format('x.orch', text).changed).toBe(true);
    for (let end = 0; end <= 5; end++) {
      const edits = formatRange('x.orch', text, { start: { line: 0, character: 0 }, end: { line: end, character: 0 } });
      const after = TextDocument.applyEdits(TextDocument.create('x', 'orch', 1, text), edits);
      expect(after.match(/^import /gm)).toHaveLength(2);
      expect(format('x.orch', after).text).toBe(format('x.orch', text).text);
    }
  });

  it("gives a large file's range the edit the whole file gives, from the pieces the range touches", () => {
    // Small plans, some laid out badly: with 1-character pieces every declaration is a piece.
    const plans = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? `plan p${i} {\n      input {  a : int }\n  step s =   echo( value :input.a )\n  output { v: s.output }\n}\n`
        : `plan p${i} {\n  input { a: int }\n  step s = echo(value: input.a)\n  output { v: s.output }\n}\n`,
    );
    const text = `capability echo { kind tool input { value: any } output { value: any } latency 1ms }\n${plans.join('\n')}`;
    const lines = text.split('\n').length;
    const parsed = parse({ file: 'x.orch', text });
    // Unindented, a step's block closes with a `}` at column 0 above an `invariant` line: there
    // a cut falls inside the plan, and the pieces either side of it do not stand alone.
    const gated = 'plan q {\n  step s = echo(value: 1) {\n    on_failure continue\n  }\n  invariant "after" { always s.started implies s.started }\n}\n';
    const flat = `${text}\n${gated}${plans.slice(0, 3).join('\n').replace(/plan p/g, 'plan r')}`.replace(/^[ \t]+/gm, '');
    const parsedFlat = parse({ file: 'x.orch', text: flat });
    expect(parsedFlat.diagnostics).toEqual([]);
    const flatBounds = pieceBounds(flat, 1);
    expect(flatBounds.slice(1).some((_, i) => parsePiece('x.orch', flat, flatBounds, i) === undefined)).toBe(true);
    fc.assert(
      fc.property(fc.nat(lines + 12), fc.nat(12), (start, length) => {
        const range = { start: { line: start, character: 0 }, end: { line: start + length, character: 0 } };
        const whole = formatRange('x.orch', text, range, Infinity);
        expect(formatRange('x.orch', text, range, 1)).toEqual(whole);
        // With the check worker's parse of the whole file, only the touched pieces are parsed alone.
        expect(formatRange('x.orch', text, range, 1, parsed)).toEqual(whole);
        expect(formatRange('x.orch', flat, range, 1, parsedFlat)).toEqual(formatRange('x.orch', flat, range, Infinity));
      }),
      { numRuns: 60 },
    );
    // A syntax error in a piece the range does not touch still leaves the file alone.
    const broken = text.replace('plan p29 {', 'plan p29 { step = ');
    expect(formatRange('x.orch', broken, { start: { line: 1, character: 0 }, end: { line: 3, character: 0 } }, 1)).toEqual([]);
  });
});
