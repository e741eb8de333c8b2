#!/usr/bin/env node
// Orch in CI, as one script: the GitHub Action (action.yml) runs it, GitLab CI and any other CI can
// run it from the installed package (node node_modules/orch/scripts/orch-ci.mjs), and this
// repository's own CI runs it against the package as users install it (.ci/package-check).
//
//   - `orch check --format sarif` into a file for code scanning, and the same problems in the log:
//     annotations on the pull request's lines on GitHub Actions, text with code frames elsewhere;
//   - `orch test --reporter junit` when the installed Orch has `orch test` (LANGUAGE.md §9.2);
//   - `orch verify` on every file that declares a plan (files with errors are left to `check`);
//   - exit 1 when what `--fail-level` names was found, 2 when a tool could not run.
//
// Which orch: `--package SPEC` installs that npm spec (a tarball path or URL, a git URL) into a
// folder of its own; otherwise the project's own (a dependency whose package has the `orch` bin);
// otherwise the Orch this script belongs to (a checkout of this repository, built when needed).
// Only Node's own modules are used: this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = `usage: node orch-ci.mjs [--paths "PATH…"] [--fail-level error|warning|none] [--sarif FILE]
                         [--junit FILE] [--test auto|true|false] [--verify true|false] [--package SPEC]`;
const FAIL_LEVELS = ['error', 'warning', 'none'];
/** Folders `orch check DIR` skips too. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.orch']);

function say(line) {
  process.stdout.write(`orch-ci: ${line}\n`);
}

function fatal(message) {
  process.stderr.write(`orch-ci: ${message}\n`);
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        paths: { type: 'string', default: '.' },
        'fail-level': { type: 'string', default: 'error' },
        sarif: { type: 'string', default: 'orch.sarif' },
        junit: { type: 'string', default: 'orch-junit.xml' },
        test: { type: 'string', default: 'auto' },
        verify: { type: 'string', default: 'true' },
        package: { type: 'string', default: '' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    fatal(`${err.message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const paths = values.paths.split(/\s+/).filter(Boolean);
  if (!FAIL_LEVELS.includes(values['fail-level'])) fatal(`--fail-level must be one of ${FAIL_LEVELS.join(', ')}, not "${values['fail-level']}"`);
  if (!['auto', 'true', 'false'].includes(values.test)) fatal(`--test must be auto, true or false, not "${values.test}"`);
  if (!['true', 'false'].includes(values.verify)) fatal(`--verify must be true or false, not "${values.verify}"`);
  return { ...values, paths: paths.length ? paths : ['.'], failLevel: values['fail-level'] };
}

function run(command, args, opts = {}) {
  // npm is npm.cmd on Windows, which only a shell starts.
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, shell: command === 'npm' && process.platform === 'win32', ...opts });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The `orch` bin of the installed package `name`, resolved from `dir`'s node_modules. */
function binOf(dir, name) {
  const pkg = readJson(join(dir, 'node_modules', name, 'package.json'));
  // A string `bin` is a command named after the package (without its scope).
  const bin = typeof pkg?.bin === 'string' ? (pkg.name?.split('/').pop() === 'orch' ? pkg.bin : undefined) : pkg?.bin?.orch;
  return bin ? join(dir, 'node_modules', name, bin) : undefined;
}

