/**
 * `orch draft`: the loop in-process (pure, over a scripted `ask`), and the real CLI end to end
 * against the tests' scripted model server (test/support/model-server.ts) speaking Chat
 * Completions through the official openai SDK.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orchAsync } from '../../examples/test/cli.js';
import { startModelServer, type ModelServer } from '../../test/support/model-server.js';
import { draftLoop, extractPlan, withDiagnosticsAsComments } from '../draft/loop.js';
import { systemPrompt } from '../draft/prompt.js';
import { projectScope } from '../project-scope.js';
import { runDraft } from '../draft/draft.js';
import { CliError } from '../errors.js';
const REPO = path.resolve(import.meta.dirname, '..', '..');

const CAPS = `/// Greets someone by name.
capability greet {
  kind tool
  input { name: string }
  output { message: string }
  handler "./handlers.mjs#greet"
  requires compute
}

resource box { kind local_device provides compute }
`;

/** Line 5: E0201 (an int for a string); line 6: E0101 (no capability shout). */
const ROUND_1 = `import "./caps.orch" as caps

plan welcome {
  goal "Greet Ada"
  step a = caps.greet(name: 42)
  step b = caps.shout(text: a.output.message)
  output { said: b.output.message }
}
`;
const ROUND_2 = ROUND_1.replace('name: 42', 'name: "Ada"');
const ROUND_3 = ROUND_2.replace('caps.shout(text: a.output.message)', 'caps.greet(name: a.output.message)');

const fenced = (plan: string) => `Here is the plan:\n\n\`\`\`orch\n${plan}\`\`\`\n`;

describe('draft loop (in-process)', () => {
  it('extracts the plan from an answer: an orch block first, else any block, else the text', () => {
    expect(extractPlan('x\n```js\nno\n```\n```orch\nplan a {}\n```')).toBe('plan a {}\n');
    expect(extractPlan('```\nplan b {}\n```')).toBe('plan b {}\n');
    expect(extractPlan('plan c {}')).toBe('plan c {}\n');
  });

  it('shows the model what is in scope, each with the import a file at the draft\'s path needs', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'orch-draft-scope-'));
    writeFileSync(path.join(root, 'caps.orch'), CAPS);
    writeFileSync(path.join(root, 'old-draft.orch'), 'capability stale { kind tool }\n');
    const draft = path.join(root, 'plans', 'new.orch');
    const scope = projectScope(root, { exclude: [path.join(root, 'old-draft.orch')] });
    const prompt = systemPrompt(scope.entries, draft, 'plans/new.orch');
    expect(prompt).toContain('caps.greet: greet(name: string) -> { message: string } [tool] — Greets someone by name. (declared in caps.orch; use as caps.greet after `import "../caps.orch" as caps`)');
    expect(prompt).toContain('    capability greet {\n      kind tool');
    expect(prompt).not.toContain('handlers.mjs');
    expect(prompt).not.toContain('stale');
    expect(prompt).toContain('use as policies.privacy_first after `import std.policies`');
    expect(prompt).toContain('use as no_personal_data_in_cloud after `import std.guardrails { no_personal_data_in_cloud }`');
    expect(prompt).toMatch(/caps\.box: local_device provides compute/);
  });

  it('shows the tools of the locked MCP servers, typed as the compiler types them', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'orch-draft-mcp-'));
    writeFileSync(path.join(root, 'orch.lock.json'), readFileSync(path.join(REPO, 'examples', 'notes_digest', 'orch.lock.json')));
    const scope = projectScope(root);
    const tool = scope.entries.find((e) => e.mcp === 'files' && e.name === 'read_text_file');
    expect(tool?.kind).toBe('capability');
    expect(tool?.input.map((f) => f.name)).toContain('path');
    const prompt = systemPrompt(scope.entries, path.join(root, 'draft.orch'), 'draft.orch');
    expect(prompt).toContain('- files.read_text_file: read_text_file(');
    expect(prompt).toContain('use as files.read_text_file after `import mcp "files" as files`');
    expect(prompt).toContain('use as everything.get_sum after `import mcp "everything" as everything`');
  });

  it('stops at max rounds and keeps the diagnostics of the last round as comments on the right lines', async () => {
    const asked: number[] = [];
    const diag = { code: 'E0101', severity: 'error', message: 'unresolved name x', file: 'd.orch', range: { start: { line: 2, column: 3, offset: 0 }, end: { line: 2, column: 4, offset: 1 } } } as const;
    const outcome = await draftLoop({
      system: 's',
      intent: 'i',
      maxRounds: 3,
      ask: async (_s, messages) => {
        asked.push(messages.length);
        return 'plan p {\n  x\n}';
      },
      check: async () => [diag],
      describe: (ds) => ds.map((d) => `${d.code}: ${d.message}`).join('\n'),
      firstMessage: (i) => i,
      repairMessage: (t) => `fix: ${t}`,
    });
    expect(outcome.clean).toBe(false);
    expect(asked).toEqual([1, 3, 5]);
    const file = withDiagnosticsAsComments(outcome.last.source, outcome.last.diagnostics, 3, { own: (f) => f === 'd.orch', name: (f) => f });
    const lines = file.split('\n');
    expect(lines[0]).toContain('1 error left after 3 rounds');
    // The comment names the line where the problem now is, in the written file.
    const [, at] = /^\/\/ (\d+):/.exec(lines[1]!)!;
    expect(lines[Number(at) - 1]).toBe('  x');
  });

  it('writes a diagnostic of another file at that file and its own line, and shifts only the draft\'s', () => {
    const at = (file: string, line: number, column: number) => ({ file, range: { start: { line, column, offset: 0 }, end: { line, column: column + 1, offset: 1 } } });
    const diagnostics = [
      { code: 'E0104', severity: 'error', message: 'handler module ./missing.mjs of capability greet not found', ...at('/p/lib.orch', 5, 11) },
      { code: 'E0201', severity: 'error', message: 'expects string, got int', ...at('/p/plans/hello.orch', 4, 28) },
    ] as const;
    const source = 'import "../lib.orch" as lib\n\nplan hello {\n  step a = lib.greet(name: 42)\n}\n';
    const files = { own: (f: string) => f === '/p/plans/hello.orch', name: (f: string) => path.posix.relative('/p/plans', f) };
    const lines = withDiagnosticsAsComments(source, diagnostics, 2, files).split('\n');
    expect(lines.slice(1, 3)).toEqual([
      '// ../lib.orch:5:11: error[E0104]: handler module ./missing.mjs of capability greet not found',
      '// 7:28: error[E0201]: expects string, got int',
    ]);
    expect(lines[6]).toBe('  step a = lib.greet(name: 42)');
  });
});

