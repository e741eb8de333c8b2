/**
 * LANGUAGE.md §8.3 end to end with the real reference servers over stdio (server-everything,
 * server-filesystem, server-memory) and a small fixture server for what they cannot stage (a tool
 * whose schema changes after locking, a server that dies mid-call): one project is locked once
 * for the whole file, then checked and run in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import type { Diagnostic } from '../../language/index.js';
import { lockProject, McpTools, Runtime, type AttemptRequest, type OrchConfig } from '../index.js';
import type { AttemptOutcome, ExecutionResult, RunEvent } from '../scheduler/types.js';
import { handshakeBound } from '../mcp/connect.js';
import { waitUntil } from '../../test/support/wait.js';
import { FIXTURES, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const bin = (pkg: string): string => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');

let dir: string;
let rt: Runtime;
/** server-everything over Streamable HTTP (its express app listens on PORT). */
let http: ChildProcess | undefined;
let httpPort = 0;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startHttpServer(): Promise<void> {
  httpPort = await freePort();
  http = spawn(process.execPath, [bin('@modelcontextprotocol/server-everything'), 'streamableHttp'], { env: { ...process.env, PORT: String(httpPort) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    http!.stderr!.on('data', (d: Buffer) => {
      err += String(d);
      if (err.includes('listening on port')) resolve();
    });
    http!.on('exit', (code) => reject(new Error(`server-everything streamableHttp exited (${code}): ${err}`)));
  });
}

function config(variant: 'a' | 'b' | 'c'): string {
  return JSON.stringify({
    // The `flood` and `big` tools go past it.
    maxOutputBytes: 65_536,
    mcp: {
      everything: { command: process.execPath, args: [bin('@modelcontextprotocol/server-everything')], env: { ORCH_SERVER_KEY: 'secret:ORCH_TEST_SERVER_KEY' } },
      files: { command: process.execPath, args: [bin('@modelcontextprotocol/server-filesystem'), join(dir, 'notes')] },
      memory: { command: process.execPath, args: [bin('@modelcontextprotocol/server-memory')], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } },
      fixture: { command: process.execPath, args: [join(FIXTURES, 'mcp-fixture-server.mjs')], env: { FIXTURE_VARIANT: variant } },
      // Configured but imported by no file: `orch mcp lock` leaves it out of the lock.
      unlocked: { command: '/nonexistent/server' },
      // Says why on stderr and exits before it answers (what `orch mcp lock` must show).
      broken: { command: process.execPath, args: ['-e', 'console.error("boom: FIXTURE_TOKEN is not set"); process.exit(2)'] },
      remote: { url: `http://127.0.0.1:${httpPort}/mcp`, headers: { authorization: 'secret:ORCH_TEST_MCP_TOKEN' } },
    },
  });
}

const HEADER = `import mcp "everything" as demo
import mcp "files" as files
import mcp "memory" as mem
import mcp "fixture" as fx
import mcp "remote" as remote
`;

function write(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, HEADER + body);
  return file;
}

function errors(ds: readonly Diagnostic[]): Diagnostic[] {
  return ds.filter((d) => d.severity === 'error');
}

function planOf(file: string): PlanIR {
  const out = compile({ entry: file });
  expect(errors(out.diagnostics)).toEqual([]);
  return out.plans[0]!;
}

async function run(plan: PlanIR): Promise<{ result: ExecutionResult; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const active = await rt.start(plan, { onEvent: (e) => events.push(e) });
  return { result: await active.result, events };
}

beforeAll(async () => {
  dir = tempDir('orch-mcp-');
  mkdirSync(join(dir, 'notes'));
  writeFileSync(join(dir, 'notes', 'today.md'), 'sales 12\nrefunds 3\n');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  process.env.ORCH_TEST_MCP_TOKEN = 'Bearer test-token-123';
  process.env.ORCH_TEST_SERVER_KEY = 'server-key-9d1c7e';
  await startHttpServer();
  writeFileSync(join(dir, 'orch.config.json'), config('a'));
  writeFileSync(join(dir, 'uses.orch'), HEADER);
  const locked = await lockProject(dir);
  expect(locked.failed).toEqual([]);
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, controlPollMs: 50 });
}, 120_000);

