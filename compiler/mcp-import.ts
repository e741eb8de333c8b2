/**
 * `import mcp "NAME" as ALIAS` (LANGUAGE.md §8.3): the server must be named in orch.config's
 * `mcp` and locked in orch.lock.json; its tools become the module generated from the lock
 * (./mcp-module.ts). Anything missing is E0802 with "run `orch mcp lock`". No server is started.
 */
import { diagnostic, type Diagnostic, type FileImport } from '../language/index.js';
import type { ParseOutput } from '../language/index.js';
import type { LoadedModule } from './loaded-module.js';
import { dirname, join } from 'node:path';
import { LOCK_FILE, readMcpLock } from './mcp-lock.js';
import { mcpModuleText, toolIdent } from './mcp-module.js';
import { didYouMean } from './suggest.js';
import { configFileFrom, configKnown, configSection, configUnreadable, projectConfigFor, projectRootOf } from './project-config.js';

const RUN_LOCK = 'run `orch mcp lock`';

/** The file name a server's generated module goes by: the lock file, then `#server`. */
export function mcpModuleFile(lockFile: string, server: string): string {
  return `${lockFile}#${server}`;
}

export function loadMcpImport(
  fromFile: string,
  imp: FileImport,
  diags: Diagnostic[],
  parse: (file: string, text: string) => ParseOutput,
  loaded: Map<string, LoadedModule>,
): LoadedModule | undefined {
  const server = imp.path;
  const config = projectConfigFor(fromFile);
  const e0802 = (message: string): undefined => {
    diags.push(diagnostic('E0802', message, fromFile, imp.pathRange));
    return undefined;
  };
  configUnreadable(config, diags, fromFile);
  if (configKnown(config) && !(server in configSection(config, 'mcp'))) {
    const where = config.kind === 'none' ? `no orch.config.json in ${config.root}` : `not in "mcp" of ${configFileFrom(config.file, fromFile)}`;
    return e0802(`MCP server "${server}" is not configured (${where}): add it to orch.config's "mcp", then ${RUN_LOCK}`);
  }
  const lock = readMcpLock(config.root);
  if (lock.kind === 'none') return e0802(`MCP server "${server}" is not locked (no ${lock.file}): ${RUN_LOCK}`);
  if (lock.kind === 'bad') return e0802(`${lock.error}: ${RUN_LOCK}`);
  const locked = lock.lock.servers[server];
  if (!locked) return e0802(`MCP server "${server}" is not in ${lock.file}: ${RUN_LOCK}`);

  const file = mcpModuleFile(lock.file, server);
  const existing = loaded.get(file);
  if (existing) return existing;
  const { text, collisions, propertyClashes } = mcpModuleText(server, locked);
  const quoted = (names: readonly string[]): string => names.map((t) => `"${t}"`).join(' and ');
  for (const [name, tools] of collisions)
    diags.push(diagnostic('E0802', `tools ${quoted(tools)} of MCP server "${server}" both map to the name ${imp.alias.name}.${name}; neither can be called`, fromFile, imp.pathRange));
  for (const c of propertyClashes)
    diags.push(diagnostic('E0802', `properties ${quoted(c.names)} of tool "${c.tool}" of MCP server "${server}" both map to the field name ${toolIdent(c.names[0]!)}; ${imp.alias.name}.${c.ident} cannot be called`, fromFile, imp.pathRange));
  const parsed = parse(file, text);
  // A generated module that does not parse is a bug here, not the user's: say so at the import.
  for (const d of parsed.diagnostics)
    diags.push(diagnostic('E0802', `cannot read the tools of MCP server "${server}" from the lock file: ${d.message}`, fromFile, imp.pathRange));
  const mod: LoadedModule = { file, key: file, name: `mcp.${server}`, ast: parsed.module, std: false, imports: [], mcp: { server, collided: [...collisions.map(([name]) => name), ...propertyClashes.map((c) => c.ident)] } };
  loaded.set(file, mod);
  return mod;
}

/** E0802 for `ALIAS.tool` when ALIAS is an MCP import and the lock does not list the tool. */
export function unknownToolMessage(mod: LoadedModule, parts: readonly string[]): string | undefined {
  if (parts.length !== 2) return undefined;
  const imp = mod.imports.find((i) => i.qualifier === parts[0] && i.decl?.kind === 'FileImport' && i.decl.mcp);
  if (!imp) return undefined;
  const server = (imp.decl as FileImport).path;
  // '' — the import failed, or the tool's name collides with another's: E0802 at the import said so.
  if (!imp.target || imp.target.mcp?.collided.includes(parts[1]!)) return '';
  // A typo is likelier than a tool added since the lock: name the nearest one first.
  const tools = imp.target.ast.declarations.filter((d) => d.kind === 'CapabilityDecl').map((d) => (d as { name: { name: string } }).name.name);
  return `MCP server "${server}" has no tool "${parts[1]}" in the lock file${didYouMean(parts[1]!, tools)}; ${RUN_LOCK} if it was added since`;
}

/** The generated module's file name for `import mcp "server"` in `fromFile` (the language server indexes it). */
export function mcpModulePath(fromFile: string, server: string): string {
  return mcpModuleFile(join(projectRootOf(dirname(fromFile)), LOCK_FILE), server);
}

/** The text of a generated module by its file name (`…/orch.lock.json#server`), or undefined. */
export function mcpModuleSource(path: string): string | undefined {
  const hash = path.lastIndexOf('#');
  if (hash < 0 || !path.slice(0, hash).endsWith(LOCK_FILE)) return undefined;
  const lock = readMcpLock(dirname(path.slice(0, hash)));
  const locked = lock.kind === 'ok' ? lock.lock.servers[path.slice(hash + 1)] : undefined;
  return locked ? mcpModuleText(path.slice(hash + 1), locked).text : undefined;
}
