/**
 * `orch mcp serve` end to end: the official MCP SDK's Client drives the real CLI (bin/orch.js →
 * dist) over stdio in a temporary project. Two servers: one without --allow-run, one with it.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orchAsync } from '../../examples/test/cli.js';
import { openSqlite } from '../../runtime/index.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const MCP_FIXTURE = fileURLToPath(new URL('../../runtime/test/fixtures/mcp-fixture-server.mjs', import.meta.url));

const CAPS = `/// Greets someone by name.
capability greet {
  kind tool
  input { name: string }
  output { message: string, length: int }
  handler "./handlers.mjs#greet"
  cost 0.001usd
  latency 10ms
  requires compute
}

resource box { kind local_device provides compute }
`;

const GOOD = `import "./caps.orch" as caps

plan hello {
  goal "Say hello"
  input { who: string }
  step first = caps.greet(name: input.who)
  step second = caps.greet(name: first.output.message)
  output { said: second.output.message }
}
`;

/** Line 5: a type error (an int where a string goes); line 6: an unknown capability. */
const BROKEN = `import "./caps.orch" as caps

plan broken {
  step a = caps.greet(name: "x")
  step b = caps.greet(name: 42)
  step c = caps.shout(text: a.output.message)
}
`;

/** `b` does not wait for `a`, so "a before b" is violated in some interleaving or failure. */
const INVARIANT = `import "./caps.orch" as caps

plan racy {
  step a = caps.greet(name: "a")
  step b = caps.greet(name: "b")
  invariant "a before b" { always b.started implies a.completed }
}
`;

const GATED = `import "./caps.orch" as caps

plan gated {
  step ok = approval(approver: "lead", summary: "Greet?")
  step hi = caps.greet(name: "Lin") { after ok }
  output { said: hi.output.message }
}
`;

const HANDLERS = `export async function greet({ name }) { return { message: 'hello ' + name, length: name.length }; }
export async function nap({ ms }, ctx) {
  await new Promise((resolve) => { const t = setTimeout(resolve, ms); ctx.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }); });
  return { message: 'woke', length: 0 };
}
`;

/** A step that sleeps for a minute unless it is stopped. */
const SLOW = `capability nap {
  kind tool
  input { ms: int }
  output { message: string, length: int }
  handler "./handlers.mjs#nap"
}

plan slow {
  step sleep = nap(ms: 60000)
}
`;

let dir: string;

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

async function connect(args: string[], cwd = dir): Promise<Client> {
  const client = new Client({ name: 'orch-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', 'serve', ...args],
    cwd,
    env: { ...(process.env as Record<string, string>), NO_COLOR: '1' },
    stderr: 'pipe',
  });
  await client.connect(transport);
  return client;
}

const ajv = new Ajv({ strict: false });
const outputSchemas = new WeakMap<Client, Map<string, ValidateFunction>>();

/** A tool's answer; its `structuredContent`, whenever there is one, checked against the tool's declared `outputSchema`. */
async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  let schemas = outputSchemas.get(client);
  if (!schemas) outputSchemas.set(client, (schemas = new Map((await client.listTools()).tools.map((t) => [t.name, ajv.compile(t.outputSchema ?? {})]))));
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const valid = schemas.get(name);
  if (r.structuredContent !== undefined && valid && !valid(r.structuredContent)) throw new Error(`${name}: structuredContent does not match its outputSchema: ${ajv.errorsText(valid.errors)}`);
  return r;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-mcp-'));
  writeFileSync(path.join(dir, 'orch.config.json'), '{}\n');
  writeFileSync(path.join(dir, 'caps.orch'), CAPS);
  writeFileSync(path.join(dir, 'good.orch'), GOOD);
  mkdirSync(path.join(dir, 'plans'));
  writeFileSync(path.join(dir, 'plans', 'broken.orch'), BROKEN.replace('"./caps.orch"', '"../caps.orch"'));
  writeFileSync(path.join(dir, 'racy.orch'), INVARIANT);
  writeFileSync(path.join(dir, 'gated.orch'), GATED);
  writeFileSync(path.join(dir, 'handlers.mjs'), HANDLERS);
  writeFileSync(path.join(dir, 'slow.orch'), SLOW);
});

