/**
 * The editor on v0.4 constructs across files (LANGUAGE.md §9.2, §9.3): a test block in one file
 * names a plan, its capabilities and steps of another; a trigger chains a plan of another file.
 * Navigation, rename and diagnostics agree with what `orch check` resolves there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, CompletionItem, Diagnostic, DocumentSymbol, Hover, Location, SymbolInformation, WorkspaceEdit } from 'vscode-languageserver-protocol';
import type { RunTestsSummary } from '../features/plan-tests.js';
import { TestClient, positionOf } from './client.js';
import { TextDocument } from 'vscode-languageserver-textdocument';

const A = `capability classify {
  kind llm
  input { text: string }
  output { reply_to: string, category: string }
  handler "./h.js#c"
}

capability wipe {
  kind tool
  input { target: string }
  output { ok: bool }
  handler "./h.js#w"
  destructive true
}

plan triage {
  input { body: string @untrusted }
  step c = classify(text: input.body)
  step w = wipe(target: c.output.reply_to)
}
`;
const B = `import "./a.orch" as a

test "triage wipes" {
  plan a.triage
  input { body: "hi" }
  mock a.classify returns { reply_to: "a", category: "b" }
  expect w.completed and c.output.category == "b"
}
`;

const HOME = `context {
  motion: bool @personal  max_age 2m
  occupied: bool = context.motion  hold 10m
}
source home { topic "home/+/motion" sets motion from payload.state == "ON" }
simulate context { motion stale 20% }
`;

/** A plan, and a test of it in another file that exists on disk before the server starts (E0906 below). */
const PLAN = `plan fetch_two {
  step g = http_request(url: "https://example.com")
}
`;
const TEST = `import "./fetch_two.orch" as f

test "fetches" {
  plan f.fetch_two
  expect g.completed
}
`;

let dir: string;
let client: TestClient;
let ua: string;
let ub: string;
let uh: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-v04-editor-'));
  writeFileSync(join(dir, 'a.orch'), A);
  writeFileSync(join(dir, 'b.orch'), B);
  writeFileSync(join(dir, 'home.orch'), HOME);
  writeFileSync(join(dir, 'orch.config.json'), '{}');
  writeFileSync(join(dir, 'fetch_two.orch'), PLAN);
  writeFileSync(join(dir, 'fetch_two.test.orch'), TEST);
  writeFileSync(join(dir, 'h.js'), 'export async function c() { return { reply_to: "a", category: "b" }; }\nexport async function w() { return { ok: true }; }\nexport async function g() { return { text: "hi" }; }\n');
  client = new TestClient();
  await client.initialize(dir);
  ua = await client.open(join(dir, 'a.orch'), A);
  ub = await client.open(join(dir, 'b.orch'), B);
  uh = await client.open(join(dir, 'home.orch'), HOME);
});
afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (uri: string, text: string, needle: string, delta = 0) => ({ textDocument: { uri }, position: positionOf(text, needle, delta) });
const lines = (locs: readonly Location[]) => locs.map((l) => `${l.uri.slice(l.uri.lastIndexOf('/') + 1)}:${l.range.start.line}:${l.range.start.character}`);

const hoverText = async (uri: string, text: string, needle: string, delta = 0): Promise<string> =>
  ((await client.request<Hover | null>('textDocument/hover', at(uri, text, needle, delta)))?.contents as { value: string } | undefined)?.value ?? '';

