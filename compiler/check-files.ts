/**
 * `orch check`: the diagnostics of a set of files. Syntax only for now (read + parse each
 * file); the compiler phases plug in here.
 */
import { readFile } from 'node:fs/promises';
import { compareDiagnostics, type Diagnostic } from '../language/diagnostic.js';
import { parse } from '../language/index.js';

export type ReadText = (path: string) => Promise<string>;

const readUtf8: ReadText = (path) => readFile(path, 'utf8');

/** Diagnostics of every file, sorted by file then position. I/O errors propagate from `read`. */
export async function checkFiles(paths: readonly string[], read: ReadText = readUtf8): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const file of paths) {
    const text = await read(file);
    out.push(...parse({ file, text }).diagnostics);
  }
  return out.sort(compareDiagnostics);
}
