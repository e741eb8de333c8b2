/** `orch lsp --stdio`: the language server, speaking LSP over stdin/stdout. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerLsp(program: Command): void {
  program
    .command('lsp')
    .description('start the Orch language server (LSP over stdio) for editors')
    .option('--stdio', 'speak LSP over stdin/stdout (the only transport)')
    .option('--diagnostics-delay <ms>', 'debounce before re-checking an edited document', '150')
    .action(async (opts: { stdio?: boolean; diagnosticsDelay: string }) => {
      if (!opts.stdio) throw new CliError('`orch lsp` needs --stdio (the only transport); editors start it as `orch lsp --stdio`', 2);
      const delay = Number(opts.diagnosticsDelay);
      if (!Number.isFinite(delay) || delay < 0) throw new CliError(`--diagnostics-delay must be a number of milliseconds, got "${opts.diagnosticsDelay}"`, 2);
      const { startStdioServer } = await import('../../lsp/index.js');
      startStdioServer({ diagnosticsDelayMs: delay });
      // Serve until the client closes the connection; the library exits the process then.
      await new Promise<never>(() => undefined);
    });
}
