/**
 * `orch ui [--db PATH]`: the operations dashboard over a journal, without loading modules or
 * firing triggers. Runs can still be paused, resumed, cancelled and approved from it.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { DB_HELP, journalOf, withBackend } from '../db-option.js';
import { DEFAULT_LIMITS, runUi, ServeError } from '../../serve/index.js';
import { limitsOf, parsePort, positiveMs, type LimitFlags } from './http-flags.js';

interface UiFlags extends LimitFlags {
  readonly port: number;
  readonly host: string;
  readonly db?: string;
}

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('serve the operations dashboard (and the HTTP API) over a journal, without firing triggers')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, 7475)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--db <path>', DB_HELP)
    .option('--headers-timeout <ms>', 'cut a client that has not sent its request headers within this', positiveMs, DEFAULT_LIMITS.headersTimeoutMs)
    .option('--request-timeout <ms>', 'cut a client that has not sent its whole request within this', positiveMs, DEFAULT_LIMITS.requestTimeoutMs)
    .option('--max-connections <n>', 'refuse connections beyond this many', positiveMs, DEFAULT_LIMITS.maxConnections)
    .addHelpText(
      'after',
      [
        '',
        'Open the printed URL and sign in once: as a user of the "auth" block of the working directory\'s',
        'project config, or (without one) with the token ($ORCH_TOKEN, or the generated one printed at',
        'start-up); the browser then keeps an HttpOnly session cookie. Scripts use the same API as',
        '`orch serve` with "Authorization: Bearer <token>". Interrupted runs are not resumed here.',
        '',
        'Example:',
        '  ORCH_TOKEN=secret orch ui --db .orch/runs.db --port 8080',
        '',
        'Exit codes: 0 stopped by SIGINT/SIGTERM, 2 usage or I/O error (no journal at --db, or one that cannot be opened).',
      ].join('\n'),
    )
    .action(async (opts: UiFlags) => {
      const code = await withBackend(journalOf(opts.db), (backend) => runUi({
        port: opts.port,
        host: opts.host,
        backend,
        limits: limitsOf(opts),
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      })).catch((err: unknown) => {
        if (err instanceof ServeError) throw new CliError(err.message, err.exitCode);
        throw err instanceof CliError ? err : new CliError((err as Error).message ?? String(err), 2);
      });
      process.exitCode = code;
    });
}