afterAll(async () => {
  await rt?.close();
  http?.kill();
});

describe('orch mcp lock', () => {
  it('records every imported server: name, version, and per tool its schemas, annotations and hash', () => {
    const lock = JSON.parse(readFileSync(join(dir, 'orch.lock.json'), 'utf8'));
    expect(Object.keys(lock.servers)).toEqual(['everything', 'files', 'fixture', 'memory', 'remote']);
    // The secret in the HTTP server's headers is resolved to connect, never written.
    expect(JSON.stringify(lock)).not.toContain('test-token-123');
    expect(lock.servers.files.name).toBe('secure-filesystem-server');
    const sum = lock.servers.everything.tools.find((t: { name: string }) => t.name === 'get-sum');
    expect(sum.inputSchema.properties).toHaveProperty('a');
    expect(sum.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const write = lock.servers.files.tools.find((t: { name: string }) => t.name === 'write_file');
    expect(write.annotations.destructiveHint).toBe(true);
    expect(write.outputSchema).toBeDefined();
  });
});

describe('orch mcp lock of a server that does not start', () => {
  it("reports what the server wrote on stderr, and leaves orch.lock.json as it was", async () => {
    const before = readFileSync(join(dir, 'orch.lock.json'), 'utf8');
    const locked = await lockProject(dir, { servers: ['broken'], keep: true });
    expect(locked.written).toBe(false);
    expect(locked.failed).toHaveLength(1);
    expect(locked.failed[0]!.error).toMatch(/^cannot start MCP server "broken" \(stdio .*\): it closed the connection before answering/);
    expect(locked.failed[0]!.error).toContain('boom: FIXTURE_TOKEN is not set');
    expect(readFileSync(join(dir, 'orch.lock.json'), 'utf8')).toBe(before);
  });
});

describe('checking plans against the lock (no server started)', () => {
  it('accepts right arguments and types outputs from the schemas', () => {
    const file = write('right.orch', `
plan right {
  step s = demo.get_sum(a: 2, b: 3)
  step e = demo.echo(message: s.output.text)
  step r = files.read_text_file(path: "today.md", head: 1)
  step k = mem.create_entities(entities: [{ name: "n", entityType: "note", observations: [r.output.content] }])
}
`);
    expect(errors(compile({ entry: file }).diagnostics)).toEqual([]);
  });

  it('reports wrong arguments at the argument (E0202, E0201) and unknown tools and servers as E0802', () => {
    const text = `
plan wrong {
  step s = demo.get_sum(a: "2", c: 3)
  step t = demo.get_product(a: 1)
  step u = s.output.sum
}
`;
    const file = write('wrong.orch', text);
    const src = HEADER + text;
    const ds = compile({ entry: file }).diagnostics;
    const at = (code: string, needle: string) => ds.find((d) => d.code === code && src.slice(d.range.start.offset, d.range.end.offset) === needle);
    expect(at('E0201', '"2"')?.message).toMatch(/argument "a" of capability get_sum expects number, got string/);
    expect(at('E0202', 'c')?.message).toMatch(/unknown argument "c"/);
    expect(ds.find((d) => d.code === 'E0202' && /missing required argument "b"/.test(d.message))).toBeDefined();
    expect(at('E0802', 'demo.get_product')?.message).toMatch(/run `orch mcp lock`/);

    const other = join(dir, 'unknown.orch');
    writeFileSync(other, 'import mcp "search" as search\nplan p { step s = search.find(q: "x") }\n');
    const d2 = compile({ entry: other }).diagnostics;
    expect(d2.map((d) => d.code)).toEqual(['E0802']);
    expect(d2[0]!.message).toMatch(/"search" is not configured.*run `orch mcp lock`/);

    writeFileSync(other, 'import mcp "unlocked" as later\ncapability x from later.tool { cost 0usd }\nplan p { step s = x() }\n');
    const d3 = compile({ entry: other }).diagnostics;
    expect(d3.map((d) => d.code)).toEqual(['E0802']);
    expect(d3[0]!.message).toMatch(/"unlocked" is not in .*orch\.lock\.json: run `orch mcp lock`/);

    writeFileSync(other, 'import mcp "everything" as demo\ncapability x from demo.nothing { cost 0usd }\nplan p { step s = x() }\n');
    const d4 = compile({ entry: other }).diagnostics;
    expect(d4.map((d) => d.code)).toEqual(['E0802']);
    expect(d4[0]!.message).toMatch(/no tool "nothing"/);
  });

  it('reads annotations: destructive tools need a human before them under human_before_destructive', () => {
    const body = (approve: boolean) => `
import std.guardrails { human_before_destructive }
plan guarded {
  guardrails human_before_destructive
  ${approve ? 'step ok = approval(approver: "ops", summary: "write")' : ''}
  step w = files.write_file(path: "out.md", content: "x") ${approve ? '{ after ok }' : ''}
}
`;
    const bad = compile({ entry: write('destructive.orch', body(false)) }).diagnostics;
    expect(bad.find((d) => d.code === 'E0401')?.message).toMatch(/human_before_destructive/);
    const good = compile({ entry: write('approved.orch', body(true)) }).diagnostics;
    expect(errors(good)).toEqual([]);
  });

  it('refines a tool with `capability X from alias.tool`, keeping its types', () => {
    const file = write('refined.orch', `
capability read_notes from files.read_text_file {
  data personal
  retry 2 backoff fixed 10ms
}
plan refined { step r = read_notes(path: 1) }
`);
    const ds = compile({ entry: file }).diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['E0201']);
  });
});

