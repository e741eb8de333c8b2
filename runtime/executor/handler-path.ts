/**
 * Where a capability's handler lives: `{module, export}` resolved against the IR's `base_dir`
 * and kept inside the project directory — also after following symlinks — or a built-in std
 * handler shipped in `dist/stdlib`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { CapabilityIR } from '../../compiler/index.js';
import { packagePath } from '../../compiler/index.js';

export type HandlerLocation = { ok: true; module: string; export: string } | { ok: false; error: string };

export const BUILTIN_HANDLERS = ['approval', 'notify', 'email', 'http_request', 'transform', 'log'] as const;

/** The project directory of a plan: nearest ancestor of base_dir with an orch config, package.json or .git. */
export function projectRoot(baseDir: string): string {
  const start = resolve(baseDir);
  let dir = start;
  for (;;) {
    for (const marker of ['orch.config.js', 'orch.config.mjs', 'orch.config.json', 'package.json', '.git'])
      if (existsSync(join(dir, marker))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

/** Whether `path` is `dir` or below it (both already absolute and resolved the same way). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function locateHandler(cap: CapabilityIR, baseDir: string, root: string): HandlerLocation {
  const h = cap.handler;
  if (h === null) return { ok: false, error: `capability ${cap.name} has no handler` };
  if ('mcp' in h) return { ok: false, error: `MCP tool ${h.tool} of ${cap.name} is called by the executor's MCP client, not a worker` };
  if ('builtin' in h) {
    if (!(BUILTIN_HANDLERS as readonly string[]).includes(h.builtin))
      return { ok: false, error: `unknown built-in handler "${h.builtin}"` };
    return { ok: true, module: packagePath('dist', 'stdlib', 'handlers', `${h.builtin}.js`), export: 'handler' };
  }
  const file = isAbsolute(h.module) ? h.module : resolve(baseDir, h.module);
  const outside = { ok: false as const, error: `handler ${h.module} of ${cap.name} is outside the project directory ${root}` };
  if (!isInside(root, file)) return outside;
  if (!existsSync(file)) return { ok: false, error: `handler module ${h.module} of ${cap.name} not found (${file})` };
  // A symlink inside the project may point anywhere: the file actually loaded must be inside too.
  const real = realpathSync(file);
  if (!isInside(realpathSync(root), real))
    return { ok: false, error: `handler ${h.module} of ${cap.name} links to ${real}, outside the project directory ${root}` };
  return { ok: true, module: real, export: h.export };
}