describe('orch mcp serve (read-only)', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connect([]);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lists its tools, each with an output schema; run, signal and cancel are not offered', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(['capabilities', 'check', 'compile', 'explain', 'graph', 'preview', 'runs', 'timeline', 'verify']);
    for (const t of tools) expect(t.outputSchema?.type, t.name).toBe('object');
  });

  it('checks a broken plan: E-codes at the right lines, paths as orch check prints them', async () => {
    const r = await call(client, 'check', { files: ['plans/broken.orch'] });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { diagnostics: { code: string; file: string; range: { start: { line: number } } }[]; errors: number };
    const at = s.diagnostics.map((d) => `${d.code}@${d.file}:${d.range.start.line}`);
    expect(at).toContain('E0201@plans/broken.orch:5');
    expect(at).toContain('E0101@plans/broken.orch:6');
    expect(s.errors).toBeGreaterThanOrEqual(2);
    expect(text(r)).toMatch(/plans\/broken\.orch:5:\d+: error\[E0201\]/);
    // The very diagnostics `orch check --format json` prints, run in the project.
    const cli = await orchAsync(['check', 'plans/broken.orch', '--format', 'json'], { cwd: dir });
    expect(s.diagnostics).toEqual((JSON.parse(cli.stdout) as { diagnostics: unknown[] }).diagnostics);
    // An absolute path is named as given, as `orch check /abs/path` names it.
    const abs = path.join(dir, 'plans', 'broken.orch');
    const byAbs = (await call(client, 'check', { files: [abs] })).structuredContent as { diagnostics: { file: string }[] };
    expect(byAbs.diagnostics.filter((d) => d.file === abs)).toHaveLength(s.diagnostics.length);
  });

  it('checks a folder as orch check DIR does: every .orch file of the project under it, "." the whole project', async () => {
    const folder = await call(client, 'check', { files: ['plans'] });
    expect(folder.isError, text(folder)).toBeFalsy();
    const fs = folder.structuredContent as { diagnostics: { code: string; file: string }[] };
    expect(fs.diagnostics.map((d) => `${d.code}@${d.file}`)).toEqual(expect.arrayContaining(['E0201@plans/broken.orch', 'E0101@plans/broken.orch']));
    const cli = await orchAsync(['check', 'plans', '--format', 'json'], { cwd: dir });
    expect(fs.diagnostics).toEqual((JSON.parse(cli.stdout) as { diagnostics: unknown[] }).diagnostics);
    const all = await call(client, 'check', { files: ['.'] });
    expect(all.isError, text(all)).toBeFalsy();
    const files = new Set((all.structuredContent as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file));
    expect(files).toContain('plans/broken.orch');
    expect([...files].every((f) => !path.isAbsolute(f) && !f.startsWith('..'))).toBe(true);
  });

  it('reports a declaration unused only when no checked file uses it, as orch check FILES… does (W0601 across the files)', async () => {
    const both = await call(client, 'check', { files: ['caps.orch', 'good.orch'] });
    const cli = await orchAsync(['check', 'caps.orch', 'good.orch', '--format', 'json'], { cwd: dir });
    expect((both.structuredContent as { diagnostics: unknown[] }).diagnostics).toEqual((JSON.parse(cli.stdout) as { diagnostics: unknown[] }).diagnostics);
    // good.orch uses caps.greet and its placement binds box: neither is unused in the project.
    const all = (await call(client, 'check', { files: ['.'] })).structuredContent as { diagnostics: { code: string; file: string }[] };
    expect(all.diagnostics.filter((d) => d.code === 'W0601' && d.file === 'caps.orch')).toEqual([]);
  });

  it('answers a diagnostic with a related place (a duplicate step) as diagnostics, not a protocol error', async () => {
    const r = await call(client, 'check', { source: 'plan dup {\n  step a = log(message: "x")\n  step a = log(message: "y")\n}\n' });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { diagnostics: { code: string; related?: { range: { start: { line: number } } }[] }[] };
    const dup = s.diagnostics.find((d) => d.code === 'E0102');
    expect(dup?.related?.[0]?.range.start.line).toBe(2);
  });

  it('checks unsaved source as the file it stands for (its imports resolve from there)', async () => {
    const fixed = BROKEN.replace('name: 42', 'name: "42"').replace('caps.shout(text:', 'caps.greet(name:');
    const r = await call(client, 'check', { source: fixed.replace('"./caps.orch"', '"../caps.orch"'), path: 'plans/broken.orch' });
    expect((r.structuredContent as { errors: number }).errors).toBe(0);
    const asFile = await call(client, 'check', { source: fixed.replace('"./caps.orch"', '"../caps.orch"'), file: 'plans/broken.orch' });
    expect((asFile.structuredContent as { errors: number }).errors).toBe(0);
    const wrongPlace = await call(client, 'check', { source: fixed.replace('"./caps.orch"', '"../caps.orch"'), path: 'elsewhere.orch' });
    expect((wrongPlace.structuredContent as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code)).toContain('E0103');
    // The unsaved text was only for that call: the file on disk still has its errors.
    const again = await call(client, 'check', { files: ['plans/broken.orch'] });
    expect((again.structuredContent as { errors: number }).errors).toBeGreaterThanOrEqual(2);
  });

  it('checks a file again after it changed on disk (the kept session is never stale)', async () => {
    const file = path.join(dir, 'edited.orch');
    writeFileSync(file, BROKEN);
    expect(((await call(client, 'check', { files: ['edited.orch'] })).structuredContent as { errors: number }).errors).toBeGreaterThanOrEqual(2);
    writeFileSync(file, GOOD);
    expect(((await call(client, 'check', { files: ['edited.orch'] })).structuredContent as { errors: number }).errors).toBe(0);
    writeFileSync(path.join(dir, 'caps.orch'), CAPS.replace('name: string', 'name: int'));
    const importChanged = (await call(client, 'check', { files: ['edited.orch'] })).structuredContent as { diagnostics: { code: string }[] };
    writeFileSync(path.join(dir, 'caps.orch'), CAPS);
    expect(importChanged.diagnostics.map((d) => d.code)).toContain('E0201');
  });

  it('previews a plan: stages, bindings and estimates', async () => {
    const r = await call(client, 'preview', { file: 'good.orch' });
    expect(r.isError).toBeFalsy();
    const p = r.structuredContent as { plan: string; stages: { steps: string[] }[]; steps: { id: string; resource: string }[] };
    expect(p.plan).toBe('hello');
    expect(p.stages.map((s) => s.steps)).toEqual([['first'], ['second']]);
    expect(p.steps.find((s) => s.id === 'first')?.resource).toBe('box');
    expect(text(r)).toContain('hello');
  });

  it('previews for an input as orch preview --input does: one the plan does not take is a tool error naming why', async () => {
    const ok = await call(client, 'preview', { file: 'good.orch', input: { who: 'Ada' } });
    expect([ok.isError, (ok.structuredContent as { input_resolved: boolean }).input_resolved]).toEqual([undefined, true]);
    const bad = await call(client, 'preview', { file: 'good.orch', input: { whom: 'Ada' } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toBe('input does not match plan hello: /who: is required; /whom: is not allowed here');
  });

  it('answers a plan with errors as a tool error a person can read, and the server goes on', async () => {
    const r = await call(client, 'preview', { file: 'plans/broken.orch' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/plans\/broken\.orch:5:\d+: error\[E0201\]/);
    const missing = await call(client, 'compile', { file: 'nope.orch' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain('nope.orch: no such file');
    const outside = await call(client, 'check', { files: ['../x.orch'] });
    expect(outside.isError).toBe(true);
    expect(text(outside)).toContain('outside the project');
    const ir = (await call(client, 'compile', { file: 'good.orch' })).structuredContent as { plan: string; ir: { version: string; steps: unknown[] } };
    expect(ir.ir.version).toMatch(/^orch\.plan\/v\d+$/);
    expect(ir.ir.steps.length).toBeGreaterThan(0);
    const ok = await call(client, 'graph', { file: 'good.orch' });
    expect((ok.structuredContent as { mermaid: string }).mermaid).toMatch(/first.*-->.*second/s);
  });

  it('refuses a path a symbolic link takes outside the project, as one written outside; a link inside it is read', async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'orch-mcp-elsewhere-'));
    writeFileSync(path.join(elsewhere, 'key.orch'), 'plan leak { step a = log(message: "not the project") }\n');
    symlinkSync(path.join(elsewhere, 'key.orch'), path.join(dir, 'key-link.orch'));
    symlinkSync(elsewhere, path.join(dir, 'elsewhere'));
    symlinkSync(path.join(dir, 'good.orch'), path.join(dir, 'good-link.orch'));
    for (const [tool, args] of [
      ['check', { files: ['key-link.orch'] }],
      ['preview', { file: 'elsewhere/key.orch' }],
      ['compile', { source: 'plan q { step a = log(message: "x") }', path: 'elsewhere/new.orch' }],
    ] as const) {
      const r = await call(client, tool, args);
      expect(r.isError, tool).toBe(true);
      expect(text(r), tool).toMatch(/is outside the project/);
    }
    expect((await call(client, 'graph', { file: 'good-link.orch' })).isError).toBeFalsy();
  });

  it('reads no file but the project\'s .orch files: a secret in another file, or outside the project behind an import, is never in an answer', async () => {
    const secret = 'sk-LEAKED-4242';
    writeFileSync(path.join(dir, '.env'), `API_KEY=${secret}\n`);
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'orch-mcp-secret-'));
    writeFileSync(path.join(elsewhere, 'key.txt'), `${secret} is the key\n`);
    const up = path.relative(dir, path.join(elsewhere, 'key.txt'));
    const viaImport = (target: string) => `import "${target}" as k\nplan q { step a = log(message: "x") }\n`;
    for (const [tool, args] of [
      ['check', { files: ['.env'] }],
      ['preview', { file: '.env' }],
      ['verify', { file: '.env', runs: 1 }],
      ['check', { source: viaImport('./.env') }],
      ['check', { source: viaImport(up) }],
      ['compile', { source: viaImport(up) }],
      ['verify', { source: viaImport(up), runs: 1 }],
    ] as const) {
      const r = await call(client, tool, args);
      expect(JSON.stringify(r), `${tool} ${JSON.stringify(args)}`).not.toContain(secret);
    }
    // An import of a file the server may not read is one it cannot find.
    const imported = (await call(client, 'check', { source: viaImport(up) })).structuredContent as { diagnostics: { code: string }[] };
    expect(imported.diagnostics.map((d) => d.code)).toEqual(['E0103']);
  });

  it('a source too large to check is a tool error, and the server goes on', async () => {
    const huge = `plan big {\n${'  step a = log(message: "x")\n'.repeat(400_000)}}\n`;
    const r = await call(client, 'check', { source: huge });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/source/);
    expect((await call(client, 'explain', { code: 'E0102' })).isError).toBeFalsy();
  });

  it('verifies a plan with a violated invariant and returns the counterexample', async () => {
    const r = await call(client, 'verify', { file: 'racy.orch', runs: 50, seed: 7 });
    expect(r.isError).toBeFalsy();
    const v = r.structuredContent as { ok: boolean; results: { violations: { invariant: string; trace: { type: string }[] }[] }[] };
    expect(v.ok).toBe(false);
    const violation = v.results[0]!.violations.find((x) => x.invariant === 'a before b');
    expect(violation).toBeDefined();
    expect(violation!.trace.length).toBeGreaterThan(0);
    expect(text(r)).toContain('a before b');
    // The replay line repeats the search's length, as orch verify's does, so it finds the case again.
    expect(text(r)).toContain('replay: orch verify racy.orch --plan');
    expect(text(r)).toContain('--runs 50 --seed 7');
  });

  it('answers other calls while a long verify runs (the search gives way between scenarios)', async () => {
    const order: string[] = [];
    const verifying = call(client, 'verify', { file: 'good.orch', runs: 4000 }).then(() => order.push('verify'));
    await call(client, 'explain', { code: 'E0201' }).then(() => order.push('explain'));
    await verifying;
    expect(order).toEqual(['explain', 'verify']);
  });

  it('lists what a plan can use, with types and how to import it', async () => {
    const r = await call(client, 'capabilities', {});
    const s = r.structuredContent as { capabilities: { name: string; reference: string; import: string | null; output: string; doc: string | null }[]; resources: { name: string }[] };
    const greet = s.capabilities.find((c) => c.name === 'greet')!;
    expect(greet).toMatchObject({ reference: 'caps.greet', import: 'import "./caps.orch" as caps', output: '{ message: string, length: int }', doc: 'Greets someone by name.' });
    expect(s.capabilities.some((c) => c.reference === 'approval')).toBe(true);
    expect(s.resources.map((x) => x.name)).toContain('box');
  });

  it('refuses run without --allow-run', async () => {
    const r = await call(client, 'run', { file: 'good.orch', input: { who: 'Ada' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/the run tool is off: .*orch mcp serve --allow-run/);
    const explained = await call(client, 'explain', { code: 'e0201' });
    expect((explained.structuredContent as { explanations: { code: string }[] }).explanations[0]!.code).toBe('E0201');
  });
});