describe('orch draft', () => {
  let server: ModelServer;
  let dir: string;
  beforeAll(async () => {
    server = await startModelServer(() => ({ answer: fenced(ROUND_1), input_tokens: 900, output_tokens: 80 }));
    dir = mkdtempSync(path.join(tmpdir(), 'orch-draft-'));
    writeFileSync(path.join(dir, 'orch.config.json'), JSON.stringify({ endpoints: { local: { api: 'openai', base_url: server.openaiUrl, api_key: 'secret:DRAFT_TEST_KEY' } } }));
    writeFileSync(path.join(dir, 'caps.orch'), CAPS);
    // The module caps.orch names, so that its handler resolves (E0104 otherwise).
    writeFileSync(path.join(dir, 'handlers.mjs'), 'export async function greet({ name }) { return { message: `hi ${name}` }; }\n');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends the diagnostics back until the plan is clean, writes it and prints its preview (exit 0)', async () => {
    server.requests.length = 0;
    server.script(
      { answer: fenced(ROUND_1), input_tokens: 900, output_tokens: 80 },
      { answer: fenced(ROUND_2), input_tokens: 1200, output_tokens: 80 },
      { answer: fenced(ROUND_3), input_tokens: 1400, output_tokens: 80 },
    );
    const r = await orchAsync(['draft', 'greet Ada twice', '-o', 'plans.orch', '--model', 'test-model'], { cwd: dir, env: { DRAFT_TEST_KEY: 'sk-test-not-for-models' } });
    expect(r.stderr).toContain('round 1/4: 2 errors left (E0201, E0101)');
    expect(r.stderr).toContain('round 2/4: 1 error left (E0101)');
    expect(r.stderr).toContain('round 3/4: no errors');
    expect(r.stderr).toContain('model usage: 3 calls, 3500 input tokens, 240 output tokens');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('welcome');
    expect(readFileSync(path.join(dir, 'plans.orch'), 'utf8')).toBe(ROUND_3);

    expect(server.requests).toHaveLength(3);
    const bodies = server.requests.map((q) => q.body as { model: string; messages: { role: string; content: string }[] });
    expect(bodies[0]!.model).toBe('test-model');
    const system = bodies[0]!.messages.find((m) => m.role === 'system')!.content;
    expect(system).toContain('caps.greet');
    expect(system).toContain('Greets someone by name.');
    expect(system).toContain('import "./caps.orch" as caps');
    expect(system).toContain('resource box');
    expect(bodies[0]!.messages.at(-1)!.content).toContain('greet Ada twice');
    // Each request carries the diagnostics of the previous round, where they are.
    const second = bodies[1]!.messages.at(-1)!.content;
    expect(second).toMatch(/plans\.orch:5:\d+: error\[E0201\]/);
    expect(second).toMatch(/plans\.orch:6:\d+: error\[E0101\]/);
    const third = bodies[2]!.messages.at(-1)!.content;
    expect(third).toMatch(/plans\.orch:6:\d+: error\[E0101\]/);
    expect(third).not.toMatch(/error\[E0201\]/);
    expect(bodies[2]!.messages.filter((m) => m.role === 'assistant')).toHaveLength(2);
    // The key reaches the endpoint's header only, never the prompt.
    for (const q of server.requests) expect(JSON.stringify(q.body)).not.toContain('sk-test-not-for-models');

    const check = await orchAsync(['check', 'plans.orch'], { cwd: dir });
    expect(check.code).toBe(0);
  });

  it('a model that never gets it right: exit 1 after --max-rounds, the file written with its errors as comments', async () => {
    server.requests.length = 0;
    const r = await orchAsync(['draft', 'greet Ada', '-o', 'stuck.orch', '--max-rounds', '2', '--model', 'm'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(r.code).toBe(1);
    expect(server.requests).toHaveLength(2);
    expect(r.stderr).toContain('round 2/2: 2 errors left');
    const written = readFileSync(path.join(dir, 'stuck.orch'), 'utf8');
    expect(written).toMatch(/^\/\/ orch draft: 2 errors left after 2 rounds/);
    expect(written).toContain('error[E0201]');
    expect(written.endsWith(ROUND_1)).toBe(true);
    expect(r.stdout).toBe('');
  });

  it('an answer that checks but declares no plan (empty, only a type) is sent back as an error, never a clean exit', async () => {
    server.requests.length = 0;
    server.script({ answer: '' }, { answer: fenced('type Greeting = { text: string }\n') }, { answer: fenced(ROUND_3) });
    const r = await orchAsync(['draft', 'greet Ada', '-o', 'planless.orch', '--max-rounds', '3', '--model', 'm'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(r.stderr).toContain('round 1/3: 1 error left (E0001)');
    expect(r.stderr).toContain('round 2/3: 1 error left (E0001)');
    expect(r.code).toBe(0);
    const asked = server.requests.map((q) => (q.body as { messages: { content: string }[] }).messages.at(-1)!.content);
    expect(asked[1]).toContain('the draft declares no plan');
    expect(readFileSync(path.join(dir, 'planless.orch'), 'utf8')).toBe(ROUND_3);

    server.script({ answer: '' });
    const empty = await orchAsync(['draft', 'greet Ada', '-o', 'empty.orch', '--max-rounds', '1', '--model', 'm'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe('');
    expect(readFileSync(path.join(dir, 'empty.orch'), 'utf8')).toMatch(/^\/\/ orch draft: 1 error left after 1 round;.*\n\/\/ 3:1: error\[E0001\]: the draft declares no plan/);
  });

  it('without -o writes draft.orch, at most 4 rounds by default; --endpoint names the endpoint, an unknown one is a usage error (exit 2)', async () => {
    server.requests.length = 0;
    const r = await orchAsync(['draft', 'greet Ada', '--endpoint', 'local', '--model', 'm'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(r.code).toBe(1);
    expect(server.requests).toHaveLength(4);
    expect(r.stderr).toContain('round 4/4: 2 errors left');
    expect(readFileSync(path.join(dir, 'draft.orch'), 'utf8')).toMatch(/^\/\/ orch draft: 2 errors left after 4 rounds/);
    // Drafting again writes the draft again (§8.5: exit 0 or 1, never "it exists"); what was
    // there is kept beside it, and --force replaces without keeping.
    writeFileSync(path.join(dir, 'draft.orch'), 'plan mine { }\n');
    server.script({ answer: fenced(ROUND_3) });
    const again = await orchAsync(['draft', 'greet Ada', '--model', 'm'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('kept the previous draft.orch as draft.orch~');
    expect(readFileSync(path.join(dir, 'draft.orch'), 'utf8')).toBe(ROUND_3);
    expect(readFileSync(path.join(dir, 'draft.orch~'), 'utf8')).toBe('plan mine { }\n');
    server.script({ answer: fenced(ROUND_3) });
    const forced = await orchAsync(['draft', 'greet Ada', '--model', 'm', '--force'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(forced.code).toBe(0);
    expect(forced.stderr).not.toContain('kept the previous');
    expect(readFileSync(path.join(dir, 'draft.orch~'), 'utf8')).toBe('plan mine { }\n');
    server.requests.length = 0;
    const unknown = await orchAsync(['draft', 'greet Ada', '-o', 'other.orch', '--endpoint', 'nope'], { cwd: dir, env: { DRAFT_TEST_KEY: 'k' } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no endpoint "nope" in .*orch\.config\.json \(endpoints: local\)/);
    expect(server.requests).toHaveLength(0);
    expect(existsSync(path.join(dir, 'other.orch'))).toBe(false);
  });

  it('an endpoint that fails: before any answer exit 2; after one, the last plan is written with its errors (exit 1)', async () => {
    const quiet = { stdout: () => undefined, stderr: () => undefined };
    let calls = 0;
    const flaky = () => ({
      complete: async () => {
        calls++;
        if (calls === 2 || calls === 3) throw new Error('connection refused');
        return { text: fenced(ROUND_1), input_tokens: 1, output_tokens: 1, model: 'm' };
      },
    });
    const first = await runDraft({ intent: 'x', output: path.join(dir, 'never.orch') }, { ...quiet, client: () => ({ complete: async () => Promise.reject(new Error('connection refused')) }) }).catch((e: unknown) => e);
    expect((first as CliError).exitCode).toBe(2);
    expect((first as CliError).message).toContain('the model endpoint "local" failed: connection refused');
    expect(existsSync(path.join(dir, 'never.orch'))).toBe(false);
    const later = await runDraft({ intent: 'x', output: path.join(dir, 'half.orch') }, { ...quiet, client: flaky }).catch((e: unknown) => e);
    expect((later as CliError).exitCode).toBe(1);
    expect((later as CliError).message).toMatch(/failed in round 2: connection refused; wrote .*half\.orch with 2 errors left/);
    expect(readFileSync(path.join(dir, 'half.orch'), 'utf8')).toMatch(/^\/\/ orch draft: 2 errors left after 1 round;/);
  });

  it('an endpoint whose error quotes its key, written as a literal: the message reads ***', async () => {
    const own = mkdtempSync(path.join(tmpdir(), 'orch-draft-key-'));
    writeFileSync(path.join(own, 'orch.config.json'), JSON.stringify({ endpoints: { local: { api: 'openai', base_url: server.openaiUrl, api_key: 'sk-literal-draft-41d7' } } }));
    const echoing = () => ({ complete: async () => Promise.reject(new Error('401 Incorrect API key provided: sk-literal-draft-41d7')) });
    const err = await runDraft({ intent: 'x', output: path.join(own, 'never.orch') }, { stdout: () => undefined, stderr: () => undefined, client: echoing }).catch((e: unknown) => e);
    expect((err as CliError).message).toContain('Incorrect API key provided: ***');
  });

  it('without an endpoint configured: a usage error (exit 2) that says what to add', async () => {
    const bare = mkdtempSync(path.join(tmpdir(), 'orch-draft-bare-'));
    writeFileSync(path.join(bare, 'orch.config.json'), '{}');
    const err = await runDraft({ intent: 'x', output: path.join(bare, 'd.orch') }, { stdout: () => undefined, stderr: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/no model endpoint configured: add "endpoints"/);
    expect(existsSync(path.join(bare, 'd.orch'))).toBe(false);
  });

  it('an error left in a module the draft imports: the comment and the model name its file and its own line', async () => {
    // A project of its own: lib.orch's missing handler module (E0104) must not reach the other tests' prompts.
    const project = mkdtempSync(path.join(tmpdir(), 'orch-draft-lib-'));
    writeFileSync(path.join(project, 'orch.config.json'), JSON.stringify({ endpoints: { local: { api: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'k' } } }));
    writeFileSync(path.join(project, 'lib.orch'), 'module lib\ncapability greet {\n  input { name: string }\n  output { text: string }\n  handler "./missing.mjs#greet"\n}\n');
    mkdirSync(path.join(project, 'plans'));
    const plan = 'import "../lib.orch" as lib\n\nplan hello {\n  step a = lib.greet(name: 42)\n}\n';
    const asked: string[] = [];
    const client = () => ({
      complete: async (req: { messages: readonly { content: string }[] }) => {
        asked.push(req.messages.at(-1)!.content);
        return { text: fenced(plan), input_tokens: 1, output_tokens: 1, model: 'm' };
      },
    });
    const out = path.join(project, 'plans', 'hello.orch');
    const report = await runDraft({ intent: 'greet Bob', output: out, maxRounds: 2 }, { stdout: () => undefined, stderr: () => undefined, client });
    expect(report).toMatchObject({ clean: false, errors: 2 });
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toMatch(/^\/\/ orch draft: 2 errors left after 2 rounds/);
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^\/\/ \.\.\/lib\.orch:5:11: error\[E0104\]: handler module \.\/missing\.mjs/),
      expect.stringMatching(/^\/\/ 7:28: error\[E0201\]/),
    ]);
    expect(lines[6]).toBe('  step a = lib.greet(name: 42)');
    // The repair round tells the model where each error is, and that lib.orch is not its to change.
    const repair = asked[1]!;
    expect(repair).toMatch(/lib\.orch:5:11: error\[E0104\]/);
    expect(repair).toMatch(/hello\.orch:4:28: error\[E0201\]/);
    expect(repair).toMatch(/Errors in \S*lib\.orch are not in your plan \(\S*hello\.orch\) but in a file it imports/);
  });
  it('a plan that imports a file not an .orch of the project: not found, and its text never goes to the model nor into the file', async () => {
    const secret = 'sk-DRAFTLEAK-9';
    const project = mkdtempSync(path.join(tmpdir(), 'orch-draft-leak-'));
    writeFileSync(path.join(project, 'orch.config.json'), JSON.stringify({ endpoints: { local: { api: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'k' } } }));
    writeFileSync(path.join(project, '.env'), `API_KEY=${secret}\n`);
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'orch-draft-elsewhere-'));
    writeFileSync(path.join(elsewhere, 'key.orch'), `${secret}\n`);
    const out = path.join(project, 'draft.orch');
    const up = path.relative(project, path.join(elsewhere, 'key.orch'));
    const plan = `import "./.env" as e\nimport "${up}" as k\n\nplan hello {\n  step a = log(message: "x")\n}\n`;
    const asked: string[] = [];
    const client = () => ({
      complete: async (req: { messages: readonly { content: string }[] }) => {
        asked.push(JSON.stringify(req.messages));
        return { text: fenced(plan), input_tokens: 1, output_tokens: 1, model: 'm' };
      },
    });
    const report = await runDraft({ intent: 'x', output: out, maxRounds: 2 }, { stdout: () => undefined, stderr: () => undefined, client });
    expect(report).toMatchObject({ clean: false, errors: 2 });
    expect(asked.join('\n')).not.toContain(secret);
    const written = readFileSync(out, 'utf8');
    expect(written).not.toContain(secret);
    expect(written.match(/error\[E0103\]/g)).toHaveLength(2);
  });
});