describe('a test block of another file, in the editor', () => {
  it('its `plan` line is a reference of the plan: found from the plan and renamed with it', async () => {
    const refs = await client.request<Location[]>('textDocument/references', { ...at(ua, A, 'plan triage', 6), context: { includeDeclaration: false } });
    expect(lines(refs)).toEqual(['b.orch:3:9']);
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { ...at(ua, A, 'plan triage', 6), newName: 'sort' });
    expect(Object.keys(edit.changes ?? {}).sort()).toEqual([ua, ub]);
  });

  it('a step its `expect` reads goes to the plan’s step, and renaming the step renames it there', async () => {
    const def = await client.request<Location[]>('textDocument/definition', at(ub, B, 'w.completed'));
    expect(lines(def)).toEqual(['a.orch:18:7']);
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { ...at(ua, A, 'step w', 5), newName: 'erase' });
    expect(edit.changes?.[ub]?.map((e) => `${e.range.start.line}:${e.range.start.character}`)).toEqual(['6:9']);
  });

  it('a mock’s answer and the test’s input name the fields they set: renaming a field renames them', async () => {
    const out = await client.request<WorkspaceEdit>('textDocument/rename', { ...at(ua, A, 'reply_to: string'), newName: 'answer_to' });
    expect(out.changes?.[ub]?.map((e) => `${e.range.start.line}:${e.range.start.character}`)).toEqual(['5:28']);
    const input = await client.request<WorkspaceEdit>('textDocument/rename', { ...at(ua, A, 'body: string'), newName: 'text' });
    expect(input.changes?.[ub]?.map((e) => `${e.range.start.line}:${e.range.start.character}`)).toEqual(['4:10']);
    expect(await hoverText(ub, B, 'reply_to')).toContain('reply_to: string');
  });

  it('a mocked capability is a reference of the capability', async () => {
    const refs = await client.request<Location[]>('textDocument/references', { ...at(ua, A, 'capability classify', 11), context: { includeDeclaration: false } });
    expect(lines(refs)).toEqual(['a.orch:17:11', 'b.orch:5:9']);
  });
});


describe('labels and freshness in hovers', () => {
  it('a field marked @untrusted says so where it is read, and in the plan’s signature', async () => {
    expect(await hoverText(ua, A, 'input.body', 7)).toContain('input body: string @untrusted');
    expect(await hoverText(ub, B, 'a.triage', 3)).toContain('plan triage(body: string @untrusted)');
  });

  it('a step shows its labels (§9.3): its output’s class, and the class and integrity of what it reads, with where from', async () => {
    const text = `capability classify { kind llm  input { text: string }  output { reply_to: string }  handler "./h.js#c" }
capability store { kind tool  input { v: string }  output { ok: bool }  handler "./h.js#w" }
plan keep {
  input { body: string @untrusted @personal }
  step c = classify(text: input.body)
  step s = store(v: c.output.reply_to)
}
`;
    const uri = await client.open(join(dir, 'keep.orch'), text);
    const shown = await hoverText(uri, text, 'step s', 5);
    expect(shown).toContain('- data: its output is of class **personal**');
    expect(shown).toContain('- reads: class **personal**, **untrusted** — from c, input.body');
    expect(await hoverText(uri, text, 'step c', 5)).toContain('- reads: class **personal**, **untrusted** — from input.body');
  });

  it('a signal shows its max_age, a derived one its hold', async () => {
    expect(await hoverText(uh, HOME, 'sets motion', 6)).toContain('context motion: bool @personal max_age 2m');
    expect(await hoverText(uh, HOME, 'occupied: bool')).toContain('context occupied: bool = context.motion hold 10m');
  });
});

describe('hover on a source mapping', () => {
  it('shows the signal\'s declared type over `payload.value`, not only `any`', async () => {
    const text = 'context {\n  temperature: number  max_age 15m\n}\nsource thermo { topic "home/t" sets temperature from payload.value }\n';
    const uri = await client.open(join(dir, 'thermo.orch'), text);
    const over = await hoverText(uri, text, 'payload.value', 'payload.'.length + 2);
    expect(over).toContain('number (the type of context.temperature; payload is any, checked as each message arrives)');
    // `payload` itself is what the message is: any.
    expect(await hoverText(uri, text, 'payload.value', 2)).toMatch(/```orch\nany\n```/);
  });
});

