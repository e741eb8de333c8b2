/**
 * `orch check`: the diagnostics of a set of files — every compiler phase (syntax, names, types,
 * DAG, placement, guardrails, triggers, unused declarations — across the files: see
 * `unusedAcrossChecks`), imports included. The given files
 * are read through `read` (so the CLI reports unusable inputs as I/O errors first); imported
 * files come from the disk.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { compareDiagnostics, type Diagnostic } from '../language/index.js';
import { checkLoading } from './diagnose.js';
import { unusedAcrossChecks } from './unused.js';
import { compactHost, diskHost, type SourceHost } from './load.js';
import type { StageTimer } from './stages.js';

export type ReadText = (path: string) => Promise<string>;

const readUtf8: ReadText = (path) => readFile(path, 'utf8');

/**
 * Diagnostics of every file, sorted by file then position. I/O errors propagate from `read`.
 * `timer` adds each compile stage's time, summed over the files (`orch check --explain-stages`).
 */
export async function checkFiles(
  paths: readonly string[],
  read: ReadText = readUtf8,
  options: { readonly timer?: StageTimer; /** Where imports are read (default: the disk). */ readonly imports?: SourceHost } = {},
): Promise<Diagnostic[]> {
  const texts = new Map<string, string>();
  for (const file of paths) texts.set(resolve(file), await read(file));
  const imports = options.imports ?? diskHost;
  // Only diagnostics leave this function: the trees can be compact.
  const host = compactHost({ readFile: (p) => texts.get(resolve(p)) ?? imports.readFile(p) });
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  const checks = paths.map((file) => checkLoading({ entry: file, host, timer: options.timer }));
  // A declaration one checked file uses is not unused because another file, checked alone, is.
  const keep = unusedAcrossChecks(checks);
  for (const c of checks) {
    for (const d of c.diagnostics) {
      const key = `${resolve(d.file)}\u0000${d.range.start.offset}\u0000${d.range.end.offset}\u0000${d.code}\u0000${d.message}`;
      if (seen.has(key) || !keep(d)) continue;
      seen.add(key);
      out.push(d);
    }
  }
  return out.sort(compareDiagnostics);
}