/** The project's own orch: a dependency of the nearest package.json above `from` that has the bin. */
function projectOrch(from) {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const pkg = readJson(join(dir, 'package.json'));
    if (pkg) {
      const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies });
      for (const name of names) {
        const bin = binOf(dir, name);
        if (bin && existsSync(bin)) return bin;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Installs `spec` into a folder of its own, approving the journal driver's native build. */
function installedOrch(spec) {
  const dir = join(process.env.RUNNER_TEMP || tmpdir(), 'orch-ci-tool');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, allowScripts: { 'better-sqlite3': true } }, null, 2)}\n`);
  say(`installing ${spec}`);
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--save', spec], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) fatal(`npm install ${spec} failed (exit ${r.status})`);
  const name = Object.keys(readJson(join(dir, 'package.json'))?.dependencies ?? {})[0];
  const bin = name && binOf(dir, name);
  if (!bin) fatal(`${spec} installed no package with an orch command`);
  return bin;
}

/** The Orch this script belongs to (the action's checkout), built by `npm ci` if it is not yet. */
function ownOrch() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    say(`building Orch in ${root} (npm ci)`);
    const r = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) fatal(`npm ci in ${root} failed (exit ${r.status})`);
  }
  return join(root, 'bin', 'orch.js');
}

function findOrch(spec) {
  if (spec) return { bin: installedOrch(spec), from: spec };
  const project = projectOrch(process.cwd());
  if (project) return { bin: project, from: 'the project' };
  return { bin: ownOrch(), from: 'this action' };
}

/** Every .orch file under `paths` that declares a plan. */
function planFiles(paths) {
  const out = [];
  const visit = (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (!SKIPPED_DIRS.has(e)) visit(join(p, e));
    } else if (p.endsWith('.orch') && /^[ \t]*plan[ \t]+[A-Za-z_]/m.test(readFileSync(p, 'utf8'))) out.push(p);
  };
  for (const p of paths) visit(p);
  return out;
}

/**
 * The absolute path a SARIF location names: `orch check` writes URIs relative to the repository
 * root (GITHUB_WORKSPACE on GitHub Actions, else the current directory), or `file:` URIs.
 */
function fileOf(location) {
  if (!location?.uri) return undefined;
  if (location.uriBaseId === undefined) return fileURLToPath(location.uri);
  const workspace = process.env.GITHUB_WORKSPACE;
  return resolve(workspace && isAbsolute(workspace) ? workspace : process.cwd(), decodeURIComponent(location.uri));
}

function check(orch, o) {
  const sarifRun = run(process.execPath, [orch, 'check', ...o.paths, '--format', 'sarif']);
  if (sarifRun.status !== 0 && sarifRun.status !== 1) fatal(`orch check failed (exit ${sarifRun.status}): ${sarifRun.stderr.trim()}`);
  const sarif = resolve(o.sarif);
  mkdirSync(dirname(sarif), { recursive: true });
  writeFileSync(sarif, sarifRun.stdout);
  let results;
  try {
    results = JSON.parse(sarifRun.stdout).runs.flatMap((r) => r.results);
  } catch (err) {
    fatal(`orch check --format sarif printed no SARIF (${err.message})`);
  }
  const at = (level) => results.filter((r) => r.level === level).length;
  // The same problems for people: annotations on GitHub, code frames elsewhere.
  const format = process.env.GITHUB_ACTIONS === 'true' ? 'github' : 'text';
  run(process.execPath, [orch, 'check', ...o.paths, '--format', format], { stdio: 'inherit' });
  const erroneous = new Set(results.filter((r) => r.level === 'error').map((r) => fileOf(r.locations?.[0]?.physicalLocation?.artifactLocation)));
  say(`SARIF report: ${sarif}`);
  return { sarif, errors: at('error'), warnings: at('warning'), notes: at('note'), erroneous };
}

/**
 * `orch test` when this Orch has it. TODO(#52): once every supported Orch has `orch test`, `auto`
 * can require it; until then an Orch without it is skipped with a notice.
 */
function test(orch, o) {
  if (o.test === 'false') return { ran: false, failed: false };
  const help = run(process.execPath, [orch, 'test', '--help']);
  if (!/^Usage: orch test\b/m.test(help.stdout)) {
    if (o.test === 'true') fatal('--test true, but this orch has no `orch test` command (LANGUAGE.md §9.2)');
    say('skipping orch test: this orch has no `orch test` command yet (LANGUAGE.md §9.2)');
    return { ran: false, failed: false };
  }
  const junit = resolve(o.junit);
  mkdirSync(dirname(junit), { recursive: true });
  const args = ['test', ...o.paths, '--reporter', 'junit', '-o', junit, ...(o.test === 'auto' ? ['--allow-none'] : [])];
  const r = run(process.execPath, [orch, ...args], { stdio: 'inherit' });
  say(`JUnit report: ${junit}`);
  return { ran: true, failed: r.status !== 0, junit };
}

function verify(orch, o, erroneous) {
  if (o.verify === 'false') return { verified: 0, failed: [] };
  const failed = [];
  let verified = 0;
  for (const file of planFiles(o.paths)) {
    if (erroneous.has(resolve(file))) {
      say(`not verifying ${file}: it has errors`);
      continue;
    }
    verified++;
    const r = run(process.execPath, [orch, 'verify', file], { stdio: 'inherit' });
    if (r.status !== 0) failed.push(file);
  }
  return { verified, failed };
}

function count(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function report(o, c, t, v, failed) {
  const lines = [
    `check: ${count(c.errors, 'error')}, ${count(c.warnings, 'warning')}, ${count(c.notes, 'note')}`,
    `test: ${t.ran ? (t.failed ? 'failed' : 'passed') : 'not run'}`,
    `verify: ${count(v.verified, 'file')}, ${v.failed.length ? `violated in ${v.failed.join(', ')}` : 'no violation'}`,
  ];
  for (const l of lines) say(l);
  const out = process.env.GITHUB_OUTPUT;
  if (out) {
    const outputs = { 'sarif-file': c.sarif, 'junit-file': t.junit ?? '', errors: c.errors, warnings: c.warnings };
    appendFileSync(out, Object.entries(outputs).map(([k, val]) => `${k}=${val}\n`).join(''));
  }
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `### Orch ${failed ? '✗' : '✓'}\n\n${lines.map((l) => `- ${l}`).join('\n')}\n\nFails on: ${o.failLevel}\n`);
}

const o = options();
const { bin, from } = findOrch(o.package);
const version = run(process.execPath, [bin, '--version']);
if (version.status !== 0) fatal(`${bin} does not run: ${version.stderr.trim()}`);
say(`orch ${version.stdout.trim()} from ${from} (${bin})`);

const c = check(bin, o);
const t = test(bin, o);
const v = verify(bin, o, c.erroneous);
const found = c.errors > 0 || t.failed || v.failed.length > 0 || (o.failLevel === 'warning' && c.warnings > 0);
const failed = o.failLevel !== 'none' && found;
report(o, c, t, v, failed);
say(failed ? `failed (fail-level ${o.failLevel})` : 'passed');
process.exit(failed ? 1 : 0);