describe('running MCP tools', () => {
  it('calls several tools of several servers in parallel, structuredContent as the output when declared', async () => {
    const plan = planOf(write('parallel.orch', `
plan fan {
  step s = demo.get_sum(a: 2, b: 3)
  step e = demo.echo(message: "hi")
  step r = files.read_text_file(path: "${join(dir, 'notes', 'today.md')}")
  step c = demo.get_structured_content(location: "New York")
  step k = mem.create_entities(entities: [{ name: "orch", entityType: "tool", observations: ["typed"] }])
}
`));
    const { result, events } = await run(plan);
    expect(result.status).toBe('completed');
    const out = Object.fromEntries(result.steps.map((s) => [s.stepId, s.output as Record<string, unknown>]));
    expect(out.s!.text).toBe('The sum of 2 and 3 is 5.');
    expect(out.e!.text).toMatch(/hi/);
    expect(out.r!.content).toBe('sales 12\nrefunds 3\n');
    expect(out.c).toHaveProperty('temperature');
    expect(out.k!.entities).toEqual([{ name: 'orch', entityType: 'tool', observations: ['typed'] }]);
    // The filesystem server says where it runs on stderr: a log line of the step that started it.
    const logs = events.filter((e) => e.type === 'step_log').map((e) => JSON.stringify(e.data));
    expect(logs.some((l) => l.includes('[mcp files]'))).toBe(true);
  });

  it('hands a stdio server its secret env, and redacts the secret wherever the run shows it', async () => {
    const plan = planOf(write('env.orch', `plan env { step e = demo.get_env() }`));
    const { result, events } = await run(plan);
    expect(result.status).toBe('completed');
    const text = (result.steps[0]!.output as { text: string }).text;
    // The server saw the key (its variable is there), and Orch shows it blanked.
    expect(text).toContain('ORCH_SERVER_KEY');
    expect(text).toContain('***');
    expect(JSON.stringify(result)).not.toContain('server-key-9d1c7e');
    expect(JSON.stringify(events)).not.toContain('server-key-9d1c7e');
    // Only the SDK's default environment and the configured env reach the server.
    expect(text).not.toContain('ORCH_TEST_SERVER_KEY');
  });

  it('calls a tool over Streamable HTTP', async () => {
    const plan = planOf(write('http.orch', `plan remote_sum { step s = remote.get_sum(a: 20, b: 22) }`));
    const { result } = await run(plan);
    expect(result.status).toBe('completed');
    expect((result.steps[0]!.output as { text: string }).text).toBe('The sum of 20 and 22 is 42.');
  });

  it('reuses one server per process across steps and runs', async () => {
    const plan = planOf(write('reuse.orch', `plan reuse { step a = fx.shape(x: 1) step b = fx.shape(x: 2) { after a } }`));
    const first = await run(plan);
    const second = await run(plan);
    expect(second.result.status).toBe('completed');
    // Only the first run saw the server start (its "ready" line on stderr).
    const ready = (r: { events: RunEvent[] }) => r.events.filter((e) => e.type === 'step_log' && JSON.stringify(e.data).includes('fixture server a ready')).length;
    expect([ready(first), ready(second)]).toEqual([1, 0]);
  });

  it('fails the attempt with the text of a tool error (isError)', async () => {
    const plan = planOf(write('toolerror.orch', `plan bad { step r = files.read_text_file(path: "/etc/hostname") }`));
    const { result } = await run(plan);
    expect(result.status).toBe('failed');
    expect(result.steps[0]!.error).toMatch(/MCP tool "read_text_file" failed: .*(denied|outside|not allowed)/i);
  });

  it("a tool's error answer (ENOENT) is the call's: never moved to another resource, such as a model's (§9.1)", async () => {
    const plan = planOf(write('enoent.orch', `
resource laptop { kind local_device }
resource model_box { kind cloud_region  provides llm }
plan missing { step r = files.read_text_file(path: "${join(dir, 'notes', 'missing.md')}") }
`));
    expect(plan.steps[0]!.binding?.fallbacks.length).toBeGreaterThan(0);
    const { result, events } = await run(plan);
    expect(result.status).toBe('failed');
    expect(result.steps[0]!.error).toMatch(/MCP tool "read_text_file" failed: .*ENOENT/);
    expect(events.filter((e) => e.type === 'step_started')).toHaveLength(1);
    expect(events.some((e) => e.type === 'step_retried' && 'rebind' in e.data)).toBe(false);
  });

  it('a server whose command does not exist fails the attempt for good, naming the server and its transport', async () => {
    const plan = planOf(write('sim-missing.orch', `plan none { step s = demo.get_sum(a: 1, b: 2) }`));
    const cap = { ...plan.capabilities['mcp.everything.get_sum']!, handler: { mcp: 'unlocked', tool: 'get-sum', hash: 'sha256:0' } };
    const tools = new McpTools();
    try {
      const outcome = await new Promise<AttemptOutcome>((resolve) =>
        tools.start({ runId: 'r', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: cap, input: {}, resource: null, timeoutMs: null, secrets: {}, plan }, resolve),
      );
      expect(outcome).toMatchObject({ ok: false, final: 'config', cost: 0, error: 'cannot start MCP server "unlocked" (stdio /nonexistent/server): command not found' });
    } finally {
      await tools.close();
    }
  });

  it('over HTTP, a peer that takes the connection and answers nothing fails the attempt within the silent-peer bound, naming server and transport; it is retried (§9.1)', async () => {
    const peers = new Set<Socket>();
    const mute = createServer((socket) => (peers.add(socket), socket.on('error', () => undefined)));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(mute.address() as AddressInfo).port}/mcp`;
    const plan = planOf(write('http-mute.orch', `plan mute { step s = remote.get_sum(a: 1, b: 2) }`));
    const cap = { ...plan.capabilities['mcp.remote.get_sum']!, handler: { mcp: 'mute', tool: 'get-sum', hash: 'sha256:0' } };
    const tools = new McpTools(async () => ({ file: null, hooks: {}, secrets: {}, mcp: { mute: { url } } }) as OrchConfig);
    process.env.ORCH_SILENT_PEER_MS = '300';
    try {
      const outcome = await new Promise<AttemptOutcome>((resolve) =>
        tools.start({ runId: 'r', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: cap, input: { a: 1, b: 2 }, resource: null, timeoutMs: null, secrets: {}, plan }, resolve),
      );
      expect(outcome).toMatchObject({ ok: false, error: `cannot start MCP server "mute" (HTTP ${url}): no MCP answer within 0.3 s (is it an MCP server?)` });
      expect(outcome).not.toHaveProperty('final');
      expect(peers.size).toBeGreaterThan(0);
    } finally {
      delete process.env.ORCH_SILENT_PEER_MS;
      await tools.close();
      for (const p of peers) p.destroy();
      await new Promise((r) => mute.close(r));
    }
  });

  it("over HTTP, a start refused with a status names it, and a web page or JSON that is no JSON-RPC is no MCP — the start said 'Error POSTing to endpoint: not here', 'Unexpected content type: text/html' and dumped the schema validator's 150 lines (§9.1)", async () => {
    const web = createHttpServer((req, res) => {
      if (req.url === '/gone') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      // JSON that is no JSON-RPC message (a model gateway's answer), and a body that is not JSON at all.
      if (req.url === '/json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'chat.completion', choices: [] }));
      if (req.url === '/broken') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc": "2.0", ');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>It works!</html>');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const plan = planOf(write('http-web.orch', `plan web { step s = remote.get_sum(a: 1, b: 2) }`));
    const cap = { ...plan.capabilities['mcp.remote.get_sum']!, handler: { mcp: 'web', tool: 'get-sum', hash: 'sha256:0' } };
    try {
      for (const [path, why, final] of [
        ['/gone', 'HTTP 404 not here', 'refused'],
        ['/mcp', 'the peer does not speak MCP over HTTP (it answered text/html)', undefined],
        ['/json', 'the peer does not speak MCP over HTTP (its answer is not a JSON-RPC message)', undefined],
        ['/broken', 'the peer does not speak MCP over HTTP (its answer is not a JSON-RPC message)', undefined],
      ] as const) {
        const url = `${base}${path}`;
        const tools = new McpTools(async () => ({ file: null, hooks: {}, secrets: {}, mcp: { web: { url } } }) as OrchConfig);
        try {
          const outcome = await new Promise<AttemptOutcome>((resolve) =>
            tools.start({ runId: 'r', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: cap, input: { a: 1, b: 2 }, resource: null, timeoutMs: null, secrets: {}, plan }, resolve),
          );
          expect(outcome).toMatchObject({ ok: false, error: `cannot start MCP server "web" (HTTP ${url}): ${why}` });
          if (final) expect(outcome).toMatchObject({ final });
          else expect(outcome).not.toHaveProperty('final');
        } finally {
          await tools.close();
        }
      }
    } finally {
      await new Promise((r) => web.close(r));
    }
  });

  it('over stdio, a server that starts and says nothing fails the attempt within the silent-peer bound; one started by a package runner has 60 s (§9.1)', async () => {
    expect(handshakeBound({ transport: 'stdio', command: 'npx', args: ['-y', 'some-server'] } as never)).toBe(60_000);
    expect(handshakeBound({ transport: 'stdio', command: 'C:\\tools\\uvx.exe', args: [] } as never)).toBe(60_000);
    const plan = planOf(write('stdio-mute.orch', `plan mute { step s = demo.get_sum(a: 1, b: 2) }`));
    const cap = { ...plan.capabilities['mcp.everything.get_sum']!, handler: { mcp: 'mute', tool: 'get-sum', hash: 'sha256:0' } };
    const mute = { command: process.execPath, args: ['-e', 'process.stdin.resume()'] };
    const tools = new McpTools(async () => ({ file: null, hooks: {}, secrets: {}, mcp: { mute } }) as OrchConfig);
    process.env.ORCH_SILENT_PEER_MS = '300';
    try {
      expect(handshakeBound({ transport: 'stdio', ...mute } as never)).toBe(300);
      const outcome = await new Promise<AttemptOutcome>((resolve) =>
        tools.start({ runId: 'r', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: cap, input: { a: 1, b: 2 }, resource: null, timeoutMs: null, secrets: {}, plan }, resolve),
      );
      expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/^cannot start MCP server "mute" \(stdio .*\): no MCP answer within 0\.3 s \(is it an MCP server\?\)$/) });
      expect(outcome).not.toHaveProperty('final');
    } finally {
      delete process.env.ORCH_SILENT_PEER_MS;
      await tools.close();
    }
  });

  it('a server that answers initialize but fails or never answers tools/list: the start fails naming why, and the server is closed — the attempt said it had exited, and orch run never ended (§9.1)', async () => {
    const plan = planOf(write('stdio-list.orch', `plan list_fails { step s = demo.get_sum(a: 1, b: 2) }`));
    const cap = { ...plan.capabilities['mcp.everything.get_sum']!, handler: { mcp: 'half', tool: 'get-sum', hash: 'sha256:0' } };
    // Speaks MCP's handshake, then answers tools/list with an error (MODE=err) or not at all.
    const script = `
      const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
      require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
        const m = JSON.parse(line);
        if (m.method === 'initialize') send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'half', version: '1' } } });
        else if (m.method === 'tools/list' && process.env.MODE === 'err') send({ jsonrpc: '2.0', id: m.id, error: { code: -32603, message: 'internal boom' } });
      });
      process.on('exit', () => require('node:fs').writeFileSync(process.env.GONE, 'closed'));`;
    process.env.ORCH_SILENT_PEER_MS = '300';
    try {
      for (const mode of ['err', 'mute']) {
        const gone = join(dir, `half-${mode}.closed`);
        const half = { command: process.execPath, args: ['-e', script], env: { MODE: mode, GONE: gone } };
        const tools = new McpTools(async () => ({ file: null, hooks: {}, secrets: {}, mcp: { half } }) as OrchConfig);
        try {
          const outcome = await new Promise<AttemptOutcome>((resolve) =>
            tools.start({ runId: 'r', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: cap, input: { a: 1, b: 2 }, resource: null, timeoutMs: null, secrets: {}, plan }, resolve),
          );
          const why = mode === 'err' ? 'MCP error -32603: internal boom' : 'no MCP answer within 0\\.3 s \\(is it an MCP server\\?\\)';
          expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(new RegExp(`^cannot start MCP server "half" \\(stdio .*\\): ${why}$`)) });
          // Closed by the failed start, not by tools.close() below.
          await waitUntil(() => existsSync(gone), `the ${mode} server to be closed`, 5000);
        } finally {
          await tools.close();
        }
      }
    } finally {
      delete process.env.ORCH_SILENT_PEER_MS;
    }
  });

  it('over HTTP, a session the server lost (404: it restarted) is started afresh within the attempt, and a refused call (403) is permanent (§9.1)', async () => {
    // A proxy in front of server-everything that forgets a session (as a restarted server does) or refuses calls.
    let forgetNext = false;
    let forbid = false;
    const forgotten = new Set<string>();
    const proxy = createHttpServer((req, res) => {
      const session = req.headers['mcp-session-id'];
      if (typeof session === 'string' && forgetNext) {
        forgotten.add(session);
        forgetNext = false;
      }
      if (typeof session === 'string' && forgotten.has(session)) return void res.writeHead(404).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      if (forbid && req.method === 'POST') return void res.writeHead(403).end('forbidden');
      const up = httpRequest({ host: '127.0.0.1', port: httpPort, path: req.url, method: req.method, headers: req.headers }, (r) => (res.writeHead(r.statusCode ?? 502, r.headers), r.pipe(res)));
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
    const plan = planOf(write('http-session.orch', `plan remote_again { step s = remote.get_sum(a: 1, b: 2) }`));
    const tools = new McpTools(async () => ({ file: null, hooks: {}, secrets: {}, mcp: { remote: { url } } }) as OrchConfig);
    const call = (attempt: number) =>
      new Promise<AttemptOutcome>((resolve) =>
        tools.start({ runId: 'r', stepId: 's', baseStepId: 's', attempt, purpose: 'call', capability: plan.capabilities['mcp.remote.get_sum']!, input: { a: 1, b: 2 }, resource: null, timeoutMs: 10_000, secrets: {}, plan }, resolve),
      );
    try {
      expect(await call(1)).toMatchObject({ ok: true });
      forgetNext = true;
      expect(await call(2)).toMatchObject({ ok: true, output: { text: 'The sum of 1 and 2 is 3.' } });
      expect(forgotten.size).toBe(1);
      forbid = true;
      expect(await call(3)).toMatchObject({
        ok: false, final: 'refused', owner: 'call',
        error: expect.stringMatching(/^MCP server "remote" \(HTTP http:\/\/127\.0\.0\.1:\d+\/mcp\) failed calling "get-sum": HTTP 403 forbidden$/),
      });
    } finally {
      await tools.close();
      await new Promise((r) => proxy.close(r));
    }
  });

  it("sends the attempt's traceparent in the call's _meta, and none when the run is untraced", async () => {
    const plan = planOf(write('trace.orch', `plan traced { step t = fx.trace_context() }`));
    const tools = new McpTools();
    const call = (traceparent?: string) =>
      new Promise<AttemptOutcome>((resolve) => {
        const req: AttemptRequest = {
          runId: 'r', stepId: 't', baseStepId: 't', attempt: 1, purpose: 'call', capability: plan.capabilities['mcp.fixture.trace_context']!,
          input: {}, resource: null, timeoutMs: null, secrets: {}, plan, ...(traceparent ? { traceparent } : {}),
        };
        tools.start(req, resolve);
      });
    try {
      const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const traced = await call(tp);
      expect(traced.ok && (traced.output as { text: string }).text).toBe(tp);
      const untraced = await call();
      expect(untraced.ok && (untraced.output as { text: string }).text).toBe('none');
    } finally {
      await tools.close();
    }
  });

  it('passes properties whose names are not identifiers under their own names, and reads them back, nested too', async () => {
    // `file-path`, `2nd` and `x.y` are fields file_path, _2nd and x_y in Orch; the server validates its own names.
    const plan = planOf(write('paths.orch', `
