/**
 * `orch mcp lock [DIR]`: starts every MCP server the project's `import mcp` declarations name
 * (as orch.config's `mcp` defines them), lists their tools and writes orch.lock.json at the
 * project root (LANGUAGE.md §8.3). Commit the lock file: `orch check`, `compile`, `preview`,
 * `verify` and the language server read only it and never start a server.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { positiveInt } from '../positive-int.js';
import { projectRootOf } from '../../compiler/index.js';
import { lockProject } from '../../runtime/index.js';
import { registerMcpServe } from './mcp-serve.js';
import { commandGroup } from '../command-group.js';

const HELP_EXAMPLES = `
Examples:
  $ orch mcp lock                 # the project of the current directory
  $ orch mcp lock examples/notes  # another project
  $ orch mcp lock --server files  # only this server (others keep their entry)

The project root is the nearest folder holding orch.config.json (or .js/.mjs), package.json or .git.
"secret:NAME" values in a server's env or headers are read from the environment, then the
config's secrets; they are never written to the lock file.

A server that cannot be started or listed is reported with the last lines it wrote on stderr, and
then nothing is written: orch.lock.json stays as it was.

Exit codes: 0 every server locked and the file written, 1 a server could not be started or listed
(nothing written), 2 usage error.`;

interface LockCliOptions {
  readonly server?: string[];
  readonly timeout?: number;
}

export function registerMcp(program: Command): void {
  const mcp = commandGroup(program, 'mcp', 'Orch and the Model Context Protocol: lock the tools of the servers plans import; serve the compiler to assistants');
  registerMcpServe(mcp);
  mcp
    .command('lock')
    .description('start every imported MCP server, list its tools and write orch.lock.json')
    .argument('[dir]', 'a folder of the project', '.')
    .option('--server <name...>', 'lock only these servers (the others keep their entries)')
    .option('--timeout <seconds>', 'per server, to start and list its tools', positiveInt('--timeout'), 60)
    .addHelpText('after', HELP_EXAMPLES)
    .action(async (dir: string, opts: LockCliOptions) => {
      // The lock file is written in DIR's project: a file there would end in ENOTDIR on write.
      if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) throw new CliError(`${dir}: not a folder (orch mcp lock takes a folder of the project)`, 2);
      const root = projectRootOf(dir);
      const timeoutMs = (opts.timeout ?? 60) * 1000;
      const only = opts.server;
      const result = await lockProject(root, {
        timeoutMs,
        ...(only ? { servers: only, keep: true } : {}),
        onServer: (name, s) => process.stdout.write(`locked ${name}: ${s.name} ${s.version}, ${s.tools.length} tool${s.tools.length === 1 ? '' : 's'}\n`),
      });
      // Most reasons name the server already (`cannot start MCP server "x" (stdio …): …`).
      for (const f of result.failed) process.stderr.write(f.error.includes(`"${f.server}"`) ? `orch: ${f.error}\n` : `orch: cannot lock MCP server "${f.server}": ${f.error}\n`);
      if (!result.written) {
        const n = result.failed.length;
        process.stderr.write(`orch: ${result.file} was not written (${n} server${n === 1 ? '' : 's'} could not be locked); it is as it was\n`);
        process.exitCode = 1;
        return;
      }
      if (Object.keys(result.lock.servers).length === 0)
        process.stdout.write(`no .orch file under ${root} imports an MCP server (import mcp "NAME" as alias)\n`);
      process.stdout.write(`wrote ${result.file}\n`);
      process.exitCode = 0;
      // Stdio servers were stopped; nothing else keeps the process alive.
    });
}