describe('hover on the v0.4 words and blocks', () => {
  it('a test’s and a source’s name say what the block is; the v0.4 keywords and annotations their meaning', async () => {
    expect(await hoverText(ub, B, '"triage wipes"', 2)).toContain('test "triage wipes"');
    expect(await hoverText(ub, B, '"triage wipes"', 2)).toContain('plan under test: `a.triage`');
    expect(await hoverText(uh, HOME, 'source home', 8)).toContain('topic "home/+/motion" sets motion');
    for (const [needle, meaning] of [['mock', 'answers CAP’s calls'], ['expect', 'final state'], ['test "', 'virtual clock']] as const) {
      expect(await hoverText(ub, B, needle), needle).toContain(meaning);
    }
    for (const [needle, meaning] of [['max_age', 'stale'], ['hold', 'after its expression turns'], ['source', 'orch.config "sources"'], ['sets', 'signal each message sets']] as const) {
      expect(await hoverText(uh, HOME, needle), needle).toContain(meaning);
    }
    expect(await hoverText(ua, A, '@untrusted', 1)).toContain('**@untrusted** — integrity untrusted');
    expect(await hoverText(uh, HOME, '@personal', 1)).toContain('data class personal');
  });
});

describe('context signals (§9.4) in the editor', () => {
  it('the outline lists a source with its topics, and a test with its mocks, among the signals and plans', async () => {
    const outline = (syms: DocumentSymbol[]) => syms.map((s) => [s.name, s.detail, s.children?.map((c) => c.name)]);
    const home = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: uh } });
    expect(outline(home).slice(0, 2)).toEqual([
      ['context', 'context context', ['motion', 'occupied']],
      ['home', 'source home', ['home/+/motion']],
    ]);
    const tests = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: ub } });
    expect(outline(tests)).toEqual([['a', expect.any(String), []], ['triage wipes', 'test of plan a.triage', ['mock a.classify']]]);
  });

  it('workspace symbol search finds a test and a source by name', async () => {
    const found = async (query: string) => (await client.request<SymbolInformation[]>('workspace/symbol', { query })).map((s) => `${s.name} ${s.location.uri.slice(s.location.uri.lastIndexOf('/') + 1)}:${s.location.range.start.line}`);
    expect(await found('wipes')).toEqual(['triage wipes b.orch:2']);
    expect(await found('home')).toEqual(['home home.orch:4']);
  });

  it('after a source’s `sets` completion offers the signals a message can set, not a derived one', async () => {
    const r = await client.request<CompletionItem[] | { items: CompletionItem[] }>('textDocument/completion', at(uh, HOME, 'sets motion', 5));
    expect((Array.isArray(r) ? r : r.items).map((i) => i.label)).toEqual(['motion']);
  });

  it('in `simulate context { … }` completion offers the signals a simulation can make stale, then `stale`', async () => {
    const labels = async (needle: string, delta: number) => {
      const r = await client.request<CompletionItem[] | { items: CompletionItem[] }>('textDocument/completion', at(uh, HOME, needle, delta));
      return (Array.isArray(r) ? r : r.items).map((i) => i.label);
    };
    expect(await labels('{ motion stale', 2)).toEqual(['motion']);
    expect(await labels('motion stale 20%', 7)).toEqual(['stale']);
  });

  it('`context.` offers the signals a context block of an imported file declares (the context is the program’s)', async () => {
    const text = `import "./home.orch" as home
trigger warm { when context. run p }
plan p { step w = wait 1s }
`;
    const uri = await client.open(join(dir, 'warm.orch'), text);
    const r = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: positionOf(text, 'context.', 'context.'.length) });
    expect(r.map((i) => i.label)).toEqual(['motion', 'occupied']);
  });

  it('a source’s `sets` and `simulate context` name the signal: renaming it renames them', async () => {
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { ...at(uh, HOME, 'motion: bool'), newName: 'moving' });
    expect(edit.changes?.[uh]?.map((e) => `${e.range.start.line}:${e.range.start.character}`)).toEqual(['1:2', '2:27', '4:41', '5:19']);
  });
});

