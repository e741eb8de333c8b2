/**
 * `orch mcp serve [--project DIR] [--allow-run] [--db PATH]`: Orch's own MCP server over stdio (LANGUAGE.md §8.5),
 * for coding assistants and agents. The server lives in `cli/mcp/`; stdout carries only the
 * protocol (`bin/orch.js` sends `console` to stderr). `orch mcp` itself is cli/commands/mcp.ts.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';

const HELP = `
Tools: check, preview, compile, graph (Mermaid), explain, capabilities, verify, runs, timeline;
with --allow-run also run, signal and cancel. They work on the project in the working directory.

Configure a client (see docs/assistants.md), e.g. Claude Code, from a project that has Orch installed
(npx --no runs the project's orch and never downloads a package named orch):
  $ claude mcp add orch -- npx --no -- orch mcp serve
or in a client's JSON settings:
  { "mcpServers": { "orch": { "command": "/path/to/project/node_modules/.bin/orch", "args": ["mcp", "serve", "--project", "/path/to/project"] } } }

Exit codes: 0 when the client closes the connection, 2 usage error (e.g. --project is no folder).`;

/** Adds `serve` to the `orch mcp` command (cli/commands/mcp.ts). */
export function registerMcpServe(mcp: Command): void {
  mcp
    .command('serve')
    .description('serve check, preview, compile, graph, explain, capabilities, verify, runs and timeline as MCP tools over stdio')
    .option('--project <dir>', 'the project folder the tools work on (default: the working directory)')
    .option('--allow-run', 'also offer run, signal and cancel (they execute plans and change runs)')
    .option('--db <path>', 'journal for runs, timeline, run, signal and cancel: a SQLite file or a postgres:// URL (default: $ORCH_DB, else .orch/runs.db)')
    .addHelpText('after', HELP)
    .action(async (opts: { project?: string; allowRun?: boolean; db?: string }, cmd: Command) => {
      if (opts.project !== undefined) {
        // Paths in diagnostics, imports and the journal are the project's, as when run from there.
        try {
          process.chdir(opts.project);
        } catch (err) {
          throw new CliError(`--project ${opts.project}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`, 2);
        }
      }
      // One `await import` each: the .vsix bundle turns a relative one written so into a static
      // import (vscode-extension/scripts/package.js), which a Promise.all of imports would escape.
      const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
      const { createOrchMcpServer } = await import('../mcp/server.js');
      // One set for the process: the stdio MCP servers its runs call start once (§8.3) and stop
      // when it ends.
      const { McpTools, ChannelSender } = await import('../../runtime/index.js');
      const edges = opts.allowRun === true ? [new McpTools(), new ChannelSender()] : [];
      const server = createOrchMcpServer({
        root: process.cwd(),
        db: opts.db ?? process.env.ORCH_DB ?? '.orch/runs.db',
        allowRun: opts.allowRun === true,
        edges,
        version: cmd.parent?.parent?.version() ?? '0.0.0',
      });
      // A stray failure (a timer of a closed runtime, a handler's worker) must not end the
      // server an assistant is talking to: it is reported on stderr, the protocol goes on.
      const report = (err: unknown) => process.stderr.write(`orch mcp: ${err instanceof Error ? (process.env.ORCH_DEBUG ? err.stack : err.message) : String(err)}\n`);
      process.on('unhandledRejection', report);
      process.on('uncaughtException', report);
      // Room for a message with the largest source a tool takes (MAX_SOURCE_CHARS, JSON-escaped),
      // so that one too large is answered with a tool error: past its buffer the SDK's transport
      // drops the connection.
      const transport = new StdioServerTransport(process.stdin, process.stdout, { maxBufferSize: 64 * 1024 * 1024 });
      transport.onerror = report;
      const closed = new Promise<void>((resolve) => {
        transport.onclose = resolve;
        process.stdin.once('end', resolve);
      });
      await server.connect(transport);
      // Serve until the client closes stdin; then end, whatever timers a tool left behind.
      await closed;
      await server.close().catch(() => undefined);
      await Promise.all(edges.map((e) => e.close().catch(() => undefined)));
      process.exit(0);
    });
}
