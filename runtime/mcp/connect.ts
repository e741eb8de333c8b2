/**
 * One MCP server, reached with the official SDK client (LANGUAGE.md §8.3): a stdio server
 * (`command`, `args`, `env`; started in the project directory, its stderr handed on line by line)
 * or a Streamable HTTP one (`url`, `headers`). `"secret:NAME"` values in `env` and `headers` are
 * resolved here, when the server starts, and never written anywhere.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { lockTool, type McpLockTool, type McpToolDescription } from '../../compiler/index.js';
import { AttemptError } from '../executor/edge.js';
import { resolveSecretRefs, type SecretLookup } from '../secret-refs.js';
import { silentFor, silentPeerMs } from '../silent-peer.js';
import { errorCode, isRefusal, shownUrl, transportReason } from '../transport-error.js';

/** The SDK's `ErrorCode`s met here (its types module is large: loaded only with the client). */
const CONNECTION_CLOSED = -32000;
const REQUEST_TIMEOUT = -32001;

export type McpServerSpec =
  | { readonly transport: 'stdio'; readonly command: string; readonly args: readonly string[]; readonly env: { readonly [k: string]: string } }
  | { readonly transport: 'http'; readonly url: string; readonly headers: { readonly [k: string]: string } };

const strings = (v: unknown): v is Record<string, string> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** The spec of server `name` in a config's `mcp` section, or why it is not usable. */
export function serverSpec(section: unknown, name: string): McpServerSpec | { readonly error: string } {
  const all = section && typeof section === 'object' && !Array.isArray(section) ? (section as Record<string, unknown>) : {};
  const raw = all[name];
  if (!raw || typeof raw !== 'object') return { error: `MCP server "${name}" is not configured in orch.config's "mcp"` };
  const s = raw as Record<string, unknown>;
  if (typeof s.command === 'string') {
    if (s.args !== undefined && !(Array.isArray(s.args) && s.args.every((a) => typeof a === 'string'))) return { error: `mcp.${name}.args must be a list of strings` };
    if (s.env !== undefined && !strings(s.env)) return { error: `mcp.${name}.env must map names to strings` };
    return { transport: 'stdio', command: s.command, args: (s.args as string[] | undefined) ?? [], env: (s.env as Record<string, string> | undefined) ?? {} };
  }
  if (typeof s.url === 'string') {
    if (s.headers !== undefined && !strings(s.headers)) return { error: `mcp.${name}.headers must map names to strings` };
    return { transport: 'http', url: s.url, headers: (s.headers as Record<string, string> | undefined) ?? {} };
  }
  return { error: `mcp.${name} needs "command" (stdio) or "url" (Streamable HTTP)` };
}

export interface McpConnection {
  readonly name: string;
  readonly client: Client;
  readonly server: { readonly name: string; readonly version: string };
  /** Every tool the server lists now, as the lock file would record it. */
  readonly tools: ReadonlyMap<string, McpLockTool>;
  /** Whether the server went away (process exited, transport closed). */
  readonly closed: boolean;
  close(): Promise<void>;
}

export interface ConnectOptions {
  readonly cwd: string;
  readonly secrets: SecretLookup;
  /** Every resolved secret value (for the redactor). */
  readonly onSecret?: (value: string) => void;
  /** A line the server wrote to stderr (stdio servers). */
  readonly onStderr?: (line: string) => void;
  /** The connection closed (the server exited or the transport failed). */
  readonly onClose?: () => void;
  readonly signal?: AbortSignal;
}

/**
 * The SDK's client and transports, loaded at the first connection: most runs use no tool, and
 * every `orch` process loads this module.
 */
async function sdk() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport, getDefaultEnvironment } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  return { Client, StdioClientTransport, getDefaultEnvironment, StreamableHTTPClientTransport };
}
type Sdk = Awaited<ReturnType<typeof sdk>>;

/**
 * How long a server has to answer `initialize` and `tools/list`. A peer that does not speak MCP
 * fails the attempt within 15 s (LANGUAGE.md §9.1): one that answers nothing within the
 * silent-peer bound, over HTTP or stdio, and one that wrote something else than MCP on its stdout
 * and then no MCP answer within it. A stdio server started by a package runner (`npx`, `uvx`,
 * `docker` …) that says nothing yet gets 60 s, the SDK's own bound: the runner may be installing
 * or pulling it first. A tool call is not bounded here: a tool may work for minutes before its
 * answer, and the step's timeout owns that wait.
 */
