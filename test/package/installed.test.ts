/**
 * The package as users get it: what `.ci/package-check` installed with docs/ci.md's install
 * snippet into an empty project (ORCH_PACKAGE_DIR: that project and install.json, written by
 * bench/package.ts). One pack and one install per CI run, shared by every test here; without
 * ORCH_PACKAGE_DIR (the main suite) the file is skipped — `.ci/package-check` runs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';
import { parse } from 'yaml';
import { packagePath } from '../../compiler/index.js';
import type { PackageTrial } from '../../bench/package.js';
import { runCompositeAction } from '../support/composite-action.js';
import { docSnippet, shellCommands } from '../support/doc-snippets.js';
import { validateSarif } from '../support/sarif-schema.js';

const dir = process.env.ORCH_PACKAGE_DIR;
const trial = dir ? (JSON.parse(readFileSync(join(dir, 'install.json'), 'utf8')) as PackageTrial) : undefined;
const project = trial?.project ?? '';
const installed = join(project, 'node_modules', 'orch');
const bin = join(installed, 'bin', 'orch.js');

function bash(command: string) {
  const r = spawnSync('bash', ['-eo', 'pipefail', '-c', command], { cwd: project, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function orch(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: project, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every package.json of an installed package under `modules`, nested ones too. */
function installedPackages(modules: string): { name: string; version: string; engines?: { node?: string } }[] {
  const out: { name: string; version: string; engines?: { node?: string } }[] = [];
  if (!existsSync(modules)) return out;
  for (const e of readdirSync(modules, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === '.bin') continue;
    const dirs = e.name.startsWith('@') ? readdirSync(join(modules, e.name)).map((n) => join(modules, e.name, n)) : [join(modules, e.name)];
    for (const d of dirs) {
      if (existsSync(join(d, 'package.json'))) out.push(JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')));
      out.push(...installedPackages(join(d, 'node_modules')));
    }
  }
  return out;
}

describe.skipIf(!trial)('the installed package (.ci/package-check)', () => {
  it('installs with no warning a user must act on', () => {
    expect(trial!.installStatus, trial!.installOutput).toBe(0);
    expect(trial!.installOutput.split('\n').filter((l) => /npm warn/i.test(l))).toEqual([]);
    expect(trial!.installOutput).not.toMatch(/EBADENGINE|install-scripts|allowScripts/);
  });

  it('holds only packages that support every Node line Orch supports', () => {
    const own = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { engines: { node: string } };
    // The lowest version of each line: ^20.19.0 || ^22.13.0 || … → 20.19.0, 22.13.0, …
    const lines = own.engines.node.split('||').map((r) => semver.minVersion(r.trim())!.version);
    expect(lines).toContain(process.versions.node.startsWith('20.') ? '20.19.0' : lines[0]);
    const refusing = installedPackages(join(project, 'node_modules'))
      .filter((p) => p.engines?.node)
      .flatMap((p) => lines.filter((v) => !semver.satisfies(v, p.engines!.node!)).map((v) => `${p.name}@${p.version} (engines ${p.engines!.node}) refuses Node ${v}`));
    expect(refusing).toEqual([]);
  });

  it('ships what users run and nothing only this repository needs', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // npm lists a tarball's `prepare` among the scripts to approve, though it never runs it.
    expect(pkg.scripts.prepare).toBeUndefined();
    for (const absent of ['dist/bench', 'dist/test', 'stdlib/handlers/email.ts', 'dist/cli/main.js.map']) expect(existsSync(join(installed, absent)), absent).toBe(false);
    for (const present of ['dist/bundle/check.cjs', 'dist/stdlib/handlers/email.js', 'stdlib/std/capabilities.orch', 'compiler/schema/orch.plan.v3.schema.json', 'compiler/schema/orch.plan.v2.schema.json', 'scripts/orch-ci.mjs']) {
      expect(existsSync(join(installed, present)), present).toBe(true);
    }
  });

  it("runs docs/ci.md's first steps: init, check, run (the journal's SQLite driver loads) and verify", () => {
    for (const command of shellCommands(docSnippet('first-steps'))) {
      const r = bash(command);
      expect(r.code, `${command}\n${r.out}`).toBe(0);
    }
    expect(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).allowScripts).toEqual({ 'better-sqlite3': true });
    expect(existsSync(join(project, '.orch', 'runs.db'))).toBe(true);
    const runs = orch('runs', '--json');
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain('"completed"');
  });

  it('orch test (LANGUAGE.md §9.2)', () => {
    const r = orch('test', '.', '--allow-none');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('orch lsp --stdio answers initialize and shuts down cleanly', async () => {
    const server = spawn(process.execPath, [bin, 'lsp', '--stdio'], { cwd: project, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((done) => server.once('exit', (code) => done(code)));
    const connection = createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
    connection.listen();
    const init = (await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(project).href,
      capabilities: {},
      workspaceFolders: null,
    })) as { capabilities: { textDocumentSync?: unknown; completionProvider?: unknown } };
    expect(init.capabilities.textDocumentSync).toBeDefined();
    expect(init.capabilities.completionProvider).toBeDefined();
    await connection.sendNotification('initialized', {});
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    expect(await exited).toBe(0);
    connection.dispose();
  });

  it("runs the action's step with docs/ci.md's workflow inputs against the project's orch", () => {
    const uses = Object.values((parse(docSnippet('github-workflow')) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, string> }[] }> }).jobs)[0]!
      .steps.find((s) => /\/orch@/.test(s.uses ?? ''))!;
    const clean = runCompositeAction(packagePath(), uses.with ?? {}, { cwd: project });
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`from the project (${bin})`);
    expect(validateSarif(JSON.parse(readFileSync(clean.outputs['sarif-file']!, 'utf8')))).toEqual([]);

    writeFileSync(join(project, 'broken.orch'), 'plan broken {\n  deadline 5usd\n}\n');
    try {
      const broken = runCompositeAction(packagePath(), uses.with ?? {}, { cwd: project });
      expect(broken.status).toBe(1);
      expect(broken.stdout).toMatch(/^::error file=broken\.orch,line=2,.*title=E0203::/m);
      expect(broken.outputs.errors).toBe('1');
    } finally {
      rmSync(join(project, 'broken.orch'));
    }
  });

  it("runs the GitLab job's script from the installed package", () => {
    const job = Object.values(parse(docSnippet('gitlab-ci')) as Record<string, { script: string[] }>)[0]!;
    // `npm ci` would install again the tree the install snippet just installed.
    const commands = job.script.filter((c) => c !== 'npm ci');
    expect(commands.length).toBe(job.script.length - 1);
    for (const command of commands) {
      const r = bash(command);
      expect(r.code, `${command}\n${r.out}`).toBe(0);
      expect(r.out).toContain('orch-ci: passed');
    }
    expect(existsSync(join(project, 'orch.sarif'))).toBe(true);
  });
});
