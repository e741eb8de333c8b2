/**
 * `orch test --capture` of a run that called MCP tools (LANGUAGE.md §9.2: "a `mock` per boundary
 * call"; an MCP tool is mocked as `alias.tool`, §9.2's `mock files.read_text_file`). A test's file
 * names a tool through its own `import mcp` — the plan file's alias is not seen there — so the
 * capture writes one per server and mocks each tool under it. It wrote `mock mcp.SERVER.TOOL`, which
 * names nothing, and refused every such run ("the captured test does not check", E0906).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, lockText, lockTool, LOCK_VERSION } from '../../compiler/index.js';
import type { RunEvent } from '../../runtime/index.js';
import { captureTest, runPlanTest } from '../index.js';

const TOOL = (name: string) => ({
  name,
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  outputSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-capture-mcp-'));
  const servers = { 'note-store': { command: 'node', args: ['notes.js'] }, plans: { command: 'node', args: ['p.js'] } };
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ mcp: servers }));
  const locked = (name: string, tools: string[]) => ({ name, version: '1.0.0', tools: tools.map((t) => lockTool(TOOL(t))) });
  writeFileSync(join(dir, 'orch.lock.json'), lockText({ lockVersion: LOCK_VERSION, servers: { 'note-store': locked('note-store', ['put-note', 'drop']), plans: locked('plans', ['ping']) } }));
  // The plan file's aliases are its own; a server named as the plan's module is aliased apart.
  writeFileSync(
    join(dir, 'plans.orch'),
    `import mcp "note-store" as notes
import mcp "plans" as other
plan p {
  input { fail: bool }
  step put = notes.put_note(text: "x")
  step ping = other.ping(text: "y") { after put }
  step drop = notes.drop(text: "z") when input.fail
  output { ok: ping.output.ok }
}
`,
  );
  writeFileSync(
    join(dir, 'source.test.orch'),
    `import "./plans.orch" as plans
import mcp "note-store" as n
import mcp "plans" as o
test "source" {
  plan plans.p
  input { fail: false }
  mock n.put_note returns { ok: true }
  mock o.ping returns { ok: false }
  mock n.drop returns { ok: true }
}
`,
  );
  return dir;
}

describe('capturing a run that called MCP tools', () => {
  it('imports each server the plan reaches and mocks its tools as alias.tool; the captured test passes', async () => {
    const dir = project();
    const out = compile({ entry: join(dir, 'source.test.orch'), navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    let journal: readonly RunEvent[] = [];
    const ran = await runPlanTest(out.tests[0]!, { real: null, onJournal: (events) => (journal = events) });
    expect(ran.passed).toBe(true);
    const { text, result } = await captureTest({ runId: 'p-1', plan: out.tests[0]!.plan, events: journal }, { file: join(dir, 'captured.test.orch') });
    expect(text).toContain('import mcp "note-store" as note_store\n');
    expect(text).toMatch(/^import mcp "plans" as \w+$/m);
    expect(text).not.toMatch(/^import mcp "plans" as plans$/m);
    expect(text).toContain('  mock note_store.put_note returns { ok: true }');
    expect(text).toMatch(/^ {2}mock \w+\.ping returns \{ ok: false \}$/m);
    // Never called (its when was false): mocked to fail, as a test must mock it.
    expect(text).toContain('  mock note_store.drop fails "not called in run p-1"');
    expect(result.passed).toBe(true);
    writeFileSync(join(dir, 'captured.test.orch'), text);
    const again = compile({ entry: join(dir, 'captured.test.orch'), navigation: false, tests: true });
    expect(again.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
  });
});