const INSTALLING_MS = 60_000;
/** Commands that may fetch the server before starting it (their basename, without `.cmd`/`.exe`). */
const PACKAGE_RUNNERS = new Set(['npx', 'pnpx', 'bunx', 'uvx', 'uv', 'pipx', 'pnpm', 'yarn', 'npm', 'bun', 'deno', 'docker', 'podman']);

/** How long a server may stay silent where its handshake answer is due. */
export function handshakeBound(spec: McpServerSpec): number {
  if (spec.transport === 'http') return silentPeerMs();
  const runner = spec.command.split(/[\\/]/).pop()!.replace(/\.(cmd|exe)$/i, '').toLowerCase();
  return PACKAGE_RUNNERS.has(runner) ? Math.max(INSTALLING_MS, silentPeerMs()) : silentPeerMs();
}
/** The longest piece of a stderr line handed on as one log line (characters). */
const STDERR_LINE_MAX = 64 * 1024;
/** The last lines of a stdio server's stderr kept to say why it failed to start. */
const STDERR_TAIL = 20;

/** `stdio node server.js` or `HTTP https://host/mcp`: how the server is reached, for error messages (no secret: env and headers are left out). */
export function transportOf(spec: McpServerSpec): string {
  if (spec.transport === 'http') {
    return `HTTP ${shownUrl(spec.url)}`;
  }
  // On one line: an inline script (`node -e …`) is one argument with line breaks.
  const line = [spec.command, ...spec.args].join(' ').replace(/\s+/g, ' ');
  return `stdio ${line.length > 120 ? `${line.slice(0, 117)}…` : line}`;
}

export async function connectServer(name: string, spec: McpServerSpec, o: ConnectOptions): Promise<McpConnection> {
  const { Client, ...transports } = await sdk();
  const what = `MCP server "${name}" (${transportOf(spec)})`;
  const tail: string[] = [];
  let transport: Transport;
  try {
    transport = makeTransport(transports, spec, {
      ...o,
      onStderr: (line) => {
        if (tail.push(line) > STDERR_TAIL) tail.shift();
        o.onStderr?.(line);
      },
    });
  } catch (err) {
    // A secret its env or headers name is not set: configuration, the same at every attempt.
    throw new AttemptError(`${what}: ${(err as Error).message}`, { final: 'config', cost: 0 });
  }
  const client = new Client({ name: 'orch', version: '0.3.0' });
  let closed = false;
  client.onclose = () => {
    closed = true;
    o.onClose?.();
  };
  const handshake = new AbortController();
  const stop = (reason: unknown) => handshake.abort(reason);
  o.signal?.addEventListener('abort', () => stop(o.signal!.reason), { once: true });
  const handshakeMs = silentPeerMs();
  let notMcp: NodeJS.Timeout | null = null;
  // A transport error (a broken pipe, an HTTP failure) is also an answer to the request in flight.
  // A line on stdout that is not MCP (a parse error) is a peer that may not speak MCP at all.
  client.onerror = (err) => {
    if (notMcp || !(err instanceof Error) || (err.name !== 'SyntaxError' && err.name !== 'ZodError')) return;
    notMcp = setTimeout(() => stop(new Error(`it wrote something else than MCP on its stdout and no MCP answer within ${silentFor(handshakeMs)} (is it an MCP server?): ${err.message.slice(0, 200)}`)), handshakeMs);
  };
  const options = { timeout: handshakeBound(spec), signal: handshake.signal };
  try {
    await client.connect(transport, options);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw startFailure(what, handshake.signal.aborted ? handshake.signal.reason : err, tail, options.timeout);
  } finally {
    if (notMcp) clearTimeout(notMcp);
  }
  client.onerror = () => undefined;
  const tools = new Map<string, McpLockTool>();
  let cursor: string | undefined;
  try {
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: options.timeout, ...(o.signal ? { signal: o.signal } : {}) });
      for (const t of page.tools) tools.set(t.name, lockTool(t as McpToolDescription));
      cursor = page.nextCursor;
    } while (cursor);
  } catch (err) {
    // Not started until its tools are known: a server left open here kept `orch run` from ending,
    // and the call said it had exited.
    await client.close().catch(() => undefined);
    throw startFailure(what, err, tail, options.timeout);
  }
  const v = client.getServerVersion();
  return {
    name,
    client,
    server: { name: v?.name ?? name, version: v?.version ?? '' },
    tools,
    get closed() {
      return closed;
    },
    close: async () => {
      closed = true;
      await client.close().catch(() => undefined);
    },
  };
}

