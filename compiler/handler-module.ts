/**
 * What the compiler can know of a capability's handler from files alone, without running user
 * code: where `handler "./h.js#fn"` points (as the runtime resolves it: relative to the declaring
 * .orch file), and which names that module exports, read from its text. A module that cannot be
 * analysed statically (`export *`, CommonJS, `export =`, destructured exports) is not judged.
 * Shared by `orch check` (E0104) and the language server's document links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { closest } from './suggest.js';

export interface HandlerRef {
  readonly module: string;
  /** `default` when the string has no `#export`. */
  readonly export: string;
}

/** `"./h.js#fn"` → its module path and export; null for `builtin:NAME` and other URL-like names. */
export function splitHandler(text: string): HandlerRef | null {
  const hash = text.lastIndexOf('#');
  const module = hash < 0 ? text : text.slice(0, hash);
  if (!module || /^[a-z][a-z0-9+.-]*:/i.test(module)) return null;
  return { module, export: (hash < 0 ? '' : text.slice(hash + 1)) || 'default' };
}

/** The file a handler module path names, from the .orch file declaring it. */
export function handlerFile(orchFile: string, module: string): string {
  return isAbsolute(module) ? module : resolve(dirname(orchFile), module);
}

const IDENT = '[A-Za-z_$][\\w$]*';

/** The names a JS/TS module's text exports, or null when they cannot be known without running it. */
export function moduleExports(text: string): ReadonlySet<string> | null {
  if (/\bexport\s*\*\s*from\b/.test(text) || /\bexport\s*=/.test(text) || /\bmodule\.exports\b|(^|[^.\w$])exports\.\w/m.test(text)) return null;
  if (new RegExp(`\\bexport\\s+(?:const|let|var)\\s*[{[]`).test(text)) return null;
  const names = new Set<string>();
  const add = (re: RegExp) => {
    for (const m of text.matchAll(re)) names.add(m[1]!);
  };
  add(new RegExp(`\\bexport\\s+(?:declare\\s+)?(?:async\\s+)?function\\s*\\*?\\s*(${IDENT})`, 'g'));
  add(new RegExp(`\\bexport\\s+(?:declare\\s+)?(?:abstract\\s+)?class\\s+(${IDENT})`, 'g'));
  add(new RegExp(`\\bexport\\s+(?:declare\\s+)?(?:const|let|var)\\s+(${IDENT})`, 'g'));
  // `export const a = 1, b = 2`: the later declarators of the statement are exported too.
  for (const m of text.matchAll(/\bexport\s+(?:const|let|var)\s+[^;\n]*/g))
    for (const d of m[0].matchAll(new RegExp(`,\\s*(${IDENT})\\s*(?::[^=,]*)?=`, 'g'))) names.add(d[1]!);
  if (/\bexport\s+default\b/.test(text)) names.add('default');
  for (const m of text.matchAll(/\bexport\s+(?:type\s+)?\{([^}]*)\}/g))
    for (const item of m[1]!.split(',')) {
      const parts = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/);
      const name = (parts[1] ?? parts[0] ?? '').trim();
      if (name) names.add(name.replace(/^["']|["']$/g, ''));
    }
  for (const m of text.matchAll(new RegExp(`\\bexport\\s*\\*\\s*as\\s+(${IDENT})`, 'g'))) names.add(m[1]!);
  return names;
}

/** The 1-based line declaring export `name` in a JS/TS module's text, if any. */
export function exportLine(text: string, name: string): number | undefined {
  const escaped = name.replace(/[$]/g, '\\$');
  const decl = new RegExp(`^\\s*export\\s+(?:default\\s+)?(?:async\\s+)?(?:function\\*?\\s*|const\\s+|let\\s+|var\\s+|class\\s+)${escaped}\\b`);
  const list = new RegExp(`^\\s*export\\s*\\{[^}]*\\b${escaped}\\b`);
  const lines = text.split(/\r\n|\r|\n/);
  const i = lines.findIndex((l) => decl.test(l) || list.test(l));
  return i < 0 ? undefined : i + 1;
}

/** Module files the runtime can import (what a misspelt module name is compared with). */
const MODULE_EXT = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

export type HandlerProblem =
  | { readonly kind: 'missing_module'; readonly file: string; readonly suggestion?: string }
  /** The module's folder does not exist and one beside it has a close name (W0105). */
  | { readonly kind: 'missing_folder'; readonly file: string; readonly folder: string; readonly suggestion: string }
  | { readonly kind: 'missing_export'; readonly file: string; readonly exports: readonly string[]; readonly suggestion?: string };

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * What a module's text exports, by path, with the stat it was read at: the LSP compiles on every
 * edit (its checks and its estimates), and scanning an unchanged handler file again each time cost
 * ~6 ms of each estimate compile. `exports` is null when the text is not judged (too large,
 * unreadable) or its exports cannot be known without running it.
 */
const modules = new Map<string, { readonly key: string; readonly exports: ReadonlySet<string> | null }>();

/** The module's entry, or undefined when no file is there. */
function readModule(file: string): { readonly exports: ReadonlySet<string> | null } | undefined {
  let key: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return undefined;
    key = `${st.mtimeMs}:${st.size}`;
  } catch {
    return undefined;
  }
  const hit = modules.get(file);
  if (hit?.key === key) return hit;
  let text: string | null = null;
  try {
    // A huge file is not a handler anyone misspelt: it is left unjudged.
    if (Number(key.split(':')[1]) <= 4 * 1024 * 1024) text = readFileSync(file, 'utf8');
  } catch {
    text = null;
  }
  if (modules.size > 500) modules.clear();
  const entry = { key, exports: text === null ? null : moduleExports(text) };
  modules.set(file, entry);
  return entry;
}

