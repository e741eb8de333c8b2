/**
 * A command's `-o FILE`: its folder is made as build tools make it (`-o build/plan.json` in a fresh
 * project), and a file that cannot be written is a usage error (exit 2) naming it, not an
 * internal error. `-o -` is standard output, as the convention goes (not a file named `-`).
 */
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliError } from './errors.js';
import { ioReason } from './read-source.js';

/** Writes `text` to `path` (standard output for `-`); true when it went to a file. */
export async function writeOutputFile(path: string, text: string): Promise<boolean> {
  if (path === '-') {
    process.stdout.write(text);
    return false;
  }
  // Loaded when a file is written: a command that prints its output never loads the runtime.
  const { makeFolders } = await import('../runtime/index.js');
  try {
    makeFolders(dirname(path));
    await writeFile(path, text);
    return true;
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${ioReason(err, 'is a directory')}`, 2);
  }
}
