/**
 * How CI reports (SARIF, GitHub annotations) name files: relative to the repository root, which
 * is what code scanning and the pull request's lines resolve a path against.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The folder report paths are relative to: the repository root on GitHub Actions
 * (`GITHUB_WORKSPACE`), so that `orch check` run from a sub-folder still names `plans/a.orch` as the
 * repository has it; the current directory anywhere else.
 */
export function reportRoot(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const workspace = env.GITHUB_WORKSPACE;
  return workspace && isAbsolute(workspace) ? workspace : cwd;
}

/** `file` (relative ones: to the current directory) relative to `root`, with forward slashes; undefined outside `root`. */
export function pathUnder(file: string, root: string): string | undefined {
  const rel = relative(root, resolve(file));
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}
