/**
 * MCP tool calls at run time (LANGUAGE.md §8.3). One server per process and project, started on
 * its first call and reused by every step and run after it; a server that exits is dropped, so the
 * next attempt (a retry) starts a fresh one. Before a run's first step calling a tool starts, the
 * scheduler asks `checkTool` (starting the server if need be): a live tool whose hash differs from
 * the one the plan was compiled against (from orch.lock.json), or that vanished, fails the run
 * before that step starts, naming the tool. Every call checks again (a server restarted since may
 * offer a changed tool): then the attempt fails without calling it.
 */
import { renameValue, toolShapes, type CapabilityIR, type McpHandlerIR, type McpLockTool } from '../../compiler/index.js';
import { configMemo, loadConfig, type OrchConfig } from '../config.js';
import { AttemptError, FinalAttemptError, runEdgeAttempt, type EdgeHandler } from '../executor/edge.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../executor/json-output.js';
import { projectRoot } from '../executor/handler-path.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, ToolCheck } from '../scheduler/types.js';
import { envThenConfig } from '../secret-refs.js';
import { isRefusal, transportReason } from '../transport-error.js';
import { connectServer, httpSaid, httpStatus, serverSpec, transportOf, type McpConnection } from './connect.js';

export function mcpHandlerOf(cap: CapabilityIR): McpHandlerIR | undefined {
  const h = cap.handler;
  return h && 'mcp' in h ? h : undefined;
}

interface Server {
  readonly conn: Promise<McpConnection>;
  /** How it is reached (`stdio …`, `HTTP …`), for error messages. */
  readonly transport: string;
  /** Where the server's stderr lines go: every attempt in flight on it. */
  readonly sinks: Set<(line: string) => void>;
  /**
   * Lines written while no attempt was in flight (a server started by `checkTool`): the next
   * attempt on it logs them, so what a server says as it starts stays with the step that needed it.
   */
  readonly held: string[];
}

/** Lines a server may write with no attempt in flight that are kept for the next one. */
const HELD_LINES = 200;

/** Whether the live tool is the locked one the plan was compiled against. */
function matchesLock(h: McpHandlerIR, live: McpLockTool | undefined): live is McpLockTool {
  return live !== undefined && live.hash === h.hash;
}

/** How the live tool differs from the locked one (it does: `matchesLock` is false). */
function lockMismatch(h: McpHandlerIR, live: McpLockTool | undefined): string {
  if (!live) return `MCP tool "${h.tool}" of server "${h.mcp}" is no longer offered by the server: run \`orch mcp lock\` and check the plan again`;
  return `MCP tool "${h.tool}" of server "${h.mcp}" changed since orch.lock.json was written (locked ${h.hash.slice(0, 19)}…, now ${live.hash.slice(0, 19)}…): run \`orch mcp lock\` and check the plan again`;
}

export class McpTools implements EdgeHandler {
  private readonly servers = new Map<string, Server>();
  private closed = false;

  private readonly configFor: (root: string) => Promise<OrchConfig>;

  constructor(config: (root: string) => Promise<OrchConfig> = loadConfig) {
    this.configFor = configMemo(config);
  }

  handles(cap: CapabilityIR): boolean {
    return mcpHandlerOf(cap) !== undefined;
  }

  /**
   * Starts the tool's server if it is not running (kept for the calls to come) and compares the
   * live tool with the locked one. A server that cannot start is no answer (null): the attempt
   * reports it, as a failure that may be retried. Nor is a tool the server no longer offers: its
   * attempt fails for good (§9.1), and — unlike a changed tool, which fails the run before the
   * step starts (§8.3) — the step's fallback call still runs.
   */
  async checkTool(check: ToolCheck): Promise<string | null> {
    const h = mcpHandlerOf(check.capability);
    if (!h) return null;
    let conn: McpConnection;
    try {
      conn = await (await this.server(projectRoot(check.plan.base_dir), h.mcp, check.secrets)).conn;
    } catch {
      return null;
    }
    const live = conn.tools.get(h.tool);
    return live === undefined || matchesLock(h, live) ? null : lockMismatch(h, live);
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    const h = mcpHandlerOf(req.capability)!;
    const root = projectRoot(req.plan.base_dir);
    // A server's stderr and answers are held to the project's output limit, as a handler's are.
    const maxBytes = this.configFor(root).then((c) => c.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, () => DEFAULT_MAX_OUTPUT_BYTES);
    return runEdgeAttempt(req, done, logged, (signal, log) => this.call(root, h, req, signal, log, true), maxBytes);
  }

