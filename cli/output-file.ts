/**
 * A command's `-o FILE`: its folder is made as build tools make it (`-o build/plan.json` in a fresh
 * project), and a file that cannot be written is a usage error (exit 2) naming it, not an
 * internal error. `-o -` is standard output, as the convention goes (not a file named `-`).
 */
import { existsSync } from 'node:fs';
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

/**
 * A command that writes a file the user may have written or edited (a captured test) does not
 * replace one that exists unless told to: usage error (exit 2) naming `--force`.
 */
export function refuseToReplace(path: string, force: boolean | undefined): void {
  if (path !== '-' && !force && existsSync(path)) throw new CliError(`${path} exists; pass --force to replace it, or -o another file`, 2);
}
