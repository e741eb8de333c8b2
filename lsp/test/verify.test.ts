/**
 * `orch/verify` over stdio: violated invariants become errors on the invariant's name, merged
 * with the compiler's diagnostics, and go away when the document changes or a verification passes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { FIXTURES, positionOf, TestClient, uriOf } from './client.js';

const DIR = join(FIXTURES, 'verify');
const broken = readFileSync(join(DIR, 'outreach.orch'), 'utf8');
const sound = broken.replace(' when input.review', '');
const INVARIANT = '"never send without approval"';

interface Summary {
  uri: string;
  ok: boolean;
  error?: string;
  stale?: boolean;
  plans: {
    plan: string;
    ok: boolean;
    seed: number;
    invariants: { name: string; status: string }[];
    violations: { invariant: string; seed: number; range?: { start: unknown; end: unknown } }[];
  }[];
}

let client: TestClient;
let initialized: { capabilities: { executeCommandProvider?: { commands: string[] } } };
beforeAll(async () => {
  client = new TestClient();
  initialized = (await client.initialize(DIR)) as typeof initialized;
});
afterAll(async () => {
  await client?.close();
});

const codes = (ds: Diagnostic[]): string[] => ds.map((d) => String(d.code)).sort();
const last = (uri: string): PublishDiagnosticsParams => client.published(uri).at(-1)!;
/** Waits (up to 15 s) for `done`: the server's notifications arrive asynchronously. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(done()).toBe(true);
}
const verifyErrors = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.code === 'V0801');

describe('orch/verify', () => {
  it('puts a violated invariant on its name, next to the compiler diagnostics, until an edit', async () => {
    // An in-memory file (never saved): verification reads the buffer.
    const uri = await client.open(join(DIR, 'unsaved-outreach.orch'), broken);
    await client.diagnosticsFor(uri, (ds) => codes(ds).includes('W0601'), 1);

    const summary = await client.request<Summary>('orch/verify', { uri, seed: 2, runs: 200 });
    expect(summary.ok).toBe(false);
    expect(summary.stale).toBeUndefined();
    const [plan] = summary.plans;
    expect(plan?.plan).toBe('outreach');
    expect(plan?.seed).toBe(2);
    expect(plan?.invariants.find((i) => i.name === 'never send without approval')?.status).toBe('violated');

    const start = positionOf(broken, INVARIANT);
    const nameRange = { start, end: { line: start.line, character: start.character + INVARIANT.length } };
    // Published before the answer: the notification precedes the response on the wire.
    const published = last(uri);
    expect(published.version).toBe(1);
    expect(codes(published.diagnostics)).toContain('W0601'); // merged, not overwritten
    const [diag, ...more] = verifyErrors(published.diagnostics);
    expect(more).toEqual([]);
    expect(diag!.range).toEqual(nameRange);
    expect(diag!.severity).toBe(1);
    expect(diag!.message).toMatch(/^always invariant "never send without approval" became false in plan outreach — counterexample: /);
    expect(diag!.message).toContain('"review":false');
    expect(diag!.message).toContain(`replay: orch verify unsaved-outreach.orch --plan outreach --seed ${plan!.violations[0]!.seed}`);
    expect(plan!.violations[0]!.range).toEqual(nameRange);
    // Related information: the step whose event broke it.
    const related = diag!.relatedInformation?.[0];
    expect(related?.location.uri).toBe(uri);
    expect(related?.location.range.start).toEqual(positionOf(broken, 'send = send_email'));
    expect(related?.message).toMatch(/^send\[0\] started/);

    // A later compiler publish (e.g. after a save or an importer change) keeps them.
    const version = await client.change(uri, [{ text: `${broken}\n// edited\n` }]);
    const after = await client.diagnosticsFor(uri, (ds) => codes(ds).includes('W0601'), version);
    expect(verifyErrors(after)).toEqual([]);
    // The edit cleared them at once (an unversioned publish), before the re-check.
    const clearing = client.published(uri).find((p) => p.version === undefined);
    expect(clearing && verifyErrors(clearing.diagnostics)).toEqual([]);
  });

  it("its replay line repeats --runs, as orch verify's does (replayFlags): a case found past the default runs is found again only with as many", async () => {
    const uri = await client.open(join(DIR, 'runs outreach.orch'), broken);
    await client.diagnosticsFor(uri, () => true, 1);
    const summary = await client.request<Summary>('orch/verify', { uri, seed: 2, runs: 300 });
    const seed = summary.plans[0]!.violations[0]!.seed;
    const [diag] = verifyErrors(last(uri).diagnostics);
    // The file name as one shell word, as the CLI quotes it.
    expect(diag!.message).toContain(`replay: orch verify 'runs outreach.orch' --plan outreach --runs 300 --seed ${seed}`);
  });

  it('publishes nothing for a sound plan, and a passing verification clears an earlier failure', async () => {
    const uri = await client.open(join(DIR, 'fixed-outreach.orch'), broken);
    await client.diagnosticsFor(uri, () => true, 1);
    await client.request<Summary>('orch/verify', { uri, seed: 2, runs: 200 });
    expect(verifyErrors(last(uri).diagnostics)).toHaveLength(1);

    const version = await client.change(uri, [{ text: sound }]);
    await client.diagnosticsFor(uri, () => true, version);
    const summary = await client.request<Summary>('orch/verify', { uri, seed: 2, runs: 200 });
    expect(summary.ok).toBe(true);
    expect(summary.plans[0]?.invariants.every((i) => i.status === 'holds')).toBe(true);
    expect(last(uri).version).toBe(version);
    expect(verifyErrors(last(uri).diagnostics)).toEqual([]);
    expect(codes(last(uri).diagnostics)).toContain('W0601');

    // Sound from the start: the verification publishes no error either.
    const other = await client.open(join(DIR, 'sound.orch'), sound);
    const ok = await client.request<Summary>('orch/verify', { uri: other, plan: 'outreach', runs: 100 });
    expect(ok.ok).toBe(true);
    expect(client.published(other).flatMap((p) => verifyErrors(p.diagnostics))).toEqual([]);
  });

  it('drops an importer\'s verification errors when an imported file changes', async () => {
    const caps = broken.slice(broken.indexOf('capability draft_copy'), broken.indexOf('capability never_used'));
    const capsUri = await client.open(join(DIR, 'caps.orch'), `module verify.caps\n\n${caps}`);
    const main = `module verify.main\nimport "./caps.orch" as caps\n\n${broken.slice(broken.indexOf('plan outreach'))}`
      .replace('draft_copy(', 'caps.draft_copy(')
      .replace('send_email(', 'caps.send_email(');
    const uri = await client.open(join(DIR, 'main-importing.orch'), main);
    await client.diagnosticsFor(uri, () => true, 1);
    const summary = await client.request<Summary>('orch/verify', { uri, seed: 2, runs: 200 });
    expect(summary.error).toBeUndefined();
    expect(verifyErrors(last(uri).diagnostics)).toHaveLength(1);

    const before = client.published(uri).length;
    await client.change(capsUri, [{ text: `module verify.caps\n\n${caps}\n// edited\n` }]);
    await until(() => client.published(uri).length > before);
    expect(verifyErrors(last(uri).diagnostics)).toEqual([]);
  });

  it('keeps answering other requests while a verification runs (worker thread)', async () => {
    const uri = await client.open(join(DIR, 'long.orch'), sound);
    const order: string[] = [];
    const verifying = client.request<Summary>('orch/verify', { uri, runs: 10_000, seed: 5 }).then((s) => {
      order.push('verify');
      return s;
    });
    await client.request('textDocument/documentSymbol', { textDocument: { uri } }).then(() => order.push('symbols'));
    await client.request('textDocument/hover', { textDocument: { uri }, position: positionOf(sound, 'send_email(') }).then(() => order.push('hover'));
    expect((await verifying).ok).toBe(true);
    expect(order).toEqual(['symbols', 'hover', 'verify']);
  });

  it('also runs as the workspace/executeCommand orch.verify (advertised beside orch.runTest, the Run test lens)', async () => {
    expect(initialized.capabilities.executeCommandProvider?.commands).toEqual(['orch.verify', 'orch.runTest']);
    const uri = await client.open(join(DIR, 'as-command.orch'), broken);
    await client.diagnosticsFor(uri, () => true, 1);
    const summary = await client.request<Summary>('workspace/executeCommand', { command: 'orch.verify', arguments: [uri] });
    expect(summary.ok).toBe(false);
    expect(summary.plans[0]?.violations.map((v) => v.invariant)).toEqual(['never send without approval']);
    expect(verifyErrors(last(uri).diagnostics)).toHaveLength(1);
    const sound2 = await client.open(join(DIR, 'as-command-sound.orch'), sound);
    const ok = await client.request<Summary>('workspace/executeCommand', { command: 'orch.verify', arguments: [{ uri: sound2, runs: 50, seed: 3 }] });
    expect(ok.ok).toBe(true);
    expect(ok.plans[0]?.seed).toBe(3);
  });

  it('says why a document cannot be verified, and survives junk parameters', async () => {
    const uri = await client.open(join(DIR, 'broken-syntax.orch'), `${broken}\nplan {`);
    const summary = await client.request<Summary>('orch/verify', { uri, runs: 'many', seed: -3 });
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(/error/);
    expect(summary.plans).toEqual([]);
    const unknown = await client.request<Summary>('orch/verify', { uri: uriOf(join(DIR, 'outreach.orch')), plan: 'nope' });
    expect(unknown.error).toMatch(/no plan named "nope"/);
    expect(await client.request('orch/verify', { nothing: true })).toBeNull();
    expect(client.alive).toBe(true);
  });
});