describe('orch mcp serve --allow-run', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(['--allow-run']);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('runs a plan, then lists the run and its timeline, with its version, as orch runs --json and orch timeline --json do', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['run', 'signal', 'cancel']));
    for (const t of tools) expect(t.outputSchema?.type, t.name).toBe('object');
    const r = await call(client, 'run', { file: 'good.orch', input: { who: 'Ada' } });
    expect(text(r)).not.toMatch(/error/i);
    const result = r.structuredContent as { status: string; runId: string; output: { said: string } };
    expect(result.status).toBe('completed');
    expect(result.output.said).toBe('hello hello Ada');
    // §9.1: a run the MCP server starts is a local start, by this machine's OS user.
    expect((r.structuredContent as { started_by?: unknown }).started_by).toEqual({ subject: expect.any(String), issuer: 'os', method: 'cli' });
    const runs = (await call(client, 'runs', {})).structuredContent as { runs: { runId: string; status: string; irHash: string | null }[] };
    expect(runs.runs).toContainEqual(expect.objectContaining({ runId: result.runId, status: 'completed', irHash: expect.stringMatching(/^[0-9a-f]{64}$/) }));
    const timeline = (await call(client, 'timeline', { runId: result.runId })).structuredContent as { irHash: string; events: { type: string; data: { ir_hash?: string } }[] };
    expect(timeline.events.map((e) => e.type)).toEqual(expect.arrayContaining(['execution_started', 'step_completed', 'execution_completed']));
    expect(timeline.irHash).toBe(timeline.events[0]!.data.ir_hash);
    // The tools mirror the CLI: the same JSON.
    const cliRuns = JSON.parse((await orchAsync(['runs', '--json'], { cwd: dir })).stdout) as { runs: unknown[] };
    expect(runs.runs).toEqual(cliRuns.runs);
    const cliTimeline = JSON.parse((await orchAsync(['timeline', result.runId, '--json'], { cwd: dir })).stdout) as unknown;
    expect(timeline).toEqual(cliTimeline);
    const unknown = await call(client, 'cancel', { runId: 'no-such-run' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('no run no-such-run');
  });

  it('run reads only an .orch file or a compiled plan, and says their errors without quoting another file', async () => {
    const secret = 'sk-RUNLEAK-77';
    writeFileSync(path.join(dir, 'creds.json'), `API_KEY=${secret}\n`);
    writeFileSync(path.join(dir, 'creds.txt'), `${secret}\n`);
    writeFileSync(path.join(dir, 'imports-creds.orch'), 'import "./creds.txt" as c\nplan q { step a = log(message: "x") }\n');
    for (const file of ['creds.json', 'creds.txt', 'imports-creds.orch']) {
      const r = await call(client, 'run', { file });
      expect(r.isError, file).toBe(true);
      expect(JSON.stringify(r), file).not.toContain(secret);
    }
  });

  it('cancel ends a run this server is running (its run call still waiting): the run call answers cancelled at once', async () => {
    const running = client.callTool({ name: 'run', arguments: { file: 'slow.orch' } }) as Promise<CallToolResult>;
    let runId: string | undefined;
    while (runId === undefined) {
      const runs = (await call(client, 'runs', { limit: 5 })).structuredContent as { runs: { runId: string; plan: string; status: string }[] };
      runId = runs.runs.find((r) => r.plan === 'slow' && r.status === 'running')?.runId;
    }
    const c = await call(client, 'cancel', { runId });
    expect(c.isError, text(c)).toBeFalsy();
    const r = await running;
    expect(r.isError, text(r)).toBeFalsy();
    expect((r.structuredContent as { status: string }).status).toBe('cancelled');
    const events = ((await call(client, 'timeline', { runId })).structuredContent as { events: { type: string }[] }).events.map((e) => e.type);
    expect(events.filter((t) => t === 'execution_cancelled')).toHaveLength(1);
  }, 20_000);

  it('a run that reaches an approval stops paused; signal approves it and the run ends here; cancel ends one that waits', async () => {
    const r = await call(client, 'run', { file: 'gated.orch' });
    const paused = r.structuredContent as { status: string; runId: string; waiting: string[] };
    expect(paused.status).toBe('paused');
    expect(paused.waiting).toEqual(['ok']);
    expect(text(r)).toContain('signal');
    const s = await call(client, 'signal', { runId: paused.runId, step: 'ok', decision: 'approve' });
    expect(s.isError).toBeFalsy();
    const after = s.structuredContent as { result: { status: string; output: { said: string } } };
    expect(after.result.status).toBe('completed');
    expect(after.result.output.said).toBe('hello Lin');
    // cancel ends a run that waits: the journal says cancelled.
    const second = (await call(client, 'run', { file: 'gated.orch' })).structuredContent as { status: string; runId: string };
    expect(second.status).toBe('paused');
    const c = await call(client, 'cancel', { runId: second.runId });
    expect(c.isError).toBeFalsy();
    const runs = (await call(client, 'runs', {})).structuredContent as { runs: { runId: string; status: string }[] };
    expect(runs.runs).toContainEqual(expect.objectContaining({ runId: second.runId, status: 'cancelled' }));
  });
});

