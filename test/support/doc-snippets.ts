/**
 * The snippets docs/ci.md shows users, read from the doc itself so that what the tests and the
 * bench run cannot drift from what the doc says. A snippet is the fenced block that follows a
 * `<!-- snippet: NAME -->` line.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../../compiler/index.js';

export const CI_DOC = packagePath('docs', 'ci.md');

export function docSnippet(name: string, doc: string = CI_DOC): string {
  const text = readFileSync(doc, 'utf8');
  const marker = `<!-- snippet: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${doc} has no snippet "${name}"`);
  const block = /^```[^\n]*\n([\s\S]*?)^```$/m.exec(text.slice(at + marker.length));
  if (!block) throw new Error(`${doc}: no fenced block after the snippet "${name}"`);
  return block[1]!;
}

/** A shell snippet's commands: one per line, comments and blank lines dropped. */
export function shellCommands(snippet: string): string[] {
  return snippet
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean);
}
