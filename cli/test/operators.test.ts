/**
 * LANGUAGE.md §9.1 "Operators see failures at once", through the CLI in this process: an OTLP
 * endpoint that cannot be reached is said once on stderr (and the run is not held up by it), and
 * `orch mcp lock` of a server that does not start shows what the server wrote on stderr and does
 * not claim to have written the lock.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli-in-process.js';

function project(config: object, files: { readonly [name: string]: string }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-ops-'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(path.join(dir, 'orch.config.json'), JSON.stringify(config));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('an OTLP endpoint that cannot be reached', () => {
  it('is said once on stderr, naming the endpoint (never its credentials) and why; the runs complete', async () => {
    const port = await closedPort();
    // Written with credentials: they are never shown.
    const dir = project({ telemetry: { otlp: `http://otel:otlp-pass-4e1f@127.0.0.1:${port}` } }, {
      'h.mjs': 'export function work() { return { ok: true }; }\n',
      'p.orch': 'capability work { kind tool  output { ok: bool }  handler "./h.mjs#work" }\nplan p { step a = work()  step b = work() { after a } }\n',
    });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined, OTEL_SDK_DISABLED: undefined, OTEL_TRACES_EXPORTER: undefined };
    const first = await runCli(['run', 'p.orch', '--db', path.join(dir, 'runs.db')], dir, env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`orch: traces cannot be sent to http://127.0.0.1:${port}/v1/traces: connection refused`);
    expect(first.stderr.match(/traces cannot be sent/g)).toHaveLength(1);
    expect(first.stderr).not.toMatch(/otel:|otlp-pass-4e1f/);
    // Once per process: the next run in it says nothing more.
    const second = await runCli(['run', 'p.orch', '--db', path.join(dir, 'runs.db')], dir, env);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain('traces cannot be sent');
  });

  it('one that takes the connection and never answers holds the end of the run for under 1 s, not the exporter 10 s timeout, and is said once', async () => {
    const held: Socket[] = [];
    const hung = createServer((s) => void held.push(s.on('data', () => undefined)));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    try {
      const { port } = hung.address() as AddressInfo;
      const dir = project({ telemetry: { otlp: `http://127.0.0.1:${port}` } }, {
        'h.mjs': 'export function work() { return { ok: true }; }\n',
        'p.orch': 'capability work { kind tool  output { ok: bool }  handler "./h.mjs#work" }\nplan p { step a = work()  step b = work() { after a } }\n',
      });
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined, OTEL_SDK_DISABLED: undefined, OTEL_TRACES_EXPORTER: undefined };
      const started = Date.now();
      const r = await runCli(['run', 'p.orch', '--db', path.join(dir, 'runs.db')], dir, env);
      const took = Date.now() - started;
      expect(r.code).toBe(0);
      expect(held.length).toBeGreaterThan(0);
      expect(r.stderr.match(/traces cannot be sent to http:\/\/127\.0\.0\.1:\d+\/v1\/traces: no answer within 900 ms/g)).toHaveLength(1);
      // The run itself takes a fraction of this; the exporter alone would have held it 10 s.
      expect(took).toBeLessThan(4000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => hung.close(r));
    }
  });
});

describe('a broken orch.config holding credentials written as literals', () => {
  it('orch check and orch run name the problem and its place, never the password, token or URL password', async () => {
    const dir = project({}, { 'p.orch': 'plan p { step a = notify(channel: "ops", text: "x") }\n' });
    // Unquoted, so not JSON: V8's message would quote the text around it.
    writeFileSync(path.join(dir, 'orch.config.json'), '{ "channels": { "ops": { "email": { "smtp": "smtp://orch:url-pass-61c2@h:25", "password": hunter2-pass-0d9e } } },\n  "mcp": { "s": { "command": "x", "env": { "API_TOKEN": "tok-literal-77aa" } } } }\n');
    for (const args of [['check', 'p.orch'], ['run', 'p.orch', '--db', path.join(dir, 'runs.db')]]) {
      const r = await runCli(args, dir);
      const out = r.stdout + r.stderr;
      expect(out).toMatch(/orch\.config\.json(:1:91: .*|: )Unexpected token in JSON \(not valid JSON\)/);
      if (args[0] === 'run') expect(out).toContain('at line 1, column 91');
      expect(out).not.toMatch(/hunter2|url-pass-61c2|tok-literal-77aa/);
    }
  });
});

describe('orch mcp lock of a server that does not start', () => {
  it("shows the server's stderr, exits 1 and writes no lock", async () => {
    const dir = project(
      { mcp: { broken: { command: process.execPath, args: ['-e', 'console.error("boom: SEARCH_TOKEN is not set"); process.exit(2)'] } } },
      { 'p.orch': 'import mcp "broken" as broken\nplan p { step a = log(message: "x") }\n' },
    );
    const r = await runCli(['mcp', 'lock'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/orch: cannot start MCP server "broken" \(stdio .*\): it closed the connection before answering/);
    expect(r.stderr).toContain('boom: SEARCH_TOKEN is not set');
    expect(r.stderr).toMatch(/orch\.lock\.json was not written/);
    expect(r.stdout).not.toContain('wrote');
    expect(existsSync(path.join(dir, 'orch.lock.json'))).toBe(false);
  });

  it("blanks the server's secrets in what it shows: a token its stderr quotes, a literal one, one on its command line", async () => {
    const dir = project(
      {
        secrets: { ORCH_TEST_MCP_TOKEN: 'mcp-token-83ad1f' },
        mcp: { leaky: { command: process.execPath, args: ['-e', 'console.error("bad token " + process.env.SEARCH_TOKEN + " / " + process.env.API_KEY + " / " + process.argv.at(-1)); process.exit(2)', '--', '--api-key', 'arg-key-3e9b'], env: { SEARCH_TOKEN: 'secret:ORCH_TEST_MCP_TOKEN', API_KEY: 'literal-key-5d0c' } } },
      },
      { 'p.orch': 'import mcp "leaky" as leaky\nplan p { step a = log(message: "x") }\n' },
    );
    const r = await runCli(['mcp', 'lock'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad token *** / *** / ***');
    expect(r.stderr).not.toMatch(/mcp-token-83ad1f|literal-key-5d0c|arg-key-3e9b/);
  });

  it('writes the lock when every server starts', async () => {
    const dir = project({ mcp: {} }, { 'p.orch': 'plan p { step a = log(message: "x") }\n' });
    const r = await runCli(['mcp', 'lock'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote');
    expect(JSON.parse(readFileSync(path.join(dir, 'orch.lock.json'), 'utf8')).servers).toEqual({});
  });
});
