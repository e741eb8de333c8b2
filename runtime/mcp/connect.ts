/**
 * One MCP server, reached with the official SDK client (LANGUAGE.md §8.3): a stdio server
 * (`command`, `args`, `env`; started in the project directory, its stderr handed on line by line)
 * or a Streamable HTTP one (`url`, `headers`). `"secret:NAME"` values in `env` and `headers` are
 * resolved here, when the server starts, and never written anywhere.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { lockTool, type McpLockTool, type McpToolDescription } from '../../compiler/index.js';
import { resolveSecretRefs, type SecretLookup } from '../secret-refs.js';

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

export async function connectServer(name: string, spec: McpServerSpec, o: ConnectOptions): Promise<McpConnection> {
  const { Client, ...transports } = await sdk();
  const transport = makeTransport(transports, spec, o);
  const client = new Client({ name: 'orch', version: '0.3.0' });
  let closed = false;
  client.onclose = () => {
    closed = true;
    o.onClose?.();
  };
  // A transport error (a broken pipe, an HTTP failure) is also an answer to the request in flight.
  client.onerror = () => undefined;
  try {
    await client.connect(transport, o.signal ? { signal: o.signal } : {});
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`cannot start MCP server "${name}": ${(err as Error).message}`);
  }
  const tools = new Map<string, McpLockTool>();
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, o.signal ? { signal: o.signal } : {});
    for (const t of page.tools) tools.set(t.name, lockTool(t as McpToolDescription));
    cursor = page.nextCursor;
  } while (cursor);
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
      for (const l of lines) if (l.trim()) o.onStderr?.(l);
    });
  }
  return t;
}