describe('orch mcp serve --allow-run, its runs calling an MCP server of the project', () => {
  let client: Client;
  let project: string;
  beforeAll(async () => {
    project = mkdtempSync(path.join(tmpdir(), 'orch-mcp-tools-'));
    // With its marker there, the fixture's crash-once answers with its process id instead of crashing.
    const marker = path.join(project, 'marker');
    writeFileSync(marker, 'there');
    writeFileSync(path.join(project, 'orch.config.json'), JSON.stringify({ mcp: { fixture: { command: process.execPath, args: [MCP_FIXTURE] } } }));
    writeFileSync(path.join(project, 'pid.orch'), `import mcp "fixture" as fx\n\nplan pid {\n  step s = fx.crash_once(marker: ${JSON.stringify(marker)})\n  output { said: s.output.text }\n}\n`);
    const lock = await orchAsync(['mcp', 'lock'], { cwd: project });
    expect(lock.code, lock.stderr).toBe(0);
    client = await connect(['--allow-run'], project);
  }, 30_000);
  afterAll(async () => {
    await client?.close();
  });

  it('starts a stdio server once for the process: a second run is answered by the same server (§8.3)', async () => {
    const said: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await call(client, 'run', { file: 'pid.orch' });
      expect(r.isError, text(r)).toBeFalsy();
      const result = r.structuredContent as { status: string; output: { said: string } };
      expect(result.status).toBe('completed');
      said.push(result.output.said);
    }
    expect(said[0]).toMatch(/^survived in \d+$/);
    expect(said[1]).toBe(said[0]);
  }, 30_000);
});

