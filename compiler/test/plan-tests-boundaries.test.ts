/**
 * `test` blocks against a project on disk (LANGUAGE.md §9.2): every boundary that would reach the
 * network — a model call, an MCP tool, a channel, `http_request` — needs a mock (E0906 at the
 * plan's step, one per boundary), and `approve` / `reject` name people of the config's `auth`
 * block (E0901 otherwise). plan-tests-check.test.ts covers the rest of the codes in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../index.js';
import { writeProject } from './flow-corpus/disk.js';
import { Program } from './flow-corpus/program.js';

const root = mkdtempSync(join(tmpdir(), 'orch-test-boundaries-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const PLAN = `
import mcp "srv" as srv
capability title { kind llm  input { text: string }  output { title: string }  prompt "Title: \${input.text}"  model "m"  endpoint "ollama" }
plan p {
  step t = title(text: "hi")
  step put = srv.put(text: t.output.title)
  step get = http_request(url: "https://example.com/", method: "GET") { after put }
  step mail = email(to: ["ops@example.com"], subject: "s", text: "x", channel: "mail") { after get }
  step ok = approval(approver: "group:finance", summary: "go?") { after mail }
}
`;

const MOCKS = `
  mock m.title returns { title: "t" }
  mock srv.put returns { ok: true }
  mock http_request returns { status: 200, body: "", headers: {} }
  mock email returns { delivered: true, channel: "mail" }`;

const MOCKED = `test "t" {\n  plan m.p${MOCKS}\n}\n`;

/** Codes, files, lines and messages of `orch check` on the project with `test` as main.test.orch. */
function checkTest(test: string, auth: object | null = null, plan = PLAN) {
  const p = new Program();
  p.mcpServer('srv', { command: 'node', args: ['s.js'] }, [
    { name: 'put', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, outputSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
  ]);
  p.endpoint('ollama', { api: 'openai', base_url: 'http://127.0.0.1:11434/v1' });
  p.channel('mail', { type: 'smtp', host: '127.0.0.1', port: 2525, from: 'orch@example.com' });
  const files = p.files();
  const config = { ...(JSON.parse(files['orch.config.json']!) as object), ...(auth ? { auth } : {}) };
  const dir = join(root, String(n++));
  writeProject(dir, { ...files, 'orch.config.json': JSON.stringify(config), 'main.orch': plan, 'main.test.orch': `import "./main.orch" as m\n${test}` });
  return check({ entry: join(dir, 'main.test.orch') })
    .filter((d) => d.severity === 'error')
    .map((d) => ({ code: d.code, file: d.file.split('/').pop(), line: d.range.start.line, message: d.message }));
}

describe('a test block against the boundaries of its plan (§9.2)', () => {
  it('E0906 at each step that can reach a model, an MCP tool, http_request or a channel with no mock; none once each is mocked', () => {
    const bare = checkTest('test "t" {\n  plan m.p\n}\n');
    expect(bare.map((d) => [d.code, d.file, d.line])).toEqual([
      ['E0906', 'main.orch', 5],
      ['E0906', 'main.orch', 6],
      ['E0906', 'main.orch', 7],
      ['E0906', 'main.orch', 8],
    ]);
    expect(bare.map((d) => d.message.match(/which reaches (a model|an MCP tool|the network|a channel)/)?.[1] ?? d.message)).toEqual(['a model', 'an MCP tool', 'the network', 'a channel']);
    // What each says to add is what the test's file can write: an MCP tool of another file needs its own `import mcp`.
    expect(bare.map((d) => d.message.split(': ').pop())).toEqual([
      'add `mock m.title returns …` to the test',
      'add `import mcp "srv" as srv` to main.test.orch and `mock srv.put returns …` to the test',
      'add `mock http_request returns …` to the test',
      'add `mock email returns …` to the test',
    ]);
    expect(checkTest(`import mcp "srv" as srv\n${MOCKED}`)).toEqual([]);
    // Without it the tool has no name there, and none is suggested that the file could not write.
    const unseen = checkTest(MOCKED).filter((d) => d.code === 'E0901');
    expect(unseen.map((d) => d.message)).toEqual(['unknown capability "srv.put"']);
  });

  it('E0906 for what a step can call besides its own call: its fallback, its compensation, a sub-plan\'s steps', () => {
    const plan = `
capability title { kind llm  input { text: string }  output { title: string }  prompt "Title: \${input.text}"  model "m"  endpoint "ollama" }
capability local { kind tool  input { text: string }  output { title: string }  handler "./handlers.js#h" }
plan sub { step s = http_request(url: "https://example.com/", method: "GET") }
plan q {
  step a = local(text: "x") { fallback title(text: "y") }
  step b = run sub() { after a }
  step c = local(text: "z") { compensate email(to: ["ops@example.com"], subject: "s", text: "undo", channel: "mail") }
}
`;
    expect(checkTest('test "t" {\n  plan m.q\n}\n', null, plan).map((d) => [d.code, d.line, d.message.split(', which')[0]])).toEqual([
      ['E0906', 6, 'under test "t", step a can call m.title'],
      ['E0906', 7, 'under test "t", step b can call http_request'],
      ['E0906', 8, 'under test "t", step c can call email'],
    ]);
  });

  it('E0901 for a decider the auth block does not know (a user, or a group with no member); any name without one', () => {
    const test = (by: string) => `import mcp "srv" as srv\ntest "t" {\n  plan m.p${MOCKS}\n  approve ok by ${by}\n}\n`;
    const auth = { users: { alice: { roles: ['approver'], groups: ['finance'] } } };
    expect(checkTest(test('"alice"'), auth)).toEqual([]);
    expect(checkTest(test('"zed", "group:nobody"'), auth)).toEqual([
      expect.objectContaining({ code: 'E0901', file: 'main.test.orch', line: 9, message: expect.stringMatching(/^unknown person "zed": the config's auth block has no such user/) }),
      expect.objectContaining({ code: 'E0901', file: 'main.test.orch', line: 9, message: `no user of the config's auth block is in group "nobody"` }),
    ]);
    expect(checkTest(test('"zed"'))).toEqual([]);
  });
});