plan paths {
  step p = fx.paths(file_path: "a.txt", _2nd: 2, opts: { x_y: "up" })
  step q = log(message: p.output.full_path + " " + p.output.opts.x_y)
}
`));
    const { result } = await run(plan);
    expect(result.status).toBe('completed');
    const out = Object.fromEntries(result.steps.map((s) => [s.stepId, s.output]));
    expect(out.p).toEqual({ full_path: '/root/a.txt', second: 2, opts: { x_y: 'UP' } });
  });

  it("keeps a server's stderr flood within the step's log budget (maxOutputBytes), a long line too, and fails an answer larger than it", async () => {
    const plan = planOf(write('flood.orch', `plan flood { step f = fx.flood(lines: 3000, long: 200000) step b = fx.big(bytes: 100000) { after f } }`));
    const { result, events } = await run(plan);
    const lines = events.filter((e) => e.type === 'step_log' && e.stepId === 'f').map((e) => (e.data as { line: string }).line);
    expect(result.steps[0]!.status).toBe('completed');
    expect(lines.reduce((n, l) => n + Buffer.byteLength(l), 0)).toBeLessThan(66_000);
    expect(lines.at(-1)).toMatch(/further log lines dropped: more than 64 KiB/);
    expect(result.steps[1]!.status).toBe('failed');
    expect(result.steps[1]!.error).toMatch(/more than the limit of 64 KiB/);
  });

  it('retries with a fresh server when the server dies mid-call', async () => {
    const marker = join(dir, 'crashed');
    const plan = planOf(write('crash.orch', `
