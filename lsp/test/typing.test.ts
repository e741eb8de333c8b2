/**
 * Typing in the editor (issue #47 item 13): the server (dist/, in this process so the test can
 * hold weak references to what its main thread parsed; its check worker a real worker thread)
 * driven by a real LSP client over JSON-RPC.
 * - Every keystroke is checked by the worker alone: the main thread does not parse the edited
 *   text again (that parse was most of typing's cost on a large file).
 * - After typing edits, with the requests an editor sends after each one (the outline, which the
 *   main thread answers from its own parse), no earlier version of the document's tree is
 *   reachable: each re-parse used to keep the one before it alive, so a server left open on a
 *   large plan grew without bound.
 * - An open file another open file imports is re-checked after an edit of its importer (its
 *   W0601 depends on what the importer uses), from the imports the worker's check reported.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { format, LineIndex } from '../../language/index.js';
import type { RunningServer } from '../server.js';
import { REPO, uriOf } from './client.js';

// `--expose-gc` for this file only (vitest starts its workers without it): the flag, then V8's gc
// function from a fresh context, where the flag now puts it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
let server: RunningServer;
let client: ProtocolConnection;
let serverSide: { dispose(): void };
const published = new Map<string, PublishDiagnosticsParams[]>();
const waiters = new Set<() => void>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-lsp-typing-'));
  // The built server, so that its check worker runs as in the editor (dist/lsp/check-worker.js).
  const { startServer } = (await import(join(REPO, 'dist', 'lsp', 'server.js'))) as typeof import('../server.js');
  const { createConnection } = (await import('vscode-languageserver/node.js')) as typeof import('vscode-languageserver/node.js');
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const connection = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  serverSide = connection;
  server = startServer(connection, { diagnosticsDelayMs: 0 });
  client = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  client.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p]);
    for (const w of waiters) w();
  });
  client.onNotification('window/logMessage', () => undefined);
  client.listen();
  await client.sendRequest('initialize', { processId: null, rootUri: uriOf(dir), capabilities: {} });
  await client.sendNotification('initialized', {});
});
afterAll(async () => {
  await client?.sendRequest('shutdown').catch(() => undefined);
  client?.dispose();
  serverSide?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The first diagnostics published for `uri` at `version` or later that satisfy `pred` (15 s at most). */
