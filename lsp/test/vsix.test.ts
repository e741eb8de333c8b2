/**
 * `npm run package:vsix`'s script builds an installable .vsix: manifest, grammar, snippets,
 * webview page, the bundled server — which answers LSP on its own — and the bundled CLI, which
 * checks, previews, verifies and runs a plan with nothing on PATH (and no native module but for run).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, TestClient } from './client.js';

/** The bundled CLI runs on the same Node as this test. */
const hasBuiltinSqlite = (() => {
  try {
    createRequire(import.meta.url)('node:sqlite');
    return true;
  } catch {
    return false;
  }
})();

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
/** Where the .vsix is unpacked. */
let installed: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-vsix-'));
  installed = join(dir, 'installed');
  const out = join(dir, 'orch.vsix');
  const r = spawnSync(process.execPath, [join(REPO, 'vscode-extension', 'scripts', 'package.js'), out], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`package.js failed: ${r.stdout}\n${r.stderr}`);
  entries = readZip(readFileSync(out));
  // Unpacked as VS Code installs it, to run what it ships.
  for (const e of entries) {
    if (!e.name.startsWith('extension/')) continue;
    const target = join(installed, e.name.slice('extension/'.length));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, e.data());
  }
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
    const server = join(installed, 'server', 'server.mjs');
    file('extension/server/stdlib/std/capabilities.orch');
    file('extension/server/check-worker.mjs');
    file('extension/server/verify-worker.mjs');
    // the dashboard of `orch serve` / `orch ui`
    file('extension/server/dist/ui/app.js');
    file('extension/server/dist/ui/app.css');
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

  describe('bundles the whole orch CLI, run with nothing on PATH', () => {
    const cli = () => join(installed, 'server', 'dist', 'cli', 'main.js');
    const orch = (cwd: string, ...args: string[]) =>
      spawnSync(process.execPath, [cli(), ...args], { cwd, encoding: 'utf8', env: { PATH: join(dir, 'nothing-here'), HOME: dir }, timeout: 60_000 });
    const project = (name: string): string => {
      const p = join(dir, name);
      cpSync(join(REPO, 'examples', 'movie_night'), p, { recursive: true });
      return p;
    };

    it('checks, previews, verifies and runs a plan', () => {
      const p = project('movie');
      expect(orch(p, 'check', 'movie_night.orch').stdout).toContain('no problems');
      expect(orch(p, 'preview', 'movie_night.orch').stdout).toContain('Plan movie_night');
      const verify = orch(p, 'verify', 'movie_night.orch', '--runs', '30', '--seed', '1');
      expect(verify.status, verify.stderr).toBe(0);
      const run = orch(p, 'run', 'movie_night.orch', '--input', '@input.json');
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr + run.stdout).toMatch(/\(movie_night\): completed in/);
      expect(existsSync(join(p, '.orch', 'runs.db'))).toBe(true);
    });

    it('needs no native module for check, preview and verify; without SQLite, run says why (or runs on node:sqlite)', () => {
      const p = project('no-sqlite');
      const sqlite = join(installed, 'server', 'node_modules', 'better-sqlite3');
      const aside = join(dir, 'better-sqlite3.aside');
      renameSync(sqlite, aside);
      try {
        expect(orch(p, 'check', 'movie_night.orch').status).toBe(0);
        expect(orch(p, 'preview', 'movie_night.orch').status).toBe(0);
        expect(orch(p, 'verify', 'movie_night.orch', '--runs', '20', '--seed', '1').status).toBe(0);
        const run = orch(p, 'run', 'movie_night.orch', '--input', '@input.json');
        if (hasBuiltinSqlite) {
          // Node 22.13+: the journal is node:sqlite, nothing native is needed at all.
          expect(run.status, run.stderr).toBe(0);
          return;
        }
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/the run journal needs SQLite: Node v[\d.]+ has no built-in node:sqlite \(Node 22\.13\+\), and better-sqlite3 does not load on this Node \(ABI \d+\): Cannot find module 'better-sqlite3'$/m);
        expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      } finally {
        renameSync(aside, sqlite);
      }
    });
  });
});
