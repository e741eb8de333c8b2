/**
 * A command's `-o FILE`: its folder is made as build tools make it (`-o build/plan.json` in a fresh
 * project), and a file that cannot be written is a usage error (exit 2) naming it, not an
 * internal error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliError } from './errors.js';

export async function writeOutputFile(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as Error).message}`, 2);
  }
}