/** The document's text after the action's edits (its own file only). */
function applied(uri: string, text: string, action: CodeAction): string {
  return TextDocument.applyEdits(TextDocument.create(uri, 'orch', 1, text), action.edit?.changes?.[uri] ?? []);
}

describe('quick fixes on §9.3 findings', () => {
  it('E0902 at its sink offers endorse(…), with the witness path as related information', async () => {
    const diags = await client.diagnosticsFor(ua, (d) => d.some((x) => x.code === 'E0902'));
    const d = diags.find((x) => x.code === 'E0902') as Diagnostic;
    expect(d.relatedInformation?.map((r) => r.message)).toEqual(['c.output.reply_to (llm, untrusted)', 'input.body @untrusted']);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: ua }, range: d.range, context: { diagnostics: [d] } });
    const endorse = actions.find((a) => a.title.startsWith('Endorse'));
    expect(applied(ua, A, endorse!)).toContain('step w = wipe(target: endorse(c.output.reply_to, reason: "…"))');
  });

  it('E0903 offers declassify(…) to the class the sink accepts', async () => {
    const text = `capability post { kind tool input { text: string } output { ok: bool } handler "./h.js#w" data public }
plan share {
  input { note: string @personal }
  step p = post(text: input.note)
}
`;
    const uri = await client.open(join(dir, 'share.orch'), text);
    const diags = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0903'));
    const d = diags.find((x) => x.code === 'E0903') as Diagnostic;
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    const declassify = actions.find((a) => a.title.startsWith('Declassify'));
    expect(applied(uri, text, declassify!)).toContain('step p = post(text: declassify(input.note, to: public, reason: "…"))');
  });
});

describe('a finding in one file that depends on another (§9.1 after-trigger, §9.3)', () => {
  const LIB = `capability fetch_page { kind llm  input { url: string }  output { target: string }  handler "./h.js#c" }
capability erase { kind tool  input { target: string }  output { ok: bool }  handler "./h.js#w"  destructive true }
plan fetcher {
  step f = fetch_page(url: "u")
  output { target: f.output.target }
}
plan cleaner {
  input { target: string }
  step w = erase(target: input.target)
}
`;
  const CHAIN = `import "./lib.orch" as lib

trigger chain { after lib.fetcher completed  run lib.cleaner with { target: event.output.target } }
`;

  it('shows at the trigger’s value with its fix, and goes when the other file’s edit makes the value trusted; event.output. completes the watched plan’s output', async () => {
    writeFileSync(join(dir, 'lib.orch'), LIB);
    writeFileSync(join(dir, 'chain.orch'), CHAIN);
    const ul = await client.open(join(dir, 'lib.orch'), LIB);
    const uc = await client.open(join(dir, 'chain.orch'), CHAIN);
    const diags = await client.diagnosticsFor(uc, (d) => d.some((x) => x.code === 'E0902'));
    const d = diags.find((x) => x.code === 'E0902') as Diagnostic;
    expect(d.range.start).toEqual(positionOf(CHAIN, 'event.output.target'));
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: uc }, range: d.range, context: { diagnostics: [d] } });
    expect(applied(uc, CHAIN, actions.find((a) => a.title.startsWith('Endorse'))!)).toContain('with { target: endorse(event.output.target, reason: "…") }');
    const typing = CHAIN.replace('event.output.target }', 'event.output. }');
    await client.change(uc, [{ text: typing }]);
    const items = await client.request<{ label: string }[]>('textDocument/completion', { textDocument: { uri: uc }, position: positionOf(typing, 'event.output.', 13) });
    expect(items.map((i) => i.label)).toEqual(['target']);
    const restored = await client.change(uc, [{ text: CHAIN }]);
    await client.diagnosticsFor(uc, (ds) => ds.some((x) => x.code === 'E0902'), restored);
    // A re-check that replays the plans no edit touched (the check worker's plan memo) keeps it:
    // the same text again, and a half-typed edit undone before its check began — the order a
    // loaded machine once gave the edits above (the watched fetcher, replayed, had no labels).
    const again = await client.change(uc, [{ text: CHAIN }]);
    await client.diagnosticsFor(uc, (ds) => ds.some((x) => x.code === 'E0902'), again);
    void client.change(uc, [{ text: typing }]);
    const undone = await client.change(uc, [{ text: CHAIN }]);
    await client.diagnosticsFor(uc, (ds) => ds.some((x) => x.code === 'E0902'), undone);
    // The fetcher is no model any more (an unsaved edit): its output is trusted, the trigger's finding goes.
    const version = await client.change(ul, [{ range: { start: positionOf(LIB, 'kind llm'), end: positionOf(LIB, 'kind llm', 'kind llm'.length) }, text: 'kind tool' }]);
    expect(version).toBe(2);
    await client.diagnosticsFor(uc, (ds) => !ds.some((x) => x.code === 'E0902'), undone);
  });
});

