/**
 * `orch.lock.json` (LANGUAGE.md §8.3): what `orch mcp lock` saw of each MCP server a project
 * imports — the server's name and version and, per tool, its schemas, annotations and a hash.
 * Every layer that checks a plan reads this file and never starts a server, so CI checks offline;
 * the runtime compares each live tool's hash with the one compiled into the plan before its
 * first call.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson } from './canonical-json.js';

export const LOCK_FILE = 'orch.lock.json';
export const LOCK_VERSION = 1;

/** One tool as `tools/list` describes it (the fields the lock keeps). */
export interface McpToolDescription {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly outputSchema?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface McpLockTool extends McpToolDescription {
  /** `toolHash` of the description: a tool whose hash changed is not the tool plans were checked against. */
  readonly hash: string;
}

export interface McpLockServer {
  /** The name and version the server reported in its `initialize` answer. */
  readonly name: string;
  readonly version: string;
  readonly tools: readonly McpLockTool[];
}

export interface McpLock {
  readonly lockVersion: typeof LOCK_VERSION;
  /** Keyed by the server's name in orch.config's `mcp` (what `import mcp "NAME"` names). */
  readonly servers: Readonly<Record<string, McpLockServer>>;
}


/**
 * The hash of everything about a tool a plan was checked against, or that steers a model using
 * it: name, description, schemas and annotations. A description is included on purpose — a tool
 * whose description changes after review ("rug pull") is a changed tool.
 */
export function toolHash(t: McpToolDescription): string {
  const what = { name: t.name, description: t.description ?? null, inputSchema: t.inputSchema, outputSchema: t.outputSchema ?? null, annotations: t.annotations ?? null };
  return `sha256:${createHash('sha256').update(canonicalJson(what)).digest('hex')}`;
}

export function lockTool(t: McpToolDescription): McpLockTool {
  const out: { -readonly [K in keyof McpLockTool]: McpLockTool[K] } = { name: t.name, inputSchema: t.inputSchema, hash: toolHash(t) };
  if (t.title !== undefined) out.title = t.title;
  if (t.description !== undefined) out.description = t.description;
  if (t.outputSchema !== undefined) out.outputSchema = t.outputSchema;
  if (t.annotations !== undefined) out.annotations = t.annotations;
  return out;
}

export type LockView =
  | { readonly kind: 'none'; readonly file: string }
  | { readonly kind: 'ok'; readonly file: string; readonly lock: McpLock; readonly mtimeMs: number }
  | { readonly kind: 'bad'; readonly file: string; readonly error: string };

const cache = new Map<string, { mtimeMs: number; view: LockView }>();

/** The lock file of the project rooted at `root`, re-read only when it changes. */
export function readMcpLock(root: string): LockView {
  const file = join(root, LOCK_FILE);
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return { kind: 'none', file };
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.view;
  const view = parseLock(file, mtimeMs);
  cache.set(file, { mtimeMs, view });
  return view;
}

function parseLock(file: string, mtimeMs: number): LockView {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<McpLock> | null;
    if (!raw || typeof raw !== 'object' || !raw.servers || typeof raw.servers !== 'object')
      return { kind: 'bad', file, error: `${file} has no "servers" object` };
    for (const [name, s] of Object.entries(raw.servers)) {
      if (!s || !Array.isArray(s.tools)) return { kind: 'bad', file, error: `server "${name}" in ${file} has no "tools" list` };
      for (const t of s.tools)
        if (!t || typeof t.name !== 'string' || !t.inputSchema || typeof t.hash !== 'string')
          return { kind: 'bad', file, error: `a tool of server "${name}" in ${file} lacks name, inputSchema or hash` };
    }
    return { kind: 'ok', file, lock: { lockVersion: LOCK_VERSION, servers: raw.servers }, mtimeMs };
  } catch (err) {
    return { kind: 'bad', file, error: `cannot read ${file}: ${(err as Error).message}` };
  }
}

/** The text of a lock file: stable key order and a final newline, so re-locking an unchanged server is no diff. */
export function lockText(lock: McpLock): string {
  const servers = Object.fromEntries(Object.keys(lock.servers).sort().map((k) => [k, lock.servers[k]!]));
  return `${JSON.stringify({ lockVersion: lock.lockVersion, servers }, null, 2)}\n`;
}

/** The locked tool a generated module's handler names (`moduleFile` is `…/orch.lock.json#server`). */
export function lockedTool(moduleFile: string, server: string, tool: string): McpLockTool | undefined {
  const hash = moduleFile.lastIndexOf('#');
  const lockFile = hash >= 0 ? moduleFile.slice(0, hash) : moduleFile;
  const view = readMcpLock(dirname(lockFile));
  return view.kind === 'ok' ? view.lock.servers[server]?.tools.find((t) => t.name === tool) : undefined;
}
