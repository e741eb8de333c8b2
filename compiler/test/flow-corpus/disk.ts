/** A generated project on disk: each plan of a pair gets a folder of its own, as a user's project. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `files` into `dir` and returns the entry file (`main.orch`). */
export function writeProject(dir: string, files: Readonly<Record<string, string>>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, 'main.orch');
}

/** The folder of a pair's plan under `root`: `007-integrity.llm.email_to.direct.endorse/violating`. */
export function planFolder(root: string, index: number, id: string, plan: 'violating' | 'twin'): string {
  return join(root, `${String(index).padStart(3, '0')}-${id.replaceAll('/', '.')}`, plan);
}