/** A path as the source wrote one: `./x` rather than `x`, `/` on every platform. */
function relativeLike(path: string): string {
  const p = path.replace(/\\/g, '/');
  return p.startsWith('.') || isAbsolute(p) ? p : `./${p}`;
}

/**
 * The module's folder is not there but one beside it has a close name (`./handler/` beside
 * `./handlers/`): W0105, a did-you-mean. A missing folder with no such neighbour is not judged —
 * handlers built into `dist/` after the check are legitimate, and spec-style fixtures name folders
 * that exist only at run time.
 */
function missingFolder(file: string, module: string): HandlerProblem | null {
  const folder = dirname(file);
  if (existsSync(folder)) return null; // there, but not a folder that can be listed
  let dirs: string[];
  try {
    dirs = readdirSync(dirname(folder), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return null;
  }
  const near = closest(basename(folder), dirs);
  if (!near) return null;
  return { kind: 'missing_folder', file, folder, suggestion: relativeLike(join(dirname(dirname(module)), near, basename(module))) };
}

/**
 * What is wrong with a handler reference, as far as the files tell, or null. A module is missing
 * only when its folder exists; a folder not there is judged only when a folder beside it has a
 * close name (a typo, W0105); an export is missing only when the module's exports are known.
 */
export function handlerProblem(orchFile: string, ref: HandlerRef): HandlerProblem | null {
  // A source that is not on disk (an editor's or a test's virtual file) has no folder to look in.
  if (!isFile(orchFile)) return null;
  const file = handlerFile(orchFile, ref.module);
  const module = readModule(file);
  if (module === undefined) {
    let siblings: string[];
    try {
      siblings = readdirSync(dirname(file)).filter((n) => MODULE_EXT.has(extname(n)));
    } catch {
      return missingFolder(file, ref.module);
    }
    const near = closest(basename(file), siblings);
    const suggestion = near ? relativeLike(join(dirname(ref.module), near)) : undefined;
    return { kind: 'missing_module', file, ...(suggestion ? { suggestion } : {}) };
  }
  const exports = module.exports;
  if (!exports || exports.has(ref.export)) return null;
  const names = [...exports].sort();
  const suggestion = closest(ref.export, names.filter((n) => n !== 'default'));
  return { kind: 'missing_export', file, exports: names, ...(suggestion ? { suggestion } : {}) };
}
