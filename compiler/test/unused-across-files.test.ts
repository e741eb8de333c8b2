/**
 * W0601 across the files of one `orch check` (and of an editor's workspace): a declaration is
 * unused only when no file checked with it uses it — `orch check main.orch lib.orch` where main
 * calls `lib.c` reports nothing in lib.orch, whichever file comes first.
 */
import { describe, expect, it } from 'vitest';
import { checkFiles } from '../index.js';

const DIR = '/virtual/across';

async function unusedIn(files: Record<string, string>, order: readonly string[]): Promise<string[]> {
  const diags = await checkFiles(order.map((f) => `${DIR}/${f}`), async (p) => files[p.slice(DIR.length + 1)]!);
  return diags.filter((d) => d.code === 'W0601').map((d) => `${d.file.slice(DIR.length + 1)}: ${d.message}`);
}

const LIB = 'capability c { kind tool input { x: string } output { y: string } cost 5usd }\n';
const MAIN = 'import "./lib.orch" as lib\nplan p { step a = lib.c(x: "1") output { y: a.output.y } }\n';

describe('W0601 across the files of one check', () => {
  it('a plan-less file that another checked file imports and uses is not reported, in either order', async () => {
    expect(await unusedIn({ 'lib.orch': LIB, 'main.orch': MAIN }, ['main.orch', 'lib.orch'])).toEqual([]);
    expect(await unusedIn({ 'lib.orch': LIB, 'main.orch': MAIN }, ['lib.orch', 'main.orch'])).toEqual([]);
  });

  it('the same file checked alone is a bare plan-less entry: its unused capability is reported', async () => {
    expect(await unusedIn({ 'lib.orch': LIB }, ['lib.orch'])).toEqual(['lib.orch: capability "c" is never used']);
  });

  it('a file with plans: a declaration one importer uses is not reported; one nobody uses still is', async () => {
    const lib = `${LIB}capability d { kind tool input { x: string } output { y: string } }\ncapability e { kind tool input { x: string } output { y: string } }\nplan own { step s = e(x: "1") output { y: s.output.y } }\n`;
    const other = 'import "./lib.orch" as lib\nplan q { step b = lib.e(x: "2") output { y: b.output.y } }\n';
    const files = { 'lib.orch': lib, 'main.orch': MAIN, 'other.orch': other };
    const expected = ['lib.orch: capability "d" is never used'];
    expect(await unusedIn(files, ['lib.orch', 'main.orch', 'other.orch'])).toEqual(expected);
    expect(await unusedIn(files, ['other.orch', 'lib.orch', 'main.orch'])).toEqual(expected);
    expect(await unusedIn(files, ['lib.orch'])).toEqual(['lib.orch: capability "c" is never used', 'lib.orch: capability "d" is never used']);
  });
});