function makeTransport({ StreamableHTTPClientTransport, StdioClientTransport, getDefaultEnvironment }: Omit<Sdk, 'Client'>, spec: McpServerSpec, o: ConnectOptions): Transport {
  if (spec.transport === 'http') {
    const headers = resolveSecretRefs(spec.headers, o.secrets, o.onSecret);
    return new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: { ...headers } } });
  }
  const env = resolveSecretRefs(spec.env, o.secrets, o.onSecret);
  const t = new StdioClientTransport({ command: spec.command, args: [...spec.args], env: { ...getDefaultEnvironment(), ...env }, cwd: o.cwd, stderr: 'pipe' });
  const stderr = t.stderr;
  if (stderr) {
    let partial = '';
    stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = lines.pop() ?? '';
      // A line that never ends is handed on in pieces: it is not kept whole in memory.
      if (partial.length > STDERR_LINE_MAX) [lines[lines.length], partial] = [partial, ''];
      for (const l of lines) if (l.trim()) o.onStderr?.(l);
    });
  }
  return t;
}

/**
 * Why a server did not start, in the operator's words (§9.1), with the last lines it wrote on
 * stderr (what a crashing server says about itself). A command that does not exist is
 * permanent: another attempt would find the same.
 */
function startFailure(what: string, err: unknown, stderr: readonly string[], timeoutMs: number): Error {
  const code = (err as { code?: unknown }).code;
  const said = stderr.length ? `; its stderr:\n  ${stderr.join('\n  ')}` : '';
  let reason = transportReason(err);
  const status = httpStatus(err);
  const answered = /^Streamable HTTP error: Unexpected content type: (.*)$/.exec(err instanceof Error ? err.message : '');
  if (code === CONNECTION_CLOSED) reason = 'it closed the connection before answering (it exited, or is not an MCP server)';
  else if (code === REQUEST_TIMEOUT) reason = `no MCP answer within ${silentFor(timeoutMs)} (is it an MCP server?)`;
  else if (status !== null) reason = `HTTP ${status} ${httpSaid(err)}`;
  else if (answered) reason = `the peer does not speak MCP over HTTP (it answered ${answered[1]!.slice(0, 80)})`;
  // JSON that is no JSON-RPC message fails the SDK's schema (a ZodError of some 150 lines), a body
  // that is not JSON its parser: either way the peer speaks something else.
  else if (err instanceof Error && (err.name === 'ZodError' || err.name === 'SyntaxError')) reason = 'the peer does not speak MCP over HTTP (its answer is not a JSON-RPC message)';
  const message = `cannot start ${what}: ${reason}${said}`;
  const sys = errorCode(err);
  if (sys === 'ENOENT' || sys === 'EACCES') return new AttemptError(message, { final: 'config', cost: 0 });
  // Streamable HTTP's errors carry the HTTP status as their code: a refusal is permanent (§9.1).
  if (typeof code === 'number' && isRefusal(code)) return new AttemptError(message, { final: 'refused', cost: 0 });
  return new Error(message);
}

/** The HTTP status of a Streamable HTTP transport's error (the SDK's `StreamableHTTPError` carries it as `code`). */
export function httpStatus(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && err.message.startsWith('Streamable HTTP error') && typeof code === 'number' && code >= 100 && code < 600 ? code : null;
}

/** What a Streamable HTTP error says, without the SDK's prefixes. */
export function httpSaid(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^Streamable HTTP error: (Error POSTing to endpoint: )?/, '');
}