async function diagnostics(uri: string, version: number, pred: (p: PublishDiagnosticsParams) => boolean = () => true): Promise<PublishDiagnosticsParams> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const hit = (published.get(uri) ?? []).find((p) => (p.version ?? 0) >= version && pred(p));
    if (hit) return hit;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no matching diagnostics for ${uri}: ${JSON.stringify(published.get(uri)?.map((p) => [p.version, p.diagnostics.map((d) => d.message)]))}`);
    await new Promise<void>((resolve) => {
      const w = (): void => {
        clearTimeout(timer);
        waiters.delete(w);
        resolve();
      };
      const timer = setTimeout(w, left);
      waiters.add(w);
    });
  }
}

/** A plan file of `plans` plans, each a chain of steps over a handler module that exists. */
function planFile(plans: number): string {
  const out = ['capability grow {', '  kind tool', '  input { value: int }', '  output { value: int }', '  handler "./handlers.mjs#grow"', '}', ''];
  for (let p = 0; p < plans; p++) {
    out.push(`plan plan_${p} {`, `  goal "Plan number ${p}"`, '  input { start: int }', '  step s0 = grow(value: input.start)');
    for (let s = 1; s < 20; s++) out.push(`  step s${s} = grow(value: s${s - 1}.output.value)`);
    out.push('  output { value: s19.output.value }', '}', '');
  }
  return out.join('\n');
}

/**
 * Weak references to a tree: its root and its plans — the top-level nodes at or after the edits
 * below (parsed again or copied to move them). The capability before them is the same object in
 * every version, and rightly stays.
 */
function weakly(path: string): WeakRef<object>[] {
  const module = server.heldParse(path)!.module;
  return [module, ...module.declarations.filter((d) => d.kind === 'PlanDecl')].map((n) => new WeakRef(n));
}

async function collected(refs: readonly WeakRef<object>[]): Promise<number> {
  for (let i = 0; i < 4; i++) {
    // A weak reference holds its target until the job that made or read it ends.
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return refs.filter((r) => r.deref() === undefined).length;
}

describe('typing in a plan file', () => {
  it('checks each keystroke on the worker alone, and keeps no earlier version of the tree on the main thread', async () => {
    writeFileSync(join(dir, 'handlers.mjs'), 'export async function grow({ value }) { return { value: value + 1 }; }\n');
    const path = join(dir, 'typing.orch');
    let text = planFile(12);
    const uri = uriOf(path);
    let version = 1;
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'orch', version, text } });
    expect((await diagnostics(uri, 1)).diagnostics).toEqual([]);
    // The outline: the main thread parses the first version.
    const outline = async (): Promise<number> => (await client.sendRequest<unknown[]>('textDocument/documentSymbol', { textDocument: { uri } })).length;
    expect(await outline()).toBe(13);
    const first = weakly(path);
    expect(server.heldParse(path)!.text).toBe(text);

    // A character typed into the first plan's goal, then deleted: everything after it moves.
    const goal = text.indexOf('Plan number 0') + 'Plan number '.length;
    const type = async (): Promise<void> => {
      const at = new LineIndex(text).positionAt(goal);
      const start = { line: at.line - 1, character: at.column - 1 };
      const insert = version % 2 === 1;
      version++;
      await client.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [insert ? { range: { start, end: start }, text: 'x' } : { range: { start, end: { line: start.line, character: start.character + 1 } }, text: '' }],
      });
      text = insert ? text.slice(0, goal) + 'x' + text.slice(goal) : text.slice(0, goal) + text.slice(goal + 1);
      expect((await diagnostics(uri, version)).diagnostics).toEqual([]);
    };

    for (let i = 0; i < 5; i++) await type();
    // Checked five times; the main thread still holds the first version's parse, parsed nothing new.
    expect(server.heldParse(path)!.text).not.toBe(text);
    expect(server.heldParse(path)!.module === first[0]!.deref()).toBe(true);

    for (let i = 0; i < 6; i++) {
      await type();
      expect(await outline()).toBe(13);
      expect(server.heldParse(path)!.text).toBe(text);
    }
    expect(await collected(first)).toBe(first.length);
  });

  it('formats the text just checked as `orch fmt` does (the check worker prints the parse its check made)', async () => {
    const path = join(dir, 'formatting.orch');
    const uri = uriOf(path);
    // Laid out badly: every line's indentation gone, a comment, a block comment across lines.
    let text = planFile(6).replace(/\n\s+/g, '\n').replace('plan plan_3 {', '// the fourth\nplan plan_3 { /* one\ntwo */');
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'orch', version: 1, text } });
    await diagnostics(uri, 1);
    const formatting = async (): Promise<string | undefined> =>
      (await client.sendRequest<{ newText: string }[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }))[0]?.newText;
    expect(await formatting()).toBe(format(path, text).text);
    // An edit in the middle: the worker's parse of the new text is an incremental one.
    const at = new LineIndex(text).positionAt(text.indexOf('Plan number 2') + 'Plan number '.length);
    await client.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: at.line - 1, character: at.column - 1 }, end: { line: at.line - 1, character: at.column - 1 } }, text: 'x' }],
    });
    text = text.replace('Plan number 2', 'Plan number x2');
    await diagnostics(uri, 2);
    const formatted = format(path, text);
    expect(formatted.changed).toBe(true);
    expect(await formatting()).toBe(formatted.text);
    // Formatted already: no edit.
    await client.sendNotification('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: formatted.text }] });
    await diagnostics(uri, 3);
    expect(await formatting()).toBeUndefined();
  });

  it('re-checks an open file another open file imports after an edit of the importer (W0601)', async () => {
    const lib = join(dir, 'lib.orch');
    const main = join(dir, 'main.orch');
    // A library with a plan of its own (a plan-less file others import reports nothing unused).
    const libText = 'capability c { kind tool input { x: string } output { y: string } }\ncapability d { kind tool input { x: string } output { y: string } }\n'
      + 'plan own { step s = d(x: "1") output { y: s.output.y } }\n';
    const mainText = 'import "./lib.orch" as lib\nplan p { step a = lib.c(x: "1") output { y: a.output.y } }\n';
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri: uriOf(lib), languageId: 'orch', version: 1, text: libText } });
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri: uriOf(main), languageId: 'orch', version: 1, text: mainText } });
    const unused = (p: PublishDiagnosticsParams): string[] => p.diagnostics.filter((d) => d.code === 'W0601').map((d) => String(d.message));
    const libSays = async (messages: string[]): Promise<void> => {
      await diagnostics(uriOf(lib), 1, (p) => JSON.stringify(unused(p)) === JSON.stringify(messages));
    };
    await libSays([]);
    // main uses d instead of c: lib's text is unchanged, its warnings follow main.
    const at = mainText.indexOf('lib.c') + 'lib.'.length;
    const pos = new LineIndex(mainText).positionAt(at);
    const start = { line: pos.line - 1, character: pos.column - 1 };
    published.delete(uriOf(lib));
    await client.sendNotification('textDocument/didChange', {
      textDocument: { uri: uriOf(main), version: 2 },
      contentChanges: [{ range: { start, end: { line: start.line, character: start.character + 1 } }, text: 'd' }],
    });
    await libSays(['capability "c" is never used']);
  });
});