describe('completion inside a test block names the plan under test (§9.2)', () => {
  /** Completion at the end of `line`, typed into the test the way an editor sends it: the line without its last character, then that character. */
  const completeAfter = async (line: string): Promise<string[]> => {
    const end = B.lastIndexOf('}');
    const text = B.slice(0, end) + line + '\n' + B.slice(end);
    await client.change(ub, [{ text: B.slice(0, end) + line.slice(0, -1) + '\n' + B.slice(end) }]);
    await client.change(ub, [{ text }]);
    const r = await client.request<{ label: string }[] | { items: { label: string }[] }>('textDocument/completion', { textDocument: { uri: ub }, position: positionOf(text, line, line.length) });
    return (Array.isArray(r) ? r : r.items).map((i) => i.label);
  };

  it('offers the tested plan’s steps, their attributes and outputs, run’s, and the keys of a mock’s answer and of the input', async () => {
    expect(await completeAfter('  expect ')).toEqual(expect.arrayContaining(['c', 'w', 'calls', 'run']));
    expect(await completeAfter('  approve ')).toEqual(['c', 'w']);
    expect(await completeAfter('  expect c.')).toEqual(expect.arrayContaining(['output', 'completed', 'attempts', 'input']));
    expect(await completeAfter('  expect c.output.')).toEqual(['reply_to', 'category']);
    expect(await completeAfter('  expect run.')).toEqual(['status', 'cost', 'elapsed', 'output']);
    expect(await completeAfter('  mock a.classify returns { category: "x", ')).toEqual(['reply_to']);
    expect(await completeAfter('  input { ')).toEqual(['body']);
    expect(await completeAfter('  mock a.classify returns { reply_to: "a", category: "b" } then { ')).toEqual(['reply_to', 'category']);
    // After the import's alias, what the position takes: a plan after `plan`, a capability after `mock` and in `calls(…)`.
    expect(await completeAfter('  mock a.')).toEqual(['classify', 'wipe']);
    expect(await completeAfter('  expect len(calls(a.')).toEqual(['classify', 'wipe']);
    expect(await completeAfter('  plan a.')).toEqual(['triage']);
    // What the CLI types in a test: a step's input, the input a `where` reads (the mocked capability's).
    expect(await completeAfter('  expect c.input.')).toEqual(['text']);
    expect(await completeAfter('  mock a.classify where input.')).toEqual(['text']);
    await client.change(ub, [{ text: B }]);
  });
});

describe('the Run test lens runs what the editor shows', () => {
  const RT = `capability hello { kind tool  input { name: string }  output { text: string }  handler "./h.js#g" }
plan greet {
  step h = hello(name: "x")
}

test "greets" {
  plan greet
  expect h.completed
}
`;

  it('runs the open buffer, unsaved edits included, and places a failure at its expect there', async () => {
    writeFileSync(join(dir, 'rt.orch'), RT);
    const uri = await client.open(join(dir, 'rt.orch'), RT);
    const saved = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: [uri, 'greets'] });
    expect(saved.tests.map((t) => t.passed)).toEqual([true]);
    // Unsaved: a line moves the expect down, and it now expects what does not happen.
    const edited = RT.replace('  expect h.completed', '\n  expect h.failed');
    await client.change(uri, [{ text: edited }]);
    const run = await client.request<RunTestsSummary>('workspace/executeCommand', { command: 'orch.runTest', arguments: [uri, 'greets'] });
    expect(run.tests.map((t) => [t.passed, t.failures.map((f) => f.line)])).toEqual([[false, [positionOf(edited, 'expect h.failed').line + 1]]]);
    // The message says what the expect read, as `orch test`'s text reporter does.
    expect(run.tests[0]!.failures[0]!.message).toBe('expect h.failed does not hold in the final state\nh.failed = false');
  });
});

