/**
 * `orch test --update FILE` (LANGUAGE.md §9.2) rewrites a captured test's block from a fresh run
 * of the plan as it is now: when that plan now calls a capability of another module, the new
 * mock names it through an import of that module's file — which the file is given. The update
 * wrote the block alone, naming a module the file did not import: the updated file did not check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../runtime/test/helpers.js';
import { runCli } from '../../test/support/cli-in-process.js';

describe('orch test --update', () => {
  it('adds the import a new mock needs, once, after the imports the file has', async () => {
    const dir = tempDir('orch-update-imports-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'h.js'), 'export function fetch(i) { return { v: `got ${i.u}` }; }\n');
    writeFileSync(join(dir, 'tools.orch'), 'capability fetch { kind tool  input { u: string }  output { v: string }  handler "./h.js#fetch" }\n');
    writeFileSync(join(dir, 'p.orch'), 'plan p {\n  step a = transform(value: "x")\n  output { v: a.output.value }\n}\n');
    const file = join(dir, 'p.test.orch');
    writeFileSync(file, 'import "./p.orch" as p\n\ntest "captured" {\n  captured_from "r-1" ir_hash "0000"\n  plan p.p\n  input {}\n  mock transform returns { value: "x" }\n  expect run.status == "completed"\n}\n');
    // The plan now calls a capability of another module.
    writeFileSync(join(dir, 'p.orch'), 'import "./tools.orch" as t\nplan p {\n  step a = transform(value: "x")\n  step f = t.fetch(u: a.output.value)\n  output { v: f.output.v }\n}\n');
    const update = await runCli(['test', '--update', 'p.test.orch'], dir);
    expect(update.code, update.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('import "./p.orch" as p\nimport "./tools.orch" as tools\n\ntest "captured" {\n')).toBe(true);
    expect(text).toContain('  mock tools.fetch returns { v: "got x" }');
    const again = await runCli(['test', 'p.test.orch'], dir);
    expect([again.code, again.stderr, again.stdout]).toEqual([0, '', expect.stringContaining('1 passed')]);
    // Updated again: nothing to add, nothing changes.
    expect((await runCli(['test', '--update', 'p.test.orch'], dir)).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
