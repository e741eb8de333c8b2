/**
 * A file's folders made as `mkdir -p` makes them, one level at a time. Node 20's recursive
 * `mkdirSync` / `mkdir` loops for ever, spinning a CPU, on a path whose parent cannot be made
 * (under `/proc`, `/sys`): each level here is made once, and the first that cannot be is an
 * ordinary error (ENOENT, EACCES, ENOTDIR) for the caller to report.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; ) {
    try {
      if (statSync(at).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const up = dirname(at);
    missing.push(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      // Made meanwhile by another process: as good as made here.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw err;
    }
  }
}
