/**
 * The GitHub Action (action.yml) without GitHub, which this machine cannot run: its metadata
 * against the action metadata JSON Schema (vendored; source in test/schemas/README.md), docs/ci.md's
 * workflow against its inputs, and its step run as a runner runs it
 * (test/support/composite-action.ts) on a project with a good and a broken plan. The project has
 * no orch installed, so the script takes this checkout's — what the action does in a repository
 * that has not installed Orch. `.ci/package-check` runs the same step against the packed package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packagePath } from '../../compiler/index.js';
import { readAction, runCompositeAction } from '../support/composite-action.js';
import { docSnippet } from '../support/doc-snippets.js';
import { runCli } from '../support/cli-in-process.js';
import { validateSarif } from '../support/sarif-schema.js';

const REPO = packagePath();
const action = readAction(REPO);

/** docs/ci.md's workflow, and its step that uses this action. */
function workflow() {
  const doc = parse(docSnippet('github-workflow')) as {
    permissions: Record<string, string>;
    jobs: Record<string, { steps: { uses?: string; run?: string; if?: string; with?: Record<string, string> }[] }>;
  };
  const steps = Object.values(doc.jobs)[0]!.steps;
  const orch = steps.find((s) => /\/orch@/.test(s.uses ?? ''))!;
  const upload = steps.find((s) => (s.uses ?? '').startsWith('github/codeql-action/upload-sarif@'))!;
  return { doc, steps, orch, upload };
}

describe('action.yml', () => {
  it('is valid action metadata by the schema GitHub editors use', () => {
    const { $schema: _draft, ...schema } = JSON.parse(readFileSync(join(REPO, 'test', 'schemas', 'github-action.json'), 'utf8')) as Record<string, unknown>;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(action), JSON.stringify(validate.errors)).toBe(true);
    // The schema is the real one: a composite run step needs its shell.
    const step = { ...action.runs.steps[0], shell: undefined };
    expect(validate({ ...action, runs: { ...action.runs, steps: [step] } })).toBe(false);
  });

  it('passes every input to its one script, and the script takes every option the step gives it', () => {
    const [step] = action.runs.steps as { env: Record<string, string>; run: string }[];
    expect(action.runs.steps).toHaveLength(1);
    const read = new Set([...JSON.stringify(step).matchAll(/\$\{\{ inputs\.([\w-]+) \}\}/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual(Object.keys(action.inputs!).sort());
    // Inputs reach the command through the environment only (no expression pasted into a shell line).
    expect(step!.run).not.toContain('${{');
    expect(step!.run).toMatch(/^node "\$GITHUB_ACTION_PATH\/scripts\/orch-ci\.mjs"/);
    const help = spawnSync(process.execPath, [join(REPO, 'scripts', 'orch-ci.mjs'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const option of step!.run.match(/--[a-z-]+/g)!) expect(help.stdout).toContain(option);
    // The package users install carries the script (GitLab CI and others run it from there).
    expect((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { files: string[] }).files).toContain('scripts/orch-ci.mjs');
  });

  it("docs/ci.md's workflow gives the action only inputs it has, and uploads the SARIF file it writes", () => {
    const { doc, orch, upload } = workflow();
    for (const name of Object.keys(orch.with ?? {})) expect(Object.keys(action.inputs!)).toContain(name);
    expect(['error', 'warning', 'none']).toContain(orch.with?.['fail-level'] ?? action.inputs!['fail-level']!.default);
    expect(upload.with?.sarif_file).toBe(orch.with?.['sarif-file'] ?? action.inputs!['sarif-file']!.default);
    expect(upload.if).toContain('!cancelled()');
    expect(doc.permissions['security-events']).toBe('write');
  });
});

describe("the action's step, run as a runner runs it", () => {
  const project = mkdtempSync(join(tmpdir(), 'orch-action-'));
  const BROKEN = 'plan broken {\n  deadline 5usd\n  step a = nope()\n}\n';

  it("with docs/ci.md's inputs: annotations on the broken plan's lines, a valid SARIF report, the good plan verified, exit 1", async () => {
    expect((await runCli(['init', project], project)).code).toBe(0);
    mkdirSync(join(project, 'plans'));
    writeFileSync(join(project, 'plans', 'broken.orch'), BROKEN);
    const r = runCompositeAction(REPO, workflow().orch.with ?? {}, { cwd: project });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`orch-ci: orch 0.1.0 from this action (${join(REPO, 'bin', 'orch.js')})`);
    expect(r.stdout).toMatch(/^::error file=plans\/broken\.orch,line=2,endLine=2,col=12,endColumn=16,title=E0203::/m);
    expect(r.stdout).toMatch(/^::error file=plans\/broken\.orch,line=3,.*title=E0101::/m);
    expect(r.stdout).toContain('orch-ci: not verifying plans/broken.orch: it has errors');
    expect(r.stdout).toMatch(/verify hello \(.*hello\.orch/);
    // This Orch has `orch test` (§9.2): it runs, finding no test block in the project, and writes its JUnit report.
    expect(r.stdout).toContain(`orch-ci: JUnit report: ${join(project, 'orch-junit.xml')}`);
    expect(r.outputs['junit-file']).toBe(join(project, 'orch-junit.xml'));
    expect(r.outputs.errors).toBe('2');
    expect(r.outputs['sarif-file']).toBe(join(project, 'orch.sarif'));
    const sarif = JSON.parse(readFileSync(r.outputs['sarif-file']!, 'utf8'));
    expect(validateSarif(sarif)).toEqual([]);
    expect(sarif.runs[0].results.map((x: any) => x.locations[0].physicalLocation.artifactLocation.uri)).toEqual(['plans/broken.orch', 'plans/broken.orch']);
    expect(r.summary).toContain('check: 2 errors');
  });

  it('with `package`, installs that npm spec into a folder of its own and runs its orch', () => {
    // A stand-in package whose `orch` bin is this checkout's (the real package's install takes
    // minutes; .ci/package-check does it once): what is under test is the install and the lookup.
    const stub = mkdtempSync(join(tmpdir(), 'orch-stub-package-'));
    writeFileSync(join(stub, 'package.json'), JSON.stringify({ name: '@example/orch-stub', version: '1.0.0', type: 'module', bin: { orch: 'orch.js' } }));
    writeFileSync(join(stub, 'orch.js'), `#!/usr/bin/env node\nprocess.argv.splice(1, 1, ${JSON.stringify(join(REPO, 'bin', 'orch.js'))});\nawait import(${JSON.stringify(pathToFileURL(join(REPO, 'bin', 'orch.js')).href)});\n`);
    const r = runCompositeAction(REPO, { package: stub, verify: 'false', test: 'false', 'fail-level': 'none' }, { cwd: project });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`orch-ci: orch 0\\.1\\.0 from ${stub.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(.*orch-ci-tool/node_modules/@example/orch-stub/orch\\.js\\)`));
    expect(r.stdout).toMatch(/^::error file=plans\/broken\.orch,line=2,/m);
  });

  it('from a working directory, names files from the repository root; fail-level none reports without failing', () => {
    const r = runCompositeAction(REPO, { 'working-directory': 'plans', 'fail-level': 'none', verify: 'false', 'sarif-file': 'reports/orch.sarif' }, { cwd: project });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^::error file=plans\/broken\.orch,line=2,/m);
    expect(r.stdout).not.toContain('verify hello');
    expect(isAbsolute(r.outputs['sarif-file']!)).toBe(true);
    expect(existsSync(join(project, 'plans', 'reports', 'orch.sarif'))).toBe(true);
    expect(r.stdout).toContain('orch-ci: passed');
  });
});