describe('E0906 in the test’s file', () => {
  it('offers to add the missing mock, with a value of the capability’s output type', async () => {
    const text = `plan fetchit {
  step g = http_request(url: "https://example.com")
}

test "unmocked" {
  plan fetchit
  expect g.completed
}
`;
    const uri = await client.open(join(dir, 'unmocked.orch'), text);
    const diags = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0906'));
    const d = diags.find((x) => x.code === 'E0906') as Diagnostic;
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    const add = actions.find((a) => a.title.startsWith('Add mock'));
    expect(applied(uri, text, add!)).toContain('\n  plan fetchit\n  mock http_request returns { status: 0, headers: {}, body: null }\n  expect');
  });
});

describe('E0906 in the plan’s file, as orch check reports it (§9.2, §9.5)', () => {
  it('shows at the step a test of another file leaves unmocked, with the test as related information, and goes with the mock', async () => {
    const up = await client.open(join(dir, 'fetch_two.orch'), PLAN);
    const diags = await client.diagnosticsFor(up, (d) => d.some((x) => x.code === 'E0906'));
    const d = diags.find((x) => x.code === 'E0906') as Diagnostic;
    expect(d.range.start).toEqual(positionOf(PLAN, 'g = http'));
    expect(d.message).toMatch(/^under test "fetches", step g can call http_request/);
    expect(d.relatedInformation?.map((r) => [r.location.uri.slice(r.location.uri.lastIndexOf('/') + 1), r.location.range.start, r.message]))
      .toEqual([['fetch_two.test.orch', positionOf(TEST, 'f.fetch_two'), 'test "fetches" runs this plan']]);
    // Its fix adds the mock to the test, in the test's file.
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: up }, range: d.range, context: { diagnostics: [d] } });
    const add = actions.find((a) => a.title.startsWith('Add mock'));
    expect(Object.keys(add?.edit?.changes ?? {}).map((u) => u.slice(u.lastIndexOf('/') + 1))).toEqual(['fetch_two.test.orch']);
    // The test gains its mock (an unsaved edit): the plan's file is re-checked and the finding goes.
    const ut = await client.open(join(dir, 'fetch_two.test.orch'), TEST);
    const mocked = TEST.replace('  expect', '  mock http_request returns { status: 200, headers: {}, body: null }\n  expect');
    await client.change(ut, [{ text: mocked }]);
    await client.diagnosticsFor(up, (ds) => !ds.some((x) => x.code === 'E0906'), 1);
    // Closed unsaved, the test on disk has no mock again: the plan's file shows the finding again.
    const before = new Set(client.published(up).map((p) => p.diagnostics));
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: ut } });
    await client.diagnosticsFor(up, (ds) => !before.has(ds) && ds.some((x) => x.code === 'E0906'), 1);
  });
});

describe('a test’s run.output in completion (§9.2)', () => {
  it('offers the keys of the tested plan’s output', async () => {
    const text = `capability hi { kind tool  input { n: number }  output { ok: bool }  handler "./h.js#w" }
plan said {
  step h = hi(n: 1)
  output { ok: h.output.ok, count: 1 }
}

test "says" {
  plan said
  expect run.output.
}
`;
    const uri = await client.open(join(dir, 'said.orch'), text);
    const r = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: positionOf(text, 'run.output.', 'run.output.'.length) });
    expect(r.map((i) => i.label)).toEqual(['ok', 'count']);
  });
});

