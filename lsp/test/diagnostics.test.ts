/** Compiler diagnostics, quick fixes, cross-file re-checks and the plan preview over LSP. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { check } from '../../compiler/index.js';
import { FIXTURES, positionOf, TestClient, uriOf } from './client.js';

let dir: string;
let client: TestClient;
let mainText: string;
let libText: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-lsp-'));
  cpSync(FIXTURES, dir, { recursive: true });
  mainText = readFileSync(join(dir, 'main.orch'), 'utf8');
  libText = readFileSync(join(dir, 'lib.orch'), 'utf8');
  client = new TestClient();
  await client.initialize(dir);
});
afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

const codes = (ds: Diagnostic[]): string[] => ds.map((d) => String(d.code)).sort();

async function fixesFor(uri: string, diag: Diagnostic): Promise<CodeAction[]> {
  return client.request<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri }, range: diag.range, context: { diagnostics: [diag], only: ['quickfix'] },
  });
}

describe('diagnostics', () => {
  it('reports compiler errors with codes and ranges, each with its quick fix', async () => {
    const text = mainText
      .replace('summary = summarize(count: fetch.output.count)', 'summary = sumarize(count: fetch.output.count)')
      .replace('step done = wait 1s', 'step done = wait 1s\n  step again = summarize(style: "short")');
    const uri = await client.open(join(dir, 'errors.orch'), text);
    const diags = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0101'));
    expect(codes(diags)).toEqual(['E0101', 'E0202', 'W0601']);

    const unknown = diags.find((d) => d.code === 'E0101')!;
    expect(unknown.range.start).toEqual(positionOf(text, 'sumarize('));
    expect(unknown.severity).toBe(1);
    const [didYouMean] = await fixesFor(uri, unknown);
    expect(didYouMean!.title).toBe('Change to "summarize"');
    expect(didYouMean!.kind).toBe('quickfix');
    expect(didYouMean!.edit!.changes![uri]).toEqual([{ range: unknown.range, newText: 'summarize' }]);

    const missing = diags.find((d) => d.code === 'E0202')!;
    const [insert] = await fixesFor(uri, missing);
    expect(insert!.title).toBe('Add count');
    expect(insert!.edit!.changes![uri]![0]!.newText).toBe(', count: 0');

    const unused = diags.find((d) => d.code === 'W0601')!;
    expect(unused.severity).toBe(2);
    const [remove] = await fixesFor(uri, unused);
    expect(remove!.title).toBe('Remove step again');
    expect(remove!.edit!.changes![uri]![0]!.newText).toBe('');
  });

  it('updates after edits and never publishes an older version after a newer one', async () => {
    const uri = await client.open(join(dir, 'edits.orch'), mainText);
    await client.diagnosticsFor(uri);
    // Break, fix, break again in quick succession.
    const at = positionOf(mainText, 'summarize(count');
    const replace = (t: string) => [{ range: { start: at, end: { line: at.line, character: at.character + 9 } }, text: t }];
    await client.change(uri, replace('nothing__'));
    await client.change(uri, replace('summarize'));
    const last = await client.change(uri, replace('sumarizee'));
    const diags = await client.diagnosticsFor(uri, () => true, last);
    expect(codes(diags)).toContain('E0101');
    const versions = client.published(uri).map((p) => p.version ?? 0);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it('re-checks an importing file when the imported file changes', async () => {
    const mainUri = await client.open(join(dir, 'main.orch'), mainText);
    const libUri = await client.open(join(dir, 'lib.orch'), libText);
    const clean = await client.diagnosticsFor(mainUri);
    expect(clean.filter((d) => d.severity === 1)).toEqual([]);
    const at = positionOf(libText, 'fetch_data {');
    await client.change(libUri, [{ range: { start: at, end: { line: at.line, character: at.character + 'fetch_data'.length } }, text: 'load_rows' }]);
    const broken = await client.diagnosticsFor(mainUri, (d) => d.some((x) => x.code === 'E0101'));
    expect(broken.find((d) => d.code === 'E0101')!.range.start).toEqual(positionOf(mainText, 'lib.fetch_data(dataset'));
    await client.change(libUri, [{ range: { start: at, end: { line: at.line, character: at.character + 'load_rows'.length } }, text: 'fetch_data' }]);
    const fixed = await client.diagnosticsFor(mainUri, (d) => !d.some((x) => x.code === 'E0101'), client.version(mainUri));
    expect(fixed.filter((d) => d.severity === 1)).toEqual([]);
  });

  it('re-checks an importing file when an imported file changes on disk', async () => {
    const sub = join(dir, 'disk');
    mkdirSync(sub);
    writeFileSync(join(sub, 'lib.orch'), libText);
    const mainUri = await client.open(join(sub, 'main.orch'), mainText);
    const clean = await client.diagnosticsFor(mainUri);
    expect(clean.filter((d) => d.severity === 1)).toEqual([]);
    const seen = client.published(mainUri).length;
    writeFileSync(join(sub, 'lib.orch'), libText.replace('fetch_data {', 'load_rows {'));
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(join(sub, 'lib.orch')), type: 2 }] });
    const broken = await client.diagnosticsFor(mainUri, (d) => d.some((x) => x.code === 'E0101'));
    expect(broken.some((d) => d.code === 'E0101')).toBe(true);
    expect(client.published(mainUri).length).toBeGreaterThan(seen);
  });

  it('checks an unsaved, untitled document', async () => {
    const uri = 'untitled:Untitled-1';
    await client.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'orch', version: 1, text: 'plan p {\n  step a = nowhere()\n}\n' },
    });
    const diags = await client.diagnosticsFor(uri, (d) => d.length > 0);
    expect(diags.map((d) => d.code)).toEqual(['E0101']);
    const hover = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 8 } });
    expect(hover?.contents.value).toContain('step a');
  });

  it('an E0902 carries its witness path: each hop as related information at its file position', async () => {
    const text = [
      'capability read_mail { kind tool  input { box: string }  output { body: string }  trust untrusted }',
      'capability clean { kind tool  input { text: string }  output { text: string } }',
      'capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }',
      'plan flows {',
      '  input { box: string }',
      '  step r = read_mail(box: input.box)',
      '  step k = clean(text: r.output.body)',
      '  step w = wipe(path: k.output.text)',
      '}',
      '',
    ].join('\n');
    const uri = await client.open(join(dir, 'flows.orch'), text);
    const diags = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0902'));
    const d = diags.find((x) => x.code === 'E0902')!;
    expect(d.message).toContain('wipe.path ← k.output.text (reads untrusted, untrusted) ← r.output.body (trust untrusted, untrusted)');
    expect(d.range.start).toEqual(positionOf(text, 'k.output.text)'));
    expect(d.relatedInformation?.map((r) => [r.message, r.location.uri, r.location.range.start])).toEqual([
      ['k.output.text (reads untrusted, untrusted)', uri, positionOf(text, 'k.output.text)')],
      ['r.output.body (trust untrusted, untrusted)', uri, positionOf(text, 'r.output.body')],
    ]);
  });

  it('re-checks open files when their orch.config.json changes on disk ("flows": "warn" turns E0902 into a warning)', async () => {
    const sub = join(dir, 'config-change');
    mkdirSync(sub);
    const config = join(sub, 'orch.config.json');
    writeFileSync(config, '{}\n');
    const text = [
      'capability read_mail { kind tool  input { box: string }  output { body: string }  trust untrusted }',
      'capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }',
      'plan flows {',
      '  input { box: string }',
      '  step r = read_mail(box: input.box)',
      '  step w = wipe(path: r.output.body)',
      '}',
      '',
    ].join('\n');
    const uri = await client.open(join(sub, 'flows.orch'), text);
    const before = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0902'));
    expect(before.find((x) => x.code === 'E0902')!.severity).toBe(1);
    writeFileSync(config, '{ "flows": "warn" }\n');
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(config), type: 2 }] });
    const after = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0902' && x.severity === 2));
    expect(after.filter((x) => x.code === 'E0902').map((x) => x.severity)).toEqual([2]);
  });

  it("a test block's E0906 (reported at the plan's step, in the plan's file) shows in the test's file at its plan line, as orch check says it", async () => {
    const sub = join(dir, 'tests');
    mkdirSync(sub);
    writeFileSync(join(sub, 'hello.orch'), 'plan hello {\n  step tell = notify(channel: "#ops", text: "hi")\n}\n');
    const text = 'import "./hello.orch" as h\n\ntest "t" {\n  plan h.hello\n}\n';
    const path = join(sub, 'hello.test.orch');
    writeFileSync(path, text);
    const uri = await client.open(path, text);
    const diags = await client.diagnosticsFor(uri, (d) => d.length > 0);
    const [want] = check({ entry: path }).filter((d) => d.code === 'E0906');
    expect(diags.map((d) => [d.code, d.message, d.range.start])).toEqual([['E0906', want!.message, positionOf(text, 'h.hello')]]);
    // Where check puts it: the step, as related information.
    expect(diags[0]!.relatedInformation?.map((r) => [r.location.uri, r.location.range.start.line])).toEqual([[uriOf(join(sub, 'hello.orch')), 1]]);
  });

  it('reports an import that cannot be found', async () => {
    const text = 'import "./missing.orch" as gone\n';
    const uri = await client.open(join(dir, 'imports.orch'), text);
    const diags = await client.diagnosticsFor(uri, (d) => d.length > 0);
    expect(codes(diags)).toContain('E0103');
  });

  it('says a declaration that lost its name needs one, at its brace, as orch check does, and checks the rest', async () => {
    const text = 'plan {\n  step a = nowhere()\n}\nplan q {\n  step b = elsewhere()\n}\n';
    const file = join(dir, 'nameless.orch');
    writeFileSync(file, text);
    const uri = await client.open(file, text);
    const diags = await client.diagnosticsFor(uri, (d) => d.length > 1);
    expect(diags.map((d) => [d.code, d.message, d.range.start])).toEqual([
      ['E0001', 'a plan needs a name: `plan NAME {`', { line: 0, character: 5 }],
      ['E0101', expect.stringContaining('elsewhere'), positionOf(text, 'elsewhere(')],
    ]);
    const checked = check({ entry: file });
    expect(diags.map((d) => d.message)).toEqual(checked.map((d) => d.message));
  });

  it('a reserved word as a name and an interpolation left open are one diagnostic each, as orch check says, and the rest is checked', async () => {
    const text = 'capability in {\n  kind tool\n}\nplan q {\n  step b = elsewhere(value: "a ${x", n: {a: 1})\n}\n';
    const file = join(dir, 'reserved.orch');
    writeFileSync(file, text);
    const uri = await client.open(file, text);
    const diags = await client.diagnosticsFor(uri, (d) => d.length > 2);
    expect(diags.map((d) => [d.code, d.message, d.range.start])).toEqual([
      ['E0001', "'in' is a reserved word and cannot name a capability; choose another name", positionOf(text, 'in {')],
      ['E0101', expect.stringContaining('elsewhere'), positionOf(text, 'elsewhere(')],
      ['E0001', "unterminated interpolation (missing '}')", positionOf(text, '${x')],
    ]);
    const checked = check({ entry: file });
    expect(diags.map((d) => d.message)).toEqual(checked.map((d) => d.message));
  });

  it('hovers a step with its type, binding and estimate', async () => {
    const uri = await client.open(join(dir, 'hover.orch'), mainText);
    const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(mainText, 'summary = ', 2) });
    const value = (h.contents as { value: string }).value;
    expect(value).toContain('step summary = summarize(count: fetch.output.count)');
    expect(value).toContain('resource: **local_box**');
    // In the program's currency, as orch preview writes it.
    expect(value).toMatch(/estimate: cost 0\.002usd, /);
    const field = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(mainText, 'fetch.output.count', 14) });
    expect((field.contents as { value: string }).value).toContain('int');
  });
});

describe('orch/preview', () => {
  it('returns the preview JSON and an SVG with one node per step', async () => {
    const uri = await client.open(join(dir, 'preview.orch'), mainText);
    const r = await client.request<{ plan: string; plans: string[]; preview: { steps: { id: string; resource: string | null }[]; estimates: { cost: number } }; svg: string; errors: string[] }>(
      'orch/preview', { uri },
    );
    expect(r.errors).toEqual([]);
    expect(r.plan).toBe('daily_report');
    expect(r.plans).toEqual(['daily_report']);
    expect(r.preview.steps.map((s) => s.id).sort()).toEqual(['done', 'fetch', 'summary']);
    expect(r.preview.steps.find((s) => s.id === 'summary')!.resource).toBe('local_box');
    expect(r.preview.estimates.cost).toBeGreaterThan(0);
    expect(r.svg.startsWith('<svg')).toBe(true);
    expect(r.svg.match(/<g class="step"/g)).toHaveLength(3);
    expect(r.errors).toEqual([]);
  });

  it('explains why there is no preview when the plan does not compile', async () => {
    const text = mainText.replace('summarize(count', 'nope(count');
    const uri = await client.open(join(dir, 'preview-broken.orch'), text);
    const r = await client.request<{ plan: string | null; preview: unknown; errors: string[] }>('orch/preview', { uri, plan: 'daily_report' });
    expect(r.plan).toBeNull();
    expect(r.preview).toBeNull();
    expect(r.errors.join('\n')).toMatch(/E0101/);
  });
});
