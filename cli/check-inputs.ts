/**
 * What `orch check` checks: each argument that is a file, and every `.orch` file under each
 * argument that is a directory (`orch check .`, as ESLint and Terraform users type first),
 * skipping `node_modules`, `.git` and `.orch` (run journals). Sorted, so the report is stable.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors.js';

const SKIPPED = new Set(['node_modules', '.git', '.orch']);

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
    const found = await orchFilesUnder(arg);
    if (found.length === 0) throw new CliError(`${arg}: is a directory with no .orch file under it`, 2);
    out.push(...found);
  }
  return [...new Set(out)];
}

async function orchFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      throw new CliError(`${d}: cannot read the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name)) await walk(p);
      } else if (e.isFile() && e.name.endsWith('.orch')) found.push(p);
    }
  };
  await walk(dir);
  return found;
}
