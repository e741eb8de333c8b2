/** The language server over stdio, driven by a real LSP client. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CompletionItem, CompletionList, DocumentSymbol, FoldingRange, Hover, Location, SemanticTokens, TextEdit, WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { FIXTURES, positionOf, TestClient, uriOf } from './client.js';

const mainPath = join(FIXTURES, 'main.orch');
const libPath = join(FIXTURES, 'lib.orch');
const mainText = readFileSync(mainPath, 'utf8');
const libText = readFileSync(libPath, 'utf8');

let client: TestClient;
let mainUri: string;

beforeAll(async () => {
  client = new TestClient();
  await client.initialize();
  mainUri = await client.open(mainPath, mainText);
});
afterAll(async () => {
  await client?.close();
});

const items = (r: CompletionItem[] | CompletionList | null): CompletionItem[] => (Array.isArray(r) ? r : (r?.items ?? []));
const labels = (r: CompletionItem[] | CompletionList | null): string[] => items(r).map((i) => i.label);

describe('orch lsp --stdio', () => {
  it('advertises its features on initialize (started as `orch lsp --stdio`)', async () => {
    const c = new TestClient('cli');
    try {
      const init = (await c.initialize()) as { capabilities: Record<string, unknown>; serverInfo: { name: string } };
      expect(init.serverInfo.name).toBe('orch-lsp');
      for (const cap of ['hoverProvider', 'completionProvider', 'definitionProvider', 'referencesProvider', 'renameProvider',
        'documentSymbolProvider', 'workspaceSymbolProvider', 'documentFormattingProvider', 'foldingRangeProvider',
        'codeActionProvider', 'semanticTokensProvider']) {
        expect(init.capabilities[cap], cap).toBeTruthy();
      }
      expect((init.capabilities.textDocumentSync as { change: number }).change).toBe(2); // incremental
    } finally {
      await c.close();
    }
  });

  it('publishes no errors for a valid file', async () => {
    const diags = await client.diagnosticsFor(mainUri);
    expect(diags.filter((d) => d.severity === 1)).toEqual([]);
  });

  it('reports a syntax error with its code and range, then clears it after an edit', async () => {
    const path = join(FIXTURES, 'broken.orch');
    const text = 'resource r {\n  kind local_device\n  concurrency }\n';
    const uri = await client.open(path, text);
    const diags = await client.diagnosticsFor(uri, (d) => d.length > 0);
    const e = diags.find((d) => d.code === 'E0001');
    expect(e).toBeDefined();
    expect(e!.range.start.line).toBe(2);
    const v = await client.change(uri, [{ range: { start: { line: 2, character: 14 }, end: { line: 2, character: 14 } }, text: '4 ' }]);
    const after = await client.diagnosticsFor(uri, () => true, v);
    expect(after.filter((d) => d.code === 'E0001')).toEqual([]);
  });

  it('lists the outline of a file', async () => {
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: mainUri } });
    const names = symbols.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['summarize', 'local_box', 'thrifty', 'daily_report']));
    const plan = symbols.find((s) => s.name === 'daily_report')!;
    expect(plan.children!.map((c) => c.name)).toEqual(expect.arrayContaining(['fetch', 'summary', 'done', 'dataset']));
  });

  it('finds declarations across the workspace by name', async () => {
    const found = await client.request<{ name: string; location: Location }[]>('workspace/symbol', { query: 'fetch' });
    expect(found.map((s) => s.name)).toEqual(expect.arrayContaining(['fetch_data', 'fetch']));
    expect(found.find((s) => s.name === 'fetch_data')!.location.uri).toBe(uriOf(libPath));
  });

  it('goes to a definition in an imported file', async () => {
    const locs = await client.request<Location[]>('textDocument/definition', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'lib.fetch_data', 5),
    });
    expect(locs).toHaveLength(1);
    expect(locs[0]!.uri).toBe(uriOf(libPath));
    expect(locs[0]!.range.start).toEqual(positionOf(libText, 'fetch_data {'));
  });

  it('goes from a step reference to the step, and from an output field to the capability output', async () => {
    const step = await client.request<Location[]>('textDocument/definition', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'fetch.output.count', 1),
    });
    expect(step[0]!.range.start).toEqual(positionOf(mainText, 'fetch = lib'));
    const field = await client.request<Location[]>('textDocument/definition', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'summary.output.text', 16),
    });
    expect(field[0]!.range.start).toEqual(positionOf(mainText, 'text: string'));
  });

  it('finds references of a capability parameter including argument names', async () => {
    const refs = await client.request<Location[]>('textDocument/references', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'count: int'), context: { includeDeclaration: true },
    });
    expect(refs.map((r) => r.range.start)).toEqual([positionOf(mainText, 'count: int'), positionOf(mainText, 'count: fetch')]);
  });

  it('highlights the occurrences of a name in the file, the declaration as a write', async () => {
    const hs = await client.request<{ range: { start: { line: number; character: number } }; kind: number }[]>('textDocument/documentHighlight', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'fetch.output.count', 1),
    });
    expect(hs.map((h) => [h.range.start, h.kind])).toEqual([[positionOf(mainText, 'fetch = lib'), 3], [positionOf(mainText, 'fetch.output'), 2]]);
  });

  it('renames a step everywhere it is used', async () => {
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'step fetch', 5), newName: 'load',
    });
    const edits = edit.changes![mainUri]!;
    expect(edits.map((e) => e.range.start)).toEqual([positionOf(mainText, 'fetch = lib'), positionOf(mainText, 'fetch.output')]);
    expect(edits.every((e) => e.newText === 'load')).toBe(true);
  });

  it('renames an imported capability across files', async () => {
    const libUri = await client.open(libPath, libText);
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', {
      textDocument: { uri: libUri }, position: positionOf(libText, 'fetch_data {'), newName: 'load_rows',
    });
    expect(Object.keys(edit.changes!).sort()).toEqual([libUri, mainUri].sort());
    expect(edit.changes![mainUri]![0]!.range.start).toEqual(positionOf(mainText, 'fetch_data(dataset'));
  });

  it('refuses to rename to an invalid name', async () => {
    await expect(client.request('textDocument/rename', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'step fetch', 5), newName: '1bad',
    })).rejects.toThrow(/not a valid name/);
  });

  it('hovers a capability with its signature and doc comment', async () => {
    const h = await client.request<Hover>('textDocument/hover', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, 'summarize(count', 2),
    });
    const value = (h.contents as { value: string }).value;
    expect(value).toContain('capability summarize(count: int, style: "short" | "long" = "short") -> { text: string, words: int }');
    expect(value).toContain('Writes a short summary of the rows.');
    expect(value).toContain('cost: 0.002usd');
  });

  it('completes keywords by block', async () => {
    const top = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri: mainUri }, position: { line: 1, character: 0 } });
    expect(labels(top)).toEqual(expect.arrayContaining(['capability', 'resource', 'plan', 'trigger']));
    const inCap = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri: mainUri }, position: positionOf(mainText, '  kind llm'),
    });
    expect(labels(inCap)).toEqual(expect.arrayContaining(['kind', 'input', 'handler', 'retry', 'requires']));
    expect(labels(inCap)).not.toContain('strategy');
  });

  it('completes step output fields, input fields and resources', async () => {
    const uri = await client.open(join(FIXTURES, 'completion.orch'), mainText);
    const at = positionOf(mainText, 'fetch.output.count', 'fetch.output.'.length);
    const fields = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at });
    expect(labels(fields)).toEqual(['rows', 'count']);
    const attrs = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(mainText, 'fetch.output.count', 'fetch.'.length),
    });
    expect(labels(attrs)).toEqual(expect.arrayContaining(['output', 'status', 'completed', 'cost']));
    const inputs = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(mainText, 'input.dataset)', 'input.'.length),
    });
    expect(labels(inputs)).toEqual(['dataset']);
    const res = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(mainText, 'on local_box', 3),
    });
    expect(labels(res)).toEqual(expect.arrayContaining(['local_box', 'lib.lib_cloud']));
  });

  it('completes output fields through a type alias declared in the imported file', async () => {
    const text = mainText.replace('  step done = wait 1s', '  step first = lib.top_row(dataset: "d")\n  step use = summarize(count: first.output.)');
    const uri = await client.open(join(FIXTURES, 'completion3.orch'), text);
    const fields = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(text, 'first.output.)', 'first.output.'.length),
    });
    expect(labels(fields)).toEqual(['id', 'total']);
  });

  it('keywords as field names: completion, hover and formatting work on `in`, `not`, `true`', async () => {
    const text = 'capability kw {\n  kind tool\n  input { in: string }\n  output { not: bool, true: int }\n}\n\nplan k {\n  step a = kw(in: "x")\n  step b = kw(in: "${a.output.true}") when a.output.not\n}\n';
    const uri = await client.open(join(FIXTURES, 'keyword-fields.orch'), text);
    const diags = await client.diagnosticsFor(uri);
    expect(diags.filter((d) => d.severity === 1)).toEqual([]);
    const fields = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(text, 'a.output.not', 'a.output.'.length),
    });
    expect(labels(fields)).toEqual(['not', 'true']);
    const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'a.output.not', 'a.output.n'.length) });
    expect(JSON.stringify(hover?.contents)).toContain('not');
    const arg = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'in: "x"', 1) });
    expect(JSON.stringify(arg?.contents)).toContain('in');
    const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(edits).toEqual([]);
  });

  it('completes capabilities after `step x =` and their arguments with types', async () => {
    const text = mainText.replace('  step done = wait 1s', '  step extra = \n  step more = summarize(');
    const uri = await client.open(join(FIXTURES, 'completion2.orch'), text);
    const caps = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(text, 'step extra = ', 'step extra = '.length),
    });
    expect(labels(caps)).toEqual(expect.arrayContaining(['summarize', 'lib.fetch_data', 'wait', 'run']));
    const args = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: positionOf(text, 'more = summarize(', 'more = summarize('.length),
    });
    const byLabel = new Map(items(args).map((i) => [i.label, i]));
    expect([...byLabel.keys()]).toEqual(['count:', 'style:']);
    expect(byLabel.get('count:')!.detail).toBe('int (required)');
    expect(byLabel.get('style:')!.detail).toBe('"short" | "long" (optional)');
  });

  it('completes std names: policies through a std qualifier, imported guardrails, implicit std capabilities', async () => {
    const text = [
      'import std.policies',
      'import std.guardrails { no_personal_data_in_cloud }',
      'plan p {',
      '  policy ',
      '  guardrails ',
      '  step a = ',
      '}',
      '',
    ].join('\n');
    const uri = await client.open(join(FIXTURES, 'std-completion.orch'), text);
    const at = (needle: string) => positionOf(text, needle, needle.length);
    const policies = labels(await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at('  policy ') }));
    expect(policies).toEqual(expect.arrayContaining(['policies.privacy_first', 'policies.cost_optimized']));
    const guards = labels(await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at('  guardrails ') }));
    expect(guards).toContain('no_personal_data_in_cloud');
    const caps = labels(await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at('step a = ') }));
    expect(caps).toEqual(expect.arrayContaining(['approval', 'notify', 'http_request', 'transform', 'log']));
    const mods = labels(await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri }, position: { line: 0, character: 'import '.length },
    }));
    expect(mods).toEqual(expect.arrayContaining(['std.policies', 'std.guardrails', 'std.capabilities']));
  });

  it('completes value words after a property keyword', async () => {
    const text = 'resource r {\n  kind \n}\npolicy q {\n  strategy \n}\n';
    const uri = await client.open(join(FIXTURES, 'values.orch'), text);
    const kinds = labels(await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 7 } }));
    expect(kinds).toEqual(['local_device', 'edge_gateway', 'edge_cluster', 'cloud_region', 'pool', 'human']);
    const strategies = labels(await client.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 11 } }));
    expect(strategies).toEqual(['privacy_first', 'cost', 'latency', 'comfort', 'balanced']);
  });

  it('shows the signature of the capability being called, with the parameter being written', async () => {
    const text = mainText.replace('  step done = wait 1s', '  step more = summarize(style: "long", ');
    const uri = await client.open(join(FIXTURES, 'signature.orch'), text);
    const help = await client.request<{ signatures: { label: string; parameters: { label: [number, number] }[] }[]; activeParameter: number }>(
      'textDocument/signatureHelp', { textDocument: { uri }, position: positionOf(text, 'style: "long", ', 'style: "long", '.length) },
    );
    const sig = help.signatures[0]!;
    expect(sig.label).toBe('summarize(count: int, style: "short" | "long" = "short") -> { text: string, words: int }');
    expect(sig.parameters.map((p) => sig.label.slice(...p.label))).toEqual(['count: int', 'style: "short" | "long" = "short"']);
    expect(help.activeParameter).toBe(0); // `style` is given; `count` is still missing
  });

  it('shows the signature of a built-in function being called, with the argument being written', async () => {
    const help = async (call: string) => {
      const text = mainText.replace('  step done = wait 1s', `  step more = transform(value: ${call}`);
      const uri = await client.open(join(FIXTURES, 'builtin-signature.orch'), text);
      return client.request<{ signatures: { label: string; documentation: string; parameters: { label: [number, number] }[] }[]; activeSignature: number; activeParameter: number } | null>(
        'textDocument/signatureHelp', { textDocument: { uri }, position: positionOf(text, call, call.length) },
      );
    };
    const round = (await help('round(len([1, 2]), '))!;
    expect(round.signatures.map((s) => s.label)).toEqual(['round(x, digits?)']);
    expect(round.signatures[0]!.parameters.map((p) => round.signatures[0]!.label.slice(...p.label))).toEqual(['x', 'digits?']);
    expect(round.signatures[0]!.documentation).toBe('rounded number');
    expect(round.activeParameter).toBe(1); // the comma inside len(…)'s list is not an argument's
    // Two forms: min(a, b, …) and min(list); a third argument is still the first form's `…`.
    const min = (await help('min(1, 2, '))!;
    expect(min.signatures.map((s) => s.label)).toEqual(['min(a, b, …)', 'min(list)']);
    expect([min.activeSignature, min.activeParameter]).toEqual([0, 2]);
    expect((await help('now('))!.signatures[0]!.parameters).toEqual([]);
  });

  it('formats with the canonical printer', async () => {
    const messy = 'resource   r {\nkind    local_device\n     concurrency 2 }\n';
    const uri = await client.open(join(FIXTURES, 'messy.orch'), messy);
    const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toBe('resource r {\n  kind local_device\n  concurrency 2\n}\n');
  });

  it('folds declarations and blocks', async () => {
    const ranges = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: mainUri } });
    const starts = ranges.map((r) => r.startLine);
    expect(starts).toContain(positionOf(mainText, 'capability summarize').line);
    expect(starts).toContain(positionOf(mainText, 'plan daily_report').line);
  });

  it('highlights names semantically by what they are', async () => {
    const init = await new Promise<{ legend: { tokenTypes: string[]; tokenModifiers: string[] } }>((resolve, reject) => {
      const c = new TestClient();
      c.initialize()
        .then((r) => resolve((r as { capabilities: { semanticTokensProvider: { legend: { tokenTypes: string[]; tokenModifiers: string[] } } } }).capabilities.semanticTokensProvider))
        .catch(reject)
        .finally(() => void c.close());
    });
    const tokens = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri: mainUri } });
    // Decode the relative encoding into (line, char, length) → type [+ modifiers].
    const decoded = new Map<string, string>();
    let line = 0;
    let char = 0;
    for (let i = 0; i < tokens.data.length; i += 5) {
      const [dl, dc, len, type, mods] = tokens.data.slice(i, i + 5) as [number, number, number, number, number];
      line += dl;
      char = dl === 0 ? char + dc : dc;
      const modNames = init.legend.tokenModifiers.filter((_, b) => mods & (1 << b));
      decoded.set(`${line}:${char}:${len}`, [init.legend.tokenTypes[type], ...modNames].join('+'));
    }
    /** The token at the `nth` occurrence of `needle`, `length` characters long. */
    const at = (needle: string, nth = 0, length = needle.length) => {
      const p = positionOf(mainText, needle, 0, nth);
      return decoded.get(`${p.line}:${p.character}:${length}`);
    };
    expect(at('summarize')).toBe('function+declaration');
    expect(at('summarize(count', 0, 'summarize'.length)).toBe('function');
    expect(at('count: fetch', 0, 'count'.length)).toBe('parameter');
    expect(at('local_box')).toBe('struct+declaration');
    expect(at('local_box', 1)).toBe('struct');
    expect(at('thrifty', 1)).toBe('interface');
    expect(at('daily_report')).toBe('class+declaration');
    expect(at('fetch.output', 0, 'fetch'.length)).toBe('variable');
    expect(at('lib.fetch', 0, 'lib'.length)).toBe('namespace');
  });
});
