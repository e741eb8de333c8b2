/** `orch lsp --stdio`: the language server, speaking LSP over stdin/stdout. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerLsp(program: Command): void {
  program
    .command('lsp')
    .description('start the Orch language server (LSP over stdio) for editors')
    .option('--stdio', 'speak LSP over stdin/stdout (the only transport)')
    .option('--diagnostics-delay <ms>', 'debounce before re-checking an edited document', '150')
    .addHelpText('after', ['', 'Example:', '  $ orch lsp --stdio             # as editors start it (docs/editors.md)', '', 'Exit codes: 0 when the client sends shutdown then exit (1 for exit without shutdown, as LSP says), 2 without --stdio or with a bad --diagnostics-delay.'].join('\n'))
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