  /**
   * One call of the tool. A Streamable HTTP server that answers 404 to the session has forgotten it
   * (it restarted): MCP asks the client to start a new session, so the call is made once more on one.
   */
  private async call(root: string, h: McpHandlerIR, req: AttemptRequest, signal: AbortSignal, log: (line: string) => void, anew: boolean): Promise<unknown> {
    const server = await this.server(root, h.mcp, req.secrets);
    server.sinks.add(log);
    for (const line of server.held.splice(0)) log(line);
    try {
      const conn = await server.conn;
      const live = conn.tools.get(h.tool);
      if (!matchesLock(h, live)) throw new FinalAttemptError(lockMismatch(h, live));
      // The call joins the run's trace: MCP carries W3C trace context in the request's `_meta`.
      const meta = req.traceparent ? { _meta: { traceparent: req.traceparent } } : {};
      // Fields are named as Orch names the tool's properties (`file_path` for `file-path`); the live
      // tool is the locked one (same hash), so its schemas say how to name them back and forth.
      const shapes = toolShapes(live);
      const args = renameValue(mcpArguments(req), shapes.input, true) as Record<string, unknown>;
      const result = await conn.client.callTool({ name: h.tool, arguments: args, ...meta }, undefined, {
        signal,
        // The scheduler owns the step's timeout; the SDK's own 60 s default must not cut in first.
        timeout: req.timeoutMs ?? 2_147_483_647,
      });
      const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
      const text = content
        .filter((c): c is { type: 'text'; text: string } => !!c && typeof c === 'object' && (c as { type?: unknown }).type === 'text')
        .map((c) => c.text)
        .join('\n');
      // The tool's own answer about this call: the step's retry policy applies, but no other
      // resource would get another answer from the same server (§9.1: the call's, not the resource's).
      if (result.isError) throw new AttemptError(`MCP tool "${h.tool}" failed: ${text || 'no message'}`, { owner: 'call' });
      if (shapes.output) return renameValue(result.structuredContent ?? null, shapes.output, false);
      return { text, content };
    } catch (err) {
      if (err instanceof AttemptError || signal.aborted) throw err;
      const status = httpStatus(err);
      // A server that died mid-call, or forgot the session, is not reused: the next call starts afresh.
      const closed = await isClosed(server);
      if (closed || status === 404) this.drop(root, h.mcp, server);
      if (status === 404 && anew) return this.call(root, h, req, signal, log, false);
      throw callFailure(h, server, err, closed, status);
    } finally {
      server.sinks.delete(log);
    }
  }

  /** The running server, or a new one (concurrent first calls share one start). */
  private async server(root: string, name: string, secrets: { readonly [k: string]: string }): Promise<Server> {
    if (this.closed) throw new Error('the runtime is closing');
    const key = `${root}\u0000${name}`;
    // A server that exits removes itself (`onClose`), so one found here is running or starting.
    const existing = this.servers.get(key);
    if (existing) return existing;
    const config = await this.configFor(root);
    // Another attempt may have started it while the config loaded.
    const started = this.servers.get(key);
    if (started) return started;
    const spec = serverSpec(config.mcp, name);
    if ('error' in spec) throw new FinalAttemptError(spec.error);
    const sinks = new Set<(line: string) => void>();
    const held: string[] = [];
    const server: Server = {
      sinks,
      held,
      transport: transportOf(spec),
      conn: connectServer(name, spec, {
        cwd: root,
        secrets: envThenConfig({ ...config.secrets, ...secrets }),
        onStderr: (line) => {
          const text = `[mcp ${name}] ${line}`;
          if (sinks.size === 0) {
            if (held.length < HELD_LINES) held.push(text);
          } else for (const s of sinks) s(text);
        },
        onClose: () => {
          if (this.servers.get(key) === server) this.servers.delete(key);
        },
      }),
    };
    this.servers.set(key, server);
    server.conn.catch(() => {
      if (this.servers.get(key) === server) this.servers.delete(key);
    });
    return server;
  }

  /** Forgets a server that cannot serve another call, and closes it (a lost HTTP session, a dead process). */
  private drop(root: string, name: string, server: Server): void {
    const key = `${root}\u0000${name}`;
    if (this.servers.get(key) !== server) return;
    this.servers.delete(key);
    void server.conn.then((c) => c.close(), () => undefined).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.conn.then((c) => c.close(), () => undefined)));
  }
}

/**
 * A call that got no answer, naming the server (§9.1); a server that did not start already says so.
 * An HTTP refusal of the call (401, 403, 400 …; not a lost session's 404) is permanent, and the
 * call's: the server answers every attempt alike, whichever resource the step is on.
 */
function callFailure(h: McpHandlerIR, server: Server, err: unknown, closed: boolean, status: number | null): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('cannot start MCP server')) return err as Error;
  const reason = closed ? 'the connection closed during the call (the server exited)' : status !== null ? `HTTP ${status} ${httpSaid(err)}` : transportReason(err);
  const failure = `MCP server "${h.mcp}" (${server.transport}) failed calling "${h.tool}": ${reason}`;
  return status !== null && status !== 404 && isRefusal(status) ? new AttemptError(failure, { final: 'refused', owner: 'call' }) : new Error(failure);
}

async function isClosed(s: Server): Promise<boolean> {
  return s.conn.then((c) => c.closed, () => true);
}

/**
 * The call's arguments: an optional parameter left out or given `null` is not sent (a tool's
 * schema says "may be absent", rarely "may be null").
 */
function mcpArguments(req: AttemptRequest): Record<string, unknown> {
  const schema = req.capability.input as { properties?: Record<string, { default?: unknown }>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req.input)) if (!(v === null && !required.has(k)) && v !== undefined) out[k] = v;
  return out;
}
