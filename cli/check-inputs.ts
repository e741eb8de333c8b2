/**
 * What `orch check` checks: each argument that is a file, and every `.orch` file under each
 * argument that is a directory (`orch check .`, as ESLint and Terraform users type first), walked
 * as every command walks a folder it is given (`givenFolderWalk`).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { givenFolderWalk, orchFilesUnder } from '../compiler/index.js';
import { CliError } from './errors.js';

export async function checkInputs(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    let dir = false;
    try {
      dir = (await stat(arg)).isDirectory();
    } catch {
      // Not there or unreadable: readSource says why, in the words it uses for files.
    }
    if (!dir) {
      out.push(arg);
      continue;
    }
    const found = orchFilesIn(arg);
    if (found.length === 0) throw noOrchFileUnder(arg);
    out.push(...found);
  }
  // One file however it is spelled (`a.orch`, `./a.orch`, a folder holding it): checked and counted once.
  const seen = new Set<string>();
  return out.filter((f) => !seen.has(resolve(f)) && Boolean(seen.add(resolve(f))));
}

/** A folder given where `.orch` files are wanted that holds none (exit 2), in the words of every command that walks one. */
export function noOrchFileUnder(dir: string): CliError {
  return new CliError(`${dir}: is a directory with no .orch file under it`, 2);
}

function orchFilesIn(dir: string): string[] {
  return orchFilesUnder(
    dir,
    givenFolderWalk((d, err) => {
      throw new CliError(`${d}: cannot read the directory (${err.code ?? err.message})`, 2);
    }),
  );
}
