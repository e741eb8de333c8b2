/**
 * `orch mcp lock` (LANGUAGE.md §8.3): starts every MCP server an `import mcp` of the project names,
 * lists its tools and writes orch.lock.json at the project root — the only thing the compiler,
 * the language server and CI read about those servers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LOCK_FILE, LOCK_VERSION, lockText, orchFilesUnder, projectRootOf, type McpLock, type McpLockServer } from '../../compiler/index.js';
import { parse } from '../../language/index.js';
import { loadConfig, redactConfigSecrets } from '../config.js';
import { Redactor } from '../redact.js';
import { envThenConfig } from '../secret-refs.js';
import { connectServer, serverSpec } from './connect.js';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.orch']);

/** The servers the project's `.orch` files import (`import mcp "NAME"`), sorted. */
export function importedServers(root: string): string[] {
  const names = new Set<string>();
  const at = resolve(root);
  // A linked file is read too: a plan may import it, and then its servers must be in the lock.
  for (const file of orchFilesUnder(root, { skip: SKIP_DIRS, skipHidden: true, order: 'as-listed', unreadable: 'skip', linkedFiles: true })) {
    // A folder with a config (package.json, .git) of its own is another project: the compiler reads
    // its files' servers from that folder's config and lock, never from this one.
    if (projectRootOf(dirname(file)) !== at) continue;
    const { module } = parse({ file, text: readFileSync(file, 'utf8') });
    for (const imp of module.imports) if (imp.kind === 'FileImport' && imp.mcp) names.add(imp.path);
  }
  return [...names].sort();
}

export interface LockResult {
  readonly file: string;
  readonly lock: McpLock;
  /** Servers that could not be locked, with why (their stderr's last lines included). */
  readonly failed: readonly { readonly server: string; readonly error: string }[];
  /** Whether the file was written: only when every server was locked (a failed lock leaves the file as it was). */
  readonly written: boolean;
}

export interface LockOptions {
  /** Lock these servers instead of the imported ones. */
  readonly servers?: readonly string[];
  /** Keep the lock's entries of servers not locked now (with `servers`). */
  readonly keep?: boolean;
  readonly onServer?: (server: string, locked: McpLockServer) => void;
  /** Per server, to start and list its tools (default 60 s). */
  readonly timeoutMs?: number;
}

export async function lockProject(root: string, o: LockOptions = {}): Promise<LockResult> {
  const config = await loadConfig(root);
  const servers = o.servers ?? importedServers(root);
  const file = join(root, LOCK_FILE);
  let previous: McpLock['servers'] = {};
  try {
    previous = (JSON.parse(readFileSync(file, 'utf8')) as McpLock).servers ?? {};
  } catch {
    // no lock yet
  }
  const out: Record<string, McpLockServer> = {};
  const failed: { server: string; error: string }[] = [];
  const secrets = envThenConfig(config.secrets);
  // What is shown (a server's stderr in a failure) and written (the lock, committed with the
  // project) passes one redactor, as a run's journal does: a server may quote its own token.
  const redactor = new Redactor();
  redactConfigSecrets(config, redactor);
  await Promise.all(
    servers.map(async (name) => {
      const spec = serverSpec(config.mcp, name);
      if ('error' in spec) {
        failed.push({ server: name, error: redactor.text(spec.error) });
        return;
      }
      const signal = AbortSignal.timeout(o.timeoutMs ?? 60_000);
      try {
        const conn = await connectServer(name, spec, { cwd: root, secrets, signal, onSecret: (v) => redactor.add(v) });
        try {
          const locked: McpLockServer = redactor.value({ name: conn.server.name, version: conn.server.version, tools: [...conn.tools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) });
          out[name] = locked;
          o.onServer?.(name, locked);
        } finally {
          await conn.close();
        }
      } catch (err) {
        failed.push({ server: name, error: redactor.text((err as Error).message) });
      }
    }),
  );
  if (o.keep) for (const [k, v] of Object.entries(previous)) if (!(k in out)) out[k] = v;
  const lock: McpLock = { lockVersion: LOCK_VERSION, servers: out };
  // Half a lock would pin some tools and silently drop others: nothing is written until all lock.
  if (failed.length > 0) return { file, lock, failed, written: false };
  writeFileSync(file, lockText(lock));
  return { file, lock, failed, written: true };
}