capability crash_once from fx.crash_once { retry 2 backoff fixed 10ms }
plan crash { step c = crash_once(marker: "${marker}") }
`));
    const { result } = await run(plan);
    expect(result.status).toBe('completed');
    expect(result.steps[0]!.attempts).toBe(2);
    const pid = readFileSync(marker, 'utf8');
    expect((result.steps[0]!.output as { text: string }).text).toMatch(/^survived in \d+$/);
    expect((result.steps[0]!.output as { text: string }).text).not.toBe(`survived in ${pid}`);
  });

  it('fails a run whose tool changed after locking before that step starts, naming the tool and server', async () => {
    const plan = planOf(write('changed.orch', `
capability shape_retried from fx.shape { retry 3 backoff fixed 10ms }
plan changed { step first = log(message: "before") step s = demo.get_sum(a: 1, b: 1) { after first } step x = shape_retried(x: 4) { after s } }
`));
    // The fixture server now declares x as a string: a new process of this runtime would see it.
    writeFileSync(join(dir, 'orch.config.json'), config('b'));
    const fresh = await Runtime.open({ db: join(dir, 'runs2.db'), workers: 1, controlPollMs: 50 });
    try {
      const events: RunEvent[] = [];
      const active = await fresh.start(plan, { onEvent: (e) => events.push(e) });
      const result = await active.result;
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/MCP tool "shape" of server "fixture" changed since orch.lock.json was written.*run `orch mcp lock`/);
      const x = result.steps.find((s) => s.stepId === 'x')!;
      expect(x.status).toBe('failed');
      expect(x.error).toMatch(/MCP tool "shape" of server "fixture" changed/);
      // LANGUAGE.md §8.3: the run fails before the step starts — the journal never says it started.
      expect(x.attempts).toBe(0);
      expect(events.filter((e) => e.stepId === 'x').map((e) => e.type)).toEqual(['step_queued', 'step_failed']);
      expect(fresh.journal!.load(active.runId).some((e) => e.type === 'step_started' && e.stepId === 'x')).toBe(false);
      // The steps before it ran: an unchanged tool of another server is checked and called.
      expect(result.steps.find((s) => s.stepId === 'first')!.status).toBe('completed');
      expect(result.steps.find((s) => s.stepId === 's')!.status).toBe('completed');
    } finally {
      await fresh.close();
      writeFileSync(join(dir, 'orch.config.json'), config('a'));
    }
  });

  it('a tool the server no longer offers fails its attempt for good, naming it; the step\'s fallback call still runs (§9.1)', async () => {
    const plan = planOf(write('gone.orch', `
