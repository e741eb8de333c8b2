/**
 * LANGUAGE.md §9.2: a mock's CAP is "any capability the plan can call, an MCP tool (`alias.tool`)
 * or a std capability" — §9.2's own example mocks `files.read_text_file`, and §8.3's plan reaches
 * that tool through a refinement (`capability read_notes from files.read_text_file`). A mock of
 * the tool answers the refinement's calls (a mock of the refinement itself comes first), counts
 * for E0906, and `calls(files.read_text_file)` lists them. It was E0901 ("never calls") and E0906.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, lockText, lockTool, LOCK_VERSION } from '../../compiler/index.js';
import { runPlanTest } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-mock-refined-tool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(test: string, direct = false): string {
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ mcp: { files: { command: 'node', args: ['fs.js'] } } }));
  const read = lockTool({ name: 'read_text_file', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } });
  writeFileSync(join(dir, 'orch.lock.json'), lockText({ lockVersion: LOCK_VERSION, servers: { files: { name: 'files', version: '1', tools: [read] } } }));
  writeFileSync(
    join(dir, 'notes.orch'),
    `import mcp "files" as files
capability read_notes from files.read_text_file {
  retry 1
  data personal
}
plan notes_digest {
  step notes = read_notes(path: "notes/today.md")
  step other = read_notes(path: "notes/other.md") { after notes }
  ${direct ? 'step raw = files.read_text_file(path: "notes/raw.md") { after other }' : ''}
  output { text: notes.output.text, other: other.output.text }
}
`,
  );
  const file = join(dir, 'notes.test.orch');
  writeFileSync(file, `import "./notes.orch" as n\nimport mcp "files" as files\n${test}`);
  return file;
}

describe('a mock of an MCP tool that the plan reaches through a refinement', () => {
  it('answers the refinement’s calls, counts for E0906, and calls() lists them', async () => {
    const file = project(`test "t" {
  plan n.notes_digest
  mock files.read_text_file returns { text: "hi", content: [] } latency 2s
  expect run.output.text == "hi" and run.elapsed == 4s
  expect len(calls(files.read_text_file)) == 2 and calls(files.read_text_file)[1].path == "notes/other.md"
}
`);
    const out = compile({ entry: file, navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const result = await runPlanTest(out.tests[0]!, { real: null });
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(true);
  });

  it('leaves a call to the refinement’s own mock first', async () => {
    const file = project(`test "t" {
  plan n.notes_digest
  mock n.read_notes where input.path == "notes/today.md" returns { text: "own", content: [] }
  mock files.read_text_file returns { text: "tool", content: [] }
  expect run.output.text == "own" and run.output.other == "tool"
  expect len(calls(n.read_notes)) == 2 and len(calls(files.read_text_file)) == 2
}
`);
    const out = compile({ entry: file, navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const result = await runPlanTest(out.tests[0]!, { real: null });
    expect(result.failures).toEqual([]);
  });

  it('answers the refinement’s calls too when the plan also calls the tool itself', async () => {
    const file = project(
      `test "t" {
  plan n.notes_digest
  mock files.read_text_file returns { text: "tool", content: [] }
  expect run.output.text == "tool" and raw.output.text == "tool" and len(calls(files.read_text_file)) == 3
}
`,
      true,
    );
    const out = compile({ entry: file, navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const result = await runPlanTest(out.tests[0]!, { real: null });
    expect(result.failures).toEqual([]);
  });

  it('is still E0901 for a tool the plan never reaches', () => {
    const file = project(`test "t" {
  plan n.notes_digest
  mock n.read_notes returns { text: "own", content: [] }
  expect len(calls(files.list_directory)) == 0
}
`);
    const out = compile({ entry: file, navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['E0901']);
  });
});
