/**
 * `npm run package:vsix`'s script builds an installable .vsix: manifest, grammar, snippets,
 * webview page and the bundled server — and that bundled server answers LSP on its own.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, TestClient } from './client.js';

interface ZipEntry {
  readonly name: string;
  readonly data: () => Buffer;
}

/** Minimal zip reader (central directory + stored/deflated entries): enough for a .vsix. */
function readZip(buf: Buffer): ZipEntry[] {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    entries.push({
      name,
      data: () => {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + size);
        return method === 0 ? raw : inflateRawSync(raw);
      },
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

let dir: string;
let entries: ZipEntry[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-vsix-'));
  const out = join(dir, 'orch.vsix');
  const r = spawnSync(process.execPath, [join(REPO, 'vscode-extension', 'scripts', 'package.js'), out], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`package.js failed: ${r.stdout}\n${r.stderr}`);
  entries = readZip(readFileSync(out));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the .vsix', () => {
  const file = (name: string): Buffer => {
    const e = entries.find((x) => x.name === name);
    if (!e) throw new Error(`${name} missing from the vsix: ${entries.map((x) => x.name).join(', ')}`);
    return e.data();
  };

  it('holds the manifest contributing the orch language, grammar, snippets and commands', () => {
    const manifest = JSON.parse(file('extension/package.json').toString('utf8'));
    expect(manifest.contributes.languages[0]).toMatchObject({ id: 'orch', extensions: ['.orch'] });
    expect(manifest.contributes.commands.map((c: { command: string }) => c.command)).toEqual(
      expect.arrayContaining(['orch.showPreview', 'orch.runPlan', 'orch.verifyPlan', 'orch.verifyPlanInTerminal']),
    );
    expect(manifest.main).toBe('./dist/extension.js');
    expect(file('extension.vsixmanifest').toString('utf8')).toContain('Microsoft.VisualStudio.Code');
  });

  it('holds the grammar, language configuration, snippets and webview page', () => {
    const grammar = JSON.parse(file('extension/syntaxes/orch.tmLanguage.json').toString('utf8'));
    expect(grammar.scopeName).toBe('source.orch');
    const config = JSON.parse(file('extension/language-configuration.json').toString('utf8'));
    expect(config.comments).toEqual({ lineComment: '//', blockComment: ['/*', '*/'] });
    const snippets = JSON.parse(file('extension/snippets/orch.json').toString('utf8'));
    for (const decl of ['capability', 'resource', 'policy', 'guardrail', 'context', 'plan', 'trigger', 'invariant', 'simulate', 'type']) {
      expect(snippets[decl], decl).toBeDefined();
    }
    expect(file('extension/media/preview.js').toString('utf8')).toContain('renderPreview');
    expect(file('extension/dist/extension.js').length).toBeGreaterThan(1000);
  });

  it('bundles a client that loads in the extension host (with `vscode` provided by the host)', () => {
    const code = file('extension/dist/extension.js').toString('utf8');
    // Evaluate the CommonJS bundle with a stand-in `vscode` module: no load-time errors, and the
    // entry points VS Code calls are exported.
    const module = { exports: {} as Record<string, unknown> };
    const fakeVscode = new Proxy({}, { get: () => new Proxy(function () {}, { get: () => ({}) }) });
    const requireStub = (id: string): unknown => (id === 'vscode' ? fakeVscode : createRequire(import.meta.url)(id));
    new Function('module', 'exports', 'require', '__filename', '__dirname', code)(module, module.exports, requireStub, 'extension.js', REPO);
    expect(typeof module.exports.activate).toBe('function');
    expect(typeof module.exports.deactivate).toBe('function');
  });

  it('bundles a server that works on its own (with the std library)', async () => {
    const server = join(REPO, 'vscode-extension', 'server', 'server.mjs');
    expect(file('extension/server/server.mjs').equals(readFileSync(server))).toBe(true);
    file('extension/server/stdlib/std/capabilities.orch');
    file('extension/server/check-worker.mjs');
    file('extension/server/verify-worker.mjs');
    const client = new TestClient({ entry: server });
    try {
      await client.initialize(dir);
      const uri = await client.open(join(dir, 'x.orch'), 'plan p {\n  step a = notify(channel: "#x", text: "hi")\n  step b = nowhere()\n}\n');
      const diags = await client.diagnosticsFor(uri, (d) => d.length > 0);
      // `notify` comes from the std library shipped next to the bundle; `nowhere` does not exist.
      expect(diags.map((d) => d.code)).toEqual(['E0101']);
      expect(diags[0]!.range.start).toEqual({ line: 2, character: 11 });
      // Verification runs on the bundled verify worker.
      const plan = 'plan p {\n  step a = notify(channel: "#x", text: "hi")\n  invariant "a ran" { always a.completed implies a.started }\n}\n';
      const ok = await client.open(join(dir, 'y.orch'), plan);
      const summary = await client.request<{ ok: boolean; plans: { invariants: { name: string; status: string }[] }[] }>('orch/verify', { uri: ok, runs: 20, seed: 1 });
      expect(summary.plans[0]?.invariants.find((i) => i.name === 'a ran')?.status).toBe('holds');
    } finally {
      await client.close();
    }
  });
});
