/**
 * `orch serve [FILES…]`: loads and compiles the modules, activates every trigger and serves the
 * HTTP API until SIGINT/SIGTERM. The bound URL is printed on stdout so scripts can use port 0.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { writeRefusal } from '../render-diagnostics.js';
import { readSource } from '../read-source.js';
import { DB_HELP, journalOf, withBackend } from '../db-option.js';
import { TAKE_OVER_AFTER_HELP, takeOverAge } from './take-over.js';
import { DEFAULT_LIMITS, runServe, ServeError } from '../../serve/index.js';
import { limitsOf, parsePort, positiveMs, type LimitFlags } from './http-flags.js';
import { routesHelp } from './serve-routes.js';

interface ServeFlags extends LimitFlags {
  readonly port: number;
  readonly host: string;
  readonly db?: string;
  readonly catchUp: boolean;
  readonly local?: boolean;
  readonly takeOverAfter?: number;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run triggers (schedules, events, API, conditions, chains) and the HTTP API')
    .argument('[files...]', '.orch modules to load (default: every *.orch file in the current directory)')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, 7474)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--db <path>', DB_HELP)
    .option('--catch-up', 'start one run for each schedule that missed ticks while the server was down', false)
    .option('--local', 'with a Postgres journal, run the steps on this process\'s worker threads (default: on `orch worker`s when one is live as a run starts)')
    .option('--take-over-after <age>', TAKE_OVER_AFTER_HELP, takeOverAge)
    .option('--headers-timeout <ms>', 'cut a client that has not sent its request headers within this', positiveMs, DEFAULT_LIMITS.headersTimeoutMs)
    .option('--request-timeout <ms>', 'cut a client that has not sent its whole request within this', positiveMs, DEFAULT_LIMITS.requestTimeoutMs)
    .option('--max-connections <n>', 'refuse connections beyond this many', positiveMs, DEFAULT_LIMITS.maxConnections)
    .addHelpText(
      'after',
      [
        '',
        'Every route but GET /health, signing in (GET /login, POST /session, GET /auth/oidc/…, the dashboard\'s',
        'GET /ui/…) and POST /sources/NAME needs "Authorization: Bearer <token>" or a dashboard session: the token',
        'is $ORCH_TOKEN (or a generated one printed at start-up) unless the project config has an "auth"',
        'block (people, roles: then a user\'s API token from `orch auth token USER`; 401 without an',
        'identity, 403 without the role). Routes:',
        ...routesHelp(),
        'The dashboard is at / on the same port: sign in once as a user (or with the token without "auth").',
        '',
        'Examples:',
        '  ORCH_TOKEN=secret orch serve home.orch --port 8080',
        '  curl -H "Authorization: Bearer secret" -d \'{"type":"sensor.leak","severity":4}\' \\',
        '       -H "content-type: application/json" http://127.0.0.1:8080/events',
        '',
        'Exit codes: 0 stopped by SIGINT/SIGTERM, 1 the modules have errors, 2 usage or I/O error (a missing file,',
        'a journal that cannot be opened).',
      ].join('\n'),
    )
    .action(async (files: string[], opts: ServeFlags) => {
      // A named module that is not text is refused in orch check's words (exit 2) before the server starts.
      for (const f of files) if (f.endsWith('.orch')) await readSource(f);
      const code = await withBackend(journalOf(opts.db), (backend) => runServe({
        files,
        port: opts.port,
        host: opts.host,
        backend,
        catchUp: opts.catchUp,
        ...(opts.local ? { local: true } : {}),
        ...(opts.takeOverAfter !== undefined ? { takeOverAfterMs: opts.takeOverAfter } : {}),
        limits: limitsOf(opts),
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
      })).catch((err: unknown) => {
        if (err instanceof ServeError) {
          if (err.diagnostics.length > 0) writeRefusal(err.diagnostics);
          throw new CliError(err.message, err.exitCode);
        }
        throw err instanceof CliError ? err : new CliError((err as Error).message ?? String(err), 2);
      });
      process.exitCode = code;
    });
}