describe('orch mcp serve, the runs tool over a journal with a damaged run', () => {
  it('lists the other runs and names the damaged one under `damaged`, as orch runs --json does', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'orch-mcp-damaged-'));
    for (const [f, text] of [['orch.config.json', '{}\n'], ['caps.orch', CAPS], ['good.orch', GOOD], ['handlers.mjs', HANDLERS]] as const) writeFileSync(path.join(project, f), text);
    for (const id of ['good', 'bad', 'fine']) {
      const r = await orchAsync(['run', 'good.orch', '--input', '{"who":"Ada"}', '--run-id', id, '--quiet'], { cwd: project });
      expect(r.code, r.stderr).toBe(0);
    }
    const db = openSqlite(path.join(project, '.orch', 'runs.db'));
    try {
      db.prepare("UPDATE runs SET started_at = 'x' WHERE id = 'bad'").run();
    } finally {
      db.close();
    }
    const client = await connect([], project);
    try {
      const r = await call(client, 'runs', {});
      expect(r.isError).toBeFalsy();
      const listed = r.structuredContent as { runs: { runId: string }[]; damaged: { runId: string; error: string }[] };
      expect(listed.runs.map((x) => x.runId).sort()).toEqual(['fine', 'good']);
      expect(listed.damaged).toEqual([{ runId: 'bad', error: expect.stringMatching(/^the journal of run bad is damaged: its start time/) }]);
      expect(text(r)).toMatch(/^orch: warning: the journal of run bad is damaged: .*; left out of the list$/m);
      const cli = JSON.parse((await orchAsync(['runs', '--json'], { cwd: project })).stdout) as { runs: unknown[]; damaged: unknown[] };
      expect(listed.runs).toEqual(cli.runs);
      expect(listed.damaged).toEqual(cli.damaged);
    } finally {
      await client.close();
    }
  }, 30_000);
});