capability shape_retried from fx.shape { retry 3 backoff fixed 10ms }
plan gone { step s = shape_retried(x: 4) { fallback fx.trace_context() } }
`));
    const bare = planOf(write('gone-bare.orch', `
capability shape_retried from fx.shape { retry 3 backoff fixed 10ms }
plan gone_bare { step s = shape_retried(x: 4) }
`));
    writeFileSync(join(dir, 'orch.config.json'), config('c'));
    const fresh = await Runtime.open({ db: join(dir, 'runs3.db'), workers: 1, controlPollMs: 50 });
    try {
      const events: RunEvent[] = [];
      const result = await (await fresh.start(plan, { onEvent: (e) => events.push(e) })).result;
      expect(result.status).toBe('completed');
      expect(result.steps[0]!.output).toMatchObject({ text: expect.stringMatching(/^(none|00-)/) });
      // One attempt of the tool (no retry), then the fallback's.
      expect(events.filter((e) => e.type === 'step_started').map((e) => e.data.phase)).toEqual(['main', 'fallback']);
      expect(events.find((e) => e.type === 'step_retried')!.data).toMatchObject({ phase: 'fallback', permanent: true, error: expect.stringMatching(/MCP tool "shape" of server "fixture" is no longer offered by the server/) });
      // Without a fallback: one attempt, and the step's end says permanent.
      const failed: RunEvent[] = [];
      expect((await (await fresh.start(bare, { onEvent: (e) => failed.push(e) })).result).status).toBe('failed');
      expect(failed.filter((e) => e.type === 'step_started')).toHaveLength(1);
      expect(failed.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true, attempt: 1 });
    } finally {
      await fresh.close();
      writeFileSync(join(dir, 'orch.config.json'), config('a'));
    }
  });

  it('treats an MCP tool like any capability in preview and verify (simulate blocks apply)', () => {
    const file = write('sim.orch', `
simulate demo.get_sum { latency 5ms cost 0.01usd }
plan sim { step s = demo.get_sum(a: 1, b: 2) }
`);
    const out = compile({ entry: file });
    expect(errors(out.diagnostics)).toEqual([]);
    expect(out.plans[0]!.capabilities['mcp.everything.get_sum']?.handler).toMatchObject({ mcp: 'everything', tool: 'get-sum' });
    expect(existsSync(join(dir, 'orch.lock.json'))).toBe(true);
  });
});