describe('a test’s signals (§9.2, §9.4) in completion', () => {
  const GUARDED = `context {
  fraud_score: number  max_age 1h
  risky: bool = context.fraud_score > 0.5
}
capability pay { kind tool  input { n: number }  output { ok: bool }  handler "./h.js#w" }
plan guarded {
  step p = pay(n: 1) when not context.risky
}
`;
  const GUARD_TEST = `import "./guarded.orch" as g

test "guards" {
  plan g.guarded
  context { fraud_score: 0.1 }
  signal context.fraud_score = 0.9 at 1h
}
`;

  it('`context { … }` and `signal context.` offer the tested plan’s signals a test can set (a derived one is computed: E0905)', async () => {
    writeFileSync(join(dir, 'guarded.orch'), GUARDED);
    await client.open(join(dir, 'guarded.orch'), GUARDED);
    const ut = await client.open(join(dir, 'guards.orch'), GUARD_TEST);
    const labels = async (needle: string, delta: number): Promise<string[]> => {
      const r = await client.request<CompletionItem[] | { items: CompletionItem[] }>('textDocument/completion', at(ut, GUARD_TEST, needle, delta));
      return (Array.isArray(r) ? r : r.items).map((i) => i.label);
    };
    expect(await labels('context { ', 'context { '.length)).toEqual(['fraud_score']);
    expect(await labels('signal context.', 'signal context.'.length)).toEqual(['fraud_score']);
    // Read in an expect, a derived signal is a value like any other.
    const reading = GUARD_TEST.replace('  signal', '  expect context.\n  signal');
    await client.change(ut, [{ text: reading }]);
    const r = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri: ut }, position: positionOf(reading, 'expect context.', 'expect context.'.length) });
    expect(r.map((i) => i.label)).toEqual(['fraud_score', 'risky']);
  });
});

/** A plan's output keys, read by a test of it (`run.output.KEY`) and by a parent plan (`sub.output.KEY`). */
const OUT = `capability count { kind tool  input { n: int }  output { total: int }  handler "./h.js#g" }

plan tally {
  input { n: int = 1 }
  step k = count(n: input.n)
  output { total: k.output.total, label: "done" }
}

plan report {
  step t = run tally(n: 2)
  step k2 = count(n: t.output.total)
  output { again: t.output.label }
}

test "tally counts" {
  plan tally
  mock count returns { total: 3 }
  expect run.output.total == 3 and run.output.label == "done"
}
`;

describe("a plan's output keys, in the editor", () => {
  let uo: string;
  beforeAll(async () => {
    writeFileSync(join(dir, 'out.orch'), OUT);
    uo = await client.open(join(dir, 'out.orch'), OUT);
  });

  it('go to definition on run.output.KEY in an expect, and on sub.output.KEY in a parent plan, lands on the key', async () => {
    const total = 'out.orch:5:11';
    expect(lines(await client.request<Location[]>('textDocument/definition', at(uo, OUT, 'run.output.total', 11)))).toEqual([total]);
    expect(lines(await client.request<Location[]>('textDocument/definition', at(uo, OUT, 'run.output.label', 11)))).toEqual(['out.orch:5:34']);
    expect(lines(await client.request<Location[]>('textDocument/definition', at(uo, OUT, 't.output.total', 9)))).toEqual([total]);
    expect(lines(await client.request<Location[]>('textDocument/definition', at(uo, OUT, 't.output.label', 9)))).toEqual(['out.orch:5:34']);
  });

  it('hover on them shows the key with its type', async () => {
    expect(await hoverText(uo, OUT, 'run.output.total', 11)).toContain('(output of plan tally) total: int');
    expect(await hoverText(uo, OUT, 'run.output.label', 11)).toContain('(output of plan tally) label: string');
    expect(await hoverText(uo, OUT, 't.output.total', 9)).toContain('(output of plan tally) total: int');
  });
});
