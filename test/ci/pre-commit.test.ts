/**
 * The pre-commit hooks (.pre-commit-hooks.yaml) under the real `pre-commit` (Debian's package;
 * .ci/run installs it), in a temporary git repository configured with docs/ci.md's snippet — its
 * `repo:` pointed at a local git copy of the hooks, as pre-commit needs a git repository and this
 * machine has no network. The project "installed" Orch as node_modules/.bin/orch (this checkout's),
 * which is what the hooks' `npx --no -- orch` runs.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { packagePath } from '../../compiler/index.js';
import { docSnippet } from '../support/doc-snippets.js';

const REPO = packagePath();
const available = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' }).status === 0;
const work = mkdtempSync(join(tmpdir(), 'orch-pre-commit-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PRE_COMMIT_HOME: join(work, 'cache'),
  GIT_AUTHOR_NAME: 'Orch Tests',
  GIT_AUTHOR_EMAIL: 'tests@example.invalid',
  GIT_COMMITTER_NAME: 'Orch Tests',
  GIT_COMMITTER_EMAIL: 'tests@example.invalid',
  // No ~/.gitconfig of the machine's user: its hooks path or signing would change what runs.
  GIT_CONFIG_GLOBAL: '/dev/null',
  NO_COLOR: '1',
};

function sh(cmd: string, args: readonly string[], cwd: string, opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', ...opts });
  return { code: r.status, out: `${r.stdout as string}${r.stderr as string}` };
}

function git(cwd: string, ...args: string[]) {
  const r = sh('git', args, cwd);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.out}`);
  return r.out.trim();
}

/** A git repository holding the hooks file as this checkout has it; returns its commit. */
function hooksRepository(dir: string): string {
  mkdirSync(dir);
  git(dir, 'init', '-q');
  copyFileSync(join(REPO, '.pre-commit-hooks.yaml'), join(dir, '.pre-commit-hooks.yaml'));
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'hooks');
  return git(dir, 'rev-parse', 'HEAD');
}

const UGLY = 'plan   hello{\n    goal "Say hello"\n}\n';
const BROKEN = 'plan late {\n  deadline 5usd\n}\n';

describe.skipIf(!available && process.env.CI !== 'true')('the pre-commit hooks', () => {
  it("fix a badly formatted plan and block a commit of a plan with an error, as docs/ci.md's config uses them", () => {
    const hooks = join(work, 'hooks');
    const rev = hooksRepository(hooks);
    const project = join(work, 'project');
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    git(project, 'init', '-q');
    writeFileSync(join(project, 'package.json'), '{ "name": "plans", "private": true }\n');
    symlinkSync(join(REPO, 'bin', 'orch.js'), join(project, 'node_modules', '.bin', 'orch'));
    writeFileSync(join(project, '.gitignore'), 'node_modules/\n');
    const config = parse(docSnippet('pre-commit-config')) as { repos: { repo: string; rev: string; hooks: { id: string }[] }[] };
    expect(config.repos[0]!.hooks.map((h) => h.id)).toEqual(['orch-fmt', 'orch-check']);
    Object.assign(config.repos[0]!, { repo: hooks, rev });
    writeFileSync(join(project, '.pre-commit-config.yaml'), stringify(config));
    git(project, 'add', '.');
    git(project, 'commit', '-q', '--no-verify', '-m', 'project');
    expect(sh('pre-commit', ['install'], project).code).toBe(0);

    // A plan that is correct but badly formatted: the first commit stops with the file rewritten.
    writeFileSync(join(project, 'hello.orch'), UGLY);
    git(project, 'add', 'hello.orch');
    const first = sh('git', ['commit', '-m', 'hello'], project);
    expect(first.code, first.out).not.toBe(0);
    expect(first.out).toMatch(/orch fmt\.+Failed/);
    expect(first.out).toContain('files were modified by this hook');
    const fixed = readFileSync(join(project, 'hello.orch'), 'utf8');
    expect(fixed).toBe('plan hello {\n  goal "Say hello"\n}\n');
    git(project, 'add', 'hello.orch');
    const second = sh('git', ['commit', '-m', 'hello'], project);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/orch check\.+Passed/);

    // A plan with an error: the commit is refused and says why.
    writeFileSync(join(project, 'late.orch'), BROKEN);
    git(project, 'add', 'late.orch');
    const third = sh('git', ['commit', '-m', 'late'], project);
    expect(third.code, third.out).not.toBe(0);
    expect(third.out).toMatch(/orch check\.+Failed/);
    expect(third.out).toContain("late.orch:2:12: error[E0203]: 'deadline' needs a duration");
    expect(git(project, 'log', '--format=%s')).toBe('hello\nproject');
  });
});
