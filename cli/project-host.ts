/**
 * What the compiler may read when its diagnostics go to someone else (an MCP client, a model):
 * std and the project's `.orch` files. A diagnostic quotes the text it is about (its message
 * names the token, its code frame shows the line), so an import of `.env`, a handler module or a
 * file outside the project would hand its contents over; to this host such a file does not
 * exist (E0103).
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { diskHost, STD_DIR, type SourceHost } from '../compiler/index.js';

/** Whether `abs` is `root` itself or outside it. */
export function outside(root: string, abs: string): boolean {
  const rel = relative(root, abs);
  return rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel);
}

/** Where `abs` really is: its symbolic links followed (for a file not there yet, its nearest existing folder's). */
export function realPath(abs: string): string {
  for (let p = abs, rest = ''; ; ) {
    try {
      return resolve(realpathSync(p), rest);
    } catch {
      const up = dirname(p);
      if (up === p) return abs;
      rest = relative(up, resolve(p, rest));
      p = up;
    }
  }
}

/** Whether `abs` is an `.orch` file of the project at `root`, its symbolic links followed. */
export function isProjectOrchFile(root: string, abs: string): boolean {
  if (!abs.endsWith('.orch') || outside(root, abs)) return false;
  const real = realPath(abs);
  return real.endsWith('.orch') && !outside(realPath(root), real);
}

export function projectSourceHost(root: string): SourceHost {
  return {
    readFile(p) {
      const abs = resolve(p);
      return !outside(STD_DIR, abs) || isProjectOrchFile(root, abs) ? diskHost.readFile(p) : undefined;
    },
  };
}
